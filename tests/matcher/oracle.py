"""The independent reference LP of the allocation (scipy ``linprog``, HiGHS).

Built from the documented model directly from the arrays, not from the networks the solver builds:
one variable per usable supplier-facility-product-day and per facility-day of unmet demand (and,
with carry-over, the use and the stock of each facility-product-day), in the same integer units
(demand rounded up, capacities and limits down to the quantity resolution). The costs are those
of :mod:`matcher.objective`, the one definition of the objective. The tests and
``benchmarks/bench_allocation.py`` compare the solver's objective with this LP's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from data.schema.allocation import AllocationOptions
from matcher.objective import (
    CARRY_COST_PER_DAY,
    days_per_network,
    largest_usable_travel_s,
    penalty_unit,
    transport_cost,
    unmet_cost,
)


@dataclass(frozen=True)
class _Quanta:
    """The instance in integer units (as floats), what is usable, and the penalty unit."""

    travel: npt.NDArray[np.int64]  # (S, F)
    capacity: npt.NDArray[np.float64]  # (S, P, D)
    demand: npt.NDArray[np.float64]  # (F, D)
    limits: npt.NDArray[np.float64]  # (F, P), inf where none
    weight: npt.NDArray[np.int64]  # (F,)
    usable: npt.NDArray[np.bool_]  # (S, F, P)
    penalty_unit: int


def _quanta(instance: dict[str, Any], options: AllocationOptions) -> _Quanta:
    """Scale the instance's arrays to quanta and find the usable arcs, as documented."""
    resolution = options.quantity_resolution_m3
    travel = np.asarray(instance["travel_time_s"], np.int64)
    capacity = np.floor(np.asarray(instance["capacity_m3"]) / resolution + 1e-9)
    demand = np.ceil(np.asarray(instance["demand_m3"]) / resolution - 1e-9)
    n_s, n_p, n_d = capacity.shape
    n_f = demand.shape[0]
    accepted = np.asarray(instance.get("accepted", np.ones((n_f, n_p), bool)), bool)
    limits_m3 = np.asarray(instance.get("receiving_limit_m3", np.full((n_f, n_p), np.inf)))
    limits = np.where(
        np.isinf(limits_m3), np.inf, np.floor(np.minimum(limits_m3, 1e15) / resolution + 1e-9)
    )
    weight = np.asarray(instance.get("priority", np.ones(n_f, np.int64)), np.int64)
    usable = accepted[None] & (capacity.sum(axis=2) > 0)[:, None, :] & (travel != -1)[:, :, None]
    if options.max_delivery_time_s is not None:
        usable &= (travel <= options.max_delivery_time_s)[:, :, None]
    unit = penalty_unit(
        n_suppliers=n_s,
        n_products=n_p,
        days_per_network=days_per_network(n_d, carry_over=options.carry_over),
        max_travel_s=largest_usable_travel_s(travel, usable),
    )
    return _Quanta(travel, capacity, demand, limits, weight, usable, unit)


def reference_lp_objective(
    instance: dict[str, Any], options: AllocationOptions
) -> tuple[float, int, float]:
    """Solve the documented model as one LP with scipy's HiGHS; return (objective, variables, s).

    Same model and integer units as the documented network (demand rounded up, capacities and
    limits down to the quantity resolution; costs of :mod:`matcher.objective`: penalty per
    quantum = priority x ``(S*P*B + 1) * (max usable travel_s + B + 1) + 1`` with B = 1 day per
    network, or D with carry-over), built directly from the arrays.
    """
    started = time.perf_counter()
    q = _quanta(instance, options)
    n_s, n_p, n_d = q.capacity.shape
    n_f = q.demand.shape[0]
    # Variables: x[s,f,p,d] for usable arcs with capacity that day, then unmet[f,d], then (with
    # carry-over) use[f,p,d] and stock[f,p,d] (held overnight from d to d+1).
    s_i, f_i, p_i, d_i = np.nonzero(q.usable[:, :, :, None] & (q.capacity[:, None, :, :] > 0))
    n_x = len(s_i)
    n_u = n_f * n_d
    costs = [
        transport_cost(q.travel[s_i, f_i]).astype(float),
        np.repeat(unmet_cost(q.weight, q.penalty_unit), n_d).astype(float),
    ]
    upper = [np.full(n_x, np.inf), np.full(n_u, np.inf)]
    receive_row = (f_i * n_p + p_i) * n_d + d_i
    # Supplier capacity per (s, p, d), then the receiving limit per (f, p, d).
    rows_ub = sp.vstack(
        [
            sp.coo_matrix(
                (np.ones(n_x), ((s_i * n_p + p_i) * n_d + d_i, np.arange(n_x))),
                shape=(n_s * n_p * n_d, n_x),
            ),
            sp.coo_matrix(
                (np.ones(n_x), (receive_row, np.arange(n_x))), shape=(n_f * n_p * n_d, n_x)
            ),
        ]
    )
    b_ub = np.concatenate(
        [q.capacity.ravel(), np.repeat(np.where(np.isinf(q.limits), 1e18, q.limits).ravel(), n_d)]
    )
    if not options.carry_over:
        a_ub = sp.hstack([rows_ub, sp.coo_matrix((len(b_ub), n_u))])
        a_eq = sp.hstack(
            [
                sp.coo_matrix((np.ones(n_x), (f_i * n_d + d_i, np.arange(n_x))), shape=(n_u, n_x)),
                sp.identity(n_u),
            ]
        )
        b_eq = q.demand.ravel()
    else:
        n_h = n_f * n_p * n_d
        costs += [np.zeros(n_h), np.full(n_h, float(CARRY_COST_PER_DAY))]
        last = (np.arange(n_h) % n_d) == n_d - 1
        stock_upper = np.repeat(np.where(np.isinf(q.limits), np.inf, q.limits).ravel(), n_d)
        upper += [np.full(n_h, np.inf), np.where(last, 0.0, stock_upper)]
        a_ub = sp.hstack([rows_ub, sp.coo_matrix((len(b_ub), n_u + 2 * n_h))])
        a_eq = _carry_over_balances(n_x, n_u, n_p, n_d, receive_row)
        b_eq = np.concatenate([np.zeros(n_h), q.demand.ravel()])
    result = linprog(
        np.concatenate(costs),
        A_ub=a_ub.tocsr(),
        b_ub=b_ub,
        A_eq=a_eq.tocsr(),
        b_eq=b_eq,
        bounds=np.stack([np.zeros(len(np.concatenate(upper))), np.concatenate(upper)], axis=1),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"reference LP failed: {result.message}")
    return float(result.fun), len(np.concatenate(costs)), time.perf_counter() - started


def _carry_over_balances(
    n_x: int, n_u: int, n_p: int, n_d: int, receive_row: npt.NDArray[np.int64]
) -> Any:
    """Return the equality rows of carry-over: stock balance per facility-product-day, then demand.

    ``stock[h] = stock[h-1] + received[h] - use[h]``, i.e. ``received - use + stock_prev - stock
    = 0``; then ``sum of use + unmet = demand`` per facility-day.
    """
    n_h = n_u * n_p
    h = np.arange(n_h)
    h_f, h_d = h // (n_p * n_d), h % n_d
    previous = np.where(h_d > 0, h - 1, -1)
    flow_rows = [
        sp.coo_matrix((np.ones(n_x), (receive_row, np.arange(n_x))), shape=(n_h, n_x)),
        sp.coo_matrix((n_h, n_u)),
        -sp.identity(n_h),
        sp.coo_matrix(
            (
                np.concatenate([-np.ones(n_h), np.ones((previous >= 0).sum())]),
                (
                    np.concatenate([h, h[previous >= 0]]),
                    np.concatenate([h, previous[previous >= 0]]),
                ),
            ),
            shape=(n_h, n_h),
        ),
    ]
    demand_rows = [
        sp.coo_matrix((n_u, n_x)),
        sp.identity(n_u),
        sp.coo_matrix((np.ones(n_h), (h_f * n_d + h_d, h)), shape=(n_u, n_h)),
        sp.coo_matrix((n_u, n_h)),
    ]
    return sp.vstack([sp.hstack(flow_rows), sp.hstack(demand_rows)])
