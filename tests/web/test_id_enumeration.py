"""A province officer cannot tell a missing facility from another province's (issue 16, item 6).

Before: ``GET /facilities/01-C`` (province 01) answered 403 naming province 01, and a missing id
404, so an officer of province 79 could enumerate the registry. Both now answer the same 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import expect_error


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/facilities/{id}", None),
        ("put", "/facilities/{id}", {"name": "x"}),
        ("delete", "/facilities/{id}", None),
        ("get", "/facilities/{id}/reports", None),
        (
            "post",
            "/facilities/{id}/reports",
            {"report_date": "2021-08-19", "oxygen_used_24h_m3": 1},
        ),
    ],
)
def test_missing_and_foreign_facilities_look_the_same(
    as_user: Any, method: str, path: str, body: Any
) -> None:
    officer = as_user("coord79")
    answers = []
    for facility_id in ("01-C", "01-NOPE"):
        send = getattr(officer, method)
        kwargs = {} if body is None else {"json": body}
        answer = send(path.format(id=facility_id), **kwargs)
        error = expect_error(answer, 403)
        answers.append(str(error).replace(facility_id, "<id>"))
    assert answers[0] == answers[1]
    assert "'01'" not in answers[0]


def test_national_roles_still_get_404_for_a_missing_facility(as_user: Any) -> None:
    expect_error(as_user("admin").get("/facilities/01-NOPE"), 404)
    assert as_user("coord79").get("/facilities/79-A").status_code == 200
