"""Inventory routing when not every tank can keep its floor: weighted shortfalls, their reasons."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from data.errors import InvalidInputError
from routing.irp import (
    IrpParams,
    IrpShortfall,
    IrpSolution,
    check_solution,
    parse_instance,
    parse_solution,
    solution_to_json,
    solve_baseline,
    solve_irp,
)
from routing.irp.instance import IrpInstance
from routing.irp.schedule_search import _Search

# The depot holds 10 and produces nothing; one vehicle of capacity 20; two periods.
# Customer 1 (low priority, weight 1): I0 0, U 10, L 0, r 5: dry without deliveries.
# Customer 2 (high priority, weight 10): I0 10, U 20, L 0, r 10: needs 10 in period 2.
# The baseline refills customer 1 in period 1 (its need comes first) to 10, so customer 2 misses
# 10 in period 2: weighted 100. Best: all 10 to customer 2; customer 1 misses 5 and 5 (lost
# consumption: a dry tank starts the next period empty): weighted 10.
PRIORITY = """3 2 20 1
0 0 0 10 0 0.1
1 3 4 0 10 0 5 0.1
2 0 8 10 20 0 10 0.1
"""

# Plenty of stock; one vehicle of capacity 10. Both customers (I0 10, U 20, r 10) need 10 in
# period 2, which one vehicle cannot carry: the baseline (refill when needed) leaves customer 2
# 10 short; delivering one of them in period 1 keeps both at their floor.
FLEET = """3 2 10 1
0 0 0 100 0 0.1
1 3 4 10 20 0 10 0.1
2 0 8 10 20 0 10 0.1
"""

TINY = """3 2 10 1
0 0 0 20 5 0.5
1 3 4 5 10 0 5 1.0
2 0 8 2 6 0 2 0.1
"""


def _weighted(text: str, weights: list[float]) -> IrpInstance:
    return dataclasses.replace(
        parse_instance(text), priority_weights=np.array(weights, dtype=np.float64)
    )


def _missing(solution: IrpSolution) -> list[tuple[int, int, int, str]]:
    return [(s.period, s.customer, s.missing_units, s.reason) for s in solution.shortfalls]


def test_high_priority_customer_is_kept_whole_at_a_low_priority_ones_expense() -> None:
    instance = _weighted(PRIORITY, [0.0, 1.0, 10.0])
    baseline = solve_baseline(instance, time_limit_s=0.1, max_iterations=100)
    assert _missing(baseline) == [(2, 2, 10, "depot")]
    assert check_solution(instance, baseline).weighted_shortfall == pytest.approx(100.0)
    solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    assert _missing(solution) == [(1, 1, 5, "depot"), (2, 1, 5, "depot")]
    assert check.weighted_shortfall == pytest.approx(10.0)
    delivered = {s.customer: s.quantity_units for r in solution.routes for s in r.stops}
    assert delivered == {2: 10}


def test_equal_weights_share_the_depot_by_units_not_by_priority() -> None:
    """With equal weights a unit to customer 1 saves two periods' shortfall, one to 2 one."""
    instance = parse_instance(PRIORITY)
    solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    # 10 to customer 1 in period 1 (customer 2 misses 10) or 10 to customer 2 (customer 1
    # misses 5 and 5): 10 units either way, as the baseline; never worse than it.
    assert check.shortfall_units == pytest.approx(10.0)
    baseline = check_solution(instance, solve_baseline(instance, time_limit_s=0.1))
    assert check.score <= baseline.score


def test_search_removes_a_shortfall_the_baseline_leaves() -> None:
    instance = parse_instance(FLEET)
    baseline = solve_baseline(instance, time_limit_s=0.1, max_iterations=100)
    assert _missing(baseline) == [(2, 2, 10, "fleet")]
    solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    check = check_solution(instance, solution)
    assert check.feasible, check.violations
    assert solution.shortfalls == ()
    assert sorted((r.period, [s.customer for s in r.stops]) for r in solution.routes) in (
        [(1, [1]), (2, [2])],
        [(1, [2]), (2, [1])],
    )


def test_checker_scores_declared_shortfalls_by_weight() -> None:
    instance = _weighted(TINY, [0.0, 1.0, 4.0])
    # Period 2 delivers customer 1 only: customer 2 (I0 2, r 2) ends period 2 two units short.
    routes = {"routes": [{"period": 2, "vehicle": 1, "stops": [{"customer": 1, "quantity": 5}]}]}
    declared = dict(routes, shortfalls=[{"period": 2, "customer": 2, "missing": 2, "reason": "x"}])
    check = check_solution(instance, parse_solution(json.dumps(declared)))
    assert check.valid and not check.feasible
    assert check.shortfalls == ((2, 2, 2.0),)
    assert check.weighted_shortfall == pytest.approx(8.0)
    assert check.routing_cost == 10


@pytest.mark.parametrize(
    ("shortfalls", "message"),
    [
        # nothing declared: the usual violation
        ([], "period 2, customer 2: end level -2 is below the minimum level L = 0"),
        # declared more than the plan leaves short
        ([(2, 2, 3)], "declares a shortfall of 3 but leaves the tank 2 below"),
        # declared where the tank keeps its floor
        ([(2, 2, 2), (1, 1, 1)], "period 1, customer 1: the plan declares a shortfall of 1"),
        # a customer the instance does not have
        ([(2, 2, 2), (2, 9, 1)], "shortfall 1: period 2, customer 9 is not a customer-period"),
    ],
)
def test_checker_reports_shortfalls_that_do_not_match_the_plan(
    shortfalls: list[tuple[int, int, int]], message: str
) -> None:
    instance = parse_instance(TINY)
    solution = IrpSolution(
        parse_solution(
            '{"routes": [{"period": 2, "vehicle": 1, "stops": [{"customer": 1, "quantity": 5}]}]}'
        ).routes,
        tuple(IrpShortfall(p, c, m, "fleet") for p, c, m in shortfalls),
    )
    check = check_solution(instance, solution)
    assert not check.valid
    assert any(message in v for v in check.violations), check.violations


def test_a_dry_tank_starts_the_next_period_empty() -> None:
    """Follow a dry tank: what it cannot serve is lost, not owed.

    Three periods, no deliveries: customer 1 (I0 5, r 5, L 0) ends period 1 empty and misses 5
    in periods 2 and 3 (not 10 in period 3); customer 2 (I0 2, r 2) misses 2 and 2; holding
    charges the depot only (25, 30, 35 at 0.5).
    """
    instance = parse_instance(TINY.replace("3 2 10 1", "3 3 10 1"))
    missing = [(2, 1, 5), (2, 2, 2), (3, 1, 5), (3, 2, 2)]
    declared = IrpSolution((), tuple(IrpShortfall(p, c, m, "fleet") for p, c, m in missing))
    check = check_solution(instance, declared)
    assert check.valid, check.violations
    assert check.shortfalls == tuple((p, c, float(m)) for p, c, m in missing)
    assert check.holding_cost == pytest.approx(0.5 * (25 + 30 + 35))


def test_shortfalls_survive_the_json_round_trip() -> None:
    solution = IrpSolution((), (IrpShortfall(2, 1, 5, "fleet"),), {"solver": "thử nghiệm"})
    again = parse_solution(solution_to_json(solution))
    assert again.shortfalls == solution.shortfalls
    assert again.extras == {"solver": "thử nghiệm"}


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        # one weight short: the depot's position must be there too
        ([1.0, 1.0], "priority_weights: shape (2,) where (3,) is expected"),
        # a customer weighed 0 would let the solver drop it for free
        ([1.0, 1.0, 0.0], "priority_weights[2]: 0.0 must be a finite number above 0"),
        # not a number
        ([1.0, float("nan"), 1.0], "priority_weights[1]: nan must be a finite number"),
    ],
)
def test_instance_refuses_bad_priority_weights(weights: list[float], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _weighted(TINY, weights)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_moves_with_shortfalls_are_priced_exactly(data_dir: Path) -> None:
    """A depot producing a third of the demand: every move's two deltas are the state's changes."""
    path = data_dir / "irp-benchmarks" / "instances" / "S_abs1n10_2_L6.dat"
    full = parse_instance(path.read_text(encoding="utf-8"))
    production = full.demands_per_period_units.copy()
    production[0] = int(production[1:].sum()) // 3
    levels = full.initial_levels_units.copy()
    levels[0] = 0
    weights = np.linspace(1.0, 3.0, full.num_customers + 1)
    instance = dataclasses.replace(
        full,
        demands_per_period_units=production,
        initial_levels_units=levels,
        priority_weights=weights,
    )
    start = solve_baseline(instance, time_limit_s=0.1, seed=1, max_iterations=200)
    assert start.shortfalls
    base = check_solution(instance, start)
    assert base.valid, base.violations
    tried = 0
    for customer in range(1, instance.num_customers + 1):
        for move in _Search(instance, start, shortfalls=True).moves_of(customer)[:4]:
            state = _Search(instance, start, shortfalls=True)
            cost, short = state.total(), state.shortage()
            state.apply(move)
            assert state.total() - cost == pytest.approx(move.delta, abs=1e-6)
            assert state.shortage() - short == pytest.approx(move.short_delta, abs=1e-6)
            tried += 1
    assert tried >= 20
    solution = solve_irp(instance, IrpParams(time_limit_s=5.0, seed=0, max_iterations=10))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    assert check.score <= base.score
    assert {(p, c) for p, c, _ in check.shortfalls} == {
        (s.period, s.customer) for s in solution.shortfalls
    }


def test_same_seed_and_budget_give_the_same_plan_with_shortfalls(data_dir: Path) -> None:
    """With shortfalls allowed the search still counts iterations, not seconds."""
    path = data_dir / "irp-benchmarks" / "instances" / "S_abs2n15_3_L3.dat"
    full = parse_instance(path.read_text(encoding="utf-8"))
    production = full.demands_per_period_units.copy()
    production[0] = int(production[1:].sum()) // 2
    levels = full.initial_levels_units.copy()
    levels[0] = 0
    instance = dataclasses.replace(
        full, demands_per_period_units=production, initial_levels_units=levels
    )
    first = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=4, max_iterations=8))
    second = solve_irp(instance, IrpParams(time_limit_s=0.01, seed=4, max_iterations=8))
    assert first.extras["iterations"] == second.extras["iterations"] == 8
    assert first.routes == second.routes and first.shortfalls == second.shortfalls
    assert first.shortfalls and check_solution(instance, first).valid
