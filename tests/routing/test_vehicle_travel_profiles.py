"""A vehicle drives on its own travel profile's matrices (issue 15: loaded cryogenic tankers).

Hand-built: a depot (0) and two places (1, 2). On the general profile each leg 0-1 takes 100 s
(1,000 m); a loaded tanker takes 150 s (1,300 m: it avoids a tunnel). Every plan goes through
the independent validator, which reads the vehicle's own matrices too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from data.errors import InvalidInputError
from data.schema.routes import Job, RouteProblem, Shipment, ShipmentStep, TimeWindow, Vehicle
from routing.route_validation import find_plan_violations, validate_route_plan
from routing.vehicle_routes import (
    REASON_TIME_WINDOW,
    SolverParams,
    explain_unservable_tasks,
    solve_routes,
)

FAST = SolverParams(time_limit_s=2.0, seed=1, max_iterations=300)

GENERAL_S = np.array([[0, 100, 200], [100, 0, 100], [200, 100, 0]])
GENERAL_M = np.array([[0, 1000, 2000], [1000, 0, 1000], [2000, 1000, 0]])
TANKER_S = np.array([[0, 150, 300], [150, 0, 150], [300, 150, 0]])
TANKER_M = np.array([[0, 1300, 2600], [1300, 0, 1300], [2600, 1300, 0]])


def _problem(vehicles: tuple[Vehicle, ...], jobs: tuple[Job, ...]) -> RouteProblem:
    return RouteProblem(
        durations_s=GENERAL_S,
        vehicles=vehicles,
        jobs=jobs,
        distances_m=GENERAL_M,
        profile_durations_s={"tanker": TANKER_S},
        profile_distances_m={"tanker": TANKER_M},
    )


def _arrival(plan, task_id):  # type: ignore[no-untyped-def]
    for route in plan.routes:
        for step in route.steps:
            if step.task_id == task_id:
                return route.vehicle_id, step.arrival_s, step.distance_m
    raise AssertionError(f"{task_id} not routed")


@pytest.mark.parametrize(
    ("profile", "speed_factor", "arrival_s", "distance_m", "travel_s"),
    [
        ("general", 1.0, 100, 1000, 200),
        ("tanker", 1.0, 150, 1300, 300),  # the tanker's own times and distances
        ("tanker", 2.0, 75, 1300, 150),  # its speed factor scales its profile's times
    ],
)
def test_route_eta_uses_the_vehicles_profile(
    profile: str, speed_factor: float, arrival_s: int, distance_m: int, travel_s: int
) -> None:
    vehicle = Vehicle("v", 0, 0, profile=profile, speed_factor=speed_factor)
    problem = _problem((vehicle,), (Job("j", 1),))
    plan = solve_routes(problem, FAST)
    validate_route_plan(problem, plan)
    assert _arrival(plan, "j") == ("v", arrival_s, distance_m)
    (route,) = plan.routes
    assert (route.travel_s, route.distance_m, route.cost) == (travel_s, 2 * distance_m, travel_s)


def test_validator_checks_against_the_vehicles_own_times() -> None:
    problem = _problem((Vehicle("t", 0, 0, profile="tanker"),), (Job("j", 1),))
    plan = solve_routes(problem, FAST)
    assert find_plan_violations(problem, plan) == []
    # The same plan read on general times is wrong: the validator must use the tanker's matrix.
    as_general = dataclasses.replace(problem, profile_durations_s={"tanker": GENERAL_S})
    violations = find_plan_violations(as_general, plan)
    assert any("arrival 150 s, but the matrices give 100 s" in v for v in violations), violations


def test_window_only_the_general_truck_reaches_goes_to_it() -> None:
    """Both vehicles are identical but for the profile: they must not share one engine type."""
    vehicles = (Vehicle("tanker", 0, 0, profile="tanker"), Vehicle("truck", 0, 0))
    jobs = (Job("near", 2, time_window=TimeWindow(0, 250)), Job("far", 1))
    problem = _problem(vehicles, jobs)
    plan = solve_routes(problem, FAST)
    validate_route_plan(problem, plan)
    assert plan.unassigned == ()
    vehicle, arrival, _ = _arrival(plan, "near")
    assert vehicle == "truck" and arrival <= 250


def test_window_a_tanker_cannot_reach_is_explained_with_its_times() -> None:
    problem = _problem(
        (Vehicle("t", 0, 0, profile="tanker"),), (Job("j", 2, time_window=TimeWindow(0, 250)),)
    )
    (reason,) = explain_unservable_tasks(problem).values()
    assert reason.startswith(REASON_TIME_WINDOW)
    assert "earliest arrival at 'j' is 300 s" in reason, reason
    plan = solve_routes(problem, FAST)
    assert [u.task_id for u in plan.unassigned] == ["j"]
    # The same vehicle on the general profile makes it (200 s).
    general = dataclasses.replace(problem, vehicles=(Vehicle("t", 0, 0),))
    assert explain_unservable_tasks(general) == {}


def test_shipment_on_a_tanker_uses_its_times_both_legs() -> None:
    shipment = Shipment(
        ShipmentStep("load", 1, 60), ShipmentStep("drop", 2, 30), amount=(5,), skills=frozenset()
    )
    problem = RouteProblem(
        durations_s=GENERAL_S,
        vehicles=(Vehicle("t", 0, 0, capacity=(10,), profile="tanker"),),
        shipments=(shipment,),
        profile_durations_s={"tanker": TANKER_S},
    )
    plan = solve_routes(problem, FAST)
    validate_route_plan(problem, plan)
    arrivals = [(s.kind, s.arrival_s) for s in plan.routes[0].steps]
    # 150 to the plant, 60 loading, 150 to the facility, 30 unloading, 300 home.
    assert arrivals == [("start", 0), ("pickup", 150), ("delivery", 360), ("end", 690)]


def test_unused_profiles_change_nothing() -> None:
    """A general-only fleet gives the same plan with or without other profiles' matrices."""
    vehicles = (Vehicle("a", 0, 0, capacity=(2,)), Vehicle("b", 0, 0, capacity=(2,)))
    jobs = tuple(Job(f"j{i}", i, delivery=(1,)) for i in (1, 2))
    plain = RouteProblem(durations_s=GENERAL_S, vehicles=vehicles, jobs=jobs, distances_m=GENERAL_M)
    plan = solve_routes(plain, FAST)
    with_tanker = solve_routes(_problem(vehicles, jobs), FAST)
    assert (with_tanker.routes, with_tanker.unassigned, with_tanker.cost) == (
        plan.routes,
        plan.unassigned,
        plan.cost,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # a vehicle on a profile the problem has no matrix for
        ({"vehicles": (Vehicle("v", 0, 0, profile="bicycle"),)}, "'bicycle' has no matrix"),
        # a profile matrix over other locations
        ({"profile_durations_s": {"tanker": np.zeros((2, 2))}}, r"has shape \(2, 2\)"),
        # "general" is the problem's own matrices, not a key
        ({"profile_durations_s": {"general": TANKER_S}}, "'general' is not a profile name"),
        # distances of a profile without its times
        ({"profile_distances_m": {"ferry": TANKER_M}}, r"profile_distances_m\['ferry'\] has no"),
        # negative entries are refused as in durations_s
        ({"profile_durations_s": {"tanker": -TANKER_S}}, "entries must be >= 0"),
    ],
)
def test_bad_profiles_are_refused_with_the_field(changes: dict[str, object], message: str) -> None:
    base = {
        "durations_s": GENERAL_S,
        "vehicles": (Vehicle("v", 0, 0, profile="tanker"),),
        "distances_m": GENERAL_M,
        "profile_durations_s": {"tanker": TANKER_S},
    }
    with pytest.raises(InvalidInputError, match=message):
        RouteProblem(**{**base, **changes})  # type: ignore[arg-type]


def test_vehicle_profile_must_be_a_name() -> None:
    with pytest.raises(InvalidInputError, match="profile must be a non-empty string"):
        Vehicle("v", 0, 0, profile="")
