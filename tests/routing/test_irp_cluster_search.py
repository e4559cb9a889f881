"""The regional regrouping step of large IRP instances (routing/irp/cluster_search.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from routing.irp import (
    IrpRoute,
    IrpSolution,
    IrpStop,
    check_solution,
    parse_instance,
    solve_baseline,
)
from routing.irp.cluster_search import (
    VisitPattern,
    best_split,
    fewest_visit_patterns,
    phase_templates,
    regroup_by_region,
    split_by_line,
)
from routing.irp.instance import IrpInstance

WEST = (1, 2, 3, 4)
EAST = (5, 6, 7, 8)
ODD, EVEN = 0b0101, 0b1010  # visits in periods 1 and 3, or 2 and 4
_TOWN_WEST_XY = [(0, 100), (0, 110), (10, 100), (10, 110)]
_TOWN_EAST_XY = [(200, 100), (200, 110), (210, 100), (210, 110)]


@pytest.fixture(scope="module")
def two_towns() -> IrpInstance:
    """Return two towns of four tanks, 200 apart, the depot between them 100 below.

    Four periods; every tank holds two periods of consumption (r = 10, U = 20, L = 0) and starts
    with one (I0 = 10), so it needs exactly two visits: (1, 3), (2, 3) or (2, 4). One vehicle
    (C = 100) carries a whole town's load. Best plan: one town visited in periods 1 and 3, the
    other in 2 and 4, one short route per period (about 2 x 142 + 30 = 314, 1,256 in all);
    the interleaved plan (half of each town each period) crosses both towns every period.
    The schedule search alone also regroups this small case; the split is checked on its own.
    """
    lines = [
        "9 4 100 2",
        "0 105 0 1000 80 0.01",
        *(
            f"{i} {x} {y} 10 20 0 10 0.01"
            for i, (x, y) in enumerate(
                [*_TOWN_WEST_XY, *_TOWN_EAST_XY],
                start=1,
            )
        ),
    ]
    return parse_instance("\n".join(lines), name="two_towns")


def _plan(phases: dict[int, int]) -> IrpSolution:
    """Return one route per period through the tanks visited then, just-enough quantities."""
    quantities = {ODD: (10, 0, 20, 0), EVEN: (0, 20, 0, 10)}
    routes = []
    for t in range(4):
        stops = tuple(
            IrpStop(c, quantities[mask][t]) for c, mask in sorted(phases.items()) if mask >> t & 1
        )
        routes.append(IrpRoute(t + 1, 1, stops))
    return IrpSolution(tuple(routes))


def _interleaved() -> IrpSolution:
    return _plan({c: ODD if c % 2 else EVEN for c in (*WEST, *EAST)})


def _towns_per_period(solution: IrpSolution) -> list[set[str]]:
    towns: list[set[str]] = [set() for _ in range(4)]
    for route in solution.routes:
        for stop in route.stops:
            towns[route.period - 1].add("west" if stop.customer in WEST else "east")
    return towns


def test_fewest_visit_patterns_are_the_just_enough_plans(two_towns: IrpInstance) -> None:
    patterns = fewest_visit_patterns(two_towns, 1)
    found = {p.periods_mask: p.quantities_units for p in patterns}
    # (1, 3): 10 tops the tank up in period 1, 20 in period 3 carries it to the end at 0;
    # (2, 3): 10 carries it through period 2 only, just enough, then 20 in period 3.
    assert found == {ODD: (10, 0, 20, 0), 0b0110: (0, 10, 20, 0), EVEN: (0, 20, 0, 10)}
    assert [p.holding for p in patterns] == sorted(p.holding for p in patterns)


def test_phase_templates_are_disjoint_and_cover_the_horizon(two_towns: IrpInstance) -> None:
    patterns = [fewest_visit_patterns(two_towns, i) for i in range(1, 9)]
    assert set(phase_templates(patterns) or ()) == {ODD, EVEN}
    # A single pattern per customer has no disjoint partner.
    lone = [[VisitPattern(0b0011, (10, 10, 0, 0), 0.0)]]
    assert phase_templates(lone) is None


def test_a_vertical_line_gives_each_town_one_phase(two_towns: IrpInstance) -> None:
    patterns = [[], *(fewest_visit_patterns(two_towns, i) for i in range(1, 9))]
    chosen = split_by_line(two_towns, patterns, (ODD, EVEN), 0.0)  # sorted by x: west first
    assert {chosen[c].periods_mask for c in WEST} == {ODD}
    assert {chosen[c].periods_mask for c in EAST} == {EVEN}


def test_the_step_regroups_the_towns_and_lowers_the_cost(two_towns: IrpInstance) -> None:
    start = _interleaved()
    start_check = check_solution(two_towns, start)
    assert start_check.violations == ()
    assert all(towns == {"west", "east"} for towns in _towns_per_period(start))

    split = best_split(two_towns, seed=0)
    assert split is not None
    assert all(len(towns) == 1 for towns in _towns_per_period(split[0]))
    assert split[1] == pytest.approx(check_solution(two_towns, split[0]).total_cost)

    result = regroup_by_region(two_towns, start, time_limit_s=5.0, seed=0, max_iterations=5)
    check = check_solution(two_towns, result)
    assert check.violations == ()
    assert all(len(towns) == 1 for towns in _towns_per_period(result))
    # Crossing both towns costs about 2 x 142 + 200 + 30 a period; one town about 314.
    assert check.routing_cost <= 1_300 < start_check.routing_cost - 600
    assert result.extras["solver"] == "regroup+schedule-ils"


@pytest.mark.parametrize("phases", ["regrouped", "interleaved"])
def test_the_step_never_returns_a_worse_or_infeasible_plan(
    two_towns: IrpInstance, phases: str
) -> None:
    start = (
        _plan({**dict.fromkeys(WEST, ODD), **dict.fromkeys(EAST, EVEN)})
        if phases == "regrouped"
        else _interleaved()
    )
    before = check_solution(two_towns, start)
    assert before.violations == ()
    result = regroup_by_region(two_towns, start, time_limit_s=5.0, seed=3, max_iterations=3)
    after = check_solution(two_towns, result)
    assert after.violations == ()
    assert after.total_cost <= before.total_cost + 1e-6


def test_same_seed_and_budget_give_the_same_plan(two_towns: IrpInstance) -> None:
    runs = [
        regroup_by_region(two_towns, _interleaved(), time_limit_s=5.0, seed=7, max_iterations=4)
        for _ in range(2)
    ]
    assert runs[0].routes == runs[1].routes


def test_on_a_benchmark_instance_the_best_split_beats_the_baseline(data_dir: Path) -> None:
    """``L_abs1n50_3_H`` (50 customers, 6 periods): the baseline is 14.5 % above the best known.

    The split measured 3.2 % (30,863 against 34,241 and a best known 29,908.52); asserted with
    room for PyVRP's seed: at least 8 % below the baseline, within 6 % of the best known.
    """
    name = "L_abs1n50_3_H"
    path = data_dir / "irp-benchmarks" / "instances" / f"{name}.dat"
    instance = parse_instance(path.read_text(encoding="utf-8"), name=name)
    baseline = solve_baseline(instance, time_limit_s=1.0, seed=0, max_iterations=300)
    base_check = check_solution(instance, baseline)
    assert base_check.violations == ()
    split = best_split(instance, seed=0)
    assert split is not None
    check = check_solution(instance, split[0])
    assert check.violations == ()
    assert check.total_cost == pytest.approx(split[1])
    assert check.total_cost <= 0.92 * base_check.total_cost
    assert check.total_cost <= 1.06 * 29_908.52


def test_a_mixed_fleet_split_keeps_each_route_within_its_vehicle(two_towns: IrpInstance) -> None:
    """Vehicle 1 carries 40, vehicle 2 carries 100: a town's 80 in period 3 fits vehicle 2 only."""
    mixed = replace(two_towns, vehicle_capacities_units=np.array([40, 100], dtype=np.int64))
    split = best_split(mixed, seed=0)
    assert split is not None
    assert check_solution(mixed, split[0]).violations == ()
    heavy = [r for r in split[0].routes if r.load_units > 40]
    assert heavy
    assert {r.vehicle for r in heavy} == {2}
