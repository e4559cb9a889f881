"""Empty cylinders collected where full ones are delivered and returned to the station (issue 15).

Hand-built routes check the rules one by one; a property test checks, on generated routes, that
full plus empty cylinders never exceed the truck, that no stop gives more empties than it
received full ones (or than it reported), and that every empty collected is returned. The
District 5 day of :mod:`tests.coordination.test_dispatch` checks them end to end, on the routes
document and the route sheet.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordination.dispatch import DispatchOptions, route_sheet_html
from coordination.dispatch.empties import add_empties, add_route_empties
from data.errors import InvalidInputError
from tests.coordination.test_dispatch import (
    HAND_FLOWS,
    HOA_HAO,
    NGUYEN_TRAI,
    TANKER,
    TRUCK,
    plan_document,
    run,
)


def _step(kind: str, place: str, on_board: int, **task: Any) -> dict[str, Any]:
    return {"type": kind, "place_id": place, "load": {"lox_kg": 0, "cylinders": on_board}, **task}


def _cylinders(kind: str, place: str, on_board: int, supplier: str, facility: str, n: int) -> Any:
    return _step(
        kind,
        place,
        on_board,
        supplier_id=supplier,
        facility_id=facility,
        product="cylinder",
        quantity=n,
        unit="cylinders_40L",
    )


def _route(steps: list[dict[str, Any]], capacity: int = 150) -> Any:
    return {"capacity": {"lox_kg": 0, "cylinders": capacity}, "steps": steps}


def _one_trip() -> Any:
    """Load 100 for F1 and 40 for F2 at station A, deliver both, come home to A."""
    return _route(
        [
            _step("start", "A", 0),
            _cylinders("pickup", "A", 100, "A", "F1", 100),
            _cylinders("pickup", "A", 140, "A", "F2", 40),
            _cylinders("delivery", "F1", 40, "A", "F1", 100),
            _cylinders("delivery", "F2", 0, "A", "F2", 40),
            _step("end", "A", 0),
        ]
    )


def test_empties_are_swapped_for_full_ones_and_returned_home() -> None:
    route = add_empties(_one_trip(), {})
    steps = route["steps"]
    assert [s.get("empties", 0) for s in steps] == [0, 0, 0, 100, 40, 0]
    assert [s.get("empties_returned", 0) for s in steps] == [0, 0, 0, 0, 0, 140]
    assert [s["empties_on_board"] for s in steps] == [0, 0, 0, 100, 140, 0]


def test_a_facility_gives_no_more_empties_than_it_reported() -> None:
    reported = {"F1": 30}
    route = add_empties(_one_trip(), reported)
    assert [s.get("empties", 0) for s in route["steps"]] == [0, 0, 0, 30, 40, 0]
    assert reported == {"F1": 0}  # what is left for other routes


def test_routes_share_a_facilitys_reported_empties() -> None:
    routes = add_route_empties([_one_trip(), _one_trip()], {"F1": 120, "F2": None})
    at_f1 = [r["steps"][3].get("empties", 0) for r in routes]
    assert at_f1 == [100, 20]  # 120 reported in all; F2 not reported: one per full cylinder
    assert [r["steps"][4]["empties"] for r in routes] == [40, 40]


def test_empties_go_back_at_the_next_loading_at_their_station() -> None:
    route = _route(
        [
            _step("start", "A", 0),
            _cylinders("pickup", "A", 150, "A", "F1", 150),
            _cylinders("delivery", "F1", 0, "A", "F1", 150),
            _cylinders("pickup", "A", 150, "A", "F2", 150),
            _cylinders("delivery", "F2", 0, "A", "F2", 150),
            _step("end", "A", 0),
        ]
    )
    steps = add_empties(route, {})["steps"]
    assert [s.get("empties", 0) for s in steps] == [0, 0, 150, 0, 150, 0]
    # returned before loading at A: 150 full on board after it, no empties
    assert [s.get("empties_returned", 0) for s in steps] == [0, 0, 0, 150, 0, 150]
    assert [s["empties_on_board"] for s in steps] == [0, 0, 150, 0, 150, 0]


def test_empties_are_capped_by_the_room_until_they_are_returned() -> None:
    """F1's empties ride home beside B's 100 full cylinders: 50 fit."""
    route = _route(
        [
            _step("start", "A", 0),
            _cylinders("pickup", "A", 150, "A", "F1", 150),
            _cylinders("delivery", "F1", 0, "A", "F1", 150),
            _cylinders("pickup", "B", 100, "B", "F2", 100),
            _cylinders("delivery", "F2", 0, "B", "F2", 100),
            _step("end", "A", 0),
        ]
    )
    steps = add_empties(route, {})["steps"]
    assert steps[2].get("empties", 0) == 50  # room for 50 beside B's 100 full cylinders
    assert steps[4]["empties"] == 100
    assert max(s["load"]["cylinders"] + s["empties_on_board"] for s in steps) == 150


def test_a_tanker_route_is_unchanged() -> None:
    route = _route(
        [
            _step("start", "P", 0),
            {**_step("pickup", "P", 0), "product": "bulk_liquid", "quantity": 1500},
            {**_step("delivery", "H", 0), "product": "bulk_liquid", "quantity": 1500},
            _step("end", "P", 0),
        ]
    )
    before = copy.deepcopy(route)
    assert add_empties(route, {}) is route and route == before


@st.composite
def _routes(draw: st.DrawFn) -> tuple[Any, dict[str, int]]:
    """Draw a cylinder truck's route: trips loading at A or B, then delivering in any order."""
    capacity = draw(st.integers(1, 40))
    steps = [_step("start", "A", 0)]
    for _ in range(draw(st.integers(1, 4))):
        station = draw(st.sampled_from(["A", "B"]))
        sizes: list[int] = []
        for _ in range(draw(st.integers(1, 3))):
            room = capacity - sum(sizes)
            if room > 0:
                sizes.append(draw(st.integers(1, room)))
        facilities = [draw(st.sampled_from(["F1", "F2", "F3"])) for _ in sizes]
        on_board = 0
        for n, facility in zip(sizes, facilities, strict=True):
            on_board += n
            steps.append(_cylinders("pickup", station, on_board, station, facility, n))
        for k in draw(st.permutations(range(len(sizes)))):
            on_board -= sizes[k]
            steps.append(
                _cylinders("delivery", facilities[k], on_board, station, facilities[k], sizes[k])
            )
    steps.append(_step("end", "A", 0))
    reported = draw(st.dictionaries(st.sampled_from(["F1", "F2", "F3"]), st.integers(0, 60)))
    return _route(steps, capacity), reported


@settings(max_examples=200, derandomize=True, deadline=None)
@given(_routes())
def test_empties_respect_capacity_reports_and_are_all_returned(case: Any) -> None:
    route, reported = case
    left = dict(reported)
    steps = add_empties(route, left)["steps"]
    collected: dict[str, int] = {}
    for step in steps:
        assert (
            step["load"]["cylinders"] + step.get("empties_on_board", 0)
            <= (route["capacity"]["cylinders"])
        )
        if step.get("empties"):
            assert step["type"] == "delivery" and step["empties"] <= step["quantity"]
            collected[step["place_id"]] = collected.get(step["place_id"], 0) + step["empties"]
    for facility, count in collected.items():
        if facility in reported:
            assert count <= reported[facility] and left[facility] == reported[facility] - count
    assert sum(collected.values()) == sum(s.get("empties_returned", 0) for s in steps)
    assert steps[-1].get("empties_on_board", 0) == 0


# --------------------------------------------------------------------------- District 5


def test_the_day_collects_empties_and_the_sheet_lists_them(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    answer = run(
        plan_document(HAND_FLOWS),
        [TANKER, TRUCK],
        d5_network,
        d5_region,
        options={"facilities": {HOA_HAO: {"cylinders_empty": 25.0}}},  # 25.0: a whole number
    )
    tanker, truck = answer["routes"]
    assert all("empties_on_board" not in s for s in tanker["steps"])
    drops = {s["place_id"]: s for s in truck["steps"] if s["type"] == "delivery"}
    assert drops[HOA_HAO]["empties"] == 25  # reported 25 for 100 full cylinders
    assert drops[NGUYEN_TRAI]["empties"] == 40  # not reported: one per full cylinder
    assert truck["steps"][-1]["empties_returned"] == 65  # back at Thép Thủ Đức, home
    assert truck["steps"][-1]["place_id"] == TRUCK.home_depot_id
    vi = route_sheet_html(answer, "CT1", lang="vi")
    en = route_sheet_html(answer, "CT1", lang="en")
    assert "<th>Vỏ thu hồi</th>" in vi and "thu 25 vỏ" in vi and "trả 65 vỏ" in vi
    assert "<th>Empties</th>" in en and "collect 40" in en and "return 65" in en
    assert "65 vỏ" in vi  # on board after the last delivery


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "-1"),  # a negative count
        (2.5, "2.5"),  # half a cylinder
        ("many", "'many'"),  # not a number
        (True, "True"),  # a boolean is not a count
    ],
)
def test_bad_reported_empties_are_named(value: Any, shown: str) -> None:
    with pytest.raises(
        InvalidInputError,
        match=rf"options.facilities.{HOA_HAO}.cylinders_empty: must be a whole number .* {shown}",
    ):
        DispatchOptions.from_mapping({"facilities": {HOA_HAO: {"cylinders_empty": value}}})
