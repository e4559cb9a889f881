"""Authorization classification of a plan's inventory-routing part (issue 17); see tests.web.authz.

``OPERATIONS`` classifies every operation of this area; ``extend_world`` gives the owners objects
of this area through the API and records their ids in ``owner.objects``.

``GET /plans/{plan_id}/irp`` reads one plan's inventory-routing part: an object of the plan's
province, read like the plan itself (dispatchers: published plans only). Only a plan computed
with ``"mode": "irp"`` has that part, so :func:`extend_world` has officer 79 compute one (District
5, one day) and its routes, and aims every ``{plan_id}`` operation of officer 79 at it (with its
``routes_id`` and ``vehicle_id``): the world's other plan operations then run on an IRP plan too,
which must behave like any plan.
"""

from __future__ import annotations

from typing import Any

from tests.web.authz import PLAN_REGION, ROUTES_BODY, Kind, Owner, Spec

OPERATIONS: dict[str, Spec] = {
    "GET /plans/{plan_id}/irp": Spec(Kind.OBJECT),
}


def _ok(response: Any, what: str) -> Any:
    assert response.status_code < 300, (
        f"{what}: {response.status_code} {response.get_data(as_text=True)[:400]}"
    )
    return response


def extend_world(
    client: Any, owners: dict[str, Owner], *, admin_token: str, planner_token: str
) -> None:
    """Give officer 79 a plan with an inventory-routing part, and routes of it."""
    officer = owners["officer 79"]
    body = {
        "region": PLAN_REGION,
        "date": "2021-08-20",
        "horizon_days": 1,
        "mode": "irp",
        "irp_time_limit_s": 1,
    }
    created = _ok(client.call("POST", "/plans", officer.token, body=body), "irp plan").get_json()
    plan_id = created["plan_id"]
    routes = _ok(
        client.call("POST", f"/plans/{plan_id}/routes", officer.token, body=ROUTES_BODY),
        "irp plan routes",
    ).get_json()
    officer.objects["plan_id"] = plan_id
    officer.objects["routes_id"] = routes["routes_id"]
    vehicle_id = next(iter(routes["links"]["sheets"]), None)
    officer.objects["vehicle_id"] = vehicle_id  # type: ignore[assignment] # None: no sheet
