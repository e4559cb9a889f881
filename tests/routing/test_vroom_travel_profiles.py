"""VROOM input with several routing profiles: each vehicle drives on its ``profile``'s matrices.

Hand-checkable: a depot (0) and one job at 1. The ``car`` profile takes 100 s (1 km) each way,
the ``truck`` profile 180 s (1.4 km). A car arrives at 100 s, a truck at 180 s.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from data.errors import InvalidInputError
from routing.route_validation import validate_route_plan
from routing.vehicle_routes import SolverParams, solve_routes
from routing.vroom import parse_vroom_problem, to_vroom_solution

FAST = SolverParams(time_limit_s=2.0, seed=0, max_iterations=200)

DOCUMENT: dict[str, Any] = {
    "vehicles": [
        {"id": 1, "profile": "car", "start_index": 0, "end_index": 0},
        {"id": 2, "profile": "truck", "start_index": 0, "end_index": 0},
    ],
    "jobs": [{"id": 11, "location_index": 1}],
    "matrices": {
        "car": {"durations": [[0, 100], [100, 0]], "distances": [[0, 1000], [1000, 0]]},
        "truck": {"durations": [[0, 180], [180, 0]], "distances": [[0, 1400], [1400, 0]]},
    },
}


def _solve(document: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_vroom_problem(document)
    plan = solve_routes(parsed.problem, FAST)
    validate_route_plan(parsed.problem, plan)
    return to_vroom_solution(parsed, plan)


@pytest.mark.parametrize(("vehicle", "arrival", "distance"), [(1, 100, 1000), (2, 180, 1400)])
def test_each_vehicle_drives_on_its_profile(vehicle: int, arrival: int, distance: int) -> None:
    document = copy.deepcopy(DOCUMENT)
    document["vehicles"] = [v for v in document["vehicles"] if v["id"] == vehicle]
    (route,) = _solve(document)["routes"]
    job = next(s for s in route["steps"] if s["type"] == "job")
    assert (job["arrival"], job["distance"]) == (arrival, distance)
    assert (route["duration"], route["distance"], route["cost"]) == (
        2 * arrival,
        2 * distance,
        2 * arrival,
    )


def test_the_faster_profile_takes_the_job() -> None:
    answer = _solve(DOCUMENT)
    (route,) = answer["routes"]
    assert route["vehicle"] == 1 and answer["summary"]["cost"] == 200


def test_a_window_only_the_car_can_reach() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["vehicles"] = [document["vehicles"][1]]  # the truck alone
    document["jobs"][0]["time_windows"] = [[0, 150]]
    answer = _solve(document)
    assert [u["id"] for u in answer["unassigned"]] == [11]
    assert "earliest arrival" in answer["unassigned"][0]["reason"]


def test_a_profile_named_general_is_kept_apart() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["matrices"]["general"] = document["matrices"].pop("truck")
    document["vehicles"] = [{**document["vehicles"][1], "profile": "general"}]
    (route,) = _solve(document)["routes"]
    assert route["duration"] == 360  # the "general" VROOM profile's times, not the car's


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # a vehicle on a profile with no matrix
        (lambda d: d["vehicles"][0].update(profile="bike"), r"'bike' has no matrix"),
        # several profiles: a vehicle without a profile is a "car" (VROOM's default)
        (
            lambda d: (
                d["vehicles"][0].pop("profile"),
                d["matrices"].update(van=d["matrices"].pop("car")),
            ),
            r"vehicles\[0\].profile: 'car' has no matrix",
        ),
        # a profile over other locations
        (
            lambda d: d["matrices"]["truck"].update(durations=[[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
            "every profile covers the same locations",
        ),
        # distances in some profiles only
        (lambda d: d["matrices"]["truck"].pop("distances"), "distances in every profile"),
        # costs that differ between profiles
        (
            lambda d: (
                d["matrices"]["car"].update(costs=[[0, 1], [1, 0]]),
                d["matrices"]["truck"].update(costs=[[0, 2], [2, 0]]),
            ),
            "costs differ between profiles",
        ),
        # no profile at all
        (lambda d: d.update(matrices={}), "one object per routing profile"),
    ],
)
def test_bad_profiles_are_refused_naming_the_key(change: Any, message: str) -> None:
    document = copy.deepcopy(DOCUMENT)
    change(document)
    with pytest.raises(InvalidInputError, match=message):
        parse_vroom_problem(document)


def test_one_profile_documents_are_read_as_before() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["matrices"].pop("truck")
    document["vehicles"] = [{"id": 1, "start_index": 0, "end_index": 0}]  # no profile: the one
    parsed = parse_vroom_problem(document)
    assert parsed.problem.profile_durations_s == {}
    assert parsed.problem.vehicles[0].profile == "general"
