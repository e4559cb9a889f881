"""Allocate oxygen supply to facilities over a horizon (the only module that imports OR-Tools).

Model
-----
A time-expanded transportation network, solved exactly as a **min-cost flow** (OR-Tools
``SimpleMinCostFlow``): the problem is a pure network (supplier capacities, facility demands,
receiving limits and overnight storage are all arc capacities), so its LP has integral optimal
vertices and the network simplex / cost-scaling codes prove optimality far faster than a general
LP or MIP. Per day and product, a supplier node receives its dispatch capacity; arcs go to the
facilities that accept the product, are reachable and lie within the maximum delivery time, at a
cost of the travel time in seconds per quantum (a proxy for tanker and truck time); a facility's
receiving limit caps the arc into its demand node; unmet demand flows on a penalty arc.

Objective, lexicographic by construction: first serve as much priority-weighted demand as
possible, then minimise transport. The penalty per quantum of unmet demand is
``priority x penalty_unit`` with ``penalty_unit = (S*P*B + 1) * (max_travel_s + B + 1) + 1``, where
B is the number of days in one network (1 without carry-over, D with it). It exceeds the transport
cost of any simple augmenting cycle, so no saving in transport can ever pay for leaving demand
unmet that could be served. Without carry-over the days are independent and solved one network
per day (exact, and much faster than one coupled network).

Modes that are not a pure network use other solvers:

- ``fairness``: minimising the largest unmet share is a min-max objective with a continuous
  variable, i.e. an LP: **GLOP** (OR-Tools' simplex), in three lexicographic stages (largest share,
  then weighted unmet demand, then transport).
- ``single_sourcing``: one supplier per facility and product is a capacitated single-source
  assignment (a MIP). We solve the network relaxation (a proven lower bound), give each
  facility-product the supplier that carries most of its relaxed flow, re-solve the network
  restricted to those arcs (exact given the assignment) and report the gap to the bound.

Quantities are scaled to integer quanta of ``options.quantity_resolution_m3`` (default 0.1 m³):
demand rounds up, capacities and limits round down, so the plan never promises more gas than
exists and never plans less than asked.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp

from data.errors import InvalidInputError
from data.schema.allocation import (
    PRODUCTS,
    UNREACHABLE_S,
    AllocationOptions,
    AllocationPlan,
    AllocationProblem,
    AllocationTotals,
    Flow,
    Product,
    UnmetDemand,
    UnmetReason,
    validate_travel_time_matrix,
)
from data.units import OxygenConversions

MatrixProvider = Callable[[Sequence[tuple[float, float]], Sequence[tuple[float, float]]], Any]
"""``matrix_provider(origins_lonlat, destinations_lonlat)``: travel seconds, origins x destinations.

Entries may be integers, ``None``, ``inf`` or ``-1`` for "no road path".
"""

_CARRY_COST_PER_DAY = 1
# Holding a quantum overnight costs one unit (one second of travel): just enough that stock is
# not moved ahead of need without a reason (a later day short of supply), and deterministic.

_INT64_SAFE = 2**62
# OR-Tools' cost scaling multiplies unit costs by (number of nodes + 1); stay well inside int64.


@dataclass(frozen=True, slots=True)
class _Scaled:
    """Validated problem data in solver quanta (private to this module)."""

    travel_s: npt.NDArray[np.int64]  # (S, F), UNREACHABLE_S where no path
    capacity_q: npt.NDArray[np.int64]  # (S, P, D)
    demand_q: npt.NDArray[np.int64]  # (F, D)
    limit_q: npt.NDArray[np.int64]  # (F, P), daily receiving limit (>= total demand if none)
    accepted: npt.NDArray[np.bool_]  # (F, P)
    usable: npt.NDArray[np.bool_]  # (S, F, P): accepted, offered, reachable, within time
    weight: npt.NDArray[np.int64]  # (F,)
    penalty_unit: int
    reasons: tuple[UnmetReason | None, ...]  # structural reason per facility, None if usable


@dataclass(frozen=True, slots=True)
class _Network:
    """Arc arrays of one min-cost-flow network and what each arc means."""

    tails: npt.NDArray[np.int64]
    heads: npt.NDArray[np.int64]
    caps: npt.NDArray[np.int64]
    costs: npt.NDArray[np.int64]
    supplies: npt.NDArray[np.int64]
    # Transport arcs are arcs [0, n_transport): supplier, facility, product, day of each.
    t_s: npt.NDArray[np.int64]
    t_f: npt.NDArray[np.int64]
    t_p: npt.NDArray[np.int64]
    t_d: npt.NDArray[np.int64]
    # Unmet arcs are the last n_unmet arcs: facility and day of each.
    u_f: npt.NDArray[np.int64]
    u_d: npt.NDArray[np.int64]
    # Receiving arcs (into the facility's demand or holding node).
    r_first: int
    r_f: npt.NDArray[np.int64]
    r_p: npt.NDArray[np.int64]
    r_d: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _Solution:
    transport_q: npt.NDArray[np.float64]  # flow on each transport arc
    unmet_q: npt.NDArray[np.float64]  # (F, D)
    receive_q: npt.NDArray[np.float64]  # flow on each receiving arc
    objective: float
    status: str
    network: _Network  # arc metadata: which transport / receiving arc each flow belongs to


def allocate_supply(
    problem: AllocationProblem,
    *,
    matrix_provider: MatrixProvider | None = None,
    conversions: OxygenConversions | None = None,
    cylinder_size: str = "40L",
) -> AllocationPlan:
    """Allocate the suppliers' capacities to the facilities' demands (typed adapter).

    Parameters
    ----------
    problem
        The validated problem. When ``problem.travel_time_s`` is ``None``, travel times come from
        ``matrix_provider`` and every supplier's and facility's ``lonlat``.
    matrix_provider
        ``matrix_provider(origins_lonlat, destinations_lonlat)`` returning travel seconds of shape
        (suppliers, facilities); ``None``, ``inf`` or ``-1`` mean unreachable. The lead wires the
        road-network matrix here.
    conversions
        Factors for stating flows in tonnes of liquid and cylinders (default
        :class:`~data.units.OxygenConversions`).
    cylinder_size
        Cylinder size label used to count cylinders in the plan (default ``"40L"``).

    Returns
    -------
    AllocationPlan
        Flows, unmet demand with reasons, totals, solver and status. Demand that cannot be
        served is reported in ``unmet``, never raised.

    Raises
    ------
    InvalidInputError
        If the travel times are missing and no provider (or no coordinates) is given, if the
        provider's matrix is malformed, or if the numbers are too large for exact integer solving.
    """
    travel_s = problem.travel_time_s
    if travel_s is None:
        travel_s = _matrix_from_provider(problem, matrix_provider)
    supplier_ids = [s.supplier_id for s in problem.suppliers]
    facility_ids = [f.facility_id for f in problem.facilities]
    horizon = problem.horizon_days
    capacity_m3 = np.zeros((len(supplier_ids), len(PRODUCTS), horizon))
    for s_idx, supplier in enumerate(problem.suppliers):
        for capacity in supplier.capacities:
            capacity_m3[s_idx, PRODUCTS.index(capacity.product)] = capacity.capacity_m3_per_day
    demand_m3 = np.array(
        [f.demand_m3_per_day for f in problem.facilities], dtype=np.float64
    ).reshape(len(facility_ids), horizon)
    accepted = np.array(
        [[p in f.accepted_products for p in PRODUCTS] for f in problem.facilities], dtype=bool
    ).reshape(len(facility_ids), len(PRODUCTS))
    limits = np.array(
        [[f.receiving_limit_m3(p) for p in PRODUCTS] for f in problem.facilities], dtype=float
    ).reshape(len(facility_ids), len(PRODUCTS))
    priority = np.array([f.effective_priority for f in problem.facilities], dtype=np.int64)
    return allocate_supply_matrix(
        supplier_ids,
        facility_ids,
        travel_s,
        capacity_m3,
        demand_m3,
        accepted=accepted,
        receiving_limit_m3=limits,
        priority=priority,
        options=problem.options,
        conversions=conversions,
        cylinder_size=cylinder_size,
        start_date=problem.start_date,
    )


def allocate_supply_matrix(
    supplier_ids: Sequence[str],
    facility_ids: Sequence[str],
    travel_time_s: npt.NDArray[np.int64],
    capacity_m3: npt.NDArray[np.float64],
    demand_m3: npt.NDArray[np.float64],
    *,
    accepted: npt.NDArray[np.bool_] | None = None,
    receiving_limit_m3: npt.NDArray[np.float64] | None = None,
    priority: npt.NDArray[np.int64] | None = None,
    options: AllocationOptions | None = None,
    conversions: OxygenConversions | None = None,
    cylinder_size: str = "40L",
    start_date: date | None = None,
) -> AllocationPlan:
    """Allocate supply to demand from ids, an integer travel-time matrix and quantity arrays.

    Parameters
    ----------
    supplier_ids, facility_ids
        Business ids in matrix order (S suppliers, F facilities); they appear in the plan, matrix
        positions never do.
    travel_time_s
        int64 array (S, F): seconds from each supplier to each facility, ``-1`` = unreachable.
    capacity_m3
        float array (S, P, D): gas m³ each supplier can dispatch of each product (axis order of
        :data:`~data.schema.allocation.PRODUCTS`) on each day.
    demand_m3
        float array (F, D): gas m³ to deliver to each facility on each day.
    accepted
        bool array (F, P): products each facility accepts (default: all).
    receiving_limit_m3
        float array (F, P): the most a facility can receive (and hold overnight) of a product per
        day, ``inf`` = no limit (default: no limits).
    priority
        int array (F,): priority weights >= 1 (default: all 1).
    options
        Solver settings (default :class:`~data.schema.allocation.AllocationOptions`).
    conversions, cylinder_size
        How flows are stated in tonnes of liquid and in cylinders.
    start_date
        Date of day 0, copied into the plan.

    Returns
    -------
    AllocationPlan
        See :func:`allocate_supply`.

    Raises
    ------
    InvalidInputError
        If an array has the wrong shape, a negative, NaN or infinite quantity, a priority below 1,
        or numbers too large for exact integer solving; every problem is listed.
    """
    started = time.perf_counter()
    options = options if options is not None else AllocationOptions()
    conversions = conversions if conversions is not None else OxygenConversions()
    if cylinder_size not in conversions.cylinder_gas_m3:
        known = ", ".join(sorted(conversions.cylinder_gas_m3))
        raise InvalidInputError(
            f"cylinder_size: unknown size {cylinder_size!r}; known sizes: {known}"
        )
    scaled = _scale_and_validate(
        list(supplier_ids),
        list(facility_ids),
        travel_time_s,
        capacity_m3,
        demand_m3,
        accepted,
        receiving_limit_m3,
        priority,
        options,
    )
    if options.fairness:
        solution = _solve_fairness_lp(scaled, options)
        lower_bound = solution.objective
        solver = "glop_fairness"
    elif options.single_sourcing:
        relaxed = _solve_network(scaled, options, scaled.usable)
        chosen = _choose_single_sources(scaled, relaxed, options)
        solution = _solve_network(scaled, options, chosen)
        lower_bound = relaxed.objective
        solver = "min_cost_flow+single_sourcing"
        if solution.status == "optimal" and solution.objective > lower_bound:
            solution = dataclasses.replace(solution, status="feasible")
    else:
        solution = _solve_network(scaled, options, scaled.usable)
        lower_bound = solution.objective
        solver = "min_cost_flow"
    return _build_plan(
        list(supplier_ids),
        list(facility_ids),
        scaled,
        solution,
        lower_bound,
        solver,
        options,
        conversions,
        cylinder_size,
        start_date,
        started,
    )


# --------------------------------------------------------------------------------------------
# Validation and scaling
# --------------------------------------------------------------------------------------------


def _scale_and_validate(
    supplier_ids: list[str],
    facility_ids: list[str],
    travel_time_s: npt.NDArray[Any],
    capacity_m3: npt.NDArray[Any],
    demand_m3: npt.NDArray[Any],
    accepted: npt.NDArray[Any] | None,
    receiving_limit_m3: npt.NDArray[Any] | None,
    priority: npt.NDArray[Any] | None,
    options: AllocationOptions,
) -> _Scaled:
    n_s, n_f, n_p = len(supplier_ids), len(facility_ids), len(PRODUCTS)
    travel = np.asarray(travel_time_s)
    capacity = np.asarray(capacity_m3, dtype=np.float64)
    demand = np.asarray(demand_m3, dtype=np.float64)
    n_d = demand.shape[1] if demand.ndim == 2 else 0
    problems = list(validate_travel_time_matrix(travel, n_s, n_f))
    accepted_arr = np.ones((n_f, n_p), bool) if accepted is None else np.asarray(accepted, bool)
    limit_arr = (
        np.full((n_f, n_p), np.inf)
        if receiving_limit_m3 is None
        else np.asarray(receiving_limit_m3, dtype=np.float64)
    )
    weight = np.ones(n_f, np.int64) if priority is None else np.asarray(priority)
    expected = {
        "capacity_m3": (capacity, (n_s, n_p, n_d)),
        "demand_m3": (demand, (n_f, n_d)),
        "accepted": (accepted_arr, (n_f, n_p)),
        "receiving_limit_m3": (limit_arr, (n_f, n_p)),
        "priority": (weight, (n_f,)),
    }
    for name, (array, shape) in expected.items():
        if array.shape != shape:
            problems.append(
                f"{name}: shape {array.shape}, expected {shape} "
                "(suppliers S, facilities F, products P, days D)"
            )
    if n_d < 1:
        problems.append("demand_m3: needs at least one day (shape (F, D) with D >= 1)")
    if problems:
        raise InvalidInputError.from_problems("allocation arrays", problems)
    for name, array, ids, allow_inf in (
        ("capacity_m3", capacity, supplier_ids, False),
        ("demand_m3", demand, facility_ids, False),
        ("receiving_limit_m3", limit_arr, facility_ids, True),
    ):
        bad = np.isnan(array) | (array < 0) | (np.isinf(array) & (not allow_inf))
        for position in np.argwhere(bad)[:10]:
            where = [repr(ids[int(position[0])])]
            if name != "demand_m3":
                where.append(PRODUCTS[int(position[1])].value)
            if name != "receiving_limit_m3":
                where.append(f"day {int(position[-1])}")
            problems.append(
                f"{name}[{', '.join(where)}]: {float(array[tuple(position)])!r} is not a "
                "finite quantity >= 0 (m³); fix the input"
            )
    if not np.issubdtype(weight.dtype, np.integer) or (weight < 1).any():
        problems.append(f"priority: must be integers >= 1, got {weight[:10].tolist()}")
    if problems:
        raise InvalidInputError.from_problems("allocation arrays", problems)

    # Named scaling step: m³ -> integer quanta. Demand up, capacity and limits down (never
    # promise gas that is not there); the tolerance absorbs binary noise such as 0.3 / 0.1.
    resolution = options.quantity_resolution_m3
    demand_q = np.ceil(demand / resolution - 1e-9).astype(np.int64)
    capacity_q = np.floor(capacity / resolution + 1e-9).astype(np.int64)
    total_demand_q = int(demand_q.sum())
    limit_q = np.where(
        np.isinf(limit_arr),
        total_demand_q,
        np.floor(np.minimum(limit_arr, 1e15) / resolution + 1e-9),
    ).astype(np.int64)
    limit_q = np.minimum(limit_q, total_demand_q)

    travel = travel.astype(np.int64)
    offered = capacity_q.sum(axis=2) > 0  # (S, P)
    compatible = accepted_arr[None, :, :] & offered[:, None, :]  # (S, F, P)
    reachable = compatible & (travel != UNREACHABLE_S)[:, :, None]
    usable = reachable
    if options.max_delivery_time_s is not None:
        usable = reachable & (travel <= options.max_delivery_time_s)[:, :, None]
    reasons: list[UnmetReason | None] = []
    any_compatible = compatible.any(axis=(0, 2))
    any_reachable = reachable.any(axis=(0, 2))
    any_usable = usable.any(axis=(0, 2))
    for f_idx in range(n_f):
        if not any_compatible[f_idx]:
            reasons.append(UnmetReason.NO_COMPATIBLE_PRODUCT)
        elif not any_reachable[f_idx]:
            reasons.append(UnmetReason.UNREACHABLE)
        elif not any_usable[f_idx]:
            reasons.append(UnmetReason.BEYOND_MAX_DELIVERY_TIME)
        else:
            reasons.append(None)

    max_travel = int(travel[usable.any(axis=2)].max()) if usable.any() else 0
    days_per_network = n_d if options.carry_over else 1
    penalty_unit = (n_s * n_p * days_per_network + 1) * (max_travel + days_per_network + 1) + 1
    n_nodes = 2 + n_s * n_p * n_d + n_f * n_d * (1 + 2 * n_p)
    largest_cost = penalty_unit * int(weight.max(initial=1))
    if largest_cost * (n_nodes + 1) >= _INT64_SAFE or largest_cost * total_demand_q >= _INT64_SAFE:
        raise InvalidInputError(
            f"allocation: numbers too large for exact integer solving (penalty per quantum "
            f"{largest_cost}, {total_demand_q} quanta of demand, {n_nodes} nodes); use a coarser "
            "quantity_resolution_m3, fewer priority levels or a shorter max_delivery_time_s"
        )
    return _Scaled(
        travel_s=travel,
        capacity_q=capacity_q,
        demand_q=demand_q,
        limit_q=limit_q,
        accepted=accepted_arr,
        usable=usable,
        weight=weight.astype(np.int64),
        penalty_unit=penalty_unit,
        reasons=tuple(reasons),
    )


def _matrix_from_provider(
    problem: AllocationProblem, matrix_provider: MatrixProvider | None
) -> npt.NDArray[np.int64]:
    if matrix_provider is None:
        raise InvalidInputError(
            "travel_time_s: missing; give a travel-time matrix, or coordinates and a "
            "matrix_provider (the road-network matrix)"
        )
    problems = [
        f"suppliers[{s.supplier_id!r}].lonlat: missing; needed to compute travel times"
        for s in problem.suppliers
        if s.lonlat is None
    ] + [
        f"facilities[{f.facility_id!r}].lonlat: missing; needed to compute travel times"
        for f in problem.facilities
        if f.lonlat is None
    ]
    if problems:
        raise InvalidInputError.from_problems("allocation problem", problems)
    origins = [s.lonlat for s in problem.suppliers if s.lonlat is not None]
    destinations = [f.lonlat for f in problem.facilities if f.lonlat is not None]
    raw = matrix_provider(origins, destinations)
    return travel_matrix_from_seconds(raw, len(origins), len(destinations))


def travel_matrix_from_seconds(
    raw: Any, n_suppliers: int, n_facilities: int
) -> npt.NDArray[np.int64]:
    """Turn travel seconds with ``None``/``inf``/``-1`` gaps into the int64 core matrix.

    Parameters
    ----------
    raw
        Nested lists or an array of shape (suppliers, facilities); ``None``, ``inf`` and ``-1``
        mean unreachable. Finite values are rounded to whole seconds.
    n_suppliers, n_facilities
        Expected shape.

    Returns
    -------
    numpy.ndarray
        int64 array (suppliers, facilities), :data:`~data.schema.allocation.UNREACHABLE_S` where
        unreachable.

    Raises
    ------
    InvalidInputError
        If the shape is wrong, or an entry is NaN, negative (other than -1) or not a number.
    """
    problems: list[str] = []
    try:
        values = np.array(
            [[math.inf if v is None else v for v in row] for row in raw]
            if not isinstance(raw, np.ndarray)
            else raw,
            dtype=np.float64,
        )
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"travel_time_s: not a rectangular matrix of numbers ({error}); give one row per "
            "supplier and one column per facility, null for unreachable"
        ) from None
    if values.shape != (n_suppliers, n_facilities):
        raise InvalidInputError(
            f"travel_time_s: shape {values.shape}, expected ({n_suppliers}, {n_facilities}) "
            "= (suppliers, facilities); one row per supplier, one column per facility"
        )
    for s_idx, f_idx in np.argwhere(np.isnan(values))[:10]:
        problems.append(
            f"travel_time_s[{s_idx}][{f_idx}]: NaN; give seconds, or null for unreachable"
        )
    negative = (values < 0) & (values != UNREACHABLE_S)
    for s_idx, f_idx in np.argwhere(negative)[:10]:
        problems.append(
            f"travel_time_s[{s_idx}][{f_idx}]: negative time {values[s_idx, f_idx]!r}; "
            "give seconds >= 0, or null for unreachable"
        )
    if problems:
        raise InvalidInputError.from_problems("travel-time matrix", problems)
    unreachable = np.isinf(values) | (values == UNREACHABLE_S)
    matrix = np.where(unreachable, UNREACHABLE_S, np.rint(np.where(unreachable, 0, values)))
    return matrix.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Network construction and solving
# --------------------------------------------------------------------------------------------


def _build_network(
    scaled: _Scaled, days: list[int], usable: npt.NDArray[np.bool_], carry_over: bool
) -> _Network:
    """Build the min-cost-flow network of ``days`` (one day, or all days when coupled)."""
    n_s, n_f, n_p = scaled.usable.shape
    n_k = len(days)
    source, sink = 0, 1
    sup_base = 2
    rec_base = sup_base + n_s * n_p * n_k
    hold_base = rec_base + n_f * n_p * n_k
    dem_base = hold_base + (n_f * n_p * n_k if carry_over else 0)
    n_nodes = dem_base + n_f * n_k

    def sup_node(s: Any, p: Any, k: Any) -> Any:
        return sup_base + (s * n_p + p) * n_k + k

    def rec_node(f: Any, p: Any, k: Any) -> Any:
        return rec_base + (f * n_p + p) * n_k + k

    def hold_node(f: Any, p: Any, k: Any) -> Any:
        return hold_base + (f * n_p + p) * n_k + k

    def dem_node(f: Any, k: Any) -> Any:
        return dem_base + f * n_k + k

    demand = scaled.demand_q[:, days]  # (F, K)
    # With carry-over a facility may receive on day k for any later day; the most it can use is
    # its remaining demand from k on.
    need_from = np.cumsum(demand[:, ::-1], axis=1)[:, ::-1] if carry_over else demand
    tails: list[npt.NDArray[np.int64]] = []
    heads: list[npt.NDArray[np.int64]] = []
    caps: list[npt.NDArray[np.int64]] = []
    costs: list[npt.NDArray[np.int64]] = []

    def add(t: Any, h: Any, c: Any, w: Any) -> None:
        t = np.asarray(t, np.int64)
        tails.append(t)
        heads.append(np.broadcast_to(np.asarray(h, np.int64), t.shape).copy())
        caps.append(np.broadcast_to(np.asarray(c, np.int64), t.shape).copy())
        costs.append(np.broadcast_to(np.asarray(w, np.int64), t.shape).copy())

    # Transport arcs (first, so their positions are known): supplier -> facility receive node.
    t_parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    for k, day in enumerate(days):
        mask = usable & (scaled.capacity_q[:, :, day] > 0)[:, None, :]
        mask &= (need_from[:, k] > 0)[None, :, None]
        s_idx, f_idx, p_idx = np.nonzero(mask)
        t_parts.append((s_idx, f_idx, p_idx, np.full(len(s_idx), day)))
    t_s, t_f, t_p, t_d = (np.concatenate([part[i] for part in t_parts]) for i in range(4))
    t_k = np.searchsorted(np.asarray(days), t_d)
    add(
        sup_node(t_s, t_p, t_k),
        rec_node(t_f, t_p, t_k),
        np.minimum(need_from[t_f, t_k], scaled.limit_q[t_f, t_p]),
        scaled.travel_s[t_s, t_f],
    )
    # Source -> supplier: the day's dispatch capacity.
    s_all, p_all, k_all = np.nonzero(scaled.capacity_q[:, :, days] > 0)
    add(
        np.full(len(s_all), source),
        sup_node(s_all, p_all, k_all),
        scaled.capacity_q[s_all, p_all, np.asarray(days)[k_all]],
        0,
    )
    # Receiving arcs, capped by the receiving limit.
    r_first = sum(len(t) for t in tails)
    has_arc = np.zeros((n_f, n_p, n_k), bool)
    has_arc[t_f, t_p, t_k] = True
    r_f, r_p, r_k = np.nonzero(has_arc)
    if carry_over:
        add(rec_node(r_f, r_p, r_k), hold_node(r_f, r_p, r_k), scaled.limit_q[r_f, r_p], 0)
        # Holding node -> demand node, and overnight storage (capped by the same limit).
        h_f, h_p, h_k = np.nonzero(np.ones((n_f, n_p, n_k), bool))
        add(hold_node(h_f, h_p, h_k), dem_node(h_f, h_k), demand[h_f, h_k], 0)
        c_f, c_p, c_k = np.nonzero(np.ones((n_f, n_p, n_k - 1), bool))
        add(
            hold_node(c_f, c_p, c_k),
            hold_node(c_f, c_p, c_k + 1),
            scaled.limit_q[c_f, c_p],
            _CARRY_COST_PER_DAY,
        )
    else:
        add(
            rec_node(r_f, r_p, r_k),
            dem_node(r_f, r_k),
            np.minimum(scaled.limit_q[r_f, r_p], demand[r_f, r_k]),
            0,
        )
    # Demand node -> sink, and the unmet-demand penalty arcs source -> demand node (last).
    d_f, d_k = np.nonzero(demand > 0)
    add(dem_node(d_f, d_k), np.full(len(d_f), sink), demand[d_f, d_k], 0)
    add(
        np.full(len(d_f), source),
        dem_node(d_f, d_k),
        demand[d_f, d_k],
        scaled.penalty_unit * scaled.weight[d_f],
    )
    supplies = np.zeros(n_nodes, np.int64)
    total = int(demand.sum())
    supplies[source], supplies[sink] = total, -total
    return _Network(
        tails=np.concatenate(tails),
        heads=np.concatenate(heads),
        caps=np.concatenate(caps),
        costs=np.concatenate(costs),
        supplies=supplies,
        t_s=t_s,
        t_f=t_f,
        t_p=t_p,
        t_d=t_d,
        u_f=d_f.astype(np.int64),
        u_d=np.asarray(days, np.int64)[d_k],
        r_first=r_first,
        r_f=r_f.astype(np.int64),
        r_p=r_p.astype(np.int64),
        r_d=np.asarray(days, np.int64)[r_k],
    )


def _solve_network(
    scaled: _Scaled, options: AllocationOptions, usable: npt.NDArray[np.bool_]
) -> _Solution:
    """Solve the min-cost flow exactly: one network per day, or one coupled network."""
    n_f, n_d = scaled.demand_q.shape
    blocks = [list(range(n_d))] if options.carry_over else [[day] for day in range(n_d)]
    transport: list[npt.NDArray[np.float64]] = []
    receive: list[npt.NDArray[np.float64]] = []
    arcs: list[_Network] = []
    unmet = np.zeros((n_f, n_d))
    objective = 0
    for days in blocks:
        network = _build_network(scaled, days, usable, options.carry_over)
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            network.tails, network.heads, network.caps, network.costs
        )
        solver.set_nodes_supplies(np.arange(len(network.supplies)), network.supplies)
        status = solver.solve()
        if status != solver.OPTIMAL:
            # Cannot happen on validated input (unmet arcs make every instance feasible and the
            # ranges were checked); fail loudly rather than return a wrong plan.
            raise RuntimeError(f"min-cost flow returned status {status} on a validated network")
        flows = solver.flows(np.arange(len(network.tails))).astype(np.float64)
        n_t = len(network.t_s)
        n_u = len(network.u_f)
        transport.append(flows[:n_t])
        receive.append(flows[network.r_first : network.r_first + len(network.r_f)])
        unmet[network.u_f, network.u_d] = flows[len(flows) - n_u :]
        objective += solver.optimal_cost()
        arcs.append(network)
    return _Solution(
        transport_q=np.concatenate(transport),
        unmet_q=unmet,
        receive_q=np.concatenate(receive),
        objective=float(objective),
        status="optimal",
        network=_concat_networks(arcs),
    )


def _concat_networks(networks: list[_Network]) -> _Network:
    """Concatenate the arc metadata of per-day networks (the arc arrays are not needed after)."""
    empty = np.zeros(0, np.int64)
    return _Network(
        tails=empty,
        heads=empty,
        caps=empty,
        costs=empty,
        supplies=empty,
        t_s=np.concatenate([n.t_s for n in networks]),
        t_f=np.concatenate([n.t_f for n in networks]),
        t_p=np.concatenate([n.t_p for n in networks]),
        t_d=np.concatenate([n.t_d for n in networks]),
        u_f=np.concatenate([n.u_f for n in networks]),
        u_d=np.concatenate([n.u_d for n in networks]),
        r_first=0,
        r_f=np.concatenate([n.r_f for n in networks]),
        r_p=np.concatenate([n.r_p for n in networks]),
        r_d=np.concatenate([n.r_d for n in networks]),
    )


def _choose_single_sources(
    scaled: _Scaled, relaxed: _Solution, options: AllocationOptions
) -> npt.NDArray[np.bool_]:
    """Round the relaxed flow to one supplier per facility and product (returns an (S, F, P) mask).

    Facility-products served by one supplier in the relaxation keep it. The few split ones (a
    basic optimal flow splits at most about one facility per supplier and day) are placed in
    order of priority and size on the supplier that can still carry their whole relaxed flow on
    every day, preferring the one that carried most of it, then the nearest; a facility-product
    without relaxed flow gets its nearest usable supplier.
    """
    del options  # the rounding rule has no settings yet
    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    network = relaxed.network
    carried = np.zeros((n_s, n_f, n_p, n_d))
    np.add.at(carried, (network.t_s, network.t_f, network.t_p, network.t_d), relaxed.transport_q)
    carried_total = carried.sum(axis=3)  # (S, F, P)
    n_sources = (carried_total > 0).sum(axis=0)  # (F, P)
    chosen = np.full((n_f, n_p), -1, np.int64)
    single = n_sources == 1
    chosen[single] = np.argmax(carried_total, axis=0)[single]
    residual = scaled.capacity_q.astype(np.float64).copy()  # (S, P, D)
    f_one, p_one = np.nonzero(single)
    np.subtract.at(
        residual, (chosen[f_one, p_one], p_one), carried[chosen[f_one, p_one], f_one, p_one]
    )
    f_split, p_split = np.nonzero(n_sources > 1)
    need = carried[:, f_split, p_split].sum(axis=0)  # (n_split, D)
    order = np.lexsort((-need.sum(axis=1), -scaled.weight[f_split]))
    for position in order:
        f_idx, p_idx = int(f_split[position]), int(p_split[position])
        candidates = np.nonzero(scaled.usable[:, f_idx, p_idx])[0]
        fits = (residual[candidates, p_idx, :] >= need[position] - 1e-9).all(axis=1)
        rank = np.lexsort(
            (
                scaled.travel_s[candidates, f_idx],
                -carried_total[candidates, f_idx, p_idx],
                ~fits,
            )
        )
        best = int(candidates[rank[0]])
        chosen[f_idx, p_idx] = best
        residual[best, p_idx] -= need[position]
    f_none, p_none = np.nonzero((n_sources == 0) & scaled.usable.any(axis=0))
    for f_none_idx, p_none_idx in zip(f_none, p_none, strict=True):
        candidates = np.nonzero(scaled.usable[:, f_none_idx, p_none_idx])[0]
        nearest = candidates[np.argmin(scaled.travel_s[candidates, f_none_idx])]
        chosen[f_none_idx, p_none_idx] = nearest
    restricted = np.zeros_like(scaled.usable)
    f_all, p_all = np.nonzero(chosen >= 0)
    restricted[chosen[f_all, p_all], f_all, p_all] = True
    return restricted & scaled.usable


def _solve_fairness_lp(scaled: _Scaled, options: AllocationOptions) -> _Solution:
    """Minimise the largest unmet share (GLOP), then weighted unmet demand, then transport.

    Only facility-days that some supplier can serve count in the largest share; those with no
    usable supplier are unmet whatever the plan does and would pin the share at 1.
    """
    n_f, n_d = scaled.demand_q.shape
    blocks = [list(range(n_d))] if options.carry_over else [[day] for day in range(n_d)]
    networks = [_build_network(scaled, days, scaled.usable, options.carry_over) for days in blocks]
    solver = pywraplp.Solver.CreateSolver("GLOP")
    deadline = time.perf_counter() + options.time_limit_s
    arc_vars: list[list[Any]] = []
    unmet_terms: list[tuple[Any, int, int, int]] = []  # (var, facility, day, demand quanta)
    transport_terms: list[tuple[Any, int]] = []
    z = solver.NumVar(0.0, 1.0, "largest_unmet_share")
    for network in networks:
        balance = [solver.Constraint(float(supply), float(supply)) for supply in network.supplies]
        variables = []
        n_arcs = len(network.tails)
        n_u = len(network.u_f)
        serveable = np.zeros((n_f, n_d), bool)
        if options.carry_over:
            first_day = np.full(n_f, n_d)
            np.minimum.at(first_day, network.r_f, network.r_d)
            serveable = np.arange(n_d)[None, :] >= first_day[:, None]
        else:
            serveable[network.r_f, network.r_d] = True
        for arc in range(n_arcs):
            var = solver.NumVar(0.0, float(network.caps[arc]), "")
            balance[network.tails[arc]].SetCoefficient(var, 1.0)
            balance[network.heads[arc]].SetCoefficient(var, -1.0)
            variables.append(var)
            if arc < len(network.t_s):
                transport_terms.append((var, int(network.costs[arc])))
            elif network.costs[arc] == _CARRY_COST_PER_DAY and arc < n_arcs - n_u:
                transport_terms.append((var, _CARRY_COST_PER_DAY))
        for position in range(n_u):
            var = variables[n_arcs - n_u + position]
            f_idx, day = int(network.u_f[position]), int(network.u_d[position])
            demand_q = int(scaled.demand_q[f_idx, day])
            unmet_terms.append((var, f_idx, day, demand_q))
            if serveable[f_idx, day]:
                share = solver.Constraint(-solver.infinity(), 0.0)
                share.SetCoefficient(var, 1.0)
                share.SetCoefficient(z, -float(demand_q))
        arc_vars.append(variables)

    def run(objective_terms: list[tuple[Any, float]]) -> bool:
        objective = solver.Objective()
        objective.Clear()
        for var, coefficient in objective_terms:
            objective.SetCoefficient(var, coefficient)
        objective.SetMinimization()
        remaining_ms = max(1, int((deadline - time.perf_counter()) * 1000))
        solver.SetTimeLimit(remaining_ms)
        return bool(solver.Solve() == pywraplp.Solver.OPTIMAL)

    if not run([(z, 1.0)]):
        from data.errors import SolverTimeoutError

        raise SolverTimeoutError(
            f"fairness LP: no optimal largest unmet share within time_limit_s="
            f"{options.time_limit_s}; raise the limit or drop fairness mode"
        )
    status = "optimal"
    z.SetUb(z.solution_value() + 1e-9)
    weighted = [(var, float(scaled.weight[f_idx])) for var, f_idx, _, _ in unmet_terms]
    if run(weighted):
        best = sum(var.solution_value() * w for var, w in weighted)
        cap = solver.Constraint(-solver.infinity(), best + 1e-6 * max(1.0, best))
        for var, w in weighted:
            cap.SetCoefficient(var, w)
        if not run([(var, float(c)) for var, c in transport_terms]):
            status = "time_limit"
    else:
        status = "time_limit"
    if status != "optimal" and not run([(z, 1.0)]):  # pragma: no cover - depends on timing
        status = "time_limit"
    transport = [
        np.array([v.solution_value() for v in variables[: len(network.t_s)]])
        for variables, network in zip(arc_vars, networks, strict=True)
    ]
    receive = [
        np.array(
            [
                v.solution_value()
                for v in variables[network.r_first : network.r_first + len(network.r_f)]
            ]
        )
        for variables, network in zip(arc_vars, networks, strict=True)
    ]
    unmet = np.zeros((n_f, n_d))
    for var, f_idx, day, _ in unmet_terms:
        unmet[f_idx, day] = var.solution_value()
    transport_cost = sum(var.solution_value() * c for var, c in transport_terms)
    objective = transport_cost + scaled.penalty_unit * float((unmet * scaled.weight[:, None]).sum())
    return _Solution(
        transport_q=np.clip(np.concatenate(transport), 0.0, None),
        unmet_q=np.clip(unmet, 0.0, None),
        receive_q=np.concatenate(receive),
        objective=objective,
        status=status,
        network=_concat_networks(networks),
    )


# --------------------------------------------------------------------------------------------
# Reading the plan back
# --------------------------------------------------------------------------------------------


def _build_plan(
    supplier_ids: list[str],
    facility_ids: list[str],
    scaled: _Scaled,
    solution: _Solution,
    lower_bound: float,
    solver: str,
    options: AllocationOptions,
    conversions: OxygenConversions,
    cylinder_size: str,
    start_date: date | None,
    started: float,
) -> AllocationPlan:
    resolution = options.quantity_resolution_m3
    network = solution.network
    cylinder_m3 = conversions.cylinder_gas_m3[cylinder_size]
    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    tolerance = 1e-6  # LP (fairness) flows carry float noise; quanta are integers otherwise

    flows: list[Flow] = []
    positive = np.nonzero(solution.transport_q > tolerance)[0]
    transport_m3_s = 0.0
    delivered_m3 = 0.0
    for arc in positive:
        s_idx, f_idx = int(network.t_s[arc]), int(network.t_f[arc])
        product = PRODUCTS[int(network.t_p[arc])]
        quantity_m3 = round(float(solution.transport_q[arc]) * resolution, 6)
        travel_s = int(scaled.travel_s[s_idx, f_idx])
        if product is Product.BULK_LIQUID:
            quantity, unit = round(conversions.gas_m3_to_lox_t(quantity_m3), 4), "t_lox"
        else:
            quantity = float(math.ceil(quantity_m3 / cylinder_m3 - 1e-9))
            unit = f"cylinders_{cylinder_size}"
        flows.append(
            Flow(
                supplier_id=supplier_ids[s_idx],
                facility_id=facility_ids[f_idx],
                day=int(network.t_d[arc]),
                product=product,
                quantity_m3=quantity_m3,
                quantity=quantity,
                unit=unit,
                travel_time_s=travel_s,
            )
        )
        transport_m3_s += quantity_m3 * travel_s
        delivered_m3 += quantity_m3

    received = np.full((n_f, n_p, n_d), -1.0)
    received[network.r_f, network.r_p, network.r_d] = solution.receive_q
    unmet_entries: list[UnmetDemand] = []
    by_reason: dict[UnmetReason, float] = {}
    # (day, facility) pairs, sorted by day.
    days_first = np.argwhere(np.transpose(solution.unmet_q) > tolerance)
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
        unmet_m3 = round(unmet_q * resolution, 6)
        unmet_entries.append(
            UnmetDemand(
                facility_id=facility_ids[f_idx],
                day=int(day),
                unmet_m3=unmet_m3,
                demand_m3=round(demand_q * resolution, 6),
                reason=reason,
                detail=detail,
            )
        )
        by_reason[reason] = by_reason.get(reason, 0.0) + unmet_m3
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(scaled.demand_q > 0, solution.unmet_q / scaled.demand_q, 0.0)
    totals = AllocationTotals(
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
    del n_s
    return AllocationPlan(
        flows=tuple(flows),
        unmet=tuple(unmet_entries),
        totals=totals,
        solver=solver,
        solver_status=solution.status,
        run_time_s=round(time.perf_counter() - started, 6),
        horizon_days=n_d,
        start_date=start_date,
    )


def _reach_per_day(
    scaled: _Scaled, f_indices: npt.NDArray[np.int64]
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]]:
    """Per facility: usable suppliers per day, their capacity per day, usable products per day."""
    rows: list[Any] = []
    offered_today = scaled.capacity_q > 0  # (S, P, D)
    for f_idx in f_indices:
        usable = scaled.usable[:, f_idx, :]  # (S, P)
        live = usable[:, :, None] & offered_today  # (S, P, D)
        rows.append(
            (
                live.any(axis=1).sum(axis=0),
                (scaled.capacity_q * live).sum(axis=(0, 1)),
                live.any(axis=0),  # (P, D)
            )
        )
    return rows


def _explain(
    scaled: _Scaled,
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
