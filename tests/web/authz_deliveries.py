"""Authorization classification of the deliveries operations (issue 14); see :mod:`tests.web.authz`.

``OPERATIONS`` classifies every operation of this area; ``extend_world`` gives the owners objects
of this area through the API and records their ids in ``owner.objects``.

The plan hand-off operations take the world's plan (officer 79's, a draft): its approval is an
ordinary control and its publication runs last (it needs the approval). Deliveries come from a
second plan that :func:`extend_world` computes, routes, approves and publishes as officer 79;
each owner gets one delivery of its scope (reporter 79-X: its hospital's, if the routes serve
it). The delivery's controls run in order: dispatch, then (last) confirm with a photo, then
(last, after confirm in the document's order) the photo is read back.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.web.authz import PLAN_REGION, ROUTES_BODY, Kind, Owner, Spec

_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
_QUANTITY_FIELDS: dict[str, str] = {}  # owner key -> received_liquid_kg or received_cylinders


def _confirm(owner: Owner) -> dict[str, Any] | None:
    field = _QUANTITY_FIELDS.get(owner.key)
    if field is None:
        return None
    return {
        field: 1,
        "receiver_name": f"Nguyễn Thị Lan {owner.canary}",
        "note": f"thiếu hàng {owner.canary}",
        "proof_base64": base64.b64encode(_PNG).decode("ascii"),
    }


OPERATIONS: dict[str, Spec] = {
    # plan hand-off: lists are scoped to the coordinator's province; approve/publish its plans
    "GET /plans": Spec(Kind.COLLECTION),
    "POST /plans/{plan_id}/approve": Spec(Kind.OBJECT),
    "POST /plans/{plan_id}/publish": Spec(Kind.OBJECT, last=True),
    # deliveries: a reporter's incoming ones, a coordinator's province
    "GET /deliveries": Spec(Kind.COLLECTION),
    "GET /deliveries/{delivery_id}": Spec(Kind.OBJECT),
    "POST /deliveries/{delivery_id}/dispatch": Spec(Kind.OBJECT),
    "POST /deliveries/{delivery_id}/confirm": Spec(Kind.OBJECT, body=_confirm, last=True),
    "GET /deliveries/{delivery_id}/proof": Spec(Kind.OBJECT, last=True),
    "GET /deliveries/reconciliation.{ext}": Spec(Kind.COLLECTION),
}


def _ok(response: Any, what: str) -> Any:
    assert response.status_code < 300, (
        f"{what}: {response.status_code} {response.get_data(as_text=True)[:400]}"
    )
    return response


def extend_world(
    client: Any, owners: dict[str, Owner], *, admin_token: str, planner_token: str
) -> None:
    """Publish a second plan of officer 79 and give each owner a delivery of its scope."""
    officer = owners["officer 79"]
    body = {"region": PLAN_REGION, "date": "2021-08-20", "horizon_days": 1}
    plan_id = _ok(client.call("POST", "/plans", officer.token, body=body), "plan").get_json()[
        "plan_id"
    ]
    # Any company's truck may load at the plan's suppliers, so that the routes do drop stops.
    routes = {**ROUTES_BODY, "options": {**ROUTES_BODY["options"], "cross_company_loading": True}}
    _ok(client.call("POST", f"/plans/{plan_id}/routes", officer.token, body=routes), "routes")
    _ok(client.call("POST", f"/plans/{plan_id}/approve", officer.token), "approve")
    published = _ok(client.call("POST", f"/plans/{plan_id}/publish", officer.token), "publish")
    deliveries = published.get_json()["deliveries"]
    assert deliveries, "the published plan has no delivery"
    used: set[int] = set()
    for owner in sorted(owners.values(), key=lambda o: o.province_code is not None):
        mine = [
            d
            for d in deliveries
            if (owner.province_code is None and d["facility_id"] == owner.facility_id)
            or (owner.province_code is not None and d["province_code"] == owner.province_code)
        ]
        if not mine:
            owner.objects["delivery_id"] = None  # type: ignore[assignment] # none in its scope
            continue
        # an officer takes a delivery no reporter took, when there is one
        choice = next((d for d in mine if d["delivery_id"] not in used), mine[0])
        used.add(choice["delivery_id"])
        owner.objects["delivery_id"] = str(choice["delivery_id"])
        _QUANTITY_FIELDS[owner.key] = (
            "received_liquid_kg" if choice["product"] == "liquid" else "received_cylinders"
        )
