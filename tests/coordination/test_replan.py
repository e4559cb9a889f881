"""Live re-plan (issue 15): done stops kept, loads never lost, a broken truck's load collected.

Hand-built District 5 day (``tests/coordination/test_dispatch.py``): a tanker TK1 and two
cylinder trucks of Thép Thủ Đức, CT1 and CT2, at TDS. CT1 breaks down after loading; CT2 (the
only other cylinder truck) must collect its cylinders at the transfer point and deliver them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordination.dispatch import (
    DispatchOptions,
    FleetVehicle,
    dispatch_request_from_plan,
    plan_dispatch,
    routes_to_dict,
)
from coordination.replan import ReplanOptions, replan_routes
from coordination.replan_events import events_from_mapping
from data.errors import InvalidInputError
from data.schema.registry import VehicleKind
from tests.coordination.test_dispatch import FAST, HAND_FLOWS, TANKER, plan_document

CT1 = FleetVehicle("CT1", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=150)
CT2 = FleetVehicle("CT2", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=150)
DATE = dt.date(2021, 8, 20)
OPTIONS = ReplanOptions(max_iterations=300, seed=1)


@pytest.fixture(scope="module")
def published(d5_network: Any, d5_region: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Route the day with TK1 and CT1 only (CT2 stays unused): routes and plan documents."""
    plan = plan_document(HAND_FLOWS)
    request = dispatch_request_from_plan(
        plan, day=0, vehicles=[TANKER, CT1], options=DispatchOptions.from_mapping(FAST)
    )
    answer = routes_to_dict(plan_dispatch(request, d5_network, d5_region), routes_id="r1")
    return dict(answer), plan


def _replan(published: Any, network: Any, region: Any, events: list[Any], now: str) -> Any:
    routes, plan = published
    return replan_routes(
        routes,
        plan,
        events_from_mapping(events, date=DATE),
        now=dt.datetime.fromisoformat(f"2021-08-20T{now}:00+07:00"),
        network=network,
        region=region,
        fleet=[TANKER, CT1, CT2],
        options=OPTIONS,
    ).document


def _route(document: dict[str, Any], vehicle: str) -> dict[str, Any]:
    return next(r for r in document["routes"] if r["vehicle"] == vehicle)


def test_a_broken_trucks_load_is_collected_by_another(
    published: Any, d5_network: Any, d5_region: Any
) -> None:
    routes, _ = published
    ct1 = _route(routes, "CT1")
    pickups = [i for i, s in enumerate(ct1["steps"]) if s["type"] == "pickup"]
    loaded = sum(ct1["steps"][i]["quantity"] for i in pickups[:1])
    events = [
        {"type": "stop_done", "vehicle": "CT1", "step": pickups[0]},
        {"type": "breakdown", "vehicle": "CT1", "at": "07:00", "location": [106.668, 10.757]},
    ]
    document = _replan(published, d5_network, d5_region, events, "07:05")
    broken = _route(document, "CT1")
    assert broken["broken_down"] and broken["steps"][-1]["type"] == "end"
    # Done stops are kept as they were.
    for old, new in zip(ct1["steps"][: pickups[0] + 1], broken["steps"], strict=False):
        assert (old["type"], old.get("id"), old["arrival"]) == (
            new["type"],
            new.get("id"),
            new["arrival"],
        )
    ct2 = _route(document, "CT2")
    transfer = [s for s in ct2["steps"] if s["place_id"] == "transfer-CT1"]
    assert sum(s["quantity"] for s in transfer) == loaded
    assert document["replan"]["balance"]["cylinder"]["unassigned"] == 0
    assert document["summary"]["loads_unassigned"] == 0


@pytest.mark.parametrize(
    ("events", "now", "field"),
    [
        # a vehicle nobody knows
        ([{"type": "delay", "vehicle": "XX9", "minutes": 5}], "08:00", "events[0].vehicle"),
        # step 40 was never planned
        ([{"type": "stop_done", "vehicle": "CT1", "step": 40}], "08:00", "events[0].step"),
        # a breakdown before the routes start (06:00)
        ([{"type": "breakdown", "vehicle": "CT1", "at": "05:00"}], "08:00", "events[0].at"),
        # delivered more than was loaded
        (
            [{"type": "stop_done", "vehicle": "CT1", "step": 1, "quantity": 999}],
            "08:00",
            "events[0].quantity",
        ),
        # an urgent request for a place that is not a facility of the plan
        (
            [
                {
                    "type": "urgent_request",
                    "facility_id": "nowhere",
                    "product": "cylinder",
                    "quantity": 5,
                    "needed_by": "11:00",
                }
            ],
            "08:00",
            "events[0].facility_id",
        ),
    ],
)
def test_bad_events_name_the_event_and_field(
    published: Any, d5_network: Any, d5_region: Any, events: list[Any], now: str, field: str
) -> None:
    with pytest.raises(InvalidInputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        _replan(published, d5_network, d5_region, events, now)


def test_now_before_the_start_is_refused(published: Any, d5_network: Any, d5_region: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"now: .* before the routes start"):
        _replan(published, d5_network, d5_region, [], "05:30")


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_replan_keeps_done_stops_and_loses_no_load(
    published: Any, d5_network: Any, d5_region: Any, data: st.DataObject
) -> None:
    routes, _ = published
    events: list[dict[str, Any]] = []
    for route in routes["routes"]:
        done = data.draw(st.integers(0, len(route["steps"]) - 2), label=route["vehicle"])
        if done:
            events.append({"type": "stop_done", "vehicle": route["vehicle"], "step": done})
    if data.draw(st.booleans(), label="breakdown"):
        vehicle = data.draw(st.sampled_from([r["vehicle"] for r in routes["routes"]]))
        events.append({"type": "breakdown", "vehicle": vehicle, "at": "09:00"})
    document = _replan(published, d5_network, d5_region, events, "09:00")
    done_by = {e["vehicle"]: e["step"] for e in events if e["type"] == "stop_done"}
    for route in routes["routes"]:
        new = _route(document, route["vehicle"]) if done_by.get(route["vehicle"]) else None
        for old, kept in zip(
            route["steps"][: done_by.get(route["vehicle"], 0) + 1],
            new["steps"] if new else [],
            strict=False,
        ):
            assert (old.get("id"), old["arrival"], old["departure"]) == (
                kept.get("id"),
                kept["arrival"],
                kept["departure"],
            )
    # The balance is checked inside; nothing published is lost.
    for product, figures in document["replan"]["balance"].items():
        assert (
            figures["to_deliver"]
            == figures["delivered_done"] + figures["routed"] + figures["unassigned"]
        ), product


def test_replanned_tankers_drive_on_the_tanker_matrix() -> None:
    """Issue 15: a re-plan routes cryogenic tankers on their own profile, as the dispatch does."""
    from types import SimpleNamespace

    from coordination.dispatch.model import DispatchOptions
    from coordination.replan import _vehicles

    def working(vehicle_id: str, kind: str) -> Any:
        fleet = SimpleNamespace(
            vehicle_id=vehicle_id, home_depot_id="D", kind=kind, capacity=(100,)
        )
        return SimpleNamespace(fleet=fleet, steps=[], done=0, delay_s=0)

    fleet = [working("TK", "cryogenic_tanker"), working("CT", "cylinder_truck")]
    options = DispatchOptions()
    args = (fleet, {"D": 0}, {"D": 0}, options, {"D": 7}, options.start_s)
    with_tanker, _ = _vehicles(*args, tankers=True)  # type: ignore[arg-type]
    assert [v.profile for v in with_tanker] == ["tanker", "general"]
    without, _ = _vehicles(*args, tankers=False)  # type: ignore[arg-type]
    assert [v.profile for v in without] == ["general", "general"]
