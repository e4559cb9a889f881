"""Allocate oxygen supply to facilities over a horizon (OR-Tools stays behind this entry).

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

Pieces (private modules): ``_scaling`` (validation, quanta), ``_networks`` (the day and horizon
networks), ``_solving`` (min-cost flows, worker processes), ``_single_sourcing`` and
``_source_choice`` (relaxation, choice of sources, split MIP, local search), ``_fairness`` (LP and
bisection), ``_flows`` and ``_plan_output`` (the plan and its explanations). Typed problems go in
and typed plans come out; solver indices and callbacks stay inside.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from data.schema.allocation import (
    PRODUCTS,
    UNREACHABLE_S,
    AllocationOptions,
    AllocationPlan,
    AllocationProblem,
)
from data.units import OxygenConversions
from matcher._fairness import solve_fairness
from matcher._flows import FlowMaker
from matcher._plan_output import build_plan
from matcher._scaling import INT64_SAFE, Scaled, problem_size_problems, scale_and_validate
from matcher._single_sourcing import solve_single_sourcing
from matcher._solving import Solution, solve_network

MatrixProvider = Callable[[Sequence[tuple[float, float]], Sequence[tuple[float, float]]], Any]
"""``matrix_provider(origins_lonlat, destinations_lonlat)``: travel seconds, origins x destinations.

Entries may be integers, ``None``, ``inf`` or ``-1`` for "no road path".
"""


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
    capacity_m3, demand_m3, accepted, limits, weights = _problem_arrays(problem)
    too_large = problem_size_problems(problem, capacity_m3, demand_m3, weights)
    if too_large:
        raise InvalidInputError.from_problems("allocation problem", too_large)
    return allocate_supply_matrix(
        [s.supplier_id for s in problem.suppliers],
        [f.facility_id for f in problem.facilities],
        travel_s,
        capacity_m3,
        demand_m3,
        accepted=accepted,
        receiving_limit_m3=limits,
        priority=np.array(weights, dtype=np.int64),
        options=problem.options,
        conversions=conversions,
        cylinder_size=cylinder_size,
        start_date=problem.start_date,
    )


def _problem_arrays(
    problem: AllocationProblem,
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.bool_],
    npt.NDArray[np.float64],
    list[int],
]:
    """Return the matrix core's capacity, demand, accepted and limit arrays, and the priorities."""
    n_s, n_f = len(problem.suppliers), len(problem.facilities)
    horizon = problem.horizon_days
    capacity_m3 = np.zeros((n_s, len(PRODUCTS), horizon))
    for s_idx, supplier in enumerate(problem.suppliers):
        for capacity in supplier.capacities:
            capacity_m3[s_idx, PRODUCTS.index(capacity.product)] = capacity.capacity_m3_per_day
    demand_m3 = np.array(
        [f.demand_m3_per_day for f in problem.facilities], dtype=np.float64
    ).reshape(n_f, horizon)
    accepted = np.array(
        [[p in f.accepted_products for p in PRODUCTS] for f in problem.facilities], dtype=bool
    ).reshape(n_f, len(PRODUCTS))
    limits = np.array(
        [[f.receiving_limit_m3(p) for p in PRODUCTS] for f in problem.facilities], dtype=float
    ).reshape(n_f, len(PRODUCTS))
    weights = [f.effective_priority for f in problem.facilities]
    return capacity_m3, demand_m3, accepted, limits, weights


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
    scaled = scale_and_validate(
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
    make_flows = FlowMaker(
        supplier_ids=list(supplier_ids),
        facility_ids=list(facility_ids),
        travel_s=scaled.travel_s,
        resolution_m3=options.quantity_resolution_m3,
        conversions=conversions,
        cylinder_size=cylinder_size,
    )
    solution, lower_bound, solver = _solve(scaled, options, make_flows)
    return build_plan(
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


def _solve(
    scaled: Scaled, options: AllocationOptions, make_flows: FlowMaker
) -> tuple[Solution, float, str]:
    """Solve in the mode the options ask for; return the solution, its lower bound, the solver."""
    if options.fairness:
        solution = solve_fairness(scaled, options)
        return solution, solution.objective, "glop_fairness"
    if options.single_sourcing:
        solution, lower_bound = solve_single_sourcing(scaled, options, make_flows)
        return solution, lower_bound, "min_cost_flow+single_sourcing"
    solution = solve_network(scaled, options, scaled.usable, make_flows)
    return solution, solution.objective, "min_cost_flow"


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
    for s_idx, f_idx in np.argwhere(~unreachable & (values >= INT64_SAFE))[:10]:
        problems.append(
            f"travel_time_s[{s_idx}][{f_idx}]: {float(values[s_idx, f_idx])!r} seconds is too "
            f"large (below {INT64_SAFE}); give seconds, or null for unreachable"
        )
    if problems:
        raise InvalidInputError.from_problems("travel-time matrix", problems)
    matrix = np.where(unreachable, UNREACHABLE_S, np.rint(np.where(unreachable, 0, values)))
    return matrix.astype(np.int64)
