"""Tests of the route solver core, checked by the independent plan validator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.ortools_vrp import solve_with_ortools
from data.errors import InvalidInputError, InvalidRoutePlanError
from data.schema.routes import (
    Job,
    RoutePlan,
    RouteProblem,
    Shipment,
    ShipmentStep,
    TimeWindow,
    Vehicle,
)
from data.vrp_benchmarks import load_benchmark_instance
from routing import _exact_search
from routing.route_validation import find_plan_violations, validate_route_plan
from routing.vehicle_routes import (
    REASON_CAPACITY,
    REASON_FLEET,
    REASON_SHIFT,
    REASON_SKILLS,
    REASON_TIME_WINDOW,
    SolverParams,
    solve_routes,
)

# Small searches: the instances here are tiny, the iteration cap makes runs reproducible.
FAST = SolverParams(time_limit_s=2.0, seed=1, max_iterations=300)

SQUARE = np.array(
    [
        [0, 10, 20, 10],
        [10, 0, 10, 20],
        [20, 10, 0, 10],
        [10, 20, 10, 0],
    ]
)
"""Four corners of a square, side 10 s, diagonal 20 s; the depot is corner 0."""


@pytest.fixture(scope="session")
def square_problem() -> RouteProblem:
    """Three unit deliveries at corners 1, 2, 3; two vehicles of capacity 2 based at corner 0.

    Optimum 60: routes 0-1-2-0 (40) and 0-3-0 (20), or the mirror image. One vehicle cannot
    take all three (capacity 2), and the two-route splits cost 60, 60 and 80.
    """
    vehicles = (Vehicle("a", 0, 0, capacity=(2,)), Vehicle("b", 0, 0, capacity=(2,)))
    jobs = tuple(Job(f"j{i}", i, delivery=(1,)) for i in (1, 2, 3))
    return RouteProblem(durations_s=SQUARE, vehicles=vehicles, jobs=jobs)


def solve_checked(problem: RouteProblem, params: SolverParams = FAST) -> RoutePlan:
    """Solve and run the independent validator on the answer."""
    plan = solve_routes(problem, params)
    validate_route_plan(problem, plan)
    return plan


def reasons(plan: RoutePlan) -> dict[object, str]:
    """Map each unassigned task id to its reason."""
    return {task.task_id: task.reason for task in plan.unassigned}


def test_square_optimum(square_problem: RouteProblem) -> None:
    """Two vehicles of capacity 2 reach the optimum 60, with the schedule and loads per step."""
    plan = solve_checked(square_problem)
    assert plan.cost == 60
    assert len(plan.routes) == 2
    assert not plan.unassigned
    route = next(r for r in plan.routes if len(r.steps) == 4)
    # Per-step schedule and load: start with 2 on board, 1 after the first stop, 0 after the second.
    assert [s.kind for s in route.steps] == ["start", "job", "job", "end"]
    assert [s.load for s in route.steps] == [(2,), (1,), (0,), (0,)]
    # 0-1-2-0 (with 0-3-0) or its mirror image 0-2-3-0 (with 0-1-0), both optimal.
    assert [s.arrival_s for s in route.steps] in ([0, 10, 20, 40], [0, 20, 30, 40])


def test_one_big_vehicle_tours_the_square(square_problem: RouteProblem) -> None:
    """Capacity 3 lets one vehicle do the tour 0-1-2-3-0, cost 40."""
    problem = dataclasses.replace(square_problem, vehicles=(Vehicle("big", 0, 0, capacity=(3,)),))
    plan = solve_checked(problem)
    assert plan.cost == 40
    assert [s.task_id for s in plan.routes[0].steps[1:-1]] in (
        ["j1", "j2", "j3"],
        ["j3", "j2", "j1"],
    )


def test_time_windows_and_service(square_problem: RouteProblem) -> None:
    """Job 3 may only start at [50, 60]; service 5 s everywhere; one vehicle of capacity 3.

    Optimum: 0-1-2-3-0, cost 40. Leaving at 0 the vehicle would wait 10 s at job 3, so it leaves
    at 10 instead: arrivals 20, 35, 50, back at 55 + 10 = 65.
    """
    jobs = (
        Job("j1", 1, delivery=(1,), service_s=5),
        Job("j2", 2, delivery=(1,), service_s=5),
        Job("j3", 3, delivery=(1,), service_s=5, time_window=TimeWindow(50, 60)),
    )
    problem = RouteProblem(
        durations_s=SQUARE, vehicles=(Vehicle("v", 0, 0, capacity=(3,)),), jobs=jobs
    )
    plan = solve_checked(problem)
    assert plan.cost == 40
    steps = plan.routes[0].steps
    assert [s.task_id for s in steps[1:-1]] == ["j1", "j2", "j3"]
    assert [s.arrival_s for s in steps] == [10, 20, 35, 50, 65]
    assert steps[3].waiting_s == 0


def test_unservable_jobs_are_listed_with_reasons(square_problem: RouteProblem) -> None:
    """Jobs no vehicle can serve are unassigned with a reason and numbers, not an exception."""
    jobs = (
        Job("ok", 1, delivery=(1,)),
        Job("too-big", 2, delivery=(5,)),
        Job("too-early", 2, delivery=(1,), time_window=TimeWindow(0, 15)),
        Job("no-skill", 3, delivery=(1,), skills=frozenset({7})),
    )
    vehicles = (Vehicle("v", 0, 0, capacity=(2,), time_window=TimeWindow(0, 1000)),)
    plan = solve_checked(RouteProblem(durations_s=SQUARE, vehicles=vehicles, jobs=jobs))
    why = reasons(plan)
    assert set(why) == {"too-big", "too-early", "no-skill"}
    assert why["too-big"].startswith(REASON_CAPACITY)
    assert "needs [5]" in why["too-big"]
    assert "[2]" in why["too-big"]
    assert why["too-early"].startswith(REASON_TIME_WINDOW)
    assert "earliest arrival at 'too-early' is 20 s" in why["too-early"]
    assert why["no-skill"].startswith(REASON_SKILLS)
    assert plan.cost == 20


def test_shift_too_short_is_explained() -> None:
    """A shift ending at 30 s cannot reach corner 2 and back (40 s): the reason says so."""
    vehicles = (Vehicle("v", 0, 0, time_window=TimeWindow(0, 30)),)
    problem = RouteProblem(durations_s=SQUARE, vehicles=vehicles, jobs=(Job("far", 2),))
    plan = solve_checked(problem)
    assert reasons(plan)["far"].startswith(REASON_SHIFT)
    assert "back at 40 s" in reasons(plan)["far"]


def test_task_reached_through_another_stop_is_not_dropped() -> None:
    """A matrix without the triangle inequality: 0->1 takes 5000 s, but 0->2->1 only 20 s.

    The shift ends at 1000 s, so job 1 alone (0-1, 5000 s) is out of reach, yet the route
    0-2-1 serves both jobs by 20 s. The pre-check used to drop job 1 ("cannot be served
    within any vehicle's shift") although VROOM serves it; it now checks shortest paths.
    """
    durations = np.array([[0, 5000, 10], [5000, 0, 10], [10, 10, 0]])
    vehicles = (Vehicle("v", 0, None, time_window=TimeWindow(0, 1000)),)
    jobs = (Job("one", 1), Job("two", 2, time_window=TimeWindow(0, 15)))
    plan = solve_checked(RouteProblem(durations_s=durations, vehicles=vehicles, jobs=jobs))
    assert plan.unassigned == ()
    assert [step.task_id for step in plan.routes[0].steps] == [None, "two", "one"]
    assert plan.cost == 20


def test_fleet_shortage_keeps_high_priority_jobs() -> None:
    """One vehicle of capacity 1: only one of two jobs fits; priority decides which."""
    jobs = (Job("low", 1, delivery=(1,), priority=0), Job("high", 3, delivery=(1,), priority=10))
    problem = RouteProblem(
        durations_s=SQUARE, vehicles=(Vehicle("v", 0, 0, capacity=(1,)),), jobs=jobs
    )
    plan = solve_checked(problem)
    assert [s.task_id for s in plan.routes[0].steps if s.task_id] == ["high"]
    assert reasons(plan)["low"].startswith(REASON_FLEET)


def test_skills_route_jobs_to_capable_vehicles() -> None:
    """Only vehicle 'lox' may serve job 'tank' (skill 1); both vehicles based at corner 0."""
    vehicles = (Vehicle("truck", 0, 0), Vehicle("lox", 0, 0, skills=frozenset({1})))
    jobs = (Job("tank", 2, skills=frozenset({1})), Job("cyl", 1))
    plan = solve_checked(RouteProblem(durations_s=SQUARE, vehicles=vehicles, jobs=jobs))
    served_by = {s.task_id: r.vehicle_id for r in plan.routes for s in r.steps if s.task_id}
    assert served_by["tank"] == "lox"
    assert plan.cost == 40


def test_reloads_serve_several_loads() -> None:
    """Capacity 1, three unit jobs, reload at the depot: three out-and-back trips, cost 80."""
    vehicle = Vehicle("v", 0, 0, capacity=(1,), reload_location_idxs=(0,), reload_service_s=3)
    jobs = tuple(Job(f"j{i}", i, delivery=(1,)) for i in (1, 2, 3))
    plan = solve_checked(RouteProblem(durations_s=SQUARE, vehicles=(vehicle,), jobs=jobs))
    assert plan.cost == 80
    kinds = [s.kind for s in plan.routes[0].steps]
    assert kinds.count("reload") == 2
    assert all(s.load == (1,) for s in plan.routes[0].steps if s.kind in ("start", "reload"))
    assert plan.routes[0].service_s == 6


def test_max_reloads_limits_trips() -> None:
    """With at most one reload, capacity 1 serves two of the three jobs; one is unassigned."""
    vehicle = Vehicle("v", 0, 0, capacity=(1,), reload_location_idxs=(0,), max_reloads=1)
    jobs = tuple(Job(f"j{i}", i, delivery=(1,)) for i in (1, 2, 3))
    plan = solve_checked(RouteProblem(durations_s=SQUARE, vehicles=(vehicle,), jobs=jobs))
    assert len(plan.unassigned) == 1


def test_shipment_pickup_before_delivery() -> None:
    """Carry 1 from corner 1 to corner 3: 0-1-3-0, cost 10 + 20 + 10 = 40."""
    shipment = Shipment(ShipmentStep("p", 1), ShipmentStep("d", 3), amount=(1,))
    problem = RouteProblem(
        durations_s=SQUARE, vehicles=(Vehicle("v", 0, 0, capacity=(1,)),), shipments=(shipment,)
    )
    plan = solve_checked(problem)
    assert plan.cost == 40
    assert [s.kind for s in plan.routes[0].steps] == ["start", "pickup", "delivery", "end"]
    assert [s.load for s in plan.routes[0].steps] == [(0,), (1,), (0,), (0,)]


def test_several_depots_and_open_routes() -> None:
    """Serve both jobs at cost 20, 'y' on an open route (it starts at 0 and has no end).

    Either 'x' runs from corner 1 to 3 via 2 and 'y' serves "home" at 0 (cost 0), or 'x' stays
    unused and 'y' serves "home", then "mid": both cost 20.
    """
    vehicles = (Vehicle("x", 1, 3), Vehicle("y", 0, None))
    jobs = (Job("mid", 2), Job("home", 0))
    plan = solve_checked(RouteProblem(durations_s=SQUARE, vehicles=vehicles, jobs=jobs))
    assert plan.cost == 20
    assert not plan.unassigned
    route_y = next(r for r in plan.routes if r.vehicle_id == "y")
    assert [s.kind for s in route_y.steps][:2] == ["start", "job"]
    assert route_y.steps[-1].kind == "job"  # an open route ends at its last task


def test_same_seed_same_plan() -> None:
    """The same seed and iteration limit give the same plan (25 random clients, 8 vehicles)."""
    rng = np.random.default_rng(7)
    xy = rng.integers(0, 100, size=(25, 2))
    matrix = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(int)
    jobs = tuple(Job(i, i, delivery=(int(rng.integers(1, 10)),)) for i in range(1, 25))
    vehicles = tuple(Vehicle(k, 0, 0, capacity=(30,)) for k in range(8))
    problem = RouteProblem(durations_s=matrix, vehicles=vehicles, jobs=jobs)
    params = SolverParams(time_limit_s=5.0, seed=3, max_iterations=400)
    first, second = solve_checked(problem, params), solve_checked(problem, params)
    assert first.routes == second.routes
    assert first.cost == second.cost
    # Two workers (seeds 3 and 4, each with its own search settings) are reproducible too.
    pair = SolverParams(time_limit_s=5.0, seed=3, max_iterations=400, num_workers=2)
    first, second = solve_checked(problem, pair), solve_checked(problem, pair)
    assert first.routes == second.routes
    assert first.cost == second.cost


def test_validator_catches_broken_plans(square_problem: RouteProblem) -> None:
    """The validator reports a missing task and an overload."""
    plan = solve_checked(square_problem)
    # Drop one route: its jobs are then neither routed nor unassigned.
    broken = dataclasses.replace(plan, routes=plan.routes[:1], cost=plan.routes[0].cost)
    assert any("exactly once" in v for v in find_plan_violations(square_problem, broken))
    # Overload: the same plan checked against vehicles of capacity 1.
    smaller = dataclasses.replace(
        square_problem,
        vehicles=tuple(dataclasses.replace(v, capacity=(1,)) for v in square_problem.vehicles),
    )
    with pytest.raises(InvalidRoutePlanError, match="exceeds capacity 1"):
        validate_route_plan(smaller, plan)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        # a matrix that is not square
        (
            lambda: RouteProblem(
                durations_s=np.zeros((3, 2), dtype=np.int64), vehicles=(Vehicle("v", 0, 0),)
            ),
            "must be a square matrix",
        ),
        # a location index outside the matrix
        (
            lambda: RouteProblem(
                durations_s=SQUARE, vehicles=(Vehicle("v", 0, 0),), jobs=(Job("j", 9),)
            ),
            "job 'j' location_idx is 9",
        ),
        # a negative amount
        (lambda: Job("j", 1, delivery=(-1,)), r"delivery\[0\] must be >= 0"),
        # a negative travel time
        (
            lambda: RouteProblem(durations_s=-SQUARE, vehicles=(Vehicle("v", 0, 0),)),
            r"durations_s\[0\]\[2\] is -20",
        ),
        # capacity dimensions that disagree
        (
            lambda: RouteProblem(
                durations_s=SQUARE,
                vehicles=(Vehicle("v", 0, 0, capacity=(1,)),),
                jobs=(Job("j", 1, delivery=(1, 1)),),
            ),
            "different numbers of load dimensions",
        ),
        # a time window that ends before it starts
        (lambda: TimeWindow(10, 5), "starts after it ends"),
        # a priority out of range
        (lambda: Job("j", 1, priority=101), r"priority must be an integer in \[0, 100\]"),
        # duplicate ids
        (
            lambda: RouteProblem(
                durations_s=SQUARE, vehicles=(Vehicle("v", 0, 0),), jobs=(Job("j", 1), Job("j", 2))
            ),
            "used twice",
        ),
    ],
)
def test_bad_input_is_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    """Each bad input raises one error whose message names the field."""
    with pytest.raises(InvalidInputError, match=message):
        build()


def test_ortools_engine_refuses_unsupported_features() -> None:
    """The OR-Tools baseline refuses features it does not model, naming them."""
    shipment = Shipment(ShipmentStep("p", 1), ShipmentStep("d", 3))
    problem = RouteProblem(
        durations_s=SQUARE, vehicles=(Vehicle("v", 0, 0),), shipments=(shipment,)
    )
    with pytest.raises(InvalidInputError, match=r"does not support .*shipments"):
        solve_with_ortools(problem, time_limit_s=1.0)


def test_ortools_engine_solves_the_square(square_problem: RouteProblem) -> None:
    """The OR-Tools baseline finds the square optimum 60."""
    plan = solve_with_ortools(square_problem, time_limit_s=1.0)
    validate_route_plan(square_problem, plan)
    assert plan.cost == 60


def test_solomon_instance_briefly_is_feasible(data_dir) -> None:  # type: ignore[no-untyped-def]
    """Solomon RC101 solved for 2 s is complete and valid per the validator."""
    instance = load_benchmark_instance(data_dir / "vrp-benchmarks", "RC101")
    plan = solve_checked(instance.problem, SolverParams(time_limit_s=2.0, seed=0))
    assert not plan.unassigned
    assert plan.cost >= instance.best_known_cost


@settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    demands=st.lists(st.integers(0, 6), min_size=1, max_size=6),
    capacity=st.integers(1, 6),
    num_vehicles=st.integers(1, 3),
    close_s=st.integers(5, 60),
)
def test_every_job_routed_once_or_unassigned(
    demands: list[int], capacity: int, num_vehicles: int, close_s: int
) -> None:
    """On random small instances every plan is valid; no load exceeds a capacity."""
    n = len(demands) + 1
    positions = np.arange(n) * 7 % 23
    matrix = np.abs(positions[:, None] - positions[None, :])
    jobs = tuple(
        Job(i, i, delivery=(d,), time_window=TimeWindow(0, close_s) if i % 2 else None)
        for i, d in enumerate(demands, start=1)
    )
    vehicles = tuple(Vehicle(k, 0, 0, capacity=(capacity,)) for k in range(num_vehicles))
    problem = RouteProblem(durations_s=matrix, vehicles=vehicles, jobs=jobs)
    plan = solve_checked(problem, SolverParams(time_limit_s=1.0, seed=0, max_iterations=100))
    routed = [s.task_id for r in plan.routes for s in r.steps if s.task_id is not None]
    assert sorted(routed + [t.task_id for t in plan.unassigned]) == list(range(1, n))


def _job_beside_shipment() -> RouteProblem:
    """Build a job and a shipment that only the truck can do, and only together in one route.

    The truck picks up at place 0 (a job, 4 units, until 32 s, and a shipment, 2 units, until
    33 s) and drops the shipment at place 1: cost 18. The small vehicle carries 1 unit.
    """
    line = np.array([[0, 18], [18, 0]])
    vehicles = (
        Vehicle("small", 1, None, capacity=(1,), time_window=TimeWindow(43, 374)),
        Vehicle("truck", 0, 1, capacity=(7,), time_window=TimeWindow(18, 239)),
    )
    jobs = (Job("j", 0, pickup=(4,), time_window=TimeWindow(6, 32)),)
    shipments = (
        Shipment(
            ShipmentStep("p", 0, time_window=TimeWindow(13, 33)),
            ShipmentStep("d", 1),
            amount=(2,),
            priority=26,
        ),
    )
    return RouteProblem(durations_s=line, vehicles=vehicles, jobs=jobs, shipments=shipments)


@pytest.mark.parametrize("enumerate_tiny", [True, False])
def test_job_and_shipment_share_the_one_route_that_fits(
    enumerate_tiny: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serve both, whether tiny problems are enumerated or searched.

    PyVRP's search split the job and the shipment onto two vehicles, one of them unable to do
    its part, and left the job out at any time limit. Tiny problems are now enumerated; after a
    search, left-out tasks are inserted where they fit.
    """
    if not enumerate_tiny:
        monkeypatch.setattr(_exact_search, "EXACT_MAX_VISITS", 0)
    plan = solve_checked(_job_beside_shipment())
    assert not plan.unassigned
    assert plan.cost == 18
    (route,) = plan.routes
    assert route.vehicle_id == "truck"
    assert [s.kind for s in route.steps] == ["start", "job", "pickup", "delivery", "end"]
    assert [s.load for s in route.steps] == [(0,), (4,), (6,), (4,), (4,)]


def _random_tiny_problem(seed: int) -> RouteProblem:
    """1-3 vehicles and jobs and shipments of at most 8 visits, with windows and capacities."""
    rng = np.random.default_rng(seed)
    n_loc = int(rng.integers(2, 6))
    durations = rng.integers(1, 60, (n_loc, n_loc))
    np.fill_diagonal(durations, 0)

    def window() -> TimeWindow | None:
        if rng.random() < 0.5:
            return None
        start = int(rng.integers(0, 150))
        return TimeWindow(start, start + int(rng.integers(10, 120)))

    vehicles = tuple(
        Vehicle(
            f"v{k}",
            int(rng.integers(n_loc)),
            None if rng.random() < 0.3 else int(rng.integers(n_loc)),
            capacity=(int(rng.integers(0, 8)),),
            time_window=window(),
        )
        for k in range(int(rng.integers(1, 4)))
    )
    n_ship = int(rng.integers(0, 3))
    n_jobs = int(rng.integers(0 if n_ship else 1, 9 - 2 * n_ship))
    jobs = tuple(
        Job(
            f"j{k}",
            int(rng.integers(n_loc)),
            delivery=(int(rng.integers(0, 4)),),
            service_s=int(rng.integers(0, 20)),
            time_window=window(),
            priority=int(rng.integers(0, 3)),
        )
        for k in range(n_jobs)
    )
    shipments = tuple(
        Shipment(
            ShipmentStep(f"p{k}", int(rng.integers(n_loc)), time_window=window()),
            ShipmentStep(f"d{k}", int(rng.integers(n_loc)), service_s=int(rng.integers(0, 20))),
            amount=(int(rng.integers(0, 4)),),
            priority=int(rng.integers(0, 3)),
        )
        for k in range(n_ship)
    )
    return RouteProblem(durations_s=durations, vehicles=vehicles, jobs=jobs, shipments=shipments)


def _served_weight(problem: RouteProblem, plan: RoutePlan) -> int:
    """Priority-weighted tasks served: a task of priority p counts 1 + p, a shipment twice."""
    left = {task.task_id for task in plan.unassigned}
    return sum(1 + job.priority for job in problem.jobs if job.job_id not in left) + sum(
        2 * (1 + s.priority) for s in problem.shipments if s.pickup.step_id not in left
    )


@pytest.mark.parametrize("seed", range(40))
def test_enumeration_is_never_worse_than_the_search(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enumerate tiny problems at least as well as the search does.

    The enumerated plan serves at least as much priority-weighted work as the search's and costs
    no more when it serves the same; both pass the independent validator.
    """
    problem = _random_tiny_problem(seed)
    exact = solve_checked(problem)
    monkeypatch.setattr(_exact_search, "EXACT_MAX_VISITS", 0)
    searched = solve_checked(problem)
    assert _served_weight(problem, exact) >= _served_weight(problem, searched)
    if _served_weight(problem, exact) == _served_weight(problem, searched):
        assert exact.cost <= searched.cost


def test_a_short_route_is_reordered_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reorder a searched route of four visits into its cheapest order (costs 127 -> 122).

    Only vehicle "2" has skill 1 for job 4; the shipment's pickup must start by 65 s. PyVRP's
    search ended with pickup, job 4, delivery, job 3 (travel costs 10 + 10 + 20 + 2 plus the
    fixed 85); pickup, job 3, delivery, job 4 costs 10 + 5 + 2 + 20 + 85 = 122.
    """
    from routing.vroom import parse_vroom_problem

    document = {
        "vehicles": [
            {
                "id": 10,
                "start_index": 2,
                "capacity": [0],
                "skills": [3, 2],
                "time_window": [39, 182],
            },
            {"id": 1, "start_index": 1, "end_index": 1, "capacity": [5], "costs": {"fixed": 72}},
            {
                "id": 2,
                "start_index": 1,
                "capacity": [6],
                "skills": [1, 2, 3],
                "time_window": [1, 381],
                "costs": {"fixed": 85},
            },
        ],
        "matrices": {
            "car": {
                "durations": [
                    [0, 53, 16, 58, 30, 20],
                    [53, 0, 58, 43, 23, 11],
                    [16, 58, 0, 33, 12, 11],
                    [58, 43, 33, 0, 1, 17],
                    [30, 23, 12, 1, 0, 41],
                    [20, 11, 11, 17, 41, 0],
                ],
                "costs": [
                    [0, 15, 16, 0, 24, 27],
                    [15, 0, 10, 30, 18, 20],
                    [16, 10, 0, 5, 22, 6],
                    [0, 30, 5, 0, 22, 2],
                    [24, 18, 22, 22, 0, 10],
                    [27, 20, 6, 2, 10, 0],
                ],
            }
        },
        "jobs": [
            {"id": 3, "location_index": 3},
            {
                "id": 4,
                "location_index": 1,
                "delivery": [0],
                "service": 13,
                "priority": 3,
                "skills": [1],
            },
        ],
        "shipments": [
            {
                "pickup": {"id": 1, "location_index": 2, "time_windows": [[52, 65]]},
                "delivery": {"id": 2, "location_index": 5, "service": 12},
                "amount": [3],
            }
        ],
    }
    problem = parse_vroom_problem(document).problem
    monkeypatch.setattr(_exact_search, "EXACT_MAX_VISITS", 0)  # the search's route
    plan = solve_checked(problem)
    assert not plan.unassigned
    assert plan.cost == 122
    (route,) = plan.routes
    visits = [(s.kind, s.location_idx) for s in route.steps if s.kind != "start"]
    assert visits == [("pickup", 2), ("job", 3), ("delivery", 5), ("job", 1)]
