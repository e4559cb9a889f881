"""Read a solved allocation back as the plan: flows, unmet demand with reasons, totals."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import numpy.typing as npt

from data.schema.allocation import (
    PRODUCTS,
    UNREACHABLE_S,
    AllocationOptions,
    AllocationPlan,
    AllocationTotals,
    UnmetDemand,
    UnmetReason,
)
from matcher._flows import FlowMaker
from matcher._scaling import Scaled
from matcher._solving import Solution


def build_plan(
    facility_ids: list[str],
    scaled: Scaled,
    solution: Solution,
    lower_bound: float,
    solver: str,
    options: AllocationOptions,
    make_flows: FlowMaker,
    start_date: date | None,
    started: float,
) -> AllocationPlan:
    """Return the plan of a solution: its flows, explained unmet demand and totals, in m³."""
    flows = solution.flows
    if flows is None:
        flows = make_flows(solution.arcs, solution.transport_q)
    unmet = _unmet_entries(facility_ids, scaled, solution, solver, options, make_flows)
    return AllocationPlan(
        flows=tuple(flows),
        unmet=tuple(unmet),
        totals=_totals(scaled, solution, lower_bound, options, make_flows, unmet),
        solver=solver,
        solver_status=solution.status,
        run_time_s=round(time.perf_counter() - started, 6),
        horizon_days=scaled.demand_q.shape[1],
        start_date=start_date,
    )


def _totals(
    scaled: Scaled,
    solution: Solution,
    lower_bound: float,
    options: AllocationOptions,
    make_flows: FlowMaker,
    unmet: list[UnmetDemand],
) -> AllocationTotals:
    """Sum up a solution: demand, delivered and unmet m³ (by reason), transport, objective."""
    resolution = options.quantity_resolution_m3
    arcs = solution.arcs
    positive = make_flows.positive(solution.transport_q)
    quantity_m3 = make_flows.quantities_m3(solution.transport_q[positive])
    transport_m3_s = float(quantity_m3 @ scaled.travel_s[arcs.s[positive], arcs.f[positive]])
    delivered_m3 = float(quantity_m3.sum())
    by_reason: dict[UnmetReason, float] = {}
    for entry in unmet:
        by_reason[entry.reason] = by_reason.get(entry.reason, 0.0) + entry.unmet_m3
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(scaled.demand_q > 0, solution.unmet_q / scaled.demand_q, 0.0)
    return AllocationTotals(
        demand_m3=round(float(scaled.demand_q.sum()) * resolution, 6),
        delivered_m3=round(delivered_m3, 6),
        unmet_m3=round(float(solution.unmet_q.sum()) * resolution, 6),
        unmet_m3_by_reason=tuple(
            (reason, round(by_reason[reason], 6)) for reason in UnmetReason if reason in by_reason
        ),
        transport_m3_s=round(transport_m3_s, 3),
        objective=solution.objective,
        lower_bound=lower_bound,
        max_unmet_share=round(float(shares.max(initial=0.0)), 9),
    )


def _unmet_entries(
    facility_ids: list[str],
    scaled: Scaled,
    solution: Solution,
    solver: str,
    options: AllocationOptions,
    make_flows: FlowMaker,
) -> list[UnmetDemand]:
    """List the unmet demand by day, then facility, each with its reason and explanation."""
    resolution = options.quantity_resolution_m3
    arcs = solution.arcs
    n_f, n_p = scaled.accepted.shape
    n_d = scaled.demand_q.shape[1]
    received = np.zeros((n_f, n_p, n_d))
    np.add.at(received, (arcs.f, arcs.p, arcs.d), solution.transport_q)
    entries: list[UnmetDemand] = []
    # (day, facility) pairs, sorted by day.
    days_first = np.argwhere(make_flows.positive(np.transpose(solution.unmet_q)))
    reach = _reach_per_day(scaled, days_first[:, 1])
    for (day, f_idx), (n_suppliers, capacity_q, limited) in zip(days_first, reach, strict=True):
        unmet_q = float(solution.unmet_q[f_idx, day])
        demand_q = int(scaled.demand_q[f_idx, day])
        reason = scaled.reasons[f_idx] or UnmetReason.NO_CAPACITY_LEFT
        detail = _explain(
            scaled,
            int(f_idx),
            int(day),
            reason,
            received,
            options,
            solver,
            resolution,
            int(n_suppliers[day]),
            float(capacity_q[day]) * resolution,
            limited,
        )
        entries.append(
            UnmetDemand(
                facility_id=facility_ids[f_idx],
                day=int(day),
                unmet_m3=round(unmet_q * resolution, 6),
                demand_m3=round(demand_q * resolution, 6),
                reason=reason,
                detail=detail,
            )
        )
    return entries


def _reach_per_day(
    scaled: Scaled, f_indices: npt.NDArray[np.int64]
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]]:
    """Per facility: usable suppliers per day, their capacity per day, usable products per day."""
    unique_f, row = np.unique(np.asarray(f_indices, np.int64), return_inverse=True)
    offered_today = scaled.capacity_q > 0  # (S, P, D)
    usable = scaled.usable[:, unique_f, :]  # (S, U, P)
    live = usable[:, :, :, None] & offered_today[:, None, :, :]  # (S, U, P, D)
    n_suppliers = live.any(axis=2).sum(axis=0)  # (U, D)
    capacity = np.einsum("sup,spd->ud", usable.astype(np.int64), scaled.capacity_q)
    products = np.asarray(live.any(axis=0))  # (U, P, D)
    return [(n_suppliers[r], capacity[r], products[r]) for r in row.tolist()]


def _explain(
    scaled: Scaled,
    f_idx: int,
    day: int,
    reason: UnmetReason,
    received: npt.NDArray[np.float64],
    options: AllocationOptions,
    solver: str,
    resolution: float,
    n_suppliers: int,
    capacity_m3: float,
    products_live: npt.NDArray[np.bool_],
) -> str:
    """Say, with numbers, why demand of facility ``f_idx`` on ``day`` is unmet."""
    if reason is UnmetReason.NO_COMPATIBLE_PRODUCT:
        names = (
            ", ".join(PRODUCTS[p].value for p in np.nonzero(scaled.accepted[f_idx])[0])
            or "no product"
        )
        return f"accepts {names}; no supplier offers it with capacity"
    if reason is UnmetReason.UNREACHABLE:
        return "no compatible supplier has a road path to the facility"
    if reason is UnmetReason.BEYOND_MAX_DELIVERY_TIME:
        column = scaled.travel_s[:, f_idx]
        nearest = int(column[column != UNREACHABLE_S].min())
        return (
            f"nearest compatible supplier is {nearest} s away, beyond "
            f"max_delivery_time_s={options.max_delivery_time_s}"
        )
    products_today = [p for p in range(len(PRODUCTS)) if products_live[p, day]]
    limited = [
        p for p in products_today if received[f_idx, p, day] >= scaled.limit_q[f_idx, p] - 1e-6
    ]
    if products_today and limited == products_today:
        limits = ", ".join(
            f"{PRODUCTS[p].value} {scaled.limit_q[f_idx, p] * resolution:g} m³/day" for p in limited
        )
        return f"receiving limit reached ({limits})"
    if "single_sourcing" in solver:
        return (
            f"single sourcing: the assigned supplier(s) ran out on day {day}; "
            f"{n_suppliers} supplier(s) within reach had {capacity_m3:g} m³ in all"
        )
    return (
        f"{n_suppliers} supplier(s) within reach had {capacity_m3:g} m³ on day {day}, "
        "all used by this and higher-priority or nearer facilities"
    )
