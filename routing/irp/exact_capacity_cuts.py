"""Rounded capacity inequalities of the route MIP over sets of customers and windows of periods.

The route MIP's columns are customer sets; a route's load is a separate variable bounded by
``C y[r, t]``. Its LP relaxation therefore drives fractions of routes at full load: in
``S_abs2n5_3_L6`` two far customers (2 and 5) need 477 units over the horizon, 3.53 loads of
C = 135, and the LP drives exactly 3.53 routes through them, where whole routes need 4. For a
set A of customers and a window W of periods (``first..last``), what A must receive in W is at
least

    N(A, W) = sum_{i in A} max(0, |W| r_i + L_i - S_i),

with ``S_i`` the most customer i can hold before the window (I0 when W starts in period 1, else
``U_i - r_i``, the highest end-of-period level). A route brings at most C to A, so

    sum_{t in W} sum_{r meeting A} y[r, t]  >=  ceil(N(A, W) / C_A),

with ``C_A = min(C, sum_{i in A} max(U_i - L_i, U_i - I0_i))``, the most one visit can bring
to A (a tank takes at most that much at a visit). Valid for every plan: Laporte and Nobert's
rounded capacity inequalities, with the demand of a window. For one customer the route MIP's
visit-count cut is the same inequality, so only sets of two or more are separated. The
separation enumerates every set (n <= 12): per period, the y-weight of the routes avoiding A is
a subset sum over A's complement (a zeta transform over bitmasks, O(n 2^n)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from routing.irp.instance import IrpInstance

Row = tuple[list[tuple[int, float]], float, float]  # entries, low, high


def window_needs(instance: IrpInstance, first: int, last: int) -> npt.NDArray[np.int64]:
    """Return, per customer (position i; 0 for the depot), the least it must receive in W.

    W is periods ``first..last`` (0-based, inclusive).
    """
    periods = last - first + 1
    use = instance.demands_per_period_units.astype(np.int64)
    if first == 0:
        start = instance.initial_levels_units.astype(np.int64)
    else:
        start = instance.max_levels_units.astype(np.int64) - use
    need: npt.NDArray[np.int64] = np.maximum(
        periods * use + instance.min_levels_units.astype(np.int64) - start, 0
    ).astype(np.int64)
    need[0] = 0
    return need


def _subset_sums(values: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    """Return ``g[M] = sum of values[S] over S subset of M`` for every bitmask M."""
    g = values.copy()
    for j in range(n):
        bit = 1 << j
        masks = np.arange(1 << n)
        has = (masks & bit) != 0
        g[has] += g[masks[has] ^ bit]
    return g


def separate_capacity_cuts(
    instance: IrpInstance,
    routes: Sequence[tuple[int, ...]],
    y_position: Sequence[Sequence[int]],
    x: npt.NDArray[np.float64],
    *,
    most: int = 60,
    tolerance: float = 1e-4,
) -> list[Row]:
    """Return the most violated rounded capacity inequalities at the LP point ``x``.

    Parameters
    ----------
    routes
        The pool's customer sequences (customers 1..n).
    y_position
        ``y_position[t][r]``: the column of ``y[r, t]``.
    most
        At most this many rows are returned, the most violated first.
    """
    n = instance.num_customers
    full = (1 << n) - 1
    cap = instance.vehicle_capacity_units
    masks = np.array([sum(1 << (i - 1) for i in route) for route in routes], dtype=np.int64)
    periods = instance.num_periods
    avoiding = []  # per period: g[M] = y-weight of the routes inside M
    totals = []
    for t in range(periods):
        weights = np.zeros(1 << n)
        np.add.at(weights, masks, x[np.asarray(y_position[t], dtype=np.int64)])
        avoiding.append(_subset_sums(weights, n))
        totals.append(float(weights.sum()))
    every = np.arange(1 << n)
    several = np.array([bin(int(m)).count("1") >= 2 for m in every])
    bits = ((every[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int64)
    # What one route can bring to a set A: C, and at most what its tanks take in one visit.
    room = np.maximum(
        instance.max_levels_units - instance.min_levels_units,
        instance.max_levels_units - instance.initial_levels_units,
    )[1:].astype(np.int64)
    carried = np.maximum(np.minimum(bits @ np.minimum(room, cap), cap), 1)
    found: list[tuple[float, int, int, int, int]] = []
    for first in range(periods):
        meeting = np.zeros(1 << n)
        for last in range(first, periods):
            meeting += totals[last] - avoiding[last][full ^ every]
            need = window_needs(instance, first, last)[1:]
            required = -(-(bits @ need) // carried)
            short = required - meeting
            for mask in np.nonzero(several & (short > tolerance))[0]:
                found.append((float(short[mask]), first, last, int(mask), int(required[mask])))
    found.sort(reverse=True)
    rows: list[Row] = []
    for _, first, last, chosen, count in found[:most]:
        entries = [
            (y_position[t][r], 1.0)
            for t in range(first, last + 1)
            for r in range(len(routes))
            if masks[r] & chosen
        ]
        rows.append((entries, float(count), np.inf))
    return rows
