"""Validate an allocation's arrays and scale them to the solver's integer quanta.

The named scaling step of :mod:`matcher.allocation`: m³ become integer quanta of
``options.quantity_resolution_m3``, demand rounded up, capacities and limits down (never promise
gas that is not there). Every problem of a group of checks is listed at once; quantities whose
quanta or costs would leave the exact range of 64-bit integers are refused, not wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from data.schema.allocation import (
    PRODUCTS,
    UNREACHABLE_S,
    AllocationOptions,
    AllocationProblem,
    UnmetReason,
    validate_travel_time_matrix,
)
from matcher.objective import (
    days_per_network,
    largest_usable_travel_s,
    penalty_unit,
    unmet_cost,
)

INT64_SAFE = 2**62
# OR-Tools' cost scaling multiplies unit costs by (number of nodes + 1); stay well inside int64.


@dataclass(frozen=True, slots=True)
class Scaled:
    """Validated problem data in solver quanta (private to the allocation)."""

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
class _Arrays:
    """The matrix core's arrays, defaults filled in, shapes checked (still in m³)."""

    travel: npt.NDArray[Any]  # (S, F)
    capacity: npt.NDArray[np.float64]  # (S, P, D)
    demand: npt.NDArray[np.float64]  # (F, D)
    accepted: npt.NDArray[np.bool_]  # (F, P)
    limit: npt.NDArray[np.float64]  # (F, P)
    weight: npt.NDArray[Any]  # (F,)


def quanta(
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


def scale_and_validate(
    supplier_ids: list[str],
    facility_ids: list[str],
    travel_time_s: npt.NDArray[Any],
    capacity_m3: npt.NDArray[Any],
    demand_m3: npt.NDArray[Any],
    accepted: npt.NDArray[Any] | None,
    receiving_limit_m3: npt.NDArray[Any] | None,
    priority: npt.NDArray[Any] | None,
    options: AllocationOptions,
) -> Scaled:
    """Validate the matrix core's input and return it in quanta, with what is usable and why not.

    Raises
    ------
    InvalidInputError
        Listing every problem of the first group that has any: shapes (and the travel-time
        matrix), then quantities and priorities, then quantities too many quanta for int64, then
        penalties too large for exact integer solving.
    """
    arrays = _arrays_of_shape(
        supplier_ids,
        facility_ids,
        travel_time_s,
        capacity_m3,
        demand_m3,
        accepted,
        receiving_limit_m3,
        priority,
    )
    problems = _quantity_problems(arrays, supplier_ids, facility_ids)
    if problems:
        raise InvalidInputError.from_problems("allocation arrays", problems)
    demand_q, capacity_q, limit_q = _scaled_quantities(
        arrays, supplier_ids, facility_ids, options.quantity_resolution_m3
    )
    travel = arrays.travel.astype(np.int64)
    usable, reasons = _usable_and_reasons(
        travel, capacity_q, arrays.accepted, options.max_delivery_time_s
    )
    n_s, n_f, n_p = usable.shape
    n_d = demand_q.shape[1]
    days = days_per_network(n_d, carry_over=options.carry_over)
    unit = penalty_unit(
        n_suppliers=n_s,
        n_products=n_p,
        days_per_network=days,
        max_travel_s=largest_usable_travel_s(travel, usable),
    )
    n_nodes = 2 + n_s * n_p * n_d + n_f * n_d * (1 + 2 * n_p)
    largest_cost = unmet_cost(int(arrays.weight.max(initial=1)), unit)
    total_demand_q = int(demand_q.sum())
    if largest_cost * (n_nodes + 1) >= INT64_SAFE or largest_cost * total_demand_q >= INT64_SAFE:
        demand = arrays.demand
        f_big, d_big = (int(i) for i in np.unravel_index(np.argmax(demand), demand.shape))
        raise InvalidInputError(
            f"allocation: numbers too large for exact integer solving (penalty per quantum "
            f"{largest_cost}, {total_demand_q} quanta of demand, the largest "
            f"{float(demand[f_big, d_big])!r} m³ for facility {facility_ids[f_big]!r} on day "
            f"{d_big}; {n_nodes} nodes); use a coarser quantity_resolution_m3, realistic demand, "
            "fewer priority levels or a shorter max_delivery_time_s"
        )
    return Scaled(
        travel_s=travel,
        capacity_q=capacity_q,
        demand_q=demand_q,
        limit_q=limit_q,
        accepted=arrays.accepted,
        usable=usable,
        weight=arrays.weight.astype(np.int64),
        penalty_unit=unit,
        reasons=reasons,
    )


def _arrays_of_shape(
    supplier_ids: list[str],
    facility_ids: list[str],
    travel_time_s: npt.NDArray[Any],
    capacity_m3: npt.NDArray[Any],
    demand_m3: npt.NDArray[Any],
    accepted: npt.NDArray[Any] | None,
    receiving_limit_m3: npt.NDArray[Any] | None,
    priority: npt.NDArray[Any] | None,
) -> _Arrays:
    """Fill in the defaults and check every shape (and the travel-time matrix); raise once."""
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
    return _Arrays(travel, capacity, demand, accepted_arr, limit_arr, weight)


def _quantity_problems(
    arrays: _Arrays, supplier_ids: list[str], facility_ids: list[str]
) -> list[str]:
    """List the NaN, negative or (except limits) infinite quantities and bad priorities."""
    problems: list[str] = []
    for name, array, ids, allow_inf in (
        ("capacity_m3", arrays.capacity, supplier_ids, False),
        ("demand_m3", arrays.demand, facility_ids, False),
        ("receiving_limit_m3", arrays.limit, facility_ids, True),
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
    weight = arrays.weight
    if not np.issubdtype(weight.dtype, np.integer) or (weight < 1).any():
        problems.append(f"priority: must be integers >= 1, got {weight[:10].tolist()}")
    return problems


def _scaled_quantities(
    arrays: _Arrays, supplier_ids: list[str], facility_ids: list[str], resolution: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return demand, capacity and receiving limits in integer quanta (named scaling step).

    Demand up, capacity and limits down (never promise gas that is not there); the tolerance
    absorbs binary noise such as 0.3 / 0.1. Quanta are counted in floats first: a huge quantity
    or a tiny resolution must be refused here, not wrapped around by the cast to int64 (it gave
    a plan with no demand).
    """
    demand_quanta = quanta(arrays.demand, resolution, round_up=True)
    capacity_quanta = quanta(arrays.capacity, resolution, round_up=False)
    limit_quanta = quanta(arrays.limit, resolution, round_up=False)
    problems: list[str] = []
    with np.errstate(over="ignore"):
        for name, array, counted, ids in (
            ("demand_m3", arrays.demand, demand_quanta, facility_ids),
            ("capacity_m3", arrays.capacity, capacity_quanta, supplier_ids),
        ):
            if float(counted.sum()) < INT64_SAFE:
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
    # No facility receives more than the total demand, so that caps "no limit" and huge limits.
    limit_q = np.minimum(limit_quanta, int(demand_q.sum())).astype(np.int64)
    return demand_q, capacity_q, limit_q


def _usable_and_reasons(
    travel: npt.NDArray[np.int64],
    capacity_q: npt.NDArray[np.int64],
    accepted: npt.NDArray[np.bool_],
    max_delivery_time_s: int | None,
) -> tuple[npt.NDArray[np.bool_], tuple[UnmetReason | None, ...]]:
    """Return the (S, F, P) usable mask and each facility's structural reason (None: usable)."""
    offered = capacity_q.sum(axis=2) > 0  # (S, P)
    compatible = accepted[None, :, :] & offered[:, None, :]  # (S, F, P)
    reachable = compatible & (travel != UNREACHABLE_S)[:, :, None]
    usable = reachable
    if max_delivery_time_s is not None:
        usable = reachable & (travel <= max_delivery_time_s)[:, :, None]
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
    return usable, tuple(structural[c] for c in code.tolist())


def problem_size_problems(
    problem: AllocationProblem,
    capacity_m3: npt.NDArray[np.float64],
    demand_m3: npt.NDArray[np.float64],
    weights: list[int],
) -> list[str]:
    """List priorities and quantities too large for integer quanta, by the problem's own fields.

    The typed adapter's check (the matrix core names its arrays instead).
    """
    too_large = [
        f"facilities[{f.facility_id!r}].priority: {weight} (from priority, or tier and "
        "critical_share) is too large for exact integer solving; use a priority below "
        f"{INT64_SAFE}"
        for f, weight in zip(problem.facilities, weights, strict=True)
        if weight >= INT64_SAFE
    ]
    resolution = problem.options.quantity_resolution_m3
    with np.errstate(over="ignore"):  # sums of huge quantities are inf: refused below
        too_many_demand = quanta(demand_m3, resolution, round_up=True).sum() >= INT64_SAFE
        too_many_capacity = quanta(capacity_m3, resolution, round_up=False).sum() >= INT64_SAFE
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
    return too_large
