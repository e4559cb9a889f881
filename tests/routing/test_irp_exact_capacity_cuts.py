"""The exact route MIP's rounded capacity cuts, its incumbent cutoff and its MIP call (issue 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from routing.irp.baseline import solve_baseline
from routing.irp.checker import check_solution
from routing.irp.exact_capacity_cuts import separate_capacity_cuts, window_needs
from routing.irp.exact_milp import solve_lp, solve_mip
from routing.irp.instance import IrpInstance, parse_instance
from routing.irp.route_mip import (
    _add_lot_sizing_cuts,
    _bounds,
    _constraints,
    _Layout,
    _objective,
    all_subset_routes,
    mip_solution,
    solve_route_mip,
)

# Customer 1: I0 5, U 10, L 0, r 5; customer 2: I0 2, U 6, L 0, r 2; C = 10, K = 1, T = 2.
# Over both periods they need 5 + 2 = 7 units: at least one route must reach {1, 2}.
TINY = """3 2 10 1
0 0 0 20 5 0.5
1 3 4 5 10 0 5 1.0
2 0 8 2 6 0 2 0.1
"""


def _benchmark(data_dir: Path, name: str) -> IrpInstance:
    path = data_dir / "irp-benchmarks" / "instances" / f"{name}.dat"
    return parse_instance(path.read_text(encoding="utf-8"), name=name)


def _best_known(data_dir: Path, name: str) -> float:
    text = (data_dir / "irp-benchmarks" / "best_known.csv").read_text(encoding="utf-8")
    return float(dict(line.split(",") for line in text.split()[1:])[name])


def test_window_needs_count_what_the_tank_cannot_cover() -> None:
    instance = parse_instance(TINY)
    # Both periods from I0: 2 x 5 - 5 and 2 x 2 - 2.
    assert window_needs(instance, 0, 1).tolist() == [0, 5, 2]
    # Period 2 alone may start as full as U - r (5 and 4): nothing is certainly needed.
    assert window_needs(instance, 1, 1).tolist() == [0, 0, 0]


def _cut_point(y_value: float) -> tuple[list[tuple[int, ...]], list[list[int]], np.ndarray]:
    instance = parse_instance(TINY)
    routes = [route for route, _ in all_subset_routes(instance)]
    lay = _Layout(instance, routes)
    x = np.zeros(lay.size)
    both = next(r for r, route in enumerate(routes) if set(route) == {1, 2})
    x[lay.y(both, 1)] = y_value
    positions = [[lay.y(r, t) for r in range(len(routes))] for t in range(2)]
    return routes, positions, x


def test_half_a_route_through_both_customers_is_cut_off() -> None:
    routes, positions, x = _cut_point(0.5)
    rows = separate_capacity_cuts(parse_instance(TINY), routes, positions, x)
    assert len(rows) == 1
    entries, low, high = rows[0]
    # Every route meeting {1, 2} in either period, at least once in all.
    assert (low, high) == (1.0, np.inf)
    assert len(entries) == 2 * len(routes)
    assert sum(coefficient * x[col] for col, coefficient in entries) == 0.5


def test_a_whole_route_satisfies_every_capacity_cut() -> None:
    routes, positions, x = _cut_point(1.0)
    assert separate_capacity_cuts(parse_instance(TINY), routes, positions, x) == []


@pytest.mark.parametrize("name", ["S_abs1n5_2_H3", "S_abs3n5_5_L3", "S_abs4n5_3_H3"])
def test_cuts_keep_the_published_n5_optima(data_dir: Path, name: str) -> None:
    # The n = 5 best-known values are proven optima: a cut that removed an optimum would prove a
    # higher value, one that did nothing would still pass, so the LP bound is checked below.
    instance = _benchmark(data_dir, name)
    result = solve_route_mip(instance, all_subset_routes(instance), time_limit_s=60)
    assert result is not None and result.proven_optimal
    check = check_solution(instance, mip_solution(result))
    assert check.violations == ()
    assert check.total_cost == pytest.approx(_best_known(data_dir, name), abs=0.01)


def test_capacity_cuts_raise_the_lp_bound_of_s_abs2n5_3_l6(data_dir: Path) -> None:
    # Measured: 3842.4 with the (l, S) cuts alone, 3911.3 with the capacity cuts (optimum 4184.40).
    from scipy.optimize import Bounds

    instance = _benchmark(data_dir, "S_abs2n5_3_L6")
    pool = all_subset_routes(instance)
    routes = [route for route, _ in pool]
    lay = _Layout(instance, routes)
    system = _constraints(instance, routes, lay, lean=True)
    objective = _objective(instance, pool, lay)
    low, high = _bounds(instance, lay, None)
    values = []
    for with_capacity in ((), routes):
        cut = _add_lot_sizing_cuts(
            instance, lay, system, objective, Bounds(low, high), 1e12, routes=with_capacity
        )
        x = solve_lp(objective, cut, (low, high), 60)
        assert x is not None
        values.append(float(objective @ x))
    assert values[0] == pytest.approx(3842.42, abs=0.1)
    assert values[1] > values[0] + 60
    assert values[1] <= _best_known(data_dir, "S_abs2n5_3_L6")


def test_an_incumbent_is_a_cutoff_the_answer_never_passes(data_dir: Path) -> None:
    instance = _benchmark(data_dir, "S_abs1n5_2_H3")
    plan = solve_baseline(instance, time_limit_s=0.2, seed=0, max_iterations=200)
    cost = check_solution(instance, plan).total_cost
    assert cost > _best_known(data_dir, "S_abs1n5_2_H3") + 1  # the baseline is not optimal
    result = solve_route_mip(instance, all_subset_routes(instance), time_limit_s=60, incumbent=plan)
    assert result is not None and result.proven_optimal
    assert result.objective == pytest.approx(_best_known(data_dir, "S_abs1n5_2_H3"), abs=0.01)


def test_solve_mip_finds_the_optimum_and_reports_an_empty_cutoff() -> None:
    # max 5 a + 4 b + 3 c, 2 a + 3 b + c <= 5, binary: a = b = 1 (9; a = c = 1 gives 8).
    objective = np.array([-5.0, -4.0, -3.0])
    system = (sp.csr_matrix([[2.0, 3.0, 1.0]]), np.array([-np.inf]), np.array([5.0]))
    bounds = (np.zeros(3), np.ones(3))
    answer = solve_mip(objective, system, bounds, np.ones(3), time_limit_s=10)
    assert answer.optimal and answer.x is not None
    assert answer.x.round().tolist() == [1.0, 1.0, 0.0]
    assert answer.objective == pytest.approx(-9.0)
    nothing = solve_mip(objective, system, bounds, np.ones(3), time_limit_s=10, cutoff=-10.0)
    assert nothing.optimal and nothing.x is None
