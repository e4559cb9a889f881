"""The schedule search's multi-visit moves and the iteration-budget (deterministic) mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routing.irp import (
    IrpParams,
    IrpSolution,
    check_solution,
    parse_instance,
    solve_baseline,
    solve_irp,
)
from routing.irp.instance import IrpInstance
from routing.irp.schedule_search import PatternMove, _Search


def _benchmark(data_dir: Path, name: str) -> IrpInstance:
    path = data_dir / "irp-benchmarks" / "instances" / f"{name}.dat"
    return parse_instance(path.read_text(encoding="utf-8"), name=name)


def _signature(solution: IrpSolution) -> list[tuple[int, int, list[tuple[int, float]]]]:
    return [
        (r.period, r.vehicle, [(s.customer, s.quantity_units) for s in r.stops])
        for r in sorted(solution.routes, key=lambda r: (r.period, r.vehicle))
    ]


def test_pattern_moves_are_priced_exactly_and_stay_feasible(data_dir: Path) -> None:
    """Every multi-visit move of the baseline of a 6-period instance: delta == cost change."""
    instance = _benchmark(data_dir, "S_abs1n10_2_L6")
    start = solve_baseline(instance, time_limit_s=0.1, seed=1, max_iterations=200)
    tried = 0
    for customer in range(1, instance.num_customers + 1):
        state = _Search(instance, start)
        moves = state.pattern_moves_of(customer)
        for move in moves[:3]:
            assert isinstance(move, PatternMove)
            assert len(move.drops) >= 2 or len(move.adds) >= 2
            state = _Search(instance, start)
            before = state.total()
            state.apply_pattern(move)
            assert state.total() - before == pytest.approx(move.delta, abs=1e-6)
            moved = state.to_solution()
            check = check_solution(instance, moved)
            assert check.violations == ()
            assert check.total_cost == pytest.approx(state.total(), abs=1e-6)
            tried += 1
    assert tried >= 5  # the instance offers such moves; a search that found none proves nothing


def test_same_seed_and_iteration_budget_give_the_same_plan(data_dir: Path) -> None:
    instance = _benchmark(data_dir, "S_abs2n15_3_L3")
    params = IrpParams(time_limit_s=1.0, seed=5, max_iterations=15)
    first = solve_irp(instance, params)
    # A tiny time limit must not matter: the search counts iterations, not seconds.
    second = solve_irp(instance, IrpParams(time_limit_s=0.01, seed=5, max_iterations=15))
    assert first.extras["iterations"] == second.extras["iterations"] == 15
    assert _signature(first) == _signature(second)
    check = check_solution(instance, first)
    assert check.violations == () and first.shortfalls == ()
    baseline = solve_baseline(instance, seed=5, max_iterations=200)
    assert check.total_cost < check_solution(instance, baseline).total_cost


def test_params_refuse_a_non_positive_iteration_budget() -> None:
    with pytest.raises(ValueError, match="max_iterations: 0 must be at least 1"):
        IrpParams(max_iterations=0)


def test_search_keeps_every_tank_within_its_bounds_on_a_random_start(data_dir: Path) -> None:
    """Pattern moves on a 3-period instance leave the state consistent with a rebuilt one."""
    instance = _benchmark(data_dir, "S_abs2n15_3_L3")
    start = solve_baseline(instance, time_limit_s=0.1, seed=2, max_iterations=200)
    state = _Search(instance, start)
    rng = np.random.default_rng(0)
    for customer in rng.permutation(np.arange(1, instance.num_customers + 1)):
        moves = state.pattern_moves_of(int(customer))
        if moves:
            state.apply_pattern(moves[int(rng.integers(len(moves)))])
    rebuilt = _Search(instance, state.to_solution())
    assert rebuilt.load == state.load and rebuilt.shipped == state.shipped
    assert rebuilt.travel == state.travel
    assert check_solution(instance, state.to_solution()).violations == ()


def test_equal_holding_costs_give_just_enough() -> None:
    """With one holding cost everywhere, stock moved to a tank costs nothing: ties go to less.

    Customer 1 (I0 5, r 5) and customer 2 (I0 2, r 2) run dry at the end of period 1; the
    one route 0-1-2-0 (18) in period 2 must bring 5 and 2. Filling them up (10 and 6, the
    baseline) costs the same, 42; the solver returns just enough.
    """
    text = """3 2 20 1
0 0 0 20 5 0.5
1 3 4 5 10 0 5 0.5
2 0 8 2 6 0 2 0.5
"""
    instance = parse_instance(text)
    full = solve_baseline(instance, time_limit_s=0.1, max_iterations=100)
    assert sorted(_signature(full)[0][2]) == [(1, 10), (2, 6)]  # the same cost, 42
    assert check_solution(instance, full).total_cost == pytest.approx(42.0)
    solution = solve_irp(instance, IrpParams(time_limit_s=1.0, seed=0))
    assert check_solution(instance, solution).violations == ()
    # Either direction of the route costs 18; the quantities are what is tested.
    assert [(p, v, sorted(stops)) for p, v, stops in _signature(solution)] == [
        (2, 1, [(1, 5), (2, 2)])
    ]
