"""Approval and locking (INTEROP.md).

A province approves day D, which locks its reports; writes after that get 409 until a coordinator or
an admin unlocks the day with a reason; every approval and unlock leaves an audit row.
"""

from __future__ import annotations

from typing import Any

import pytest

REPORT = {"report_date": "2021-08-19", "oxygen_used_24h_m3": 80.0, "patients_cannula_mask": 4}


def _status(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_write_after_lock_is_409_and_unlock_reopens(as_user: Any) -> None:
    rep_a, coord = as_user("repA"), as_user("coord79")
    _status(rep_a.post("/facilities/79-A/reports", json=REPORT), 201)
    approval = _status(coord.post("/approvals/79/2021-08-19"), 201)
    assert approval["locked"] is True and approval["approved_by"] == "coord79"
    # A correction, a first report of another facility of the province, and a resubmission of
    # the same content are all refused while the day is locked.
    error = _status(
        rep_a.post("/facilities/79-A/reports", json={**REPORT, "oxygen_used_24h_m3": 90.0}), 409
    )
    assert "report_date" in error["error"]["message"] and "unlock" in error["error"]["message"]
    _status(as_user("repB").post("/facilities/79-B/reports", json=REPORT), 409)
    _status(rep_a.post("/facilities/79-A/reports", json=REPORT), 409)
    # Other days of the province and the same day of another province stay open.
    _status(
        rep_a.post("/facilities/79-A/reports", json={**REPORT, "report_date": "2021-08-18"}), 201
    )
    _status(as_user("repC").post("/facilities/01-C/reports", json=REPORT), 201)
    unlocked = _status(
        coord.post(
            "/approvals/79/2021-08-19/unlock", json={"reason": "Sửa số liệu bệnh viện Chợ Rẫy"}
        ),
        200,
    )
    assert (
        unlocked["locked"] is False and unlocked["unlock_reason"] == "Sửa số liệu bệnh viện Chợ Rẫy"
    )
    corrected = _status(
        rep_a.post("/facilities/79-A/reports", json={**REPORT, "oxygen_used_24h_m3": 90.0}), 201
    )
    assert corrected["revision"] == 2
    # Approved again: locked again; the last unlock stays visible.
    again = _status(as_user("admin").post("/approvals/79/2021-08-19"), 201)
    assert (
        again["locked"] is True
        and again["approved_by"] == "admin"
        and again["unlocked_by"] == "coord79"
    )
    _status(rep_a.post("/facilities/79-A/reports", json=REPORT), 409)


def test_approvals_and_unlocks_leave_audit_rows(as_user: Any) -> None:
    coord = as_user("coord79")
    _status(coord.post("/approvals/79/2021-08-19"), 201)
    _status(coord.post("/approvals/79/2021-08-19/unlock", json={"reason": "thiếu báo cáo"}), 200)
    _status(coord.post("/approvals/79/2021-08-19"), 201)
    events = _status(
        as_user("ministry").get("/audit?entity=approvals&entity_id=79/2021-08-19"), 200
    )["events"]
    assert [(e["actor"], e["action"]) for e in events] == [
        ("coord79", "approve"),
        ("coord79", "unlock"),
        ("coord79", "approve"),
    ]
    assert events[1]["detail"] == {"reason": "thiếu báo cáo"}
    listed = _status(
        as_user("ministry").get(
            "/approvals?province_code=79&date_from=2021-08-01&date_to=2021-08-20"
        ),
        200,
    )
    assert [(a["report_date"], a["locked"]) for a in listed["approvals"]] == [("2021-08-19", True)]


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "status"),
    [
        ("coord01", "post", "/approvals/79/2021-08-19", None, 403),  # another province's day
        (
            "coord01",
            "post",
            "/approvals/79/2021-08-19/unlock",
            {"reason": "x"},
            403,
        ),  # same, unlock
        (
            "coord01",
            "get",
            "/approvals/79/2021-08-19",
            None,
            403,
        ),  # reading another province's state
        ("coord01", "get", "/approvals?province_code=79", None, 403),  # listing another province
        ("repA", "post", "/approvals/79/2021-08-19", None, 403),  # reporters do not approve
        ("ministry", "post", "/approvals/79/2021-08-19", None, 403),  # ministry reads only
        ("planner", "post", "/approvals/79/2021-08-19", None, 403),  # planners read only
        ("dispatcher", "get", "/approvals/79/2021-08-19", None, 403),  # dispatchers do not see them
        (None, "post", "/approvals/79/2021-08-19", None, 401),  # no token
    ],
)
def test_cross_province_and_other_roles_are_refused(
    as_user: Any, user: str | None, method: str, path: str, body: dict[str, str] | None, status: int
) -> None:
    client = as_user(user)
    response = (
        getattr(client, method)(path, json=body)
        if body is not None
        else getattr(client, method)(path)
    )
    _status(response, status)
    # Nothing was approved by the refused request.
    state = _status(as_user("admin").get("/approvals/79/2021-08-19"), 200)
    assert state["locked"] is False and state["approved_by"] is None


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        (
            "/approvals/79/2021-08-22",
            None,
            422,
            "report_date",
        ),  # a day that has not begun (today is 20 Aug)
        ("/approvals/7/2021-08-19", None, 400, "province_code"),  # malformed code
        ("/approvals/79/2021-02-30", None, 400, "report_date"),  # no such day
        ("/approvals/03/2021-08-19", None, 403, ""),  # a coordinator does not probe other codes
        ("/approvals/79/2021-08-19/unlock", {"reason": "x"}, 409, ""),  # not locked
        ("/approvals/79/2021-08-19/unlock", {"reason": "   "}, 422, "reason"),  # blank reason
        ("/approvals/79/2021-08-19/unlock", {}, 400, "reason"),  # no reason
        (
            "/approvals/79/2021-08-19/unlock",
            {"reason": "x", "extra": 1},
            400,
            "body",
        ),  # unknown field
    ],
)
def test_bad_approval_requests(
    as_user: Any, path: str, body: dict[str, Any] | None, status: int, field: str
) -> None:
    coord = as_user("coord79")
    response = coord.post(path, json=body) if body is not None else coord.post(path)
    error = _status(response, status)["error"]
    if field:
        assert field in [d["field"] for d in error["details"]] or field in error["message"]


def test_unknown_province_is_404_for_an_admin(as_user: Any) -> None:
    error = _status(as_user("admin").post("/approvals/03/2021-08-19"), 404)["error"]
    assert [d["field"] for d in error["details"]] == ["province_code"]


def test_double_approval_is_409(as_user: Any) -> None:
    coord = as_user("coord79")
    _status(coord.post("/approvals/79/2021-08-19"), 201)
    _status(coord.post("/approvals/79/2021-08-19"), 409)


def test_idempotent_replay_still_answers_after_lock(as_user: Any) -> None:
    rep_a = as_user("repA")
    headers = {"Idempotency-Key": "k-19"}
    first = _status(rep_a.post("/facilities/79-A/reports", json=REPORT, headers=headers), 201)
    _status(as_user("coord79").post("/approvals/79/2021-08-19"), 201)
    replay = rep_a.post("/facilities/79-A/reports", json=REPORT, headers=headers)
    assert _status(replay, 201)["content_hash"] == first["content_hash"]
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_imports_into_a_locked_day_are_refused(as_user: Any) -> None:
    _status(as_user("coord79").post("/approvals/79/2021-08-19"), 201)
    csv = "facility_id,report_date,oxygen_used_24h_m3\r\n79-A,2021-08-19,12\r\n"
    response = as_user("coord79").post(
        "/imports/reports?format=csv", data=csv.encode(), content_type="text/csv"
    )
    _status(response, 409)
    assert (
        _status(
            as_user("admin").get(
                "/reports?province_code=79&date_from=2021-08-19&date_to=2021-08-19"
            ),
            200,
        )["reports"]
        == []
    )
