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
  variable, i.e. an LP: **GLOP** (OR-Tools' simplex) finds it; then the smallest share a plan in
  whole quanta can meet is bisected with max flows, and the networks with the unmet demand capped
  at that share are solved by the min-cost flow (weighted unmet demand, then transport).
- ``single_sourcing``: one supplier per facility and product is a capacitated single-source
  assignment (a MIP). We solve the network relaxation (a proven lower bound), give each
  facility-product the supplier that carries most of its relaxed flow, repair that assignment by
  a local search on the suppliers' overloads, re-solve the network restricted to the chosen arcs
  (exact given the assignment) and report the gap to the bound.

Quantities are scaled to integer quanta of ``options.quantity_resolution_m3`` (default 0.1 m³):
demand rounds up, capacities and limits round down, so the plan never promises more gas than
exists and never plans less than asked.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.graph.python import max_flow, min_cost_flow
from ortools.linear_solver.python import model_builder_helper as mbh

from data.errors import InvalidInputError, SolverTimeoutError
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
from matcher._assignment import reduce_overload, reduce_weighted_overload
from matcher._duals import dual_bound, residual_potentials

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
    """Arc arrays of one min-cost-flow network and what its transport and unmet arcs mean."""

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

    @property
    def first_unmet(self) -> int:
        """Position of the first unmet-demand arc (they are the last arcs)."""
        return len(self.tails) - len(self.u_f)


@dataclass(frozen=True, slots=True)
class _TransportArcs:
    """Supplier, facility, product and day of each transport quantity of a solution."""

    s: npt.NDArray[np.int64]
    f: npt.NDArray[np.int64]
    p: npt.NDArray[np.int64]
    d: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _Solution:
    transport_q: npt.NDArray[np.float64]  # quantity on each transport arc
    unmet_q: npt.NDArray[np.float64]  # (F, D)
    objective: float
    status: str
    arcs: _TransportArcs
    # The plan's flows, when they were built while the solve went on (see _solution_from_parts).
    flows: list[Flow] | None = None


@dataclass(frozen=True, slots=True)
class _FlowMaker:
    """Turns solved transport quanta into the plan's :class:`Flow` records."""

    supplier_ids: list[str]
    facility_ids: list[str]
    travel_s: npt.NDArray[np.int64]
    resolution_m3: float
    conversions: OxygenConversions
    cylinder_size: str

    def quantities_m3(self, transport_q: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Gas m³ of transport quanta, as the plan states them."""
        return np.round(np.asarray(transport_q, np.float64) * self.resolution_m3, 6)

    def positive(self, quanta: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Mask of the quantities the plan states: the positive ones (whole quanta, every mode)."""
        return np.asarray(quanta, np.float64) > 0

    def __call__(self, arcs: _TransportArcs, transport_q: npt.NDArray[np.float64]) -> list[Flow]:
        """Return the flows of the positive quantities, by day, supplier, facility, product."""
        positive = np.nonzero(self.positive(transport_q))[0]
        positive = positive[
            np.lexsort((arcs.p[positive], arcs.f[positive], arcs.s[positive], arcs.d[positive]))
        ]
        f_s, f_f, f_p = arcs.s[positive], arcs.f[positive], arcs.p[positive]
        quantity_m3 = self.quantities_m3(np.asarray(transport_q)[positive])
        bulk = f_p == PRODUCTS.index(Product.BULK_LIQUID)
        quantity = np.where(
            bulk,
            np.round(quantity_m3 / self.conversions.gas_m3_per_lox_t, 4),
            np.ceil(quantity_m3 / self.conversions.cylinder_gas_m3[self.cylinder_size] - 1e-9),
        )
        units = ("t_lox", f"cylinders_{self.cylinder_size}")
        supplier_ids, facility_ids = self.supplier_ids, self.facility_ids
        return [
            Flow(
                supplier_id=supplier_ids[s_idx],
                facility_id=facility_ids[f_idx],
                day=day,
                product=PRODUCTS[p_idx],
                quantity_m3=q_m3,
                quantity=q_unit,
                unit=units[0] if is_bulk else units[1],
                travel_time_s=t_s,
            )
            for s_idx, f_idx, p_idx, day, q_m3, q_unit, is_bulk, t_s in zip(
                f_s.tolist(),
                f_f.tolist(),
                f_p.tolist(),
                arcs.d[positive].tolist(),
                quantity_m3.tolist(),
                quantity.tolist(),
                bulk.tolist(),
                self.travel_s[f_s, f_f].tolist(),
                strict=True,
            )
        ]


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
    weights = [f.effective_priority for f in problem.facilities]
    too_large = [
        f"facilities[{f.facility_id!r}].priority: {weight} (from priority, or tier and "
        "critical_share) is too large for exact integer solving; use a priority below "
        f"{_INT64_SAFE}"
        for f, weight in zip(problem.facilities, weights, strict=True)
        if weight >= _INT64_SAFE
    ]
    # Quantities too large for integer quanta, named by the problem's own fields (the matrix
    # core below names its arrays instead).
    resolution = problem.options.quantity_resolution_m3
    with np.errstate(over="ignore"):  # sums of huge quantities are inf: refused below
        too_many_demand = _quanta(demand_m3, resolution, round_up=True).sum() >= _INT64_SAFE
        too_many_capacity = _quanta(capacity_m3, resolution, round_up=False).sum() >= _INT64_SAFE
        demand_sum, capacity_sum = float(demand_m3.sum()), float(capacity_m3.sum())
    if too_many_demand:
        f_idx, f_day = (int(i) for i in np.unravel_index(np.argmax(demand_m3), demand_m3.shape))
        too_large.append(
            f"facilities[{problem.facilities[f_idx].facility_id!r}].demand_m3_per_day: "
            f"{float(demand_m3[f_idx, f_day])!r} on day {f_day} ({demand_sum!r} m³ "
            f"in all) is too many quanta of quantity_resolution_m3={resolution!r} for exact "
            "integer solving; give realistic quantities or a coarser quantity_resolution_m3"
        )
    if too_many_capacity:
        s_idx, p_idx, s_day = (
            int(i) for i in np.unravel_index(np.argmax(capacity_m3), capacity_m3.shape)
        )
        too_large.append(
            f"suppliers[{problem.suppliers[s_idx].supplier_id!r}].products."
            f"{PRODUCTS[p_idx].value}: capacity {float(capacity_m3[s_idx, p_idx, s_day])!r} m³ "
            f"on day {s_day} ({capacity_sum!r} m³ in all) is too many quanta of "
            f"quantity_resolution_m3={resolution!r} for exact integer solving; give realistic "
            "quantities or a coarser quantity_resolution_m3"
        )
    if too_large:
        raise InvalidInputError.from_problems("allocation problem", too_large)
    priority = np.array(weights, dtype=np.int64)
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
    make_flows = _FlowMaker(
        supplier_ids=list(supplier_ids),
        facility_ids=list(facility_ids),
        travel_s=scaled.travel_s,
        resolution_m3=options.quantity_resolution_m3,
        conversions=conversions,
        cylinder_size=cylinder_size,
    )
    if options.fairness:
        solution = _solve_fairness(scaled, options)
        lower_bound = solution.objective
        solver = "glop_fairness"
    elif options.single_sourcing:
        solution, lower_bound = _solve_single_sourcing(scaled, options, make_flows)
        solver = "min_cost_flow+single_sourcing"
    else:
        solution = _solve_network(scaled, options, scaled.usable, make_flows)
        lower_bound = solution.objective
        solver = "min_cost_flow"
    return _build_plan(
        list(facility_ids),
        scaled,
        solution,
        lower_bound,
        solver,
        options,
        make_flows,
        start_date,
        started,
    )


# --------------------------------------------------------------------------------------------
# Validation and scaling
# --------------------------------------------------------------------------------------------


def _quanta(
    quantities_m3: npt.NDArray[np.float64], resolution_m3: float, *, round_up: bool
) -> npt.NDArray[np.float64]:
    """Count quantities in quanta, as floats (a huge count must be refused, not wrapped).

    Demand rounds up, capacities and limits down (never promise gas that is not there); the
    tolerance absorbs binary noise such as 0.3 / 0.1.
    """
    with np.errstate(over="ignore"):
        if round_up:
            return np.ceil(np.asarray(quantities_m3, np.float64) / resolution_m3 - 1e-9)
        return np.floor(np.asarray(quantities_m3, np.float64) / resolution_m3 + 1e-9)


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
    # Quanta are counted in floats first: a huge quantity or a tiny resolution must be refused
    # here, not wrapped around by the cast to int64 (it gave a plan with no demand).
    demand_quanta = _quanta(demand, resolution, round_up=True)
    capacity_quanta = _quanta(capacity, resolution, round_up=False)
    limit_quanta = _quanta(limit_arr, resolution, round_up=False)
    with np.errstate(over="ignore"):
        for name, array, quanta, ids in (
            ("demand_m3", demand, demand_quanta, facility_ids),
            ("capacity_m3", capacity, capacity_quanta, supplier_ids),
        ):
            if float(quanta.sum()) < _INT64_SAFE:
                continue
            largest = np.unravel_index(int(np.argmax(array)), array.shape)
            where = [repr(ids[int(largest[0])])]
            if name == "capacity_m3":
                where.append(PRODUCTS[int(largest[1])].value)
            where.append(f"day {int(largest[-1])}")
            problems.append(
                f"{name}: {float(array.sum())!r} m³ in all (largest {name}[{', '.join(where)}]"
                f" = {float(array[largest])!r}) is too many quanta of quantity_resolution_m3="
                f"{resolution!r} for exact integer solving; give realistic quantities or a "
                "coarser quantity_resolution_m3"
            )
    if problems:
        raise InvalidInputError.from_problems("allocation arrays", problems)
    demand_q = demand_quanta.astype(np.int64)
    capacity_q = capacity_quanta.astype(np.int64)
    total_demand_q = int(demand_q.sum())
    # No facility receives more than the total demand, so that caps "no limit" and huge limits.
    limit_q = np.minimum(limit_quanta, total_demand_q).astype(np.int64)

    travel = travel.astype(np.int64)
    offered = capacity_q.sum(axis=2) > 0  # (S, P)
    compatible = accepted_arr[None, :, :] & offered[:, None, :]  # (S, F, P)
    reachable = compatible & (travel != UNREACHABLE_S)[:, :, None]
    usable = reachable
    if options.max_delivery_time_s is not None:
        usable = reachable & (travel <= options.max_delivery_time_s)[:, :, None]
    structural = (
        None,
        UnmetReason.NO_COMPATIBLE_PRODUCT,
        UnmetReason.UNREACHABLE,
        UnmetReason.BEYOND_MAX_DELIVERY_TIME,
    )
    code = np.select(
        [~compatible.any(axis=(0, 2)), ~reachable.any(axis=(0, 2)), ~usable.any(axis=(0, 2))],
        [1, 2, 3],
        0,
    )
    reasons = [structural[c] for c in code.tolist()]

    max_travel = int(travel[usable.any(axis=2)].max()) if usable.any() else 0
    days_per_network = n_d if options.carry_over else 1
    penalty_unit = (n_s * n_p * days_per_network + 1) * (max_travel + days_per_network + 1) + 1
    n_nodes = 2 + n_s * n_p * n_d + n_f * n_d * (1 + 2 * n_p)
    largest_cost = penalty_unit * int(weight.max(initial=1))
    if largest_cost * (n_nodes + 1) >= _INT64_SAFE or largest_cost * total_demand_q >= _INT64_SAFE:
        f_big, d_big = (int(i) for i in np.unravel_index(np.argmax(demand), demand.shape))
        raise InvalidInputError(
            f"allocation: numbers too large for exact integer solving (penalty per quantum "
            f"{largest_cost}, {total_demand_q} quanta of demand, the largest "
            f"{float(demand[f_big, d_big])!r} m³ for facility {facility_ids[f_big]!r} on day "
            f"{d_big}; {n_nodes} nodes); use a coarser quantity_resolution_m3, realistic demand, "
            "fewer priority levels or a shorter max_delivery_time_s"
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
            f"travel_time_s[{s_idx}][{f_idx}]: negative time {float(values[s_idx, f_idx])!r}; "
            "give seconds >= 0, or null for unreachable"
        )
    if problems:
        raise InvalidInputError.from_problems("travel-time matrix", problems)
    unreachable = np.isinf(values) | (values == UNREACHABLE_S)
    for s_idx, f_idx in np.argwhere(~unreachable & (values >= _INT64_SAFE))[:10]:
        problems.append(
            f"travel_time_s[{s_idx}][{f_idx}]: {float(values[s_idx, f_idx])!r} seconds is too "
            f"large (below {_INT64_SAFE}); give seconds, or null for unreachable"
        )
    if problems:
        raise InvalidInputError.from_problems("travel-time matrix", problems)
    matrix = np.where(unreachable, UNREACHABLE_S, np.rint(np.where(unreachable, 0, values)))
    return matrix.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Network construction and solving
# --------------------------------------------------------------------------------------------


_Arcs = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
"""Supplier, facility and product of each candidate transport arc, in ``np.nonzero`` order."""


def _usable_arcs(usable: npt.NDArray[np.bool_]) -> _Arcs:
    """List the arcs of an (S, F, P) mask once, so that each day only filters them."""
    s, f, p = np.nonzero(usable)
    return s.astype(np.int64), f.astype(np.int64), p.astype(np.int64)


def _build_day_network(scaled: _Scaled, day: int, arcs: _Arcs) -> _Network:
    """Build the compact min-cost-flow network of one independent day.

    Nodes: an unmet-demand source ``U`` (supply = the day's demand), a sink ``T`` (takes every
    supplier's unused capacity), one node per supplier-product with capacity (supply = the
    capacity), one node per facility with demand (supply = -demand) and a receiving node only for
    the facility-products whose receiving limit is below the day's demand (elsewhere the limit
    cannot bind). Arcs: transport, receiving (capped by the limit), unused capacity (to ``T``),
    ``U -> T`` (demand that is served) and, last, the unmet-demand arcs ``U -> facility``.
    Compared with a source/sink layout this drops about 20,000 nodes a day on the national
    instance, which cut the solve by a quarter; the optimum is the same flow problem.
    """
    n_s, n_f, n_p = scaled.usable.shape
    demand = scaled.demand_q[:, day]
    capacity = scaled.capacity_q[:, :, day]
    limit = scaled.limit_q
    a_s, a_f, a_p = arcs
    live = (capacity[a_s, a_p] > 0) & (demand[a_f] > 0)
    t_s, t_f, t_p = a_s[live], a_f[live], a_p[live]
    s_live, p_live = np.nonzero(capacity > 0)
    f_live = np.nonzero(demand > 0)[0]
    sup_node = np.full((n_s, n_p), -1, np.int64)
    sup_node[s_live, p_live] = 2 + np.arange(len(s_live))
    fac_base = 2 + len(s_live)
    fac_node = np.full(n_f, -1, np.int64)
    fac_node[f_live] = fac_base + np.arange(len(f_live))
    has_arc = np.zeros((n_f, n_p), bool)
    has_arc[t_f, t_p] = True
    r_f, r_p = np.nonzero(has_arc & (limit < demand[:, None]))
    rec_node = np.full((n_f, n_p), -1, np.int64)
    rec_node[r_f, r_p] = fac_base + len(f_live) + np.arange(len(r_f))
    n_nodes = fac_base + len(f_live) + len(r_f)
    into = rec_node[t_f, t_p]
    total_demand = int(demand.sum())
    tails = np.concatenate(
        [
            sup_node[t_s, t_p],
            rec_node[r_f, r_p],
            sup_node[s_live, p_live],
            np.zeros(1, np.int64),
            np.zeros(len(f_live), np.int64),
        ]
    )
    heads = np.concatenate(
        [
            np.where(into >= 0, into, fac_node[t_f]),
            fac_node[r_f],
            np.ones(len(s_live), np.int64),
            np.ones(1, np.int64),
            fac_node[f_live],
        ]
    )
    caps = np.concatenate(
        [
            np.minimum(demand[t_f], limit[t_f, t_p]),
            limit[r_f, r_p],
            capacity[s_live, p_live],
            np.array([total_demand], np.int64),
            demand[f_live],
        ]
    )
    costs = np.concatenate(
        [
            scaled.travel_s[t_s, t_f],
            np.zeros(len(r_f) + len(s_live) + 1, np.int64),
            scaled.penalty_unit * scaled.weight[f_live],
        ]
    )
    supplies = np.zeros(n_nodes, np.int64)
    supplies[0] = total_demand
    supplies[1] = -int(capacity[s_live, p_live].sum())
    supplies[sup_node[s_live, p_live]] = capacity[s_live, p_live]
    supplies[fac_node[f_live]] = -demand[f_live]
    return _Network(
        tails=tails,
        heads=heads,
        caps=caps,
        costs=costs,
        supplies=supplies,
        t_s=t_s.astype(np.int64),
        t_f=t_f.astype(np.int64),
        t_p=t_p.astype(np.int64),
        t_d=np.full(len(t_s), day, np.int64),
        u_f=f_live.astype(np.int64),
        u_d=np.full(len(f_live), day, np.int64),
    )


def _build_horizon_network(scaled: _Scaled, usable: npt.NDArray[np.bool_]) -> _Network:
    """Build the coupled min-cost-flow network of the whole horizon (carry-over mode)."""
    n_s, n_f, n_p = scaled.usable.shape
    n_k = scaled.demand_q.shape[1]
    source, sink = 0, 1
    sup_base = 2
    rec_base = sup_base + n_s * n_p * n_k
    hold_base = rec_base + n_f * n_p * n_k
    dem_base = hold_base + n_f * n_p * n_k
    n_nodes = dem_base + n_f * n_k

    def sup_node(s: Any, p: Any, k: Any) -> Any:
        return sup_base + (s * n_p + p) * n_k + k

    def rec_node(f: Any, p: Any, k: Any) -> Any:
        return rec_base + (f * n_p + p) * n_k + k

    def hold_node(f: Any, p: Any, k: Any) -> Any:
        return hold_base + (f * n_p + p) * n_k + k

    def dem_node(f: Any, k: Any) -> Any:
        return dem_base + f * n_k + k

    demand = scaled.demand_q
    # A facility may receive on day k for any later day; the most it can use is its remaining
    # demand from k on.
    need_from = np.cumsum(demand[:, ::-1], axis=1)[:, ::-1]
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
    day_usable = usable[:, :, :, None] if usable.ndim == 3 else np.moveaxis(usable, 0, -1)
    mask = day_usable & (scaled.capacity_q > 0)[:, None, :, :] & (need_from > 0)[None, :, None, :]
    t_s, t_f, t_p, t_k = np.nonzero(mask)
    add(
        sup_node(t_s, t_p, t_k),
        rec_node(t_f, t_p, t_k),
        np.minimum(need_from[t_f, t_k], scaled.limit_q[t_f, t_p]),
        scaled.travel_s[t_s, t_f],
    )
    s_all, p_all, k_all = np.nonzero(scaled.capacity_q > 0)
    add(
        np.full(len(s_all), source),
        sup_node(s_all, p_all, k_all),
        scaled.capacity_q[s_all, p_all, k_all],
        0,
    )
    has_arc = np.zeros((n_f, n_p, n_k), bool)
    has_arc[t_f, t_p, t_k] = True
    r_f, r_p, r_k = np.nonzero(has_arc)
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
        t_s=t_s.astype(np.int64),
        t_f=t_f.astype(np.int64),
        t_p=t_p.astype(np.int64),
        t_d=t_k.astype(np.int64),
        u_f=d_f.astype(np.int64),
        u_d=d_k.astype(np.int64),
    )


def _build_networks(
    scaled: _Scaled, usable: npt.NDArray[np.bool_], carry_over: bool
) -> list[_Network]:
    """Build one network per independent day, or one coupled network with carry-over.

    ``usable`` is (S, F, P), the same every day, or, with carry-over only, (D, S, F, P).
    """
    if carry_over:
        return [_build_horizon_network(scaled, usable)]
    arcs = _usable_arcs(usable)
    return [_build_day_network(scaled, day, arcs) for day in range(scaled.demand_q.shape[1])]


def _solve_arrays(
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    supplies: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], int]:
    """Solve one min-cost flow exactly; return the arc flows and the optimal cost."""
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    solver.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        # Cannot happen on validated input (unmet arcs make every instance feasible and the
        # ranges were checked); fail loudly rather than return a wrong plan.
        raise RuntimeError(f"min-cost flow returned status {status} on a validated network")
    return solver.flows(np.arange(len(tails))), int(solver.optimal_cost())


@dataclass(frozen=True, slots=True)
class _PartResult:
    """What one solved network contributes to the plan: positive transport and unmet quanta."""

    arcs: _TransportArcs
    transport_q: npt.NDArray[np.int64]
    u_f: npt.NDArray[np.int64]
    u_d: npt.NDArray[np.int64]
    unmet_q: npt.NDArray[np.int64]
    cost: int


def _solve_part(network: _Network) -> _PartResult:
    """Solve one network and keep only its nonzero flows (compact, for worker processes)."""
    flows, cost = _solve_arrays(
        network.tails, network.heads, network.caps, network.costs, network.supplies
    )
    return _part_from_flows(network, flows, cost)


def _part_from_flows(network: _Network, flows: npt.NDArray[np.int64], cost: int) -> _PartResult:
    """Keep a solved network's nonzero transport and unmet flows."""
    n_t = len(network.t_s)
    keep = np.nonzero(flows[:n_t] > 0)[0]
    unmet = flows[network.first_unmet :]
    short = np.nonzero(unmet > 0)[0]
    return _PartResult(
        arcs=_TransportArcs(
            s=network.t_s[keep], f=network.t_f[keep], p=network.t_p[keep], d=network.t_d[keep]
        ),
        transport_q=flows[keep],
        u_f=network.u_f[short],
        u_d=network.u_d[short],
        unmet_q=unmet[short],
        cost=cost,
    )


_WORKER_STATE: tuple[_Scaled, Any, AllocationOptions] | None = None
# The problem a worker process solves days of; set once per worker by ``_init_worker`` (inherited
# without copying under ``fork``), so that each task sends only a day number.

_DayTask = Callable[[_Scaled, Any, AllocationOptions, int], Any]
"""``task(scaled, context, options, day)``: the context is what every day shares (the arcs)."""


def _init_worker(scaled: _Scaled, context: Any, options: AllocationOptions) -> None:
    global _WORKER_STATE
    _WORKER_STATE = (scaled, context, options)


def _run_in_worker(task: _DayTask, day: int) -> Any:
    assert _WORKER_STATE is not None, "worker started without _init_worker"
    return task(*_WORKER_STATE, day)


def _map_days(
    task: _DayTask,
    scaled: _Scaled,
    context: Any,
    options: AllocationOptions,
) -> Iterator[Any]:
    """Yield ``task(scaled, context, options, day)`` for every day, in order.

    In ``options.workers`` processes when more than one is asked for: OR-Tools' min-cost flow
    holds the GIL while it solves (measured: a Python thread got 2 % of its ticks during a
    solve), so threads do not overlap; processes do. Each worker receives the problem once and
    then builds and solves whole days, returning compact results; a day is yielded as soon as it
    and the days before it are done, so the caller can use it while later days are solved. Every
    day is computed identically either way, so the plan does not depend on ``workers``.
    """
    n_d = scaled.demand_q.shape[1]
    if options.workers <= 1 or n_d <= 1:
        for day in range(n_d):
            yield task(scaled, context, options, day)
        return
    methods = multiprocessing.get_all_start_methods()
    start_method = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(
        max_workers=min(options.workers, n_d),
        mp_context=start_method,
        initializer=_init_worker,
        initargs=(scaled, context, options),
    ) as pool:
        yield from pool.map(functools.partial(_run_in_worker, task), range(n_d))


def _solve_day_task(
    scaled: _Scaled, arcs: _Arcs, options: AllocationOptions, day: int
) -> _PartResult:
    return _solve_part(_build_day_network(scaled, day, arcs))


def _solution_from_parts(
    n_f: int, n_d: int, parts: Iterable[_PartResult], make_flows: _FlowMaker | None = None
) -> _Solution:
    """Assemble the solution of independent networks (proven optimal each), in day order.

    With ``make_flows``, each part's plan flows are built as the part arrives, while worker
    processes may still be solving later days.
    """
    unmet = np.zeros((n_f, n_d))
    done: list[_PartResult] = []
    flows: list[Flow] | None = [] if make_flows is not None else None
    for part in parts:
        unmet[part.u_f, part.u_d] = part.unmet_q
        done.append(part)
        if make_flows is not None and flows is not None:
            flows.extend(make_flows(part.arcs, part.transport_q.astype(np.float64)))
    return _Solution(
        transport_q=np.concatenate([part.transport_q for part in done]).astype(np.float64),
        unmet_q=unmet,
        objective=float(sum(part.cost for part in done)),
        status="optimal",
        arcs=_concat_transport([part.arcs for part in done]),
        flows=flows,
    )


def _solve_network(
    scaled: _Scaled,
    options: AllocationOptions,
    usable: npt.NDArray[np.bool_],
    make_flows: _FlowMaker | None = None,
) -> _Solution:
    """Solve the min-cost flow exactly: one network per day, or one coupled network."""
    n_f, n_d = scaled.demand_q.shape
    if options.carry_over:
        parts: Iterable[_PartResult] = [_solve_part(_build_horizon_network(scaled, usable))]
    else:
        parts = _map_days(_solve_day_task, scaled, _usable_arcs(usable), options)
    return _solution_from_parts(n_f, n_d, parts, make_flows)


def _concat_transport(arcs: Sequence[_TransportArcs]) -> _TransportArcs:
    """Concatenate the transport arcs of several networks."""
    return _TransportArcs(
        s=np.concatenate([a.s for a in arcs]),
        f=np.concatenate([a.f for a in arcs]),
        p=np.concatenate([a.p for a in arcs]),
        d=np.concatenate([a.d for a in arcs]),
    )


# --------------------------------------------------------------------------------------------
# Single sourcing
# --------------------------------------------------------------------------------------------


_NEAREST_SUPPLIERS = 8
# Single sourcing relaxes each day on the 8 nearest suppliers of each facility-product that can
# deliver that day. Measured on the national benchmark (days 0, 3, 6): 3 and 5 nearest gave
# relaxations 0.9-37 % above the optimum and useless bounds; 8 gave 0.0001 % above it, a proven
# bound 0.0007-0.0024 % below it, and 0.20-0.24 s instead of 0.37-0.44 s a day.
_BOUND_TOLERANCE = 1e-4
# The proven bound may lie this far below the restricted relaxation (relative); farther, the day
# is relaxed on all its arcs instead, whose optimum is the exact bound.
_MAX_DUAL_PASSES = 200
# Bellman-Ford passes allowed for the potentials (20-30 on the national instance).
_PRICING_MIN_ARCS = 100_000
# Days with fewer live transport arcs are relaxed on all of them: such a solve takes under 0.1 s
# here, and the restricted rounds (1-3 solves) measured 1.0-2.2x slower on generated days of
# 20,000-40,000 arcs, against 0.6x on the national benchmark's 200,000.
_PRICING_ROUNDS = 3
# Restricted solves before relaxing a day on all its arcs. Measured on generated instances:
# 8 nearest were enough on each day of the national benchmark; elsewhere (other seeds and
# sizes) one or two more rounds, with the arcs priced below cost added, reached the tolerance.


@dataclass(frozen=True, slots=True)
class _SourceIndex:
    """What choosing single sources needs on every day, computed once per problem.

    Items are the facility-products with a usable supplier (``np.nonzero`` order of the (F, P)
    mask); pairs are every usable (item, supplier), nearest first within each item.
    """

    items_f: npt.NDArray[np.int64]
    items_p: npt.NDArray[np.int64]
    nearest: npt.NDArray[np.int64]  # nearest usable supplier of each item
    pair_item: npt.NDArray[np.int64]
    pair_s: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _DayArcs:
    """Every day's candidate transport arcs, their order by item, and the source index."""

    arcs: _Arcs
    by_item: npt.NDArray[np.int64]  # arc positions by facility, product, travel time, supplier
    sources: _SourceIndex


def _day_arcs(scaled: _Scaled) -> _DayArcs:
    """List the usable arcs once, sorted by item and travel time, with the source index."""
    a_s, a_f, a_p = arcs = _usable_arcs(scaled.usable)
    by_item = np.lexsort((a_s, scaled.travel_s[a_s, a_f], a_p, a_f))
    # Items in np.nonzero order of the (F, P) mask, which is the order of ``by_item`` too.
    item_key = a_f[by_item] * len(PRODUCTS) + a_p[by_item]
    starts = np.ones(len(by_item), bool)
    starts[1:] = item_key[1:] != item_key[:-1]
    first = by_item[starts]  # each item's nearest arc
    sources = _SourceIndex(
        items_f=a_f[first],
        items_p=a_p[first],
        nearest=a_s[first],
        pair_item=np.cumsum(starts) - 1,
        pair_s=a_s[by_item],
    )
    return _DayArcs(arcs, by_item, sources)


def _nearest_live(one_day: _Scaled, day_arcs: _DayArcs, count: int) -> npt.NDArray[np.bool_]:
    """Mark the ``count`` nearest live arcs of each facility-product, in live-arc order.

    Live arcs (the supplier offers the product and the facility has demand that day) are the
    transport arcs of the day's network, in the same order; every live facility-product keeps
    at least one, so a network on the marked arcs has the same nodes.
    """
    a_s, a_f, a_p = day_arcs.arcs
    live = (one_day.capacity_q[a_s, a_p, 0] > 0) & (one_day.demand_q[a_f, 0] > 0)
    ordered = day_arcs.by_item[live[day_arcs.by_item]]
    item = a_f[ordered] * len(PRODUCTS) + a_p[ordered]
    starts = np.ones(len(ordered), bool)
    starts[1:] = item[1:] != item[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    marked = np.zeros(len(a_s), bool)
    marked[ordered[np.arange(len(ordered)) - first < count]] = True
    near_live: npt.NDArray[np.bool_] = marked[live]
    return near_live


def _subnetwork(network: _Network, transport: npt.NDArray[np.bool_]) -> _Network:
    """Keep the marked transport arcs of a network and all its other arcs (same nodes)."""
    n_t = len(network.t_s)
    keep = np.concatenate([np.nonzero(transport)[0], np.arange(n_t, len(network.tails))])
    return dataclasses.replace(
        network,
        tails=network.tails[keep],
        heads=network.heads[keep],
        caps=network.caps[keep],
        costs=network.costs[keep],
        t_s=network.t_s[transport],
        t_f=network.t_f[transport],
        t_p=network.t_p[transport],
        t_d=network.t_d[transport],
    )


def _relax_day(one_day: _Scaled, day_arcs: _DayArcs) -> tuple[_PartResult, int]:
    """Relax one day (no single sourcing) and prove a lower bound on the relaxation's optimum.

    Column generation on the transport arcs: solve the day on each facility-product's nearest
    suppliers, take that flow's potentials (Bellman-Ford on its residual network) and price
    every arc with them. By LP duality (:func:`matcher._duals.dual_bound`) that prices a lower
    bound on the optimum over all arcs; once it lies within ``_BOUND_TOLERANCE`` of the
    restricted optimum, the restricted flow and that bound are the answer. Otherwise the arcs
    priced below their cost join and the day is solved again, up to ``_PRICING_ROUNDS`` times;
    then, or at once on days with fewer than ``_PRICING_MIN_ARCS`` transport arcs, the day is
    relaxed on all its arcs, whose optimum is the exact bound.
    """
    full = _build_day_network(one_day, 0, day_arcs.arcs)
    if len(full.t_s) >= _PRICING_MIN_ARCS:
        priced = _priced_relaxation(full, _nearest_live(one_day, day_arcs, _NEAREST_SUPPLIERS))
        if priced is not None:
            return priced
    relaxed = _solve_part(full)
    return relaxed, relaxed.cost


def _priced_relaxation(
    full: _Network, selected: npt.NDArray[np.bool_]
) -> tuple[_PartResult, int] | None:
    """Run the pricing rounds of :func:`_relax_day` from the ``selected`` transport arcs.

    Returns the restricted relaxation and its proven bound, or ``None`` when the rounds end
    without a bound within ``_BOUND_TOLERANCE``.
    """
    n_t = len(full.t_s)
    for _ in range(_PRICING_ROUNDS):
        if selected.all():
            return None
        restricted = _subnetwork(full, selected)
        flows, cost = _solve_arrays(
            restricted.tails, restricted.heads, restricted.caps, restricted.costs, full.supplies
        )
        potentials, converged = residual_potentials(
            len(full.supplies),
            restricted.tails,
            restricted.heads,
            restricted.caps,
            restricted.costs,
            flows,
            _MAX_DUAL_PASSES,
        )
        if not converged:
            return None
        bound = dual_bound(potentials, full.tails, full.heads, full.caps, full.costs, full.supplies)
        if bound is not None and cost - bound <= _BOUND_TOLERANCE * max(1, abs(cost)):
            return _part_from_flows(restricted, flows, cost), bound
        priced = potentials[full.tails[:n_t]] - potentials[full.heads[:n_t]] > full.costs[:n_t]
        selected = selected | priced
    return None


def _one_day(scaled: _Scaled, day: int) -> _Scaled:
    """Return the problem of one day, as a one-day horizon."""
    return dataclasses.replace(
        scaled,
        capacity_q=scaled.capacity_q[:, :, day : day + 1],
        demand_q=scaled.demand_q[:, day : day + 1],
    )


def _on_day(part: _PartResult, day: int) -> _PartResult:
    """Return a one-day part moved to ``day`` of the horizon."""
    return dataclasses.replace(
        part,
        arcs=dataclasses.replace(part.arcs, d=np.full(len(part.arcs.d), day, np.int64)),
        u_d=np.full(len(part.u_d), day, np.int64),
    )


def _relax_day_task(
    scaled: _Scaled, day_arcs: _DayArcs, options: AllocationOptions, day: int
) -> tuple[_PartResult, int]:
    """Return the relaxation of one independent day and its proven lower bound."""
    relaxed, bound = _relax_day(_one_day(scaled, day), day_arcs)
    return _on_day(relaxed, day), bound


def _single_source_day_task(
    scaled: _Scaled, day_arcs: _DayArcs, options: AllocationOptions, day: int
) -> tuple[_PartResult, int]:
    """Single sourcing on one independent day: relax, choose the sources, re-solve.

    Returns the day's final part and the proven lower bound of its relaxation.
    """
    one_day = _one_day(scaled, day)
    relaxed, bound = _relax_day(one_day, day_arcs)
    n_f = scaled.demand_q.shape[0]
    relaxed_day = _solution_from_parts(n_f, 1, [relaxed])
    chosen = _choose_single_sources(one_day, relaxed_day, options, day_arcs.sources)[0]
    f_all, p_all = np.nonzero(chosen >= 0)
    s_all = chosen[f_all, p_all]
    order = np.lexsort((p_all, f_all, s_all))  # the order of np.nonzero on an (S, F, P) mask
    final = _solve_part(_build_day_network(one_day, 0, (s_all[order], f_all[order], p_all[order])))
    return _on_day(final, day), bound


def _solve_single_sourcing(
    scaled: _Scaled, options: AllocationOptions, make_flows: _FlowMaker
) -> tuple[_Solution, float]:
    """Single sourcing: the plan restricted to one supplier per item, and a proven lower bound.

    Without carry-over the days are independent: each day's relaxation is solved on its own,
    with its proven bound (:func:`_relax_day`), in parallel with ``workers``; per day, each day
    is also assigned and re-solved in the same task. Over the horizon, the sources are chosen
    from all days' relaxations at once. With carry-over, the coupled horizon is relaxed exactly.
    """
    n_f, n_d = scaled.demand_q.shape
    bounds: list[int] = []

    day_arcs = _day_arcs(scaled)

    def bounded(task: _DayTask) -> Iterator[_PartResult]:
        for part, bound in _map_days(task, scaled, day_arcs, options):
            bounds.append(bound)
            yield part

    if options.single_sourcing_scope == "day" and not options.carry_over:
        solution = _solution_from_parts(n_f, n_d, bounded(_single_source_day_task), make_flows)
        lower_bound = float(sum(bounds))
    else:
        if options.carry_over:
            relaxed = _solve_network(scaled, options, scaled.usable)
            lower_bound = relaxed.objective
        else:
            relaxed = _solution_from_parts(n_f, n_d, bounded(_relax_day_task))
            lower_bound = float(sum(bounds))
        chosen = _choose_single_sources(scaled, relaxed, options, day_arcs.sources)
        solution = _solve_network(scaled, options, _restricted(scaled, chosen), make_flows)
    if solution.objective > lower_bound:
        solution = dataclasses.replace(solution, status="feasible")
    return solution, lower_bound


def _choose_single_sources(
    scaled: _Scaled, relaxed: _Solution, options: AllocationOptions, sources: _SourceIndex
) -> npt.NDArray[np.int64]:
    """Pick one supplier per facility-product (and day) from the relaxed flow.

    Returns the supplier of each facility-product, -1 where none is usable: (1, F, P) with
    ``single_sourcing_scope="horizon"``, (D, F, P) with ``"day"``. An item (a facility-product,
    or a facility-product-day) that the relaxation serves from one supplier keeps it and its
    relaxed flows, which are taken out of the suppliers' capacities. The items the relaxation
    splits between suppliers are decided on the residual capacities:

    - per day, a basic optimal flow splits at most about one item per supplier (national
      instance: about 90 a day of 13,000), so a small MIP (SCIP) over the suppliers that carried
      each split item decides them exactly: one supplier each, as much priority-weighted demand
      as possible, then the least travel;
    - over the horizon, the daily optima alternate suppliers for many more items (about 2,400 of
      13,000, too many for the MIP within a second or two); they are placed greedily in order of
      priority and size on a supplier that can still carry their whole relaxed flow on every
      day, preferring the one that carried most of it, then the nearest.

    An item without relaxed flow gets its nearest usable supplier, so the final re-solve can give
    it capacity that the others leave.
    """
    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    per_day = options.single_sourcing_scope == "day"
    arcs = relaxed.arcs
    positive = relaxed.transport_q > 0
    a_s, a_f, a_p, a_d = arcs.s[positive], arcs.f[positive], arcs.p[positive], arcs.d[positive]
    a_q = relaxed.transport_q[positive]
    n_items = n_f * n_p * (n_d if per_day else 1)
    item = (a_f * n_p + a_p) * n_d + a_d if per_day else a_f * n_p + a_p
    # Distinct (item, supplier) pairs and how much each carried.
    pairs, pair_of_arc = np.unique(item * n_s + a_s, return_inverse=True)
    pair_item, pair_s = pairs // n_s, pairs % n_s
    carried = np.bincount(pair_of_arc, weights=a_q, minlength=len(pairs))
    n_sources = np.bincount(pair_item, minlength=n_items)
    chosen = np.full(n_items, -1, np.int64)
    single_pair = n_sources[pair_item] == 1
    chosen[pair_item[single_pair]] = pair_s[single_pair]
    residual = scaled.capacity_q.astype(np.float64).copy()  # (S, P, D)
    fixed_arc = single_pair[pair_of_arc]
    np.subtract.at(residual, (a_s[fixed_arc], a_p[fixed_arc], a_d[fixed_arc]), a_q[fixed_arc])
    split_items = np.nonzero(n_sources > 1)[0]
    if len(split_items):
        split_fp = split_items // n_d if per_day else split_items
        split_f, split_p = split_fp // n_p, split_fp % n_p
        # What each split item may receive per day: its relaxed delivery plus the unmet demand
        # of its facility that day (freed capacity may serve it), within the receiving limit.
        delivered = np.zeros((n_items, n_d))
        np.add.at(delivered, (item, a_d), a_q)
        need = delivered[split_items]
        if not options.carry_over:
            unmet = relaxed.unmet_q[split_f]
            if per_day:
                unmet = unmet * (np.arange(n_d)[None, :] == (split_items % n_d)[:, None])
            need = need + unmet
        need = np.minimum(need, scaled.limit_q[split_f, split_p][:, None])
        candidate = ~single_pair
        c_item, c_s, c_carried = pair_item[candidate], pair_s[candidate], carried[candidate]
        picked = None
        if per_day:
            picked = _solve_split_mip(
                scaled,
                split_items,
                split_f,
                split_p,
                need,
                c_item,
                c_s,
                c_carried,
                residual,
                options,
            )
        if picked is None:
            picked = _place_split_greedily(
                scaled, split_items, split_f, split_p, need, c_item, c_s, c_carried, residual
            )
        chosen[split_items] = picked
    # Items without relaxed flow: the nearest usable supplier.
    if per_day:
        chosen_dfp = chosen.reshape(n_f, n_p, n_d).transpose(2, 0, 1)  # (D, F, P)
    else:
        chosen_dfp = chosen.reshape(1, n_f, n_p)
    f_none, p_none = sources.items_f, sources.items_p
    for block in chosen_dfp:
        unset = block[f_none, p_none] < 0
        block[f_none[unset], p_none[unset]] = sources.nearest[unset]
    if not options.carry_over and len(chosen_dfp) == 1:
        _improve_sources(scaled, relaxed, chosen_dfp[0], sources)
    return chosen_dfp


def _restricted(scaled: _Scaled, chosen: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Return the usable mask of chosen sources: (S, F, P) for one block, else (D, S, F, P)."""
    n_s, n_f, n_p = scaled.usable.shape
    restricted = np.zeros((len(chosen), n_s, n_f, n_p), bool)
    k_all, f_all, p_all = np.nonzero(chosen >= 0)
    restricted[k_all, chosen[k_all, f_all, p_all], f_all, p_all] = True
    restricted &= scaled.usable[None]
    return restricted[0] if len(chosen) == 1 else restricted


_SOURCE_SEARCH_PASSES = 50
_MAX_PRIORITY_CLASSES = 64
# The weighted search keeps each supplier-day's need per priority class; with more distinct
# priorities than this (memory: suppliers x products x days x classes) it is skipped.


def _improve_sources(
    scaled: _Scaled, relaxed: _Solution, chosen: npt.NDArray[np.int64], sources: _SourceIndex
) -> None:
    """Move facility-products to other suppliers while that lowers the suppliers' total overload.

    ``chosen`` (F, P) holds the supplier of each facility-product (-1: none usable) and is
    updated in place. Each item's need per day is what the relaxation delivered to it; see
    :func:`matcher._assignment.reduce_overload`. (Needs that also counted a share of the
    facility's unmet demand, as first written, made the search chase demand no supplier can
    serve: on 8 generated instances, 100 to 10,000 facilities, the gap over the horizon went from
    0.10-4.49 % to 0.03-4.39 %, national 2.21 % -> 2.12 %; per day better on 7 of 8.) A second
    search weighs the overload by priority (:func:`matcher._assignment.reduce_weighted_overload`):
    on the same instances never worse, national over the horizon 2.12 % -> 1.33 %, +0.1-0.3 s.
    In that second search an item needs all it could receive (its relaxed delivery and its
    facility's unmet demand, within its receiving limit), which makes the weighted overload
    exactly what the re-solve leaves unserved for facilities with one item: national 1.33 % ->
    0.89 % (per day 0.059 % -> 0.025 %), lower on all 11 generated instances tried (300 to
    10,000 facilities, 7 seeds; e.g. 1.61 -> 1.21 % and 2.35 -> 1.76 % on two of 2,000); the
    relaxed deliveries alone, or the whole unmet demand for both items of a two-product facility,
    were worse.
    """
    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    arcs = relaxed.arcs
    need_fp = np.zeros((n_f, n_p, n_d))
    np.add.at(need_fp, (arcs.f, arcs.p, arcs.d), relaxed.transport_q)
    # Every item has a supplier here (its nearest usable one at least).
    items_f, items_p = sources.items_f, sources.items_p
    if not len(items_f):
        return
    need = np.ascontiguousarray(need_fp[items_f, items_p])  # (I, D)
    current = chosen[items_f, items_p].astype(np.int64)
    load = np.zeros((n_s, n_p, n_d))
    np.add.at(load, (current, items_p), need)
    # Candidate moves: every usable supplier of every item, nearest first.
    capacity = scaled.capacity_q.astype(np.float64)
    reduce_overload(
        current,
        need,
        load,
        capacity,
        items_p,
        sources.pair_item,
        sources.pair_s,
        _SOURCE_SEARCH_PASSES,
    )
    # Then the same moves against the priority-weighted overload (what the re-solve leaves
    # unserved: the lowest priorities first), when there are few priority classes. Here an item
    # needs all it could receive: what the relaxation delivered plus its facility's unmet demand
    # (half of it for each item of a facility with two), within its receiving limit. For a
    # facility with one item the search then counts exactly what the re-solve leaves unserved.
    weights, item_class = np.unique(scaled.weight[items_f], return_inverse=True)
    if len(weights) <= _MAX_PRIORITY_CLASSES:
        items_of_facility = np.bincount(items_f, minlength=n_f)[items_f]
        need = need + relaxed.unmet_q[items_f] / items_of_facility[:, None]
        need = np.minimum(need, scaled.limit_q[items_f, items_p][:, None])
        load = np.zeros((n_s, n_p, n_d))
        np.add.at(load, (current, items_p), need)
        by_class = np.zeros((n_s, n_p, n_d, len(weights)))
        days = np.arange(n_d)[None, :]
        np.add.at(by_class, (current[:, None], items_p[:, None], days, item_class[:, None]), need)
        reduce_weighted_overload(
            current,
            need,
            item_class.astype(np.int64),
            weights.astype(np.float64),
            load,
            by_class,
            capacity,
            items_p,
            sources.pair_item,
            sources.pair_s,
            _SOURCE_SEARCH_PASSES,
        )
    chosen[items_f, items_p] = current


def _place_split_greedily(
    scaled: _Scaled,
    split_items: npt.NDArray[np.int64],
    split_f: npt.NDArray[np.int64],
    split_p: npt.NDArray[np.int64],
    need: npt.NDArray[np.float64],
    c_item: npt.NDArray[np.int64],
    c_s: npt.NDArray[np.int64],
    c_carried: npt.NDArray[np.float64],
    residual: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Place split items, by priority then size, on a supplier with room on every day."""
    n_s = scaled.usable.shape[0]
    residual = residual.copy()
    position = np.searchsorted(split_items, c_item)
    carried = np.zeros((len(split_items), n_s))
    carried[position, c_s] = c_carried
    picked = np.empty(len(split_items), np.int64)
    for row in np.lexsort((-need.sum(axis=1), -scaled.weight[split_f])).tolist():
        f_idx, p_idx = int(split_f[row]), int(split_p[row])
        candidates = np.nonzero(scaled.usable[:, f_idx, p_idx])[0]
        fits = (residual[candidates, p_idx, :] >= need[row] - 1e-9).all(axis=1)
        rank = np.lexsort((scaled.travel_s[candidates, f_idx], -carried[row, candidates], ~fits))
        best = int(candidates[rank[0]])
        picked[row] = best
        residual[best, p_idx] -= need[row]
    return picked


def _solve_split_mip(
    scaled: _Scaled,
    split_items: npt.NDArray[np.int64],
    split_f: npt.NDArray[np.int64],
    split_p: npt.NDArray[np.int64],
    need: npt.NDArray[np.float64],
    c_item: npt.NDArray[np.int64],
    c_s: npt.NDArray[np.int64],
    c_carried: npt.NDArray[np.float64],
    residual: npt.NDArray[np.float64],
    options: AllocationOptions,
) -> npt.NDArray[np.int64] | None:
    """Assign each split item to one of the suppliers that carried it (SCIP).

    Variables: ``y[c]`` binary per candidate (item, supplier); ``x[c, d]`` the quantity it
    delivers on day d, at most ``need[item, d] * y[c]``. Rows: one supplier per item; the
    residual capacity of each supplier-product-day. Objective, in units of ``penalty_unit``:
    travel / penalty_unit - priority per quantum delivered (serve the most priority-weighted
    demand, then travel least). Returns the supplier per split item, or ``None`` without a
    solution within ``options.single_sourcing_time_limit_s``.
    """
    n_p = scaled.usable.shape[2]
    n_d = need.shape[1]
    n_c = len(c_item)
    n_items = len(split_items)
    position = np.searchsorted(split_items, c_item)  # row of each candidate in ``need``
    c_f, c_p = split_f[position], split_p[position]
    c_need = need[position]  # (C, D)
    x_index = n_c + np.arange(n_c * n_d).reshape(n_c, n_d)
    n_vars = n_c + n_c * n_d
    value = scaled.travel_s[c_s, c_f] / scaled.penalty_unit - scaled.weight[c_f]
    objective = np.concatenate([np.zeros(n_c), np.repeat(value, n_d)])
    lower = np.zeros(n_vars)
    upper = np.concatenate([np.ones(n_c), c_need.ravel()])
    # Rows: (1) one supplier per item, (2) x[c, d] - need * y[c] <= 0, (3) residual capacity.
    r2 = n_items + np.arange(n_c * n_d)
    sp_key, sp_row = np.unique(c_s * n_p + c_p, return_inverse=True)
    r3 = n_items + n_c * n_d + sp_row[:, None] * n_d + np.arange(n_d)[None, :]
    n_rows = n_items + n_c * n_d + len(sp_key) * n_d
    matrix = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_c), np.ones(n_c * n_d), -c_need.ravel(), np.ones(n_c * n_d)]),
            (
                np.concatenate([position, r2, r2, r3.ravel()]),
                np.concatenate(
                    [
                        np.arange(n_c),
                        x_index.ravel(),
                        np.repeat(np.arange(n_c), n_d),
                        x_index.ravel(),
                    ]
                ),
            ),
        ),
        shape=(n_rows, n_vars),
    )
    sp_s, sp_p = sp_key // n_p, sp_key % n_p
    row_lower = np.concatenate(
        [np.ones(n_items), np.full(n_c * n_d, -np.inf), np.full(len(sp_key) * n_d, -np.inf)]
    )
    row_upper = np.concatenate(
        [np.ones(n_items), np.zeros(n_c * n_d), np.maximum(residual[sp_s, sp_p, :], 0).ravel()]
    )
    # Any: the stub's ndarray annotations in ortools 9.15 are malformed for mypy.
    model: Any = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(lower, upper, objective, row_lower, row_upper, matrix)
    for var in range(n_c):
        model.set_var_integrality(var, True)
    solver = mbh.ModelSolverHelper("scip")
    solver.set_time_limit_in_seconds(float(options.single_sourcing_time_limit_s))
    solver.solve(model)
    if not solver.has_solution():
        return None
    y = np.asarray(solver.variable_values())[:n_c]
    # One candidate per item is (numerically) 1: take the largest per item.
    order = np.lexsort((-y, position))
    first = np.ones(n_c, bool)
    first[1:] = position[order][1:] != position[order][:-1]
    picked = np.empty(n_items, np.int64)
    picked[position[order][first]] = c_s[order][first]
    return picked


# --------------------------------------------------------------------------------------------
# Fairness (GLOP)
# --------------------------------------------------------------------------------------------


def _solve_fairness(scaled: _Scaled, options: AllocationOptions) -> _Solution:
    """Minimise the largest unmet share, then weighted unmet demand, then transport.

    Stage 1, the largest share, is an LP (GLOP): the networks' own flow LP with one share row
    per facility-day, built from the arc arrays in one sparse matrix (node balance rows from the
    arcs' tails and heads, share rows from the unmet arcs), not variable by variable. Only
    facility-days that some supplier can serve count in the largest share; those with no usable
    supplier are unmet whatever the plan does and would pin the share at 1.

    The rest is exact, in integer quanta like every other mode: a largest share ``z`` caps each
    such unmet arc at ``floor(z x demand)``, so the smallest ``z`` whose networks stay feasible
    (found by bisection from the LP's value, each step a max flow per network) is the best
    largest share a plan in quanta can have; the networks with those caps are then solved by the
    min-cost flow, whose objective puts weighted unmet demand before transport. (GLOP's later
    stages, as first written, left flows a few millionths of a quantum over some capacities and
    took 20 s on 3,000 facilities x 30 suppliers.)
    """
    n_f, n_d = scaled.demand_q.shape
    # GLOP gave up (not optimal, in a fraction of a second) on supplies many orders above the
    # demand, such as an "unlimited" supplier of 1e15 m³. No supplier can send more than the
    # whole demand, so the networks get capacities capped at it (the same optimum); explanations
    # use the real ones.
    scaled = dataclasses.replace(
        scaled, capacity_q=np.minimum(scaled.capacity_q, int(scaled.demand_q.sum()))
    )
    networks = _build_networks(scaled, scaled.usable, options.carry_over)
    arcs = _concat_transport([_TransportArcs(s=n.t_s, f=n.t_f, p=n.t_p, d=n.t_d) for n in networks])
    # Arcs that can carry something: the supplier has capacity that day, the facility may receive
    # the product (a receiving limit of 0 made a facility "servable" that no plan can serve, and
    # pinned the largest share at 1).
    live = (scaled.capacity_q[arcs.s, arcs.p, arcs.d] > 0) & (scaled.limit_q[arcs.f, arcs.p] > 0)
    arcs = _TransportArcs(s=arcs.s[live], f=arcs.f[live], p=arcs.p[live], d=arcs.d[live])
    serveable = np.zeros((n_f, n_d), bool)
    if options.carry_over:
        first_day = np.full(n_f, n_d)
        np.minimum.at(first_day, arcs.f, arcs.d)
        serveable = np.arange(n_d)[None, :] >= first_day[:, None]
    else:
        serveable[arcs.f, arcs.d] = True
    # Per network: the unmet arcs the share counts (positions) and their demands.
    shared = [serveable[n.u_f, n.u_d] for n in networks]
    share_arcs = [n.first_unmet + np.nonzero(m)[0] for n, m in zip(networks, shared, strict=True)]
    share_demand = [scaled.demand_q[n.u_f, n.u_d][m] for n, m in zip(networks, shared, strict=True)]
    z_lp = _largest_share_lp(networks, share_arcs, share_demand, options)
    z = _smallest_integral_share(networks, share_arcs, share_demand, z_lp)
    capped = []
    for network, arcs_at, demand in zip(networks, share_arcs, share_demand, strict=True):
        caps = network.caps.copy()
        caps[arcs_at] = _share_caps(demand, z)
        capped.append(dataclasses.replace(network, caps=caps))
    return _solution_from_parts(n_f, n_d, (_solve_part(n) for n in capped))


def _share_caps(demand: npt.NDArray[np.int64], z: float) -> npt.NDArray[np.int64]:
    """Return the most unmet quanta a largest share ``z`` allows for each demand."""
    caps: npt.NDArray[np.int64] = np.minimum(
        np.floor(z * demand.astype(np.float64) + 1e-9).astype(np.int64), demand
    )
    return caps


_SHARE_BISECTIONS = 60
# Steps of the bisection on the largest share: the interval shrinks to 1e-18 at most, and the
# search stops sooner once it is below 1e-12 (two shares of facilities' demands in quanta closer
# than that are not told apart).


def _smallest_integral_share(
    networks: list[_Network],
    share_arcs: list[npt.NDArray[np.int64]],
    share_demand: list[npt.NDArray[np.int64]],
    z_lp: float,
) -> float:
    """Find the smallest largest share all networks can meet with unmet arcs in whole quanta.

    The LP's share is a lower bound (up to its tolerance); a share of 1 is always feasible (the
    unmet arcs keep the whole demand). Feasibility is monotone in the share, so it is bisected;
    each step is one max flow per network from a super source on the supplies to a super sink on
    the demands, with the unmet arcs' capacities reset.
    """
    flows = []
    for network in networks:
        n_nodes = len(network.supplies)
        source, sink = n_nodes, n_nodes + 1
        give = np.nonzero(network.supplies > 0)[0]
        take = np.nonzero(network.supplies < 0)[0]
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(
            np.concatenate([network.tails, np.full(len(give), source), take]),
            np.concatenate([network.heads, give, np.full(len(take), sink)]),
            np.concatenate([network.caps, network.supplies[give], -network.supplies[take]]),
        )
        flows.append((solver, source, sink, int(network.supplies[give].sum())))

    def feasible(z: float) -> bool:
        for (solver, source, sink, total), arcs, demand in zip(
            flows, share_arcs, share_demand, strict=True
        ):
            solver.set_arcs_capacity(arcs, _share_caps(demand, z))
            if solver.solve(source, sink) != solver.OPTIMAL or solver.optimal_flow() < total:
                return False
        return True

    z_lp = min(1.0, max(0.0, z_lp))
    probe = max(0.0, z_lp - 1e-6)  # GLOP's tolerance
    if feasible(probe):
        low, high = 0.0, probe  # the LP's value was high: search below it
    else:
        smallest = min((int(d.min()) for d in share_demand if len(d)), default=1)
        low, high = probe, min(1.0, z_lp + 1.0 / max(1, smallest) + 1e-9)
        if high < 1.0 and not feasible(high):
            low, high = high, 1.0
    for _ in range(_SHARE_BISECTIONS):
        if high - low <= 1e-12:
            break
        middle = (low + high) / 2
        if feasible(middle):
            high = middle
        else:
            low = middle
    return high


def _largest_share_lp(
    networks: list[_Network],
    share_arcs: list[npt.NDArray[np.int64]],
    share_demand: list[npt.NDArray[np.int64]],
    options: AllocationOptions,
) -> float:
    """Solve the LP of the smallest largest unmet share (GLOP) over the networks' flows.

    ``share_arcs`` and ``share_demand``: per network, the unmet arcs the share counts and their
    demands.
    """
    tails = np.concatenate(
        [n.tails + off for n, off in zip(networks, _offsets(networks, "supplies"), strict=True)]
    )
    heads = np.concatenate(
        [n.heads + off for n, off in zip(networks, _offsets(networks, "supplies"), strict=True)]
    )
    # GLOP works in floats with absolute tolerances: quantities are given to it in units of
    # ``unit`` quanta, a power of ten that keeps them below 10^7 (a facility asking for 2e9 m³ a
    # day made GLOP report the always-feasible LP infeasible).
    caps = np.concatenate([n.caps for n in networks]).astype(np.float64)
    supplies = np.concatenate([n.supplies for n in networks]).astype(np.float64)
    largest = float(np.abs(supplies).max(initial=1.0))
    unit = 10.0 ** max(0, math.ceil(math.log10(largest)) - 7)
    caps /= unit
    supplies /= unit
    n_arcs, n_nodes = len(tails), len(supplies)
    rows_arcs = np.concatenate(
        [off + a for a, off in zip(share_arcs, _offsets(networks, "tails"), strict=True)]
    )
    rows_demand = np.concatenate(share_demand).astype(np.float64) / unit
    z = n_arcs  # the largest unmet share is the last variable
    n_share = len(rows_arcs)
    balance = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)]),
            (np.concatenate([tails, heads]), np.concatenate([np.arange(n_arcs)] * 2)),
        ),
        shape=(n_nodes, n_arcs + 1),
    )
    # Each share row reads unmet / demand - z <= 0 (divided by the demand, so that a facility
    # with a huge demand does not put coefficients 10 orders apart in one LP: GLOP gave up).
    share = sp.csr_matrix(
        (
            np.concatenate([1.0 / rows_demand, -np.ones(n_share)]),
            (
                np.concatenate([np.arange(n_share)] * 2),
                np.concatenate([rows_arcs, np.full(n_share, z)]),
            ),
        ),
        shape=(n_share, n_arcs + 1),
    )
    objective = np.zeros(n_arcs + 1)
    objective[z] = 1.0
    model: Any = mbh.ModelBuilderHelper()  # Any: see _solve_split_mip
    model.fill_model_from_sparse_data(
        np.zeros(n_arcs + 1),
        np.concatenate([caps, [1.0]]),
        objective,
        np.concatenate([supplies, np.full(n_share, -np.inf)]),
        np.concatenate([supplies, np.zeros(n_share)]),
        sp.vstack([balance, share], format="csr"),
    )
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(options.time_limit_s)
    solver.solve(model)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        raise SolverTimeoutError(
            f"fairness LP: no optimal largest unmet share within time_limit_s="
            f"{options.time_limit_s} (GLOP status {solver.status().name}); raise the limit or "
            "drop fairness mode"
        )
    return float(np.asarray(solver.variable_values(), np.float64)[z])


def _offsets(networks: list[_Network], field: str) -> list[int]:
    """Start of each network's nodes (``"supplies"``) or arcs (``"tails"``) when concatenated."""
    sizes = [len(getattr(n, field)) for n in networks]
    return [int(v) for v in np.concatenate([[0], np.cumsum(sizes)[:-1]])]


# --------------------------------------------------------------------------------------------
# Reading the plan back
# --------------------------------------------------------------------------------------------


def _build_plan(
    facility_ids: list[str],
    scaled: _Scaled,
    solution: _Solution,
    lower_bound: float,
    solver: str,
    options: AllocationOptions,
    make_flows: _FlowMaker,
    start_date: date | None,
    started: float,
) -> AllocationPlan:
    resolution = options.quantity_resolution_m3
    arcs = solution.arcs
    n_f, n_p = scaled.accepted.shape
    n_d = scaled.demand_q.shape[1]
    flows = solution.flows
    if flows is None:
        flows = make_flows(arcs, solution.transport_q)
    positive = make_flows.positive(solution.transport_q)
    quantity_m3 = make_flows.quantities_m3(solution.transport_q[positive])
    transport_m3_s = float(quantity_m3 @ scaled.travel_s[arcs.s[positive], arcs.f[positive]])
    delivered_m3 = float(quantity_m3.sum())

    received = np.zeros((n_f, n_p, n_d))
    np.add.at(received, (arcs.f, arcs.p, arcs.d), solution.transport_q)
    unmet_entries: list[UnmetDemand] = []
    by_reason: dict[UnmetReason, float] = {}
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
    unique_f, row = np.unique(np.asarray(f_indices, np.int64), return_inverse=True)
    offered_today = scaled.capacity_q > 0  # (S, P, D)
    usable = scaled.usable[:, unique_f, :]  # (S, U, P)
    live = usable[:, :, :, None] & offered_today[:, None, :, :]  # (S, U, P, D)
    n_suppliers = live.any(axis=2).sum(axis=0)  # (U, D)
    capacity = np.einsum("sup,spd->ud", usable.astype(np.int64), scaled.capacity_q)
    products = np.asarray(live.any(axis=0))  # (U, P, D)
    return [(n_suppliers[r], capacity[r], products[r]) for r in row.tolist()]


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
