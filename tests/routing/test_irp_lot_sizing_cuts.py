"""The (l, S) lot-sizing inequalities of the route MIP: found when violated, never cut an optimum."""

from __future__ import annotations

import numpy as np

from routing.irp.instance import parse_instance
from routing.irp.lot_sizing_cuts import separate_lot_sizing
from routing.irp.route_mip import _Layout, all_subset_routes

# Customer 1: I0 5, U 10, L 0, r 5 (d(0,1) = 5); customer 2: I0 2, U 6, L 0, r 2; C = 10, K = 1.
TINY = """3 2 10 1
0 0 0 20 5 0.5
1 3 4 5 10 0 5 1.0
2 0 8 2 6 0 2 0.1
"""


def _point(half_visit: bool) -> tuple[_Layout, np.ndarray, dict[int, list[int]]]:
    """Return an LP point: customer 1 gets 5 units in period 2 by route (1,), y = 1 or 0.5."""
    instance = parse_instance(TINY)
    routes = [route for route, _ in all_subset_routes(instance)]
    lay = _Layout(instance, routes)
    x = np.zeros(lay.size)
    single = routes.index((1,))
    member = lay.members.index((single, 1))
    x[lay.y(single, 1)] = 0.5 if half_visit else 1.0
    x[lay.q(member, 1)] = 5.0
    # Levels: customer 1 ends period 1 at 0 and period 2 at 0 + 5 - 5 = 0.
    x[lay.level(1, 0)] = 0.0
    x[lay.level(1, 1)] = 0.0
    by_customer: dict[int, list[int]] = {}
    for m, (_, i) in enumerate(lay.members):
        by_customer.setdefault(i, []).append(m)
    return lay, x, by_customer


def test_a_half_visit_carrying_a_full_period_is_cut_off() -> None:
    # q_2 = 5 > D(2, 2) z_2 = 5 x 0.5, and the end level 0 leaves no room: 5 - 2.5 > 0 - 0.
    lay, x, by_customer = _point(half_visit=True)
    rows = separate_lot_sizing(parse_instance(TINY), lay, by_customer, x)
    assert len(rows) == 1
    entries, low, high = rows[0]
    assert (low, high) == (-np.inf, 0.0)
    value = sum(coefficient * x[col] for col, coefficient in entries)
    assert value == 2.5  # the violation: 2.5 above the bound 0


def test_an_integral_visit_satisfies_every_inequality() -> None:
    lay, x, by_customer = _point(half_visit=False)
    assert separate_lot_sizing(parse_instance(TINY), lay, by_customer, x) == []


def test_a_route_that_leaves_nothing_does_not_hide_a_half_visit() -> None:
    # Period 2: route (1,) at 0.5 leaves 5, route (1, 2) at 0.5 leaves customer 1 nothing. The
    # routes through customer 1 sum to a whole visit (z = 1, so 5 <= 5 z holds), but the route
    # carrying the 5 units runs at 0.5: per route, 5 - 5 x 0.5 = 2.5 above the end level 0.
    lay, x, by_customer = _point(half_visit=True)
    instance = parse_instance(TINY)
    routes = [route for route, _ in all_subset_routes(instance)]
    both = next(r for r, route in enumerate(routes) if set(route) == {1, 2})
    x[lay.y(both, 1)] = 0.5
    rows = separate_lot_sizing(instance, lay, by_customer, x)
    assert len(rows) == 1
    entries, _, high = rows[0]
    assert sum(coefficient * x[col] for col, coefficient in entries) - high == 2.5
