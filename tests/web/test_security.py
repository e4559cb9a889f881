"""Security: roles and scopes, rate-limited authentication, no tokens in URLs.

Every role and scope is enforced; cross-facility and cross-province access is refused;
authentication failures are rate limited; tokens never travel in URLs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

REPORT = {"report_date": "2021-08-20", "oxygen_used_24h_m3": 10.0}
FACILITY_C = {
    "facility_id": "01-C",
    "name": "Bệnh viện Bạch Mai",
    "province_code": "01",
    "lon": 105.8412,
    "lat": 21.0012,
    "tier": 3,
}

# (user, method, path, body): every case must be refused with 403.
REFUSED = [
    # facility reporters: only their own facility
    ("repA", "get", "/facilities/79-B", None),
    ("repA", "get", "/facilities/01-C", None),
    ("repA", "post", "/facilities/79-B/reports", REPORT),
    ("repA", "get", "/facilities/79-B/reports", None),
    ("repA", "get", "/facilities/79-B/reports/2021-08-20/revisions", None),
    ("repA", "get", "/facilities/does-not-exist", None),  # no probing of other ids
    (
        "repA",
        "put",
        "/facilities/79-A",
        {**FACILITY_C, "facility_id": "79-A", "province_code": "79"},
    ),
    ("repA", "get", "/reports", None),
    ("repA", "get", "/compliance/daily", None),
    ("repA", "get", "/demand/provinces", None),
    ("repA", "get", "/suppliers", None),
    # a reporter exports its own facility's reports only (issue 13), nothing else
    ("repA", "get", "/exports/reports.csv?province_code=79", None),
    ("repA", "get", "/exports/facilities.csv", None),
    ("repA", "post", "/users", {"username": "x", "role": "admin"}),
    # province coordinators: only their province
    ("coord01", "get", "/facilities/79-A", None),
    ("coord01", "post", "/facilities/79-A/reports", REPORT),
    ("coord01", "get", "/facilities/79-A/reports", None),
    ("coord01", "get", "/facilities?province_code=79", None),
    ("coord01", "get", "/reports?province_code=79", None),
    ("coord01", "get", "/compliance/daily?province_code=79", None),
    ("coord01", "get", "/compliance/monthly?month=2021-08&province_code=79", None),
    ("coord01", "get", "/demand/provinces?province_code=79", None),
    ("coord01", "get", "/exports/reports.csv?province_code=79", None),
    ("coord01", "get", "/compliance/national", None),
    (
        "coord01",
        "put",
        "/facilities/79-A",
        {**FACILITY_C, "facility_id": "79-A", "province_code": "01"},
    ),
    ("coord01", "put", "/facilities/01-C", {**FACILITY_C, "province_code": "79"}),  # move it out
    ("coord01", "delete", "/facilities/79-A", None),
    ("coord79", "post", "/facilities", {**FACILITY_C, "facility_id": "01-D"}),
    (
        "coord79",
        "post",
        "/suppliers",
        {"supplier_id": "S", "name": "S", "kind": "depot", "province_code": "79"},
    ),
    # ministry, planner: read only
    ("ministry", "post", "/facilities/79-A/reports", REPORT),
    ("ministry", "delete", "/facilities/79-A", None),
    ("planner", "put", "/facilities/01-C", FACILITY_C),
    ("planner", "get", "/audit", None),
    # dispatcher: fleet only
    ("dispatcher", "post", "/facilities/79-A/reports", REPORT),
    ("dispatcher", "get", "/compliance/daily", None),
    ("dispatcher", "post", "/facilities", {**FACILITY_C, "facility_id": "01-D"}),
    ("coord79", "post", "/users/repA/tokens", None),
]


@pytest.mark.parametrize(("user", "method", "path", "body"), REFUSED)
def test_out_of_scope_requests_are_refused(
    as_user: Any, user: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    client = as_user(user)
    kwargs = {} if body is None else {"json": body}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 403, (user, method, path, response.get_data(as_text=True))
    assert response.get_json()["error"]["category"] == "forbidden"


def test_nothing_leaked_or_written_by_refusals(as_user: Any) -> None:
    as_user("repA").post("/facilities/79-B/reports", json=REPORT)
    as_user("coord01").post("/facilities/79-A/reports", json=REPORT)
    assert (
        as_user("admin")
        .get("/reports?date_from=2021-08-20&date_to=2021-08-20")
        .get_json()["reports"]
        == []
    )


@pytest.mark.parametrize(
    ("user", "path", "expected_ids"),
    [
        ("repA", "/facilities", ["79-A"]),
        ("coord79", "/facilities", ["79-A", "79-B"]),
        ("coord01", "/facilities", ["01-C"]),
        ("ministry", "/facilities", ["01-C", "79-A", "79-B"]),
    ],
)
def test_lists_are_filtered_to_the_scope(
    as_user: Any, user: str, path: str, expected_ids: list[str]
) -> None:
    facilities = as_user(user).get(path).get_json()["facilities"]
    assert [f["facility_id"] for f in facilities] == expected_ids


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "status"),
    [
        ("repA", "post", "/facilities/79-A/reports", REPORT, 201),
        ("coord79", "post", "/facilities/79-B/reports", REPORT, 201),  # on behalf of a facility
        ("coord79", "get", "/compliance/daily", None, 200),
        ("coord01", "put", "/facilities/01-C", {**FACILITY_C, "beds_oxygen": 40}, 200),
        ("ministry", "get", "/compliance/national", None, 200),
        (
            "dispatcher",
            "post",
            "/transport-operators",
            {"operator_id": "OP", "name": "Đội xe"},
            201,
        ),
        ("planner", "get", "/demand/provinces", None, 200),
    ],
)
def test_in_scope_requests_succeed(
    as_user: Any, user: str, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    response = getattr(as_user(user), method)(path, **({} if body is None else {"json": body}))
    assert response.status_code == status, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "header",
    [
        None,  # no credentials
        "Bearer",  # empty token
        "Bearer oxy_" + "A" * 43,  # unknown token
        "Basic YWRtaW46YWRtaW4=",  # wrong scheme
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.",  # forged JWT with alg none
    ],
)
def test_broken_credentials_are_401(as_user: Any, header: str | None) -> None:
    client = as_user(None)
    response = client.get("/me", headers={} if header is None else {"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_repeated_failures_are_rate_limited(as_user: Any, template_db: Any) -> None:
    client = as_user(None)
    statuses = [
        client.get("/me", headers={"Authorization": "Bearer nope"}).status_code for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    locked = client.get("/me", headers={"Authorization": "Bearer still-wrong"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_a_locked_out_address_still_serves_valid_tokens(as_user: Any, template_db: Any) -> None:
    # Issue 16: ten bad tokens from one address (a NAT, a proxy) locked out every valid token
    # from that address for 60 s. Only failures are throttled now.
    client = as_user(None)
    for _ in range(6):
        client.get("/me", headers={"Authorization": "Bearer nope"})
    for user in ("admin", "repA", "coord79"):
        answer = client.get("/me", headers={"Authorization": f"Bearer {template_db.tokens[user]}"})
        assert answer.status_code == 200, user
    assert client.get("/me", headers={"Authorization": "Bearer nope"}).status_code == 429


def test_tokens_in_urls_are_refused(as_user: Any, template_db: Any) -> None:
    response = as_user(None).get(f"/me?access_token={template_db.tokens['admin']}")
    assert response.status_code == 400


def test_disabled_users_tokens_stop_working(as_user: Any) -> None:
    assert as_user("repB").get("/me").status_code == 200
    assert as_user("admin").post("/users/repB/disable").status_code == 200
    assert as_user("repB").get("/me").status_code == 401


def test_admin_creates_users_and_tokens(as_user: Any) -> None:
    admin = as_user("admin")
    created = admin.post(
        "/users",
        json={"username": "coord74", "role": "province_coordinator", "province_code": "74"},
    )
    assert created.status_code == 201
    token = admin.post("/users/coord74/tokens").get_json()["token"]
    me = as_user(None).get("/me", headers={"Authorization": f"ApiToken {token}"}).get_json()
    assert (me["role"], me["province_code"]) == ("province_coordinator", "74")
    bad = admin.post("/users", json={"username": "x", "role": "facility_reporter"})
    assert (
        bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "facility_id"
    )


def test_expired_token_is_401(app: Any, as_user: Any, clock: Any) -> None:
    store = app.extensions["oxyroute"].store
    token = store.issue_token("planner", expires_at=clock() + dt.timedelta(hours=1))
    assert as_user(None).get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock.now += dt.timedelta(hours=2)
    assert as_user(None).get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
