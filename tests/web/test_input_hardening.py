"""Bodies that used to answer 500 (issue 16, item 1): each now gets a 400 naming the field.

Reproducers from the audit: a user's ``role`` given as an object or a list; an integer of more than
4,300 digits (Python's int-from-text limit) in any JSON body; a lone UTF-16 surrogate in a string,
which cannot be stored or hashed as UTF-8. Nothing is stored on refusal.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import expect_error

HUGE_INT = "9" * 5000


@pytest.mark.parametrize("role", [{}, [], ["admin"], 7])
def test_a_role_that_is_not_a_string_is_refused_by_name(as_user: Any, role: Any) -> None:
    admin = as_user("admin")
    answer = admin.post("/users", json={"username": "role-probe", "role": role})
    error = expect_error(answer, 400)
    assert "role" in str(error)
    assert admin.post("/users/role-probe/disable").status_code == 404


def _raw(client: Any, path: str, text: str) -> Any:
    return client.post(path, data=text.encode("utf-8"), content_type="application/json")


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("repA", "/facilities/79-A/reports"),
        ("admin", "/dhis2/dataValueSets"),
        ("coord79", "/plans"),
        ("admin", "/users"),
    ],
)
def test_an_integer_too_long_to_read_is_a_400(as_user: Any, user: str, path: str) -> None:
    answer = _raw(as_user(user), path, '{"oxygen_used_24h_m3": ' + HUGE_INT + "}")
    error = expect_error(answer, 400)
    assert "too long" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        '{"report_date": "2021-08-19", "oxygen_used_24h_m3": 10, "note": "x\\ud800y"}',
        '{"report_date": "2021-08-19", "oxygen_used_24h_m3": 10, "note\\udfff": "x"}',
    ],
)
def test_a_lone_surrogate_is_refused_and_nothing_is_stored(as_user: Any, text: str) -> None:
    reporter = as_user("repA")
    before = reporter.get("/facilities/79-A/reports").get_json()
    error = expect_error(_raw(reporter, "/facilities/79-A/reports", text), 400)
    assert "surrogate" in str(error)
    assert "body" in str(error)
    assert reporter.get("/facilities/79-A/reports").get_json() == before


def test_vietnamese_keys_and_text_still_pass_the_check(as_user: Any) -> None:
    reporter = as_user("repA")
    answer = reporter.post(
        "/facilities/79-A/reports",
        json={"report_date": "2021-08-19", "oxygen_used_24h_m3": 10, "note": "Bệnh viện Chợ Rẫy"},
    )
    assert answer.status_code in (200, 201), answer.get_json()
