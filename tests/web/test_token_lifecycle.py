"""Tokens expire, can be revoked one by one, and a disabled user can be enabled again (issue 16, 4).

Also usernames that no ``/users/{username}`` path could reach (``a/b``) are refused (issue 16, 6).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.registry_world import Clock
from tests.web.conftest import Client, expect_error


def _issue(admin: Any, username: str, **body: Any) -> dict[str, Any]:
    answer = (
        admin.post(f"/users/{username}/tokens", json=body)
        if body
        else admin.post(f"/users/{username}/tokens")
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_json()  # type: ignore[no-any-return]


def _as(app: Any, token: str) -> Client:
    return Client(app.test_client(), token)


def test_a_token_expires_after_90_days_by_default(app: Any, as_user: Any, clock: Clock) -> None:
    admin = as_user("admin")
    issued = _issue(admin, "planner")
    expires = dt.datetime.fromisoformat(issued["expires_at"])
    assert expires - clock.now == dt.timedelta(days=90)
    planner = _as(app, issued["token"])
    assert planner.get("/me").status_code == 200
    clock.now = expires - dt.timedelta(seconds=1)
    assert planner.get("/me").status_code == 200
    clock.now = expires
    expect_error(planner.get("/me"), 401)
    states = {
        t["token_id"]: t["state"] for t in admin.get("/users/planner/tokens").get_json()["tokens"]
    }
    assert states[issued["token_id"]] == "expired"


def test_an_admin_chooses_a_shorter_lifetime(as_user: Any, clock: Clock) -> None:
    issued = _issue(as_user("admin"), "planner", expires_in_days=1, label="ca trực đêm")
    assert dt.datetime.fromisoformat(issued["expires_at"]) - clock.now == dt.timedelta(days=1)
    issued = _issue(as_user("admin"), "planner", expires_in_days=30.0)  # an integral number
    assert dt.datetime.fromisoformat(issued["expires_at"]) - clock.now == dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 366}, "expires_in_days"),
        ({"expires_in_days": "30"}, "expires_in_days"),
        ({"expires_in_days": 30.5}, "expires_in_days"),
        ({"expires_in_days": True}, "expires_in_days"),
        ({"label": ""}, "label"),
        ({"forever": True}, "forever"),
    ],
)
def test_bad_token_options_are_refused_by_name(as_user: Any, body: Any, field: str) -> None:
    admin = as_user("admin")
    before = admin.get("/users/planner/tokens").get_json()["tokens"]
    error = expect_error(admin.post("/users/planner/tokens", json=body), 400)
    assert field in str(error)
    assert admin.get("/users/planner/tokens").get_json()["tokens"] == before


def test_revoking_one_token_leaves_the_others_working(app: Any, as_user: Any) -> None:
    admin = as_user("admin")
    first, second = _issue(admin, "dispatcher"), _issue(admin, "dispatcher")
    answer = admin.post(f"/users/dispatcher/tokens/{first['token_id']}/revoke")
    assert answer.status_code == 200, answer.get_json()
    expect_error(_as(app, first["token"]).get("/me"), 401)
    assert _as(app, second["token"]).get("/me").status_code == 200
    expect_error(admin.post(f"/users/dispatcher/tokens/{first['token_id']}/revoke"), 409)
    # another user's token id is not found under this user
    expect_error(admin.post(f"/users/planner/tokens/{second['token_id']}/revoke"), 404)
    listed = admin.get("/users/dispatcher/tokens").get_json()["tokens"]
    assert {t["token_id"]: t["state"] for t in listed}[first["token_id"]] == "revoked"
    assert all("token" not in t and "token_hash" not in t for t in listed)
    events = admin.get("/audit", query_string={"entity": "users", "entity_id": "dispatcher"})
    assert "revoke_token" in {e["action"] for e in events.get_json()["events"]}


def test_a_disabled_user_can_be_enabled_again(app: Any, as_user: Any) -> None:
    admin = as_user("admin")
    token = _issue(admin, "ministry")["token"]
    assert admin.post("/users/ministry/disable").status_code == 200
    expect_error(_as(app, token).get("/me"), 401)
    answer = admin.post("/users/ministry/enable")
    assert answer.status_code == 200 and answer.get_json()["disabled"] is False
    assert _as(app, token).get("/me").status_code == 200
    expect_error(admin.post("/users/nobody/enable"), 404)


def test_only_admins_manage_tokens(as_user: Any) -> None:
    for user in ("coord79", "repA", "planner"):
        client = as_user(user)
        expect_error(client.get("/users/planner/tokens"), 403)
        expect_error(client.post("/users/planner/tokens/1/revoke"), 403)
        expect_error(client.post("/users/planner/enable"), 403)


@pytest.mark.parametrize("username", ["a/b", "a b", "a?b", "a#b", "x" * 101, ""])
def test_usernames_a_path_cannot_reach_are_refused(as_user: Any, username: str) -> None:
    answer = as_user("admin").post("/users", json={"username": username, "role": "planner"})
    assert answer.status_code in (400, 422)
    assert "username" in str(answer.get_json())


def test_vietnamese_usernames_are_accepted(as_user: Any) -> None:
    answer = as_user("admin").post("/users", json={"username": "nguyễn.văn-an", "role": "planner"})
    assert answer.status_code == 201, answer.get_json()
