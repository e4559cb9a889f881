"""What a re-plan changed and where every load is now: the answer's ``changes`` and ``balance``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any


def new_steps(route: Mapping[str, Any], carried_ids: set[str]) -> list[dict[str, Any]]:
    """Return a solved route's steps after its start, without the pickups of what it carries."""
    return [
        dict(s)
        for s in route["steps"][1:]
        if not (s["type"] == "pickup" and s.get("load_id") in carried_ids)
    ]


def _arrivals(routes: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """Return step id -> (vehicle, arrival) of every pickup and delivery."""
    return {
        s["id"]: (r["vehicle"], s["arrival"])
        for r in routes
        for s in r["steps"]
        if s["type"] in ("pickup", "delivery")
    }


def changes(
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
    unassigned: Sequence[Mapping[str, Any]],
    tolerance_min: int,
) -> dict[str, Any]:
    """Say what changed: stops moved between vehicles, ETA shifts, new and dropped stops."""
    before, after = _arrivals(old), _arrivals(new)
    reasons = {u["id"]: u["reason"] for u in unassigned}
    moved, shifted, dropped = [], [], []
    for step_id, (vehicle, arrival) in before.items():
        if step_id not in after:
            rest = next(
                (
                    k
                    for k in after
                    if k.split(":")[0] in (step_id.split(":")[0] + "r", step_id.split(":")[0] + "s")
                ),
                None,
            )
            dropped.append(
                {
                    "id": step_id,
                    "vehicle": vehicle,
                    "replaced_by": rest,
                    "reason": reasons.get(
                        step_id,
                        "done in part; the rest is a new stop"
                        if rest
                        else "done or carried by a broken vehicle: see the transfer stops",
                    ),
                }
            )
            continue
        new_vehicle, new_arrival = after[step_id]
        if new_vehicle != vehicle:
            moved.append({"id": step_id, "from": vehicle, "to": new_vehicle})
        shift = round(
            (
                dt.datetime.fromisoformat(new_arrival) - dt.datetime.fromisoformat(arrival)
            ).total_seconds()
            / 60
        )
        if shift:
            shifted.append(
                {
                    "id": step_id,
                    "vehicle": new_vehicle,
                    "from": arrival,
                    "to": new_arrival,
                    "shift_min": shift,
                    "beyond_tolerance": abs(shift) > tolerance_min,
                }
            )
    added = [
        {"id": k, "vehicle": v, "arrival": a} for k, (v, a) in after.items() if k not in before
    ]
    return {
        "moved": moved,
        "eta_shifts": shifted,
        "new_stops": added,
        "dropped_stops": dropped,
        "counts": {
            "moved": len(moved),
            "eta_beyond_tolerance": sum(s["beyond_tolerance"] for s in shifted),
            "new_stops": len(added),
            "dropped_stops": len(dropped),
        },
    }


def balance(
    routes: Mapping[str, Any],
    document: Mapping[str, Any],
    *,
    new_load_ids: frozenset[str] = frozenset(),
) -> dict[str, dict[str, int]]:
    """Sum, per product, what the routes given had to deliver and where it all is now.

    ``to_deliver`` (the original loads of the routes given, unassigned ones included; follow-on
    loads ``<id>r``/``<id>s`` count as their original, urgent requests of earlier re-plans as
    loads of the day) equals ``delivered_done`` + ``routed`` (deliveries planned again) +
    ``unassigned`` (listed with the reason), or the re-plan is refused as a bug. This
    re-plan's urgent requests (``new_load_ids``) are counted apart: ``urgent_new`` equals
    ``urgent_new_routed`` + ``urgent_new_unassigned``. Along a chain of re-plans, a re-plan's
    ``to_deliver`` is the previous one's plus its ``urgent_new``.
    """
    from coordination.replan_state import load_origins

    origins = load_origins(routes["loads"])
    out: dict[str, dict[str, int]] = {}
    for product in ("bulk_liquid", "cylinder"):
        planned = sum(
            int(d["quantity"])
            for d in routes["loads"]
            if d["product"] == product and d["load_id"] not in origins
        )
        done = routed = new_routed = 0
        for route in document["routes"]:
            for step in route["steps"]:
                if step["type"] != "delivery" or step["product"] != product:
                    continue
                if step.get("done"):
                    done += int(step["quantity"])
                elif step["load_id"] in new_load_ids:
                    new_routed += int(step["quantity"])
                else:
                    routed += int(step["quantity"])
        left = new_left = 0
        for entry in document["unassigned"]:
            if entry["type"] == "delivery" and entry["product"] == product:
                if entry["load_id"] in new_load_ids:
                    new_left += int(entry["quantity"])
                else:
                    left += int(entry["quantity"])
        requested = sum(
            int(d["quantity"])
            for d in document["loads"]
            if d["product"] == product and d["load_id"] in new_load_ids
        )
        out[product] = {
            "to_deliver": planned,
            "delivered_done": done,
            "routed": routed,
            "unassigned": left,
            "urgent_new": requested,
            "urgent_new_routed": new_routed,
            "urgent_new_unassigned": new_left,
        }
        if planned != done + routed + left or requested != new_routed + new_left:
            raise AssertionError(f"re-plan lost {product}: {out[product]}")  # a bug, never input
    return out
