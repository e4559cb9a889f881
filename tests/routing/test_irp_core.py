"""Inventory routing: the instance reader, the solution JSON, the checker, the exact MIP, the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.errors import InvalidInputError
from routing.irp.baseline import solve_baseline
from routing.irp.checker import check_solution
from routing.irp.instance import IrpInstance, parse_instance
from routing.irp.route_mip import all_subset_routes, mip_solution, solve_route_mip
from routing.irp.solution import IrpSolution, parse_solution, solution_to_json

# Two customers, two periods, one vehicle of capacity 10 (d(0,1) = 5, d(0,2) = 8, d(1,2) = 5).
# Customer 1 (I0 5, U 10, r 5) and customer 2 (I0 2, U 6, r 2) both run empty at the end of period
# 1 and need 5 and 2 in period 2. The feasible plan FEASIBLE drives 0-1-2-0 (18) in period 2;
# holding: depot 25 x 0.5 then 23 x 0.5, customers end both periods at 0: total 18 + 24 = 42.
TINY = """3 2 10 1
0 0 0 20 5 0.5
1 3 4 5 10 0 5 1.0
2 0 8 2 6 0 2 0.1
"""
FEASIBLE = '{"routes": [{"period": 2, "vehicle": 1, "stops": [{"customer": 1, "quantity": 5}, {"customer": 2, "quantity": 2}]}]}'


def _benchmark(data_dir: Path, name: str) -> IrpInstance:
    path = data_dir / "irp-benchmarks" / "instances" / f"{name}.dat"
    return parse_instance(path.read_text(encoding="utf-8"), name=name)


def _best_known(data_dir: Path, name: str) -> float:
    text = (data_dir / "irp-benchmarks" / "best_known.csv").read_text(encoding="utf-8")
    values = dict(line.split(",") for line in text.split()[1:])
    return float(values[name])


def _routes(*routes: tuple[int, int, list[tuple[int, float]]]) -> IrpSolution:
    stops = [
        {"period": p, "vehicle": v, "stops": [{"customer": c, "quantity": q} for c, q in s]}
        for p, v, s in routes
    ]
    import json

    return parse_solution(json.dumps({"routes": stops}))


def test_reader_keeps_the_data_and_rounds_distances() -> None:
    instance = parse_instance(TINY, name="tiny")
    assert (instance.num_customers, instance.num_periods) == (2, 2)
    assert instance.vehicle_capacity_units == 10 and instance.depot_production_units == 5
    assert instance.distances.tolist() == [[0, 5, 8], [5, 0, 5], [8, 5, 0]]


def test_checker_accepts_and_prices_the_feasible_plan() -> None:
    check = check_solution(parse_instance(TINY), parse_solution(FEASIBLE))
    assert check.violations == ()
    assert check.routing_cost == 18
    assert check.total_cost == pytest.approx(42.0)


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        # load 9 + 2 = 11 on a vehicle of capacity 10 (levels stay within bounds)
        ([(2, 1, [(1, 9), (2, 2)])], "load 11 exceeds the vehicle capacity 10"),
        # customer 1 twice in period 2 on the same route (load 7, levels fine)
        ([(2, 1, [(1, 3), (2, 2), (1, 2)])], "customer 1 is visited more than once in period 2"),
        # 6 units on top of 5 in period 1: 11 above U = 10
        ([(1, 1, [(1, 6)]), (2, 1, [(2, 2)])], "level after delivery 11 exceeds the maximum"),
        # customer 2 gets nothing: ends period 2 at -2
        ([(2, 1, [(1, 5)])], "period 2, customer 2: end level -2 is below the minimum level"),
        # half a unit
        ([(2, 1, [(1, 5.5), (2, 2)])], "quantity 5.5 for customer 1 is not a non-negative whole"),
        # a second vehicle on a one-vehicle instance
        ([(2, 2, [(1, 5), (2, 2)])], "vehicle 2 is outside 1..1"),
        # a third period on a two-period instance
        ([(3, 1, [(1, 5)])], "period 3 is outside 1..2"),
        # a customer the instance does not have
        ([(2, 1, [(1, 5), (2, 2), (7, 1)])], "customer 7 is outside 1..2"),
    ],
)
def test_checker_reports_each_violation(
    routes: list[tuple[int, int, list[tuple[int, float]]]], message: str
) -> None:
    check = check_solution(parse_instance(TINY), _routes(*routes))
    assert not check.feasible
    assert any(message in v for v in check.violations), check.violations


def test_checker_reports_the_depot_running_short() -> None:
    # Depot stock 0 and production 1: shipping 7 in period 2 leaves 0 + 1 + 1 - 7 = -5.
    short = parse_instance(TINY.replace("0 0 0 20 5 0.5", "0 0 0 0 1 0.5"))
    check = check_solution(short, parse_solution(FEASIBLE))
    assert check.violations == (
        "period 2, depot: end level -5 is negative (shipped 7 with production 1)",
    )


def test_checker_refuses_two_routes_of_one_vehicle_in_a_period() -> None:
    check = check_solution(parse_instance(TINY), _routes((2, 1, [(1, 5)]), (2, 1, [(2, 2)])))
    assert any("already has a route in this period" in v for v in check.violations)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a tank smaller than its floor
        (TINY.replace("1 3 4 5 10 0 5 1.0", "1 3 4 5 10 12 5 1.0"), "line 3, field U: maximum"),
        # negative consumption
        (TINY.replace("1 3 4 5 10 0 5 1.0", "1 3 4 5 10 0 -5 1.0"), "line 3, field r: -5 is neg"),
        # a customer line with a missing value
        (TINY.replace("2 0 8 2 6 0 2 0.1", "2 0 8 2 6 0 2"), "line 4: 7 value(s) where 8"),
        # text where a number is expected
        (TINY.replace("3 2 10 1", "3 2 ten 1"), "line 1, field C: 'ten' is not a number"),
        # a fractional level
        (TINY.replace("1 3 4 5 10", "1 3 4 5.5 10"), "line 3, field I0: '5.5' must be a whole"),
        # an initial level above the maximum
        (TINY.replace("2 0 8 2 6 0 2 0.1", "2 0 8 9 6 0 2 0.1"), "line 4, field I0: initial"),
        # consumption that no level between L and U covers
        (TINY.replace("2 0 8 2 6 0 2 0.1", "2 0 8 2 6 5 2 0.1"), "line 4, field r: consumption"),
        # V announces more vertices than follow
        (TINY.replace("3 2 10 1", "4 2 10 1"), "line 1, field V: 4 vertices announced"),
        # customers out of order
        (TINY.replace("2 0 8 2 6 0 2 0.1", "5 0 8 2 6 0 2 0.1"), "line 4, field id: 5 where 2"),
    ],
)
def test_reader_names_line_field_and_value(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=r"invalid instance") as caught:
        parse_instance(text)
    assert any(message in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ('{"plan": []}', 'expected an object with a "routes" list'),
        ('{"routes": [{"period": 1, "vehicle": 1}]}', "routes[0].stops: expected a list"),
        ('{"routes": [{"period": 0, "vehicle": 1, "stops": []}]}', "routes[0].period: 0 is below"),
        (
            '{"routes": [{"period": 1, "vehicle": 1, "stops": [{"customer": "a", "quantity": 1}]}]}',
            "routes[0].stops[0].customer: 'a' is not a number",
        ),
    ],
)
def test_solution_reader_names_the_path(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_solution(text)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_solution_json_round_trip_keeps_order_and_extras() -> None:
    solution = parse_solution(FEASIBLE.replace('{"routes"', '{"solver": "tay tay", "routes"'))
    again = parse_solution(solution_to_json(solution))
    assert again.routes == solution.routes
    assert again.extras == {"solver": "tay tay"}


def test_exact_mip_reproduces_the_published_n5_optimum(data_dir: Path) -> None:
    """S_abs1n5_2_H3 (5 customers, 3 periods, 2 vehicles): proven optimum = best known 2027.75."""
    instance = _benchmark(data_dir, "S_abs1n5_2_H3")
    result = solve_route_mip(instance, all_subset_routes(instance), time_limit_s=60)
    assert result is not None and result.proven_optimal
    check = check_solution(instance, mip_solution(result))
    assert check.violations == ()
    assert check.total_cost == pytest.approx(_best_known(data_dir, "S_abs1n5_2_H3"), abs=0.01)


def test_held_karp_tours_are_optimal_on_the_tiny_instance() -> None:
    # Both directions of 0-1-2-0 cost 5 + 5 + 8 = 18; the DP returns one of them.
    routes = {frozenset(route): cost for route, cost in all_subset_routes(parse_instance(TINY))}
    assert routes == {frozenset({1}): 10, frozenset({2}): 16, frozenset({1, 2}): 18}


@pytest.mark.parametrize("name", ["S_abs1n10_2_L6", "S_abs3n30_3_H6"])
def test_baseline_is_feasible_on_benchmark_instances(data_dir: Path, name: str) -> None:
    instance = _benchmark(data_dir, name)
    solution = solve_baseline(instance, time_limit_s=0.1, seed=1)
    assert solution.shortfalls == ()
    assert check_solution(instance, solution).violations == ()


def test_baseline_lists_shortfalls_when_the_depot_runs_dry() -> None:
    # No stock and no production: both customers miss what they need in period 2.
    dry = parse_instance(TINY.replace("0 0 0 20 5 0.5", "0 0 0 0 0 0.5"))
    solution = solve_baseline(dry, time_limit_s=0.1)
    assert [(s.period, s.customer, s.missing_units, s.reason) for s in solution.shortfalls] == [
        (2, 1, 5, "depot"),
        (2, 2, 2, "depot"),
    ]
    assert solution.routes == ()
