"""Inventory routing with a route-duration limit (travel times, service times, a maximum)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from data.errors import InvalidInputError
from routing.irp import (
    IrpParams,
    IrpRoute,
    IrpSolution,
    IrpStop,
    check_solution,
    parse_instance,
    solve_baseline,
    solve_irp,
)
from routing.irp.instance import IrpInstance
from routing.irp.schedule_search import Move, PatternMove, _Search

# Two vehicles; d(0,1) = 5, d(0,2) = 8, d(1,2) = 5. Both customers need their delivery in
# period 2 (5 and 2). One route 0-1-2-0 travels 18; 0-1-0 10, 0-2-0 16.
TWO = """3 2 10 2
0 0 0 20 5 0.5
1 3 4 5 10 0 5 1.0
2 0 8 2 6 0 2 0.1
"""


def _limited(limit: int | None, services: list[int], **more: Any) -> IrpInstance:
    return dataclasses.replace(
        parse_instance(TWO),
        service_times=np.array(services, dtype=np.int64),
        max_route_duration=limit,
        **more,
    )


def _durations(instance: IrpInstance, solution: IrpSolution) -> list[int]:
    return [instance.route_duration([s.customer for s in r.stops]) for r in solution.routes]


def test_checker_reports_a_route_over_the_duration_limit() -> None:
    # 0-1-2-0: travel 18, depot service 2, customers 3 + 3: 26.
    plan = IrpSolution((IrpRoute(2, 1, (IrpStop(1, 5), IrpStop(2, 2))),))
    assert check_solution(_limited(26, [2, 3, 3]), plan).feasible
    check = check_solution(_limited(25, [2, 3, 3]), plan)
    assert check.violations == (
        "route 0 (period 2, vehicle 1): duration 26 (travel and service) exceeds the maximum "
        "route duration 25",
    )
    # Travel times are read where given, not the distances: twice the distances, 36 + 8.
    slow = _limited(40, [2, 3, 3], travel_times=parse_instance(TWO).distances * 2)
    assert any("duration 44" in v for v in check_solution(slow, plan).violations)


def test_solver_splits_a_route_the_limit_forbids() -> None:
    free = _limited(None, [0, 1, 1])
    unlimited = solve_irp(free, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    assert check_solution(free, unlimited).routing_cost == 18  # one route 0-1-2-0
    # 0-1-2-0 takes 18 + 2 = 20 > 19: two routes, 0-1-0 (11) and 0-2-0 (17), cost 26.
    limited = _limited(19, [0, 1, 1])
    for solution in (
        solve_baseline(limited, time_limit_s=0.1, max_iterations=200),
        solve_irp(limited, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20)),
    ):
        check = check_solution(limited, solution)
        assert check.feasible, check.violations
        assert check.routing_cost == 26
        assert max(_durations(limited, solution)) <= 19


def test_a_customer_no_route_reaches_in_time_is_a_duration_shortfall() -> None:
    """Limit 15: 0-2-0 takes 16 + 1 = 17, so customer 2 misses its 2 units in period 2."""
    instance = _limited(15, [0, 1, 1])
    for solution in (
        solve_baseline(instance, time_limit_s=0.1, max_iterations=200),
        solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20)),
    ):
        check = check_solution(instance, solution)
        assert check.valid, check.violations
        assert [(s.period, s.customer, s.missing_units, s.reason) for s in solution.shortfalls] == [
            (2, 2, 2, "duration")
        ]
        assert [[s.customer for s in r.stops] for r in solution.routes] == [[1]]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # a travel-time matrix of the wrong size
        ({"travel_times": np.zeros((2, 2))}, "travel_times: shape (2, 2) where (3, 3)"),
        # a negative travel time
        ({"travel_times": np.array([[0, -1, 1], [1, 0, 1], [1, 1, 0]])}, "travel_times[0, 1]: -1"),
        # a fractional service time
        ({"service_times": np.array([0, 1.5, 0])}, "service_times[1]: 1.5 must be a whole"),
        # no time at all for a route
        ({"max_route_duration": 0}, "max_route_duration: 0 must be a whole number"),
    ],
)
def test_instance_refuses_bad_duration_data(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        dataclasses.replace(parse_instance(TWO), **changes)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_search_keeps_every_route_within_the_limit_on_a_benchmark(data_dir: Path) -> None:
    """S_abs1n10_2_L6 with services of 30 and a limit of 800 (unlimited, routes take 1,444)."""
    path = data_dir / "irp-benchmarks" / "instances" / "S_abs1n10_2_L6.dat"
    full = parse_instance(path.read_text(encoding="utf-8"))
    services = np.full(full.num_customers + 1, 30, dtype=np.int64)
    instance = dataclasses.replace(full, service_times=services, max_route_duration=800)
    free = solve_baseline(full, time_limit_s=0.1, seed=1, max_iterations=200)
    assert max(_durations(instance, free)) > 800  # the limit binds
    start = solve_baseline(instance, time_limit_s=0.1, seed=1, max_iterations=200)
    assert check_solution(instance, start).valid
    shortfalls = bool(start.shortfalls)
    rng = np.random.default_rng(0)
    state = _Search(instance, start, shortfalls=shortfalls)
    applied = 0
    for customer in rng.permutation(np.arange(1, instance.num_customers + 1)):
        moves: list[Move | PatternMove] = [
            *state.moves_of(int(customer)),
            *state.pattern_moves_of(int(customer)),
        ]
        for move in moves[:2]:
            fresh = _Search(instance, start, shortfalls=shortfalls)
            if isinstance(move, PatternMove):
                fresh.apply_pattern(move)
            else:
                fresh.apply(move)
            fresh.two_opt_all()
            assert max(_durations(instance, fresh.to_solution()), default=0) <= 800
            applied += 1
    assert applied >= 10
    solution = solve_irp(instance, IrpParams(time_limit_s=5.0, seed=0, max_iterations=10))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    assert max(_durations(instance, solution)) <= 800
    assert check.score <= check_solution(instance, start).score
