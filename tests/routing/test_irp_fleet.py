"""Inventory routing with vehicles of different capacities (``vehicle_capacities_units``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

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

# One period, a vehicle of 30 and one of 10 (C = 30 in the file). Customers need 22, 8 and 6
# (I0 0, U = r, L 0): 36 in all. With two vehicles of 30 any split fits; here the 22 must ride
# the large vehicle with one of the others, the other alone on the small one.
MIXED = """4 1 30 2
0 0 0 100 0 0.1
1 10 0 0 22 0 22 0.1
2 0 10 0 8 0 8 0.1
3 -10 0 0 6 0 6 0.1
"""


def _mixed(capacities: list[int]) -> IrpInstance:
    return dataclasses.replace(
        parse_instance(MIXED), vehicle_capacities_units=np.array(capacities, dtype=np.int64)
    )


def _loads_fit(instance: IrpInstance, solution: IrpSolution) -> bool:
    return all(r.load_units <= instance.vehicle_capacity(r.vehicle) for r in solution.routes)


def test_checker_holds_each_vehicle_to_its_own_capacity() -> None:
    instance = _mixed([30, 10])
    large = IrpRoute(1, 1, (IrpStop(1, 22), IrpStop(3, 6)))
    check = check_solution(instance, IrpSolution((large, IrpRoute(1, 2, (IrpStop(2, 8),)))))
    assert check.feasible, check.violations
    # The same loads with the vehicles swapped: 28 on the vehicle of 10.
    swapped = (IrpRoute(1, 2, large.stops), IrpRoute(1, 1, (IrpStop(2, 8),)))
    check = check_solution(instance, IrpSolution(swapped))
    assert any("load 28 exceeds the vehicle capacity 10" in v for v in check.violations)


@pytest.mark.parametrize("solve", ["baseline", "irp"])
def test_plans_fit_a_mixed_fleet(solve: str) -> None:
    instance = _mixed([30, 10])
    if solve == "baseline":
        solution = solve_baseline(instance, time_limit_s=0.1, max_iterations=200)
    else:
        solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    check = check_solution(instance, solution)
    assert check.feasible, check.violations
    assert _loads_fit(instance, solution)
    small = [r for r in solution.routes if r.vehicle == 2]
    assert len(small) == 1 and small[0].load_units in (6, 8)


def test_a_fleet_too_small_for_the_loads_declares_the_shortfall() -> None:
    """Vehicles of 22 and 10 cannot carry 22 + 8 + 6 = 36 in one period: 4 units short."""
    instance = _mixed([22, 10])
    solution = solve_irp(instance, IrpParams(time_limit_s=2.0, seed=0, max_iterations=20))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    assert _loads_fit(instance, solution)
    assert check.shortfall_units == pytest.approx(4.0)
    assert solution.extras["mip"] == "skipped: shortfalls"


@pytest.mark.parametrize(
    ("capacities", "message"),
    [
        # one capacity for two vehicles
        ([30], "vehicle_capacities_units: shape (1,) where (2,) is expected"),
        # an empty vehicle
        ([30, 0], "vehicle_capacities_units[1]: 0 for vehicle 2 must be a whole number"),
        # half a unit
        ([30, 9.5], "vehicle_capacities_units[1]: 9.5 for vehicle 2 must be a whole number"),
    ],
)
def test_instance_refuses_bad_capacities(capacities: list[float], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        dataclasses.replace(parse_instance(MIXED), vehicle_capacities_units=np.array(capacities))
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_search_moves_respect_each_capacity_on_a_benchmark(data_dir: Path) -> None:
    """S_abs1n10_2_L6 with its second vehicle at half size: moves priced exactly, loads fit."""
    path = data_dir / "irp-benchmarks" / "instances" / "S_abs1n10_2_L6.dat"
    full = parse_instance(path.read_text(encoding="utf-8"))
    capacity = full.vehicle_capacity_units
    instance = dataclasses.replace(
        full, vehicle_capacities_units=np.array([capacity, capacity // 2], dtype=np.int64)
    )
    assert instance.mixed_fleet and instance.largest_capacity_units == capacity
    start = solve_baseline(instance, time_limit_s=0.1, seed=1, max_iterations=200)
    assert check_solution(instance, start).valid and _loads_fit(instance, start)
    shortfalls = bool(start.shortfalls)
    tried = 0
    for customer in range(1, instance.num_customers + 1):
        for move in _Search(instance, start, shortfalls=shortfalls).moves_of(customer)[:4]:
            state = _Search(instance, start, shortfalls=shortfalls)
            cost = state.total()
            state.apply(move)
            assert state.total() - cost == pytest.approx(move.delta, abs=1e-6)
            moved = state.to_solution()
            assert _loads_fit(instance, moved)
            tried += 1
    assert tried >= 20
    solution = solve_irp(instance, IrpParams(time_limit_s=5.0, seed=0, max_iterations=10))
    check = check_solution(instance, solution)
    assert check.valid, check.violations
    assert _loads_fit(instance, solution)
    assert check.score <= check_solution(instance, start).score
