"""Tests of VROOM's vehicle costs, speed factor, task and distance limits, and job windows.

Keys: vehicle ``costs``, ``speed_factor``, ``max_tasks``, ``max_distance`` and several
``time_windows`` per job, end to end: parse, solve, validate, serialise. Every instance is small enough to check by hand; the expected numbers are in the docstrings.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from data.errors import InvalidInputError
from routing.route_validation import find_plan_violations, validate_route_plan
from routing.vehicle_routes import REASON_MAX_TASKS, SolverParams, solve_routes
from routing.vroom import parse_vroom_problem, to_vroom_solution

FIXTURES = Path(__file__).parent / "fixtures"
FAST = SolverParams(time_limit_s=2.0, seed=0, max_iterations=200)


@pytest.fixture(scope="session")
def square_document() -> dict[str, Any]:
    """``fixtures/square.json``: corners of a square (side 10 s / 100 m), depot at corner 0.

    Two vehicles of capacity 2, unit deliveries at corners 1, 2 (window [0, 1800]) and 3.
    Optimum cost 60: routes 0-1-2-0 and 0-3-0 (or the mirror image), 600 m.
    """
    return json.loads((FIXTURES / "square.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def star_document() -> dict[str, Any]:
    """Build a star: depot 0, jobs at 1 and 2, each 10 s (1 km) from the depot, 100 s apart.

    Two vehicles of capacity 2. Without fixed costs two routes 0-1-0 and 0-2-0 cost 40; one route
    0-1-2-0 costs 120. With a fixed cost of 1000 per vehicle one route (1120) beats two (2040).
    """
    return {
        "vehicles": [
            {"id": 1, "start_index": 0, "end_index": 0, "capacity": [2]},
            {"id": 2, "start_index": 0, "end_index": 0, "capacity": [2]},
        ],
        "jobs": [
            {"id": 11, "location_index": 1, "delivery": [1]},
            {"id": 12, "location_index": 2, "delivery": [1]},
        ],
        "matrices": {
            "car": {
                "durations": [[0, 10, 10], [10, 0, 100], [10, 100, 0]],
                "distances": [[0, 1000, 1000], [1000, 0, 10000], [1000, 10000, 0]],
            }
        },
    }


def solve_document(document: dict[str, Any]) -> dict[str, Any]:
    """Parse, solve, validate independently and serialise a VROOM document."""
    parsed = parse_vroom_problem(document)
    plan = solve_routes(parsed.problem, FAST)
    validate_route_plan(parsed.problem, plan)
    return to_vroom_solution(parsed, plan)


def job_arrivals(answer: dict[str, Any]) -> dict[int, int]:
    """Map each served job id to its arrival time."""
    return {
        step["id"]: step["arrival"]
        for route in answer["routes"]
        for step in route["steps"]
        if step["type"] == "job"
    }


# ---------------------------------------------------------------------------------------------
# Keys absent: nothing changes
# ---------------------------------------------------------------------------------------------


def test_defaults_given_explicitly_change_nothing(square_document: dict[str, Any]) -> None:
    """VROOM's defaults spelled out (costs, speed_factor 1) give the same answer as none."""
    plain = solve_document(square_document)
    document = copy.deepcopy(square_document)
    for vehicle in document["vehicles"]:
        vehicle.update(costs={"fixed": 0, "per_hour": 3600, "per_km": 0}, speed_factor=1)
    explicit = solve_document(document)
    assert plain["summary"]["cost"] == explicit["summary"]["cost"] == 60
    assert plain["routes"] == explicit["routes"]


# ---------------------------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------------------------


def test_no_fixed_cost_uses_two_vehicles(star_document: dict[str, Any]) -> None:
    """Without a fixed cost the two spokes are two routes of cost 20 each."""
    answer = solve_document(star_document)
    assert answer["summary"]["cost"] == 40
    assert sorted(r["cost"] for r in answer["routes"]) == [20, 20]


def test_fixed_cost_makes_one_vehicle_cheaper(star_document: dict[str, Any]) -> None:
    """A fixed cost of 1000 per vehicle: one route 0-1-2-0, cost 1000 + 120."""
    document = copy.deepcopy(star_document)
    for vehicle in document["vehicles"]:
        vehicle["costs"] = {"fixed": 1000}
    answer = solve_document(document)
    assert answer["summary"]["routes"] == 1
    assert answer["routes"][0]["cost"] == 1120
    assert answer["summary"]["cost"] == 1120


def test_per_hour_and_per_km_costs(star_document: dict[str, Any]) -> None:
    """Route cost = per_hour x hours + per_km x km: 7200/h for 20 s is 40, 3/km for 2 km is 6."""
    document = copy.deepcopy(star_document)
    for vehicle in document["vehicles"]:
        vehicle["costs"] = {"per_hour": 7200, "per_km": 3}
    answer = solve_document(document)
    assert sorted(r["cost"] for r in answer["routes"]) == [46, 46]
    assert answer["summary"]["cost"] == 92


def test_route_cost_is_rounded_as_vroom_does(star_document: dict[str, Any]) -> None:
    """per_hour 90 for 20 s is 0.5, rounded half up to 1 (VROOM rounds the route's sum)."""
    document = copy.deepcopy(star_document)
    for vehicle in document["vehicles"]:
        vehicle["costs"] = {"per_hour": 90}
    answer = solve_document(document)
    assert sorted(r["cost"] for r in answer["routes"]) == [1, 1]


def test_cheaper_vehicle_is_chosen(star_document: dict[str, Any]) -> None:
    """Only one vehicle is needed (capacity 2 and a fixed cost); the cheaper per hour serves."""
    document = copy.deepcopy(star_document)
    document["vehicles"][0]["costs"] = {"fixed": 5000, "per_hour": 36000}
    document["vehicles"][1]["costs"] = {"fixed": 5000, "per_hour": 3600}
    answer = solve_document(document)
    assert [r["vehicle"] for r in answer["routes"]] == [2]
    assert answer["summary"]["cost"] == 5000 + 120


def test_only_the_costly_vehicle_fits(star_document: dict[str, Any]) -> None:
    """A job of 3 fits only vehicle 2 (capacity 8, per_km 1000): it is served, cost 0-1-0 2020.

    Vehicle 1 (capacity 2, per_km 3) would cost 26 but is overloaded. The two per_km make the
    solver scale costs by 1000; PyVRP's unscaled penalty bound then made the overloaded route
    look cheaper than any feasible one, and the job came back unassigned (found by fuzzing).
    """
    document = copy.deepcopy(star_document)
    document["vehicles"][0].update(capacity=[2], costs={"per_km": 3})
    document["vehicles"][1].update(capacity=[8], costs={"per_km": 1000})
    document["jobs"] = [{"id": 11, "location_index": 1, "delivery": [3]}]
    answer = solve_document(document)
    assert answer["unassigned"] == []
    assert [(r["vehicle"], r["cost"]) for r in answer["routes"]] == [(2, 20 + 2000)]


def test_fixed_cost_with_a_costs_matrix(star_document: dict[str, Any]) -> None:
    """With a costs matrix the route cost is fixed + the matrix sum (as in VROOM)."""
    document = copy.deepcopy(star_document)
    document["matrices"]["car"]["costs"] = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    for vehicle in document["vehicles"]:
        vehicle["costs"] = {"fixed": 10}
    answer = solve_document(document)
    assert answer["summary"]["routes"] == 1
    assert answer["summary"]["cost"] == 13


# ---------------------------------------------------------------------------------------------
# speed_factor
# ---------------------------------------------------------------------------------------------


def test_speed_factor_two_halves_arrival_times(square_document: dict[str, Any]) -> None:
    """Speed factor 2 on both vehicles: every leg takes half as long, so cost 60 becomes 30."""
    document = copy.deepcopy(square_document)
    plain = job_arrivals(solve_document(document))
    for vehicle in document["vehicles"]:
        vehicle["speed_factor"] = 2
    answer = solve_document(document)
    assert job_arrivals(answer) == {job: arrival // 2 for job, arrival in plain.items()}
    assert answer["summary"]["cost"] == 30
    assert answer["summary"]["duration"] == 30


def test_speed_factors_differ_per_vehicle(square_document: dict[str, Any]) -> None:
    """One vehicle at half speed (legs of 20 s), one at full speed; each is timed by its own."""
    document = copy.deepcopy(square_document)
    document["vehicles"][0]["speed_factor"] = 0.5
    answer = solve_document(document)
    for route in answer["routes"]:
        factor = 2 if route["vehicle"] == 1 else 1
        assert route["duration"] == factor * route["distance"] // 10


# ---------------------------------------------------------------------------------------------
# max_tasks and max_distance
# ---------------------------------------------------------------------------------------------


def test_max_tasks_two_forces_a_second_route(square_document: dict[str, Any]) -> None:
    """Capacity 9 would let one vehicle take all three jobs (cost 40); max_tasks 2 splits them."""
    document = copy.deepcopy(square_document)
    for vehicle in document["vehicles"]:
        vehicle.update(capacity=[9], costs={"fixed": 100})
    assert solve_document(document)["summary"]["routes"] == 1
    for vehicle in document["vehicles"]:
        vehicle["max_tasks"] = 2
    answer = solve_document(document)
    assert answer["summary"]["routes"] == 2
    assert all(sum(s["type"] == "job" for s in r["steps"]) <= 2 for r in answer["routes"])


def test_max_tasks_leaves_a_job_unassigned(square_document: dict[str, Any]) -> None:
    """One vehicle with max_tasks 2 and three jobs: one job stays unassigned with a reason."""
    document = copy.deepcopy(square_document)
    document["vehicles"] = [dict(document["vehicles"][0], capacity=[9], max_tasks=2)]
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 1


def test_max_tasks_zero_is_explained(square_document: dict[str, Any]) -> None:
    """No vehicle may serve any task: every job is unassigned, the reason names max_tasks."""
    document = copy.deepcopy(square_document)
    for vehicle in document["vehicles"]:
        vehicle["max_tasks"] = 0
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 3
    assert all(REASON_MAX_TASKS in entry["reason"] for entry in answer["unassigned"])


def test_max_distance_splits_the_tour(square_document: dict[str, Any]) -> None:
    """Per-km costs (10 per km) and a fixed cost: one 400 m tour 0-1-2-3-0 without a limit.

    With max_distance 300 the corner-2 round trip (400 m) is out of reach, and corners 1 and 3
    no longer fit in one route (0-1-3-0 is 400 m): two routes of 200 m, cost 2 x (1000 + 2).
    """
    document = copy.deepcopy(square_document)
    for vehicle in document["vehicles"]:
        vehicle.update(capacity=[9], costs={"fixed": 1000, "per_hour": 0, "per_km": 10})
    single = solve_document(document)
    assert (single["summary"]["routes"], single["summary"]["cost"]) == (1, 1004)
    for vehicle in document["vehicles"]:
        vehicle["max_distance"] = 300
    answer = solve_document(document)
    assert answer["summary"]["routes"] == 2
    assert all(route["distance"] <= 300 for route in answer["routes"])
    assert answer["summary"]["cost"] == 2004
    (entry,) = answer["unassigned"]
    assert entry["id"] == 12
    assert "drives 400 m, more than vehicle" in entry["reason"]


# ---------------------------------------------------------------------------------------------
# Several time windows per job
# ---------------------------------------------------------------------------------------------


def test_job_served_in_its_second_window(square_document: dict[str, Any]) -> None:
    """Corner 2 is 20 s away, its first window [0, 5] closes before: served at 30 in [30, 40]."""
    document = copy.deepcopy(square_document)
    document["jobs"][1]["time_windows"] = [[0, 5], [30, 40]]
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 0
    step = next(s for r in answer["routes"] for s in r["steps"] if s.get("id") == 12)
    assert step["arrival"] + step["waiting_time"] in range(30, 41)


def test_validator_accepts_any_window_and_rejects_outside_all(
    square_document: dict[str, Any],
) -> None:
    """Service starting in the second window is valid; starting between the windows is not."""
    document = copy.deepcopy(square_document)
    document["jobs"][1]["time_windows"] = [[0, 5], [30, 40]]
    parsed = parse_vroom_problem(document)
    plan = solve_routes(parsed.problem, FAST)
    assert find_plan_violations(parsed.problem, plan) == []
    route = next(r for r in plan.routes if any(s.task_id == 12 for s in r.steps))
    steps = list(route.steps)
    k = next(i for i, s in enumerate(steps) if s.task_id == 12)
    steps[k] = dataclasses.replace(steps[k], waiting_s=steps[k].waiting_s - 5)
    broken = dataclasses.replace(
        plan,
        routes=tuple(
            dataclasses.replace(r, steps=tuple(steps)) if r is route else r for r in plan.routes
        ),
    )
    assert any(
        "outside its window(s) [0, 5], [30, 40]" in v
        for v in find_plan_violations(parsed.problem, broken)
    )


def test_job_with_no_reachable_window_is_unassigned(square_document: dict[str, Any]) -> None:
    """Both windows close before the vehicle can arrive: unassigned, the reason lists both."""
    document = copy.deepcopy(square_document)
    document["jobs"][1]["time_windows"] = [[0, 5], [8, 12]]
    answer = solve_document(document)
    (entry,) = answer["unassigned"]
    assert entry["id"] == 12
    assert "[0, 5], [8, 12]" in entry["reason"]


# ---------------------------------------------------------------------------------------------
# Combinations refused because the engine could not model them exactly
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # max_tasks counts the tasks of shipments wrongly in a load dimension
        (
            lambda d: (
                d["vehicles"][0].update(max_tasks=2),
                d.update(
                    shipments=[
                        {
                            "pickup": {"id": 21, "location_index": 1},
                            "delivery": {"id": 22, "location_index": 3},
                        }
                    ]
                ),
            ),
            r"max_tasks with shipments",
        ),
        # a reload empties the task counter
        (
            lambda d: d["vehicles"][0].update(max_tasks=2, reload_indices=[0]),
            r"max_tasks with reload_location_idxs",
        ),
        # the objective (travel time) and the limit (metres) differ
        (
            lambda d: d["vehicles"][0].update(max_distance=300),
            r"max_distance_m is only supported when the vehicle's cost is per distance",
        ),
        # per-km costs and a travel-time limit
        (
            lambda d: d["vehicles"][0].update(
                max_travel_time=300, costs={"per_hour": 0, "per_km": 1}
            ),
            r"max_travel_time_s is only supported when the vehicle's cost is its travel time",
        ),
    ],
)
def test_inexact_combinations_are_refused(
    square_document: dict[str, Any], edit: Any, message: str
) -> None:
    """Each combination the engine cannot model exactly is refused with its name."""
    document = copy.deepcopy(square_document)
    edit(document)
    parsed = parse_vroom_problem(document)
    with pytest.raises(InvalidInputError, match=message):
        solve_routes(parsed.problem, FAST)


def test_per_km_needs_distances(square_document: dict[str, Any]) -> None:
    """per_km without a distances matrix is refused by the parser, naming the field."""
    document = copy.deepcopy(square_document)
    del document["matrices"]["car"]["distances"]
    document["vehicles"][0]["costs"] = {"per_km": 5}
    with pytest.raises(InvalidInputError, match=r"vehicles\[0\]\.costs\.per_km: needs matrices"):
        parse_vroom_problem(document)
