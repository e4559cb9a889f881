"""Authorization classification of the requests operations (issue 14); see :mod:`tests.web.authz`.

``OPERATIONS`` classifies every operation of this area; ``extend_world`` gives every owner one
urgent request of its scope, filed through the API (officers for their province's hospital),
and puts the filling station TDS and a cylinder truck homed there in the registry, so that
officer 79's request (on the District 5 map) has a sourcing option.

One request per owner goes down one path, so the controls are aimed: officer 79 approves
(version 1), lists the options, sources (version 2) and dispatches (version 3, last); officer 01
rejects its own; reporters cancel theirs (last). Other owners' bodies are None where a control
would spoil the path (the intruders' requests on those objects are then not sent).
"""

from __future__ import annotations

from typing import Any

from tests.web.authz import PLAN_REGION, Kind, Owner, Spec

NEEDED_BY = "2021-08-21T09:00:00+07:00"  # the world's clock is 2021-08-20 09:00
_VEHICLE = "REQ-CT-1"
_WORLD: dict[str, Any] = {}  # the world's client, to read options when a body is made


def _new_request(owner: Owner) -> dict[str, Any]:
    return {
        "facility_id": owner.facility_id,
        "product": "cylinders",
        "requested_cylinders": 20,
        "needed_by": NEEDED_BY,
        "reason": f"Bệnh nhân thở máy tăng {owner.canary}",
        "contact_name": "Trần Văn Minh",
        "contact_phone": "0903 123 456",
    }


def _officer79(body: dict[str, Any]) -> Any:
    return lambda owner: body if owner.key == "officer 79" else None


def _reject(owner: Owner) -> dict[str, Any] | None:
    if owner.key == "officer 79":
        return None  # its request is approved and sourced instead
    return {"version": 1, "reason": f"đã có trong kế hoạch {owner.canary}"}


def _cancel(owner: Owner) -> dict[str, Any] | None:
    return None if owner.province_code else {"version": 1, "reason": "đã nhận đủ"}


def _source(owner: Owner) -> dict[str, Any] | None:
    """Choose officer 79's first option (read as officer 79; "none" before its approval)."""
    if owner.key != "officer 79" or "client" not in _WORLD:
        return None
    answer = _WORLD["client"].call(
        "GET",
        f"/requests/{owner.objects['request_id']}/options",
        owner.token,
        query={"region": PLAN_REGION},
    )
    options = answer.get_json().get("options", []) if answer.status_code == 200 else []
    return {"version": 2, "option_id": options[0]["option_id"] if options else "none"}


OPERATIONS: dict[str, Spec] = {
    "POST /requests": Spec(Kind.CREATE, body=_new_request),
    "GET /requests": Spec(Kind.COLLECTION),
    "GET /requests/{request_id}": Spec(Kind.OBJECT),
    "POST /requests/{request_id}/approve": Spec(
        Kind.OBJECT,
        body=lambda owner: None if owner.key == "officer 01" else {"version": 1},
    ),
    "POST /requests/{request_id}/reject": Spec(Kind.OBJECT, body=_reject),
    "POST /requests/{request_id}/cancel": Spec(Kind.OBJECT, body=_cancel, last=True),
    "GET /requests/{request_id}/options": Spec(Kind.OBJECT),
    "POST /requests/{request_id}/source": Spec(Kind.OBJECT, body=_source),
    "POST /requests/{request_id}/dispatch": Spec(
        Kind.OBJECT, body=_officer79({"version": 3}), last=True
    ),
}


def _ok(response: Any, what: str) -> Any:
    assert response.status_code < 300, (
        f"{what}: {response.status_code} {response.get_data(as_text=True)[:400]}"
    )
    return response


def _register(client: Any, admin_token: str, collection: str, record: dict[str, Any]) -> None:
    """Create a shared registry record unless another area's world already did."""
    record_id = next(iter(record.values()))
    if client.call("GET", f"/{collection}/{record_id}", admin_token).status_code == 404:
        _ok(client.call("POST", f"/{collection}", admin_token, body=record), record_id)


def extend_world(
    client: Any, owners: dict[str, Owner], *, admin_token: str, planner_token: str
) -> None:
    """Register TDS and a truck, and file one request per owner (``objects["request_id"]``)."""
    _WORLD["client"] = client
    _register(
        client,
        admin_token,
        "suppliers",
        {
            "supplier_id": "TDS",
            "name": "Thép Thủ Đức - trạm nạp oxy",
            "kind": "filling_station",
            "province_code": "79",
            "lon": 106.7600,
            "lat": 10.8420,
            "cylinders_per_day": 300,
        },
    )
    _register(
        client,
        admin_token,
        "transport-operators",
        {"operator_id": "REQ-OP", "name": "Đội xe khẩn cấp"},
    )
    _register(
        client,
        admin_token,
        "vehicles",
        {
            "vehicle_id": _VEHICLE,
            "operator_id": "REQ-OP",
            "kind": "cylinder_truck",
            "cylinder_capacity": 80,
            "home_depot_id": "TDS",
        },
    )
    for owner in owners.values():
        filed = _ok(
            client.call("POST", "/requests", owner.token, body=_new_request(owner)),
            f"request of {owner.key}",
        )
        owner.objects["request_id"] = str(filed.get_json()["request_id"])
