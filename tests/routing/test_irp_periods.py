"""Inventory routing with consumption per period and deliveries already on their way."""

from __future__ import annotations

import dataclasses
import time
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
from routing.irp.schedule_search import _Search

# Three periods, one vehicle of 20; d(0,1) = 5. The file's constant r is overridden below.
THREE = """3 3 20 1
0 0 0 0 0 0.01
1 3 4 5 20 0 1 0.1
2 0 8 6 10 0 2 0.1
"""
# Customer 1 uses 1, 12, 1 (it holds 5: dry in period 2 without 9 more); customer 2 uses 2 a
# period from 6 (no delivery needed). The depot holds nothing and produces 9, in period 2 only.
BY_PERIOD = np.array([[0, 1, 2], [9, 12, 2], [0, 1, 2]])


def _varying(**more: Any) -> IrpInstance:
    return dataclasses.replace(parse_instance(THREE), demands_by_period_units=BY_PERIOD, **more)


def _delivered(solution: IrpSolution) -> list[tuple[int, int, float]]:
    return sorted(
        (r.period, s.customer, s.quantity_units) for r in solution.routes for s in r.stops
    )


def test_checker_follows_consumption_and_production_per_period() -> None:
    instance = _varying()
    on_time = IrpSolution((IrpRoute(2, 1, (IrpStop(1, 9),)),))
    check = check_solution(instance, on_time)
    assert check.feasible, check.violations
    # Levels 4, 1, 0 for customer 1; 4, 2, 0 for customer 2; the depot ends 0, 0, 0.
    assert check.holding_cost == pytest.approx(0.1 * (4 + 1 + 0) + 0.1 * (4 + 2 + 0))
    # A period early the depot has nothing to ship yet (production comes in period 2).
    early = check_solution(instance, IrpSolution((IrpRoute(1, 1, (IrpStop(1, 9),)),)))
    assert "period 1, depot: end level -9 is negative (shipped 9 with production 0)" in (
        early.violations
    )


@pytest.mark.parametrize("solve", ["baseline", "irp"])
def test_plans_deliver_just_in_time_for_the_peak(solve: str) -> None:
    instance = _varying()
    if solve == "baseline":
        solution = solve_baseline(instance, time_limit_s=0.1, max_iterations=100)
        # Its need, 8, topped up towards U with what the depot still holds: 1.
        assert _delivered(solution) == [(2, 1, 9)]
    else:
        solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
        assert _delivered(solution) == [(2, 1, 9)]
        assert solution.extras["mip"] == "skipped: consumption or arrivals per period"
    assert check_solution(instance, solution).feasible


def test_a_fixed_arrival_is_counted_not_planned() -> None:
    """9 already on its way to customer 1 for period 2: nothing is left to plan."""
    arrivals = np.zeros((3, 3), dtype=np.int64)
    arrivals[1, 1] = 9
    instance = _varying(fixed_arrivals_units=arrivals)
    solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    check = check_solution(instance, solution)
    assert check.feasible, check.violations
    assert solution.routes == ()
    # An arrival larger than the tank's room fills it to U; the rest is not delivered.
    arrivals[1, 1] = 30
    flood = _varying(fixed_arrivals_units=arrivals)
    check = check_solution(flood, IrpSolution(()))
    assert check.feasible, check.violations
    # Customer 1 ends 4, 20 - 12 = 8, 7; customer 2 4, 2, 0; the depot keeps its 9 from period 2.
    assert check.holding_cost == pytest.approx(0.1 * (4 + 8 + 7) + 0.1 * (4 + 2) + 0.01 * 18)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # one period short
        ({"demands_by_period_units": BY_PERIOD[:2]}, "shape (2, 3) where (3, 3) is expected"),
        # negative consumption
        ({"demands_by_period_units": -BY_PERIOD}, "demands_by_period_units[0, 1]: -1 must be"),
        # an arrival at the depot
        (
            {"fixed_arrivals_units": np.eye(3, dtype=np.int64)},
            "fixed_arrivals_units[:, 0]: [1, 0, 0] must be 0",
        ),
    ],
)
def test_instance_refuses_bad_period_data(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        dataclasses.replace(parse_instance(THREE), **changes)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_moves_are_priced_exactly_with_varying_use_and_arrivals(data_dir: Path) -> None:
    """S_abs2n15_3_L3 with consumption 0.5x, 1x, 1.5x r and half a period's use arriving."""
    path = data_dir / "irp-benchmarks" / "instances" / "S_abs2n15_3_L3.dat"
    full = parse_instance(path.read_text(encoding="utf-8"))
    base = full.demands_per_period_units
    demand = np.stack([base // 2, base, base + base // 2])
    arrivals = np.zeros_like(demand)
    arrivals[1, 1::2] = base[1::2] // 2
    instance = dataclasses.replace(
        full, demands_by_period_units=demand, fixed_arrivals_units=arrivals
    )
    assert instance.varies_by_period
    start = solve_baseline(instance, time_limit_s=0.1, seed=1, max_iterations=200)
    base_check = check_solution(instance, start)
    assert base_check.valid, base_check.violations
    shortfalls = bool(start.shortfalls)
    tried = 0
    for customer in range(1, instance.num_customers + 1):
        for move in _Search(instance, start, shortfalls=shortfalls).moves_of(customer)[:3]:
            state = _Search(instance, start, shortfalls=shortfalls)
            cost, short = state.total(), state.shortage()
            state.apply(move)
            assert state.total() - cost == pytest.approx(move.delta, abs=1e-6)
            assert state.shortage() - short == pytest.approx(move.short_delta, abs=1e-6)
            moved = check_solution(instance, state.to_solution())
            if not shortfalls:
                assert moved.feasible, moved.violations
                assert moved.total_cost == pytest.approx(state.total(), abs=1e-6)
            tried += 1
    assert tried >= 20
    solution = solve_irp(instance, IrpParams(time_limit_s=5.0, seed=0, max_iterations=10))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    assert check.score <= base_check.score


def test_a_long_horizon_of_short_periods_skips_pattern_moves(data_dir: Path) -> None:
    """Beyond 12 periods (a week of 6 h periods is 28) the 2^T visit patterns are not listed.

    At T = 20 listing them would take hours per customer; at T = 6 they are priced as before.
    """
    path = data_dir / "irp-benchmarks" / "instances" / "S_abs2n15_3_L3.dat"
    full = parse_instance(path.read_text(encoding="utf-8"))
    counts = {}
    for periods in (6, 20):
        instance = dataclasses.replace(full, num_periods=periods)
        start = solve_baseline(instance, time_limit_s=0.1, seed=1, max_iterations=50)
        state = _Search(instance, start)
        started = time.monotonic()
        counts[periods] = sum(len(state.pattern_moves_of(i)) for i in range(1, 16))
        assert time.monotonic() - started < 30
    assert counts[6] > 0 and counts[20] == 0
