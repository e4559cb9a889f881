"""A live day with several events (issue 15): a re-plan of a re-plan of a re-plan.

Hand-built District 5 day (``tests/coordination/test_dispatch.py``) starting at 08:00: a tanker
TK1 of Air Liquide and two cylinder trucks of Thép Thủ Đức, CT1 and CT2, with one tanker load and
three cylinder loads. At 09:30 CT1 breaks down with what it has loaded; at 11:00, on the
re-planned routes, the first stop still to do of each working vehicle is done and CT2 is 20
minutes late; at 13:00 a hospital asks for 10 cylinders by 16:00. Each re-plan reads the last one
back: done stops stay done, the broken truck stays broken, its cylinders are not counted twice,
and the balance adds up along the chain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
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
from tests.coordination.test_dispatch import (
    APRIL_30,
    FAST,
    HAND_FLOWS,
    NGUYEN_TRAI,
    TANKER,
    flow,
    plan_document,
)

CT1 = FleetVehicle("CT1", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=150)
CT2 = FleetVehicle("CT2", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=150)
FLEET = [TANKER, CT1, CT2]
DATE = dt.date(2021, 8, 20)
OPTIONS = ReplanOptions(max_iterations=300, seed=1)
FLOWS = [*HAND_FLOWS[:3], flow("TDS", APRIL_30, 30)]


@pytest.fixture(scope="module")
def day(d5_network: Any, d5_region: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Route the day from 08:00 with TK1, CT1 and CT2: the published routes and the plan."""
    plan = plan_document(FLOWS)
    request = dispatch_request_from_plan(
        plan,
        day=0,
        vehicles=FLEET,
        options=DispatchOptions.from_mapping(FAST, start_time="08:00"),
    )
    routes = routes_to_dict(plan_dispatch(request, d5_network, d5_region), routes_id="published")
    return dict(routes), plan


def replan(
    routes: dict[str, Any],
    plan: dict[str, Any],
    events: list[dict[str, Any]],
    now: str,
    network: Any,
    region: Any,
    *,
    routes_id: str,
    options: ReplanOptions = OPTIONS,
) -> dict[str, Any]:
    """Re-plan ``routes`` at local ``now`` (HH:MM) after ``events``; return the new document."""
    return replan_routes(
        routes,
        plan,
        events_from_mapping(events, date=DATE),
        now=dt.datetime.fromisoformat(f"2021-08-20T{now}:00+07:00"),
        network=network,
        region=region,
        fleet=FLEET,
        options=options,
        routes_id=routes_id,
    ).document


def route_of(document: dict[str, Any], vehicle: str) -> dict[str, Any]:
    return next(r for r in document["routes"] if r["vehicle"] == vehicle)


def arrived_by(routes: dict[str, Any], now: str) -> list[dict[str, Any]]:
    """Return ``stop_done`` events for every step not yet done that has arrived by ``now``."""
    moment = dt.datetime.fromisoformat(f"2021-08-20T{now}:00+07:00")
    events = []
    for route in routes["routes"]:
        steps = route["steps"]
        last = max(
            (
                i
                for i, s in enumerate(steps[1:-1], start=1)
                if not s.get("done") and dt.datetime.fromisoformat(s["arrival"]) <= moment
            ),
            default=0,
        )
        if last and not route.get("broken_down"):
            events.append({"type": "stop_done", "vehicle": route["vehicle"], "step": last})
    return events


def check_kept(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every step done in ``before`` is in ``after``, unchanged, on the same vehicle."""
    for route in before["routes"]:
        done = [s for s in route["steps"] if s.get("done")]
        if not done:
            continue
        kept = route_of(after, route["vehicle"])["steps"]
        assert kept[1 : len(done) + 1] == done, route["vehicle"]


def check_balance(document: dict[str, Any]) -> None:
    for product, figures in document["replan"]["balance"].items():
        assert figures["to_deliver"] == (
            figures["delivered_done"] + figures["routed"] + figures["unassigned"]
        ), product
        assert figures["urgent_new"] == (
            figures["urgent_new_routed"] + figures["urgent_new_unassigned"]
        ), product


def on_board(document: dict[str, Any], vehicle: str, origins: dict[str, str]) -> dict[str, int]:
    carried: dict[str, int] = {}
    for step in route_of(document, vehicle)["steps"]:
        if step.get("done") and step["type"] in ("pickup", "delivery"):
            key = origins.get(step["load_id"], step["load_id"])
            sign = 1 if step["type"] == "pickup" else -1
            carried[key] = carried.get(key, 0) + sign * step["quantity"]
    return {k: v for k, v in carried.items() if v}


URGENT = {
    "type": "urgent_request",
    "facility_id": NGUYEN_TRAI,
    "product": "cylinder",
    "quantity": 10,
    "needed_by": "16:00",
}


@pytest.fixture(scope="module")
def chain(
    day: Any, d5_network: Any, d5_region: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Return the published routes and the three re-plans of the day, in order."""
    routes, plan = day
    first = replan(
        routes,
        plan,
        [*arrived_by(routes, "09:30"), {"type": "breakdown", "vehicle": "CT1", "at": "09:30"}],
        "09:30",
        d5_network,
        d5_region,
        routes_id="first1",
    )
    # At 11:00 CT2 has picked up only 60 of CT1's 100 cylinders at the transfer point.
    events = arrived_by(first, "11:00")
    ct2 = route_of(first, "CT2")["steps"]
    transfer = next(i for i, s in enumerate(ct2) if s["place_id"] == "transfer-CT1")
    for event in events:
        if event["vehicle"] == "CT2":
            assert event["step"] >= transfer, "the transfer is done by 11:00"
            event["step"] = transfer
    events.append({"type": "stop_done", "vehicle": "CT2", "step": transfer, "quantity": 60})
    events.append({"type": "delay", "vehicle": "CT2", "minutes": 20})
    second = replan(first, plan, events, "11:00", d5_network, d5_region, routes_id="second")
    third = replan(
        second,
        plan,
        [*arrived_by(second, "13:00"), URGENT],
        "13:00",
        d5_network,
        d5_region,
        routes_id="third3",
    )
    return routes, first, second, third


def test_each_replan_keeps_every_done_stop(chain: Any) -> None:
    _, first, second, third = chain
    check_kept(first, second)
    check_kept(second, third)
    # The broken truck stays broken, where it broke, with its done stops.
    for document in (second, third):
        assert route_of(document, "CT1")["broken_down"]
        assert route_of(document, "CT1")["steps"] == route_of(first, "CT1")["steps"]
        assert set(document["replan"]["broken_down"]) == {"CT1"}
    # Step ids stay unique in every document (a follow-on never reuses a kept stop's id).
    for document in chain[1:]:
        ids = [s["id"] for r in document["routes"] for s in r["steps"] if "id" in s]
        assert len(ids) == len(set(ids)), ids


def test_no_kilogram_or_cylinder_is_lost_along_the_chain(chain: Any) -> None:
    routes, first, second, third = chain
    for document in chain[1:]:
        check_balance(document)
    planned = {
        p: sum(d["quantity"] for d in routes["loads"] if d["product"] == p)
        for p in ("bulk_liquid", "cylinder")
    }
    for product, total in planned.items():
        assert first["replan"]["balance"][product]["to_deliver"] == total
        assert second["replan"]["balance"][product]["to_deliver"] == total
        # The urgent request of the last re-plan is counted apart, then as a load of the day.
        assert third["replan"]["balance"][product]["to_deliver"] == total
    assert third["replan"]["balance"]["cylinder"]["urgent_new"] == 10
    assert third["replan"]["balance"]["cylinder"]["urgent_new_unassigned"] == 0


def test_a_partial_transfer_leaves_a_follow_on_at_the_transfer_point(chain: Any) -> None:
    _, first, second, _ = chain
    load_id = next(
        s["load_id"] for s in route_of(first, "CT2")["steps"] if s["place_id"] == "transfer-CT1"
    )
    # CT2 carries the 60 it loaded, under the load's own id (its announced drop keeps its id).
    drops = [
        s
        for s in route_of(second, "CT2")["steps"]
        if s["type"] == "delivery" and s["load_id"] == load_id and not s.get("done")
    ]
    assert [s["quantity"] for s in drops] == [60]
    # The other 40 wait at the transfer point as a follow-on linked to the original load.
    rest = [
        s
        for r in second["routes"]
        for s in r["steps"]
        if s["place_id"] == "transfer-CT1" and not s.get("done")
    ]
    assert [(s["load_id"], s["quantity"]) for s in rest] == [(f"{load_id}r", 40)]
    docs = {d["load_id"]: d for d in second["loads"]}
    assert docs[f"{load_id}r"]["origin_load_id"] == load_id
    assert f"{load_id}r:transfer" in {s["id"] for s in second["replan"]["changes"]["new_stops"]}


def test_announced_stops_do_not_move_without_need(chain: Any) -> None:
    _, first, second, third = chain
    assert second["replan"]["changes"]["counts"]["moved"] == 0, second["replan"]["changes"]
    assert third["replan"]["changes"]["counts"]["moved"] == 0, third["replan"]["changes"]
    # CT2's announced drop of CT1's cylinders stays on CT2, at least 20 minutes later (its delay).
    load_id = next(
        s["load_id"] for s in route_of(first, "CT2")["steps"] if s["place_id"] == "transfer-CT1"
    )
    drop = {"id": f"{load_id}:drop"}
    shifts = {s["id"]: s for s in second["replan"]["changes"]["eta_shifts"]}
    assert drop["id"] in {s.get("id") for s in route_of(second, "CT2")["steps"]}
    assert shifts[drop["id"]]["shift_min"] >= 20, shifts


def test_urgent_requests_have_ids_unique_along_the_chain(chain: Any) -> None:
    _, _, _, third = chain
    urgent = [d["load_id"] for d in third["loads"] if d["flow_index"] == -1]
    assert urgent == ["Uthird3-1"]
    assert third["replan"]["from_routes_id"] == "second"
    assert third["replan"]["published_routes_id"] == "published"


@pytest.mark.parametrize(
    ("events", "now", "field"),
    [
        # CT1 broke down in the routes given
        ([{"type": "breakdown", "vehicle": "CT1", "at": "11:30"}], "12:00", "events[0].vehicle"),
        # a done stop of the routes given does not change its quantity
        (
            [{"type": "stop_done", "vehicle": "CT1", "step": 1, "quantity": 3}],
            "12:00",
            "events[0].quantity",
        ),
    ],
)
def test_a_replan_of_a_replan_refuses_what_contradicts_it(
    chain: Any,
    day: Any,
    d5_network: Any,
    d5_region: Any,
    events: list[Any],
    now: str,
    field: str,
) -> None:
    _, _, second, _ = chain
    with pytest.raises(InvalidInputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        replan(second, day[1], events, now, d5_network, d5_region, routes_id="x")


def test_now_before_the_replan_it_replans_is_refused(
    chain: Any, day: Any, d5_network: Any, d5_region: Any
) -> None:
    _, _, second, _ = chain
    with pytest.raises(InvalidInputError, match=r"now: .* before the re-plan these routes"):
        replan(second, day[1], [], "10:00", d5_network, d5_region, routes_id="x")


# Iterations, not time, bound each solve: the same draw gives the same chain (Hypothesis checks).
CHAIN_OPTIONS = ReplanOptions(max_iterations=100, seed=1, time_limit_s=60)


STAGE = st.tuples(
    st.lists(st.integers(0, 4), min_size=3, max_size=3),  # more steps done, per vehicle
    # the working vehicle that breaks down (-1: none; as likely as not, so that later stages
    # have working vehicles to do transfers)
    st.sampled_from([-1, 0, -1, 1, -1, 2]),
    st.booleans(),  # an urgent request
)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(stages=st.lists(STAGE, min_size=2, max_size=3))
# CT1 breaks down loaded at 09:30; at 13:00 CT2 has made the transfer and breaks down too.
@example(stages=[([0, 3, 1], 1, True), ([0, 2, 2], -1, False), ([0, 1, 4], 1, False)])
def test_a_chain_of_replans_keeps_done_stops_and_loses_nothing(
    day: Any, d5_network: Any, d5_region: Any, stages: list[Any]
) -> None:
    # Every draw is made up front: the chain's documents never steer what is drawn.
    routes, plan = day
    document = routes
    to_deliver: dict[str, int] | None = None
    for number, ((advance, broken, urgent), now) in enumerate(
        zip(stages, ["09:30", "11:00", "13:00"], strict=False)
    ):
        events: list[dict[str, Any]] = []
        for route, more in zip(document["routes"], advance, strict=False):
            steps = route["steps"]
            done = max((i for i, s in enumerate(steps) if s.get("done")), default=0)
            step = min(done + more, len(steps) - 2)
            if not route.get("broken_down") and step > done:
                events.append({"type": "stop_done", "vehicle": route["vehicle"], "step": step})
        working = [r["vehicle"] for r in document["routes"] if not r.get("broken_down")]
        if working and broken >= 0:
            events.append(
                {"type": "breakdown", "vehicle": working[broken % len(working)], "at": now}
            )
        if urgent:
            events.append({**URGENT, "needed_by": "17:00"})
        new = replan(
            document,
            plan,
            events,
            now,
            d5_network,
            d5_region,
            routes_id=f"chain{number}",
            options=CHAIN_OPTIONS,
        )
        if document is not routes:
            check_kept(document, new)
        check_balance(new)
        balance = {p: f["to_deliver"] for p, f in new["replan"]["balance"].items()}
        if to_deliver is not None:
            assert balance == to_deliver, (balance, to_deliver)
        to_deliver = {p: v + new["replan"]["balance"][p]["urgent_new"] for p, v in balance.items()}
        ids = [s["id"] for r in new["routes"] for s in r["steps"] if "id" in s]
        assert len(ids) == len(set(ids)), ids
        document = new
