"""Headers of answers with health data (issue 16, item 6): no sniffing, no caching, one charset."""

from __future__ import annotations

from typing import Any

import pytest

DAY = {"date_from": "2021-08-19", "date_to": "2021-08-19"}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/facilities", {}),
        ("/reports", DAY),
        ("/exports/reports.csv", DAY),
        ("/exports/facilities.csv", {}),
        ("/exports/reports.xlsx", DAY),
        ("/dhis2/dataValueSets.csv", {"startDate": "2021-08-19", "endDate": "2021-08-19"}),
        ("/compliance/monthly", {"month": "2021-08", "format": "csv"}),
    ],
)
def test_api_answers_are_not_sniffed_nor_cached(as_user: Any, path: str, query: Any) -> None:
    answer = as_user("admin").get(path, query_string=query)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Type"].lower().count("charset") <= 1, answer.headers


def test_errors_carry_the_headers_too(as_user: Any) -> None:
    answer = as_user(None).get("/facilities")
    assert answer.status_code == 401
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"
