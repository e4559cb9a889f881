"""Value types of the allocation problem and of its answer, the allocation plan.

Conventions: gas volumes are m³ at normal conditions (suffix ``_m3``), times are integer seconds
(suffix ``_s``), days are 0-based offsets from the problem's ``start_date`` (day 0 = the first day
of the horizon). Coordinates are WGS84 ``(lon, lat)``. Every record is a frozen dataclass that
validates itself on construction and raises :class:`~data.errors.InvalidInputError` listing every
problem it found. Variants of a problem are new instances made with
:meth:`AllocationProblem.replace`.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError

UNREACHABLE_S = -1
"""Travel-time matrix entry for "no road path" (the matrix is int64; ``None``/``inf`` map to it)."""


class Product(StrEnum):
    """A form in which oxygen is delivered.

    ``bulk_liquid`` goes by cryogenic tanker into a facility's tank (VIE); ``cylinder`` goes as
    filled cylinders. Quantities of both are counted in m³ of gas; the plan also states them in
    tonnes of liquid or in cylinders (see :class:`Flow`).
    """

    BULK_LIQUID = "bulk_liquid"
    CYLINDER = "cylinder"


PRODUCTS: tuple[Product, ...] = tuple(Product)
"""Products in matrix order (axis ``p`` of every ``(…, P, …)`` array)."""


class UnmetReason(StrEnum):
    """Why part of a facility's demand on a day is not served.

    - ``no_compatible_product``: no supplier offers any product the facility accepts.
    - ``unreachable``: compatible suppliers exist but none has a road path to the facility.
    - ``beyond_max_delivery_time``: compatible suppliers are reachable, all beyond the maximum
      delivery time.
    - ``no_capacity_left``: suppliers within reach were used up (or the facility's receiving limit
      was reached); more supply there, or a larger limit, would serve it.
    """

    NO_CAPACITY_LEFT = "no_capacity_left"
    UNREACHABLE = "unreachable"
    NO_COMPATIBLE_PRODUCT = "no_compatible_product"
    BEYOND_MAX_DELIVERY_TIME = "beyond_max_delivery_time"


def default_priority(tier: int, critical_share: float) -> int:
    """Return the default priority weight of a facility: ``10 * tier + round(10 * critical_share)``.

    Tier dominates (tier 3 ICUs first), and within a tier the share of critical patients
    (invasive ventilation, ECMO) raises the weight by up to 10. Unmet demand is penalised in
    proportion to this weight, so higher weights are served first.

    Parameters
    ----------
    tier
        Treatment tier of the facility (1, 2, 3 in the Vietnamese 3-tier model; more allowed).
    critical_share
        Share (0 to 1) of the facility's oxygen patients who are critical.
    """
    return 10 * tier + round(10 * critical_share)


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def _check_quantities(name: str, values: tuple[float, ...], problems: list[str]) -> None:
    for day, value in enumerate(values):
        if not _is_number(value) or value < 0:
            problems.append(
                f"{name}[{day}]: must be a finite number >= 0 (m³), got {value!r}; "
                "fix the value or drop the entry"
            )


@dataclass(frozen=True, slots=True)
class SupplierCapacity:
    """How much of one product a supplier can dispatch on each day of the horizon.

    Parameters
    ----------
    product
        The product.
    capacity_m3_per_day
        Gas m³ the supplier can dispatch on each day (one entry per horizon day, >= 0). Capacity
        not used on a day is not carried to the next (it is a daily dispatch capacity).
    """

    product: Product
    capacity_m3_per_day: tuple[float, ...]

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.product, Product):
            problems.append(f"product: unknown product {self.product!r}; use one of {_names()}")
        _check_quantities("capacity_m3_per_day", self.capacity_m3_per_day, problems)
        if problems:
            raise InvalidInputError.from_problems("supplier capacity", problems)


@dataclass(frozen=True, slots=True)
class Supplier:
    """A producer (bulk liquid) or filling station (cylinders) with daily capacities.

    Parameters
    ----------
    supplier_id
        Stable business id (non-empty).
    capacities
        One entry per product offered, at most one per product.
    name
        Display name.
    lonlat
        WGS84 position ``(lon, lat)``; needed only when travel times come from a matrix provider.
    """

    supplier_id: str
    capacities: tuple[SupplierCapacity, ...]
    name: str = ""
    lonlat: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.supplier_id, str) or not self.supplier_id:
            problems.append(f"supplier_id: must be a non-empty string, got {self.supplier_id!r}")
        products = [capacity.product for capacity in self.capacities]
        if len(set(products)) != len(products):
            problems.append(
                f"capacities: product listed twice in {[str(p) for p in products]}; "
                "merge the entries"
            )
        _check_lonlat(self.lonlat, problems)
        if problems:
            raise InvalidInputError.from_problems(f"supplier {self.supplier_id!r}", problems)

    def capacity_m3(self, product: Product, day: int) -> float:
        """Return the capacity of ``product`` on ``day`` (0 when the product is not offered)."""
        for capacity in self.capacities:
            if capacity.product == product:
                return capacity.capacity_m3_per_day[day]
        return 0.0


@dataclass(frozen=True, slots=True)
class FacilityDemand:
    """A facility's oxygen demand over the horizon and what it can receive.

    Parameters
    ----------
    facility_id
        Stable business id (non-empty), e.g. a facility code.
    demand_m3_per_day
        Gas m³ to deliver on each day of the horizon (>= 0), typically the net requirement
        computed by :func:`matcher.shortfall.compute_shortfalls`.
    accepted_products
        Products the facility can receive: ``bulk_liquid`` only with a tank.
    receiving_limit_m3_per_day
        ``(product, m³)`` pairs: the most the facility can receive of that product on one day, and
        keep overnight when carry-over is on (tank size, cylinder storage). A product not listed
        has no limit.
    tier
        Treatment tier (1, 2, 3, …), used by the default priority.
    critical_share
        Share (0 to 1) of oxygen patients who are critical, used by the default priority.
    priority
        Priority weight (integer >= 1) overriding :func:`default_priority`; higher is served first.
    lonlat
        WGS84 position ``(lon, lat)``; needed only with a matrix provider.
    estimated
        True when the demand is an estimate from beds and tier, not from reports.
    """

    facility_id: str
    demand_m3_per_day: tuple[float, ...]
    accepted_products: frozenset[Product]
    receiving_limit_m3_per_day: tuple[tuple[Product, float], ...] = ()
    tier: int = 2
    critical_share: float = 0.0
    priority: int | None = None
    lonlat: tuple[float, float] | None = None
    estimated: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.facility_id, str) or not self.facility_id:
            problems.append(f"facility_id: must be a non-empty string, got {self.facility_id!r}")
        _check_quantities("demand_m3_per_day", self.demand_m3_per_day, problems)
        for product in self.accepted_products:
            if not isinstance(product, Product):
                problems.append(
                    f"accepted_products: unknown product {product!r}; use one of {_names()}"
                )
        for product, limit_m3 in self.receiving_limit_m3_per_day:
            if not isinstance(product, Product):
                problems.append(
                    f"receiving_limit_m3_per_day: unknown product {product!r}; "
                    f"use one of {_names()}"
                )
            if not _is_number(limit_m3) or limit_m3 < 0:
                problems.append(
                    f"receiving_limit_m3_per_day[{product!s}]: must be a finite number >= 0 (m³), "
                    f"got {limit_m3!r}; omit the product for no limit"
                )
        if not isinstance(self.tier, int) or isinstance(self.tier, bool) or self.tier < 1:
            problems.append(f"tier: must be an integer >= 1, got {self.tier!r}")
        if not _is_number(self.critical_share) or not 0 <= self.critical_share <= 1:
            problems.append(f"critical_share: must be between 0 and 1, got {self.critical_share!r}")
        if self.priority is not None and (
            not isinstance(self.priority, int)
            or isinstance(self.priority, bool)
            or self.priority < 1
        ):
            problems.append(f"priority: must be an integer >= 1 or absent, got {self.priority!r}")
        _check_lonlat(self.lonlat, problems)
        if not isinstance(self.estimated, bool):
            problems.append(f"estimated: must be true or false, got {self.estimated!r}")
        if problems:
            raise InvalidInputError.from_problems(f"facility {self.facility_id!r}", problems)

    @property
    def effective_priority(self) -> int:
        """The priority weight used by the solver: ``priority`` or :func:`default_priority`."""
        if self.priority is not None:
            return self.priority
        return max(1, default_priority(self.tier, self.critical_share))

    def receiving_limit_m3(self, product: Product) -> float:
        """Return the daily receiving limit of ``product`` in m³ (``inf`` when unlimited)."""
        for limit_product, limit_m3 in self.receiving_limit_m3_per_day:
            if limit_product == product:
                return limit_m3
        return math.inf


@dataclass(frozen=True, slots=True)
class AllocationOptions:
    """Solver settings of an allocation (all optional, all validated).

    Parameters
    ----------
    max_delivery_time_s
        Longest travel time a delivery may take (seconds); ``None`` = no limit.
    fairness
        Minimise the largest unmet share of any facility-day first (LP, GLOP), then the usual
        priority-weighted objective under that bound.
    single_sourcing
        Each facility receives each product from one supplier: over the whole horizon (scope
        ``"horizon"``, the default) or on each day (scope ``"day"``).
    single_sourcing_scope
        ``"horizon"`` (default: one supplier per facility and product for all days) or ``"day"``
        (one supplier per facility, product and day; the supplier may change between days).
    carry_over
        Let a facility receive ahead of need and hold stock overnight up to its receiving limit.
        Couples the days into one larger network (slower).
    quantity_resolution_m3
        Integer quantum of the solver (default 0.1 m³, from 0.000001 to 1000): demands round up
        to it, capacities and limits round down, so the plan never promises more than exists.
    time_limit_s
        Time limit of the LP solver in fairness mode (the network solver has none: it is exact
        and fast).
    single_sourcing_time_limit_s
        Time limit (default 10 s) of each day's small MIP that decides, in single-sourcing mode,
        the items the daily relaxation splits between suppliers (scope ``"day"``); without an
        answer in time they are placed greedily as in scope ``"horizon"``. The plan's
        ``lower_bound`` and gap say how good the result is either way.
    workers
        Processes that solve independent days at the same time (default 1): the daily networks
        and, with single sourcing per day, each day's relaxation, assignment and re-solve. The
        plan is the same for any value; more than 1 helps only with free CPU cores.
    """

    max_delivery_time_s: int | None = None
    fairness: bool = False
    single_sourcing: bool = False
    carry_over: bool = False
    quantity_resolution_m3: float = 0.1
    time_limit_s: float = 60.0
    single_sourcing_scope: str = "horizon"
    single_sourcing_time_limit_s: float = 10.0
    workers: int = 1

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.max_delivery_time_s is not None and (
            not isinstance(self.max_delivery_time_s, int)
            or isinstance(self.max_delivery_time_s, bool)
            or self.max_delivery_time_s < 0
        ):
            problems.append(
                "max_delivery_time_s: must be an integer number of seconds >= 0 or null, "
                f"got {self.max_delivery_time_s!r}"
            )
        for name in ("fairness", "single_sourcing", "carry_over"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name}: must be true or false, got {getattr(self, name)!r}")
        if self.fairness and self.single_sourcing:
            problems.append(
                "fairness and single_sourcing: cannot both be on; choose one of the two modes"
            )
        if self.single_sourcing_scope not in ("horizon", "day"):
            problems.append(
                "single_sourcing_scope: must be 'horizon' or 'day', got "
                f"{self.single_sourcing_scope!r}"
            )
        if (
            not isinstance(self.workers, int)
            or isinstance(self.workers, bool)
            or not 1 <= self.workers <= 64
        ):
            problems.append(
                f"workers: must be an integer from 1 to 64 (processes), got {self.workers!r}"
            )
        for name in ("quantity_resolution_m3", "time_limit_s", "single_sourcing_time_limit_s"):
            value = getattr(self, name)
            if not _is_number(value) or value <= 0:
                problems.append(f"{name}: must be a positive finite number, got {value!r}")
        resolution = self.quantity_resolution_m3
        if _is_number(resolution) and not 1e-6 <= resolution <= 1000:
            # Coarser, and a small demand rounded to no quantum at all (the plan showed no
            # demand); finer, and quantities overflow the solver's integers or round to 0 m³.
            problems.append(
                "quantity_resolution_m3: must be from 0.000001 to 1000 m³ (default 0.1), got "
                f"{resolution!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("allocation options", problems)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AllocationOptions:
        """Build options from a mapping (JSON ``options`` object or TOML table).

        Raises
        ------
        InvalidInputError
            If a key is unknown or a value is invalid; every problem is listed.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError.from_problems(
                "allocation options",
                [
                    f"options.{key}: unknown option; known: {', '.join(sorted(known))}"
                    for key in unknown
                ],
            )
        try:
            return cls(**dict(values))
        except TypeError as error:  # pragma: no cover - guarded by the key check above
            raise InvalidInputError(f"allocation options: {error}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> AllocationOptions:
        """Load options from the ``[allocation]`` table of a TOML file (or its top level).

        Keys are the field names above; a key left out keeps its default (TOML has no null, so
        ``max_delivery_time_s`` is left out for "no limit").

        Raises
        ------
        InvalidInputError
            If the file is not valid TOML, ``allocation`` is not a table, or an option is unknown
            or invalid (every problem is listed, by option name).
        """
        try:
            content = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise InvalidInputError(f"{path}: not valid TOML ({error})") from None
        table = content.get("allocation", content)
        if not isinstance(table, Mapping):
            raise InvalidInputError(
                f"{path}: allocation: must be a table of options ([allocation]), got {table!r}"
            )
        return cls.from_mapping(table)


@dataclass(frozen=True, slots=True, eq=False)
class AllocationProblem:
    """Everything the allocation needs: suppliers, facilities, travel times and options.

    Parameters
    ----------
    suppliers
        Suppliers, in matrix row order; ids unique.
    facilities
        Facilities, in matrix column order; ids unique.
    horizon_days
        Number of days planned (every per-day tuple has this length).
    travel_time_s
        int64 array of shape ``(len(suppliers), len(facilities))``: road travel time in seconds
        from each supplier to each facility, :data:`UNREACHABLE_S` where there is no path. ``None``
        when travel times are to come from a matrix provider and the coordinates.
    options
        Solver settings.
    start_date
        Calendar date of day 0 (optional, for reports).

    Notes
    -----
    The array is copied and made read-only, so a problem can be shared safely between planners.
    """

    suppliers: tuple[Supplier, ...]
    facilities: tuple[FacilityDemand, ...]
    horizon_days: int
    travel_time_s: npt.NDArray[np.int64] | None = None
    options: AllocationOptions = field(default_factory=AllocationOptions)
    start_date: date | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.horizon_days, int) or self.horizon_days < 1:
            problems.append(f"horizon_days: must be an integer >= 1, got {self.horizon_days!r}")
            horizon = None
        else:
            horizon = self.horizon_days
        _check_unique("suppliers", [s.supplier_id for s in self.suppliers], problems)
        _check_unique("facilities", [f.facility_id for f in self.facilities], problems)
        if horizon is not None:
            for supplier in self.suppliers:
                for capacity in supplier.capacities:
                    if len(capacity.capacity_m3_per_day) != horizon:
                        problems.append(
                            f"suppliers[{supplier.supplier_id!r}].{capacity.product!s}."
                            f"capacity_m3_per_day: has {len(capacity.capacity_m3_per_day)} days, "
                            f"expected horizon_days={horizon}"
                        )
            for facility in self.facilities:
                if len(facility.demand_m3_per_day) != horizon:
                    problems.append(
                        f"facilities[{facility.facility_id!r}].demand_m3_per_day: has "
                        f"{len(facility.demand_m3_per_day)} days, expected horizon_days={horizon}"
                    )
        if self.travel_time_s is not None:
            matrix = np.array(self.travel_time_s, copy=True)
            problems.extend(
                validate_travel_time_matrix(matrix, len(self.suppliers), len(self.facilities))
            )
            if not problems:
                matrix = matrix.astype(np.int64)
                matrix.flags.writeable = False
                object.__setattr__(self, "travel_time_s", matrix)
        if problems:
            raise InvalidInputError.from_problems("allocation problem", problems)

    def replace(self, **changes: Any) -> AllocationProblem:
        """Return a copy with ``changes`` applied (a what-if scenario); the original stays."""
        return dataclasses.replace(self, **changes)


def validate_travel_time_matrix(
    matrix: npt.NDArray[Any], n_suppliers: int, n_facilities: int
) -> list[str]:
    """Return every problem of a travel-time matrix (empty list when it is valid).

    The matrix must be integer seconds of shape ``(n_suppliers, n_facilities)``, each entry
    ``>= 0`` or :data:`UNREACHABLE_S`.
    """
    problems: list[str] = []
    if matrix.shape != (n_suppliers, n_facilities):
        problems.append(
            f"travel_time_s: shape {matrix.shape}, expected ({n_suppliers}, {n_facilities}) "
            "= (suppliers, facilities); one row per supplier, one column per facility"
        )
        return problems
    if not np.issubdtype(matrix.dtype, np.integer):
        problems.append(
            f"travel_time_s: dtype {matrix.dtype}, expected integer seconds; round the times and "
            f"mark unreachable pairs with {UNREACHABLE_S}"
        )
        return problems
    bad = np.argwhere((matrix < 0) & (matrix != UNREACHABLE_S))
    for s_idx, f_idx in bad[:10]:
        problems.append(
            f"travel_time_s[{s_idx}][{f_idx}]: negative time {int(matrix[s_idx, f_idx])}; "
            f"use >= 0 seconds or {UNREACHABLE_S} (unreachable)"
        )
    if len(bad) > 10:
        problems.append(f"travel_time_s: {len(bad) - 10} more negative entries")
    return problems


def _check_unique(what: str, ids: list[str], problems: list[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            problems.append(f"{what}: id {item_id!r} appears more than once; ids must be unique")
        seen.add(item_id)


def _check_lonlat(lonlat: tuple[float, float] | None, problems: list[str]) -> None:
    if lonlat is None:
        return
    if (
        len(lonlat) != 2
        or not all(_is_number(v) for v in lonlat)
        or not (-180 <= lonlat[0] <= 180 and -90 <= lonlat[1] <= 90)
    ):
        problems.append(
            f"lonlat: must be [lon, lat] in WGS84 degrees (lon in -180..180, lat in -90..90), "
            f"got {lonlat!r}; check the order is [lon, lat]"
        )


def _names() -> str:
    return ", ".join(p.value for p in PRODUCTS)


# --------------------------------------------------------------------------------------------
# The answer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flow:
    """One delivery of the plan: supplier to facility on a day.

    Parameters
    ----------
    supplier_id, facility_id
        Business ids.
    day
        Day offset in the horizon (0 = first day).
    product
        Product delivered.
    quantity_m3
        Gas m³ delivered (> 0).
    quantity
        The same quantity in the product's own unit: tonnes of liquid oxygen for
        ``bulk_liquid``, whole cylinders (rounded up) for ``cylinder``.
    unit
        ``"t_lox"`` or ``"cylinders_<size>"`` (e.g. ``"cylinders_40L"``).
    travel_time_s
        Road travel time of the delivery.
    """

    supplier_id: str
    facility_id: str
    day: int
    product: Product
    quantity_m3: float
    quantity: float
    unit: str
    travel_time_s: int


@dataclass(frozen=True, slots=True)
class UnmetDemand:
    """Demand of one facility on one day that the plan does not serve, with its reason.

    Parameters
    ----------
    facility_id
        Business id.
    day
        Day offset in the horizon.
    unmet_m3
        Gas m³ not served (> 0).
    demand_m3
        The facility's demand that day as modelled (rounded up to the quantity resolution).
    reason
        Why (see :class:`UnmetReason`).
    detail
        The numbers behind the reason, for a coordinator to read.
    """

    facility_id: str
    day: int
    unmet_m3: float
    demand_m3: float
    reason: UnmetReason
    detail: str


@dataclass(frozen=True, slots=True)
class AllocationTotals:
    """Totals of a plan (gas m³ unless stated).

    Parameters
    ----------
    demand_m3
        Total modelled demand over the horizon.
    delivered_m3
        Total of all flows.
    unmet_m3
        Total unmet demand.
    unmet_m3_by_reason
        ``(reason, m³)`` pairs, only reasons that occur.
    transport_m3_s
        Sum of quantity x travel time over the flows (m³·s): the transport effort minimised.
    objective
        Solver objective in integer solver units (quantum x seconds plus unmet penalties), for
        comparing solvers on the same problem.
    lower_bound
        A proven lower bound of the objective (equal to it when solved to optimality).
    max_unmet_share
        Largest unmet share of demand over the facility-days with demand (0 to 1).
    """

    demand_m3: float
    delivered_m3: float
    unmet_m3: float
    unmet_m3_by_reason: tuple[tuple[UnmetReason, float], ...]
    transport_m3_s: float
    objective: float
    lower_bound: float
    max_unmet_share: float


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """The answer of an allocation: flows, unmet demand with reasons, totals, solver facts.

    Parameters
    ----------
    flows
        Deliveries, sorted by day, supplier, facility, product.
    unmet
        Unmet demand per facility and day, sorted by day and facility; empty when all is served.
    totals
        Totals of the plan.
    solver
        Which method produced it (``"min_cost_flow"``, ``"min_cost_flow+single_sourcing"``,
        ``"glop_fairness"``).
    solver_status
        ``"optimal"`` (proven), or ``"feasible"`` (a valid plan whose gap to ``lower_bound`` is
        in ``totals``), or ``"time_limit"``.
    run_time_s
        Wall-clock seconds spent in the allocation (building, solving, reading back).
    horizon_days
        Days planned.
    start_date
        Date of day 0, when known.
    """

    flows: tuple[Flow, ...]
    unmet: tuple[UnmetDemand, ...]
    totals: AllocationTotals
    solver: str
    solver_status: str
    run_time_s: float
    horizon_days: int
    start_date: date | None = None

    @property
    def gap(self) -> float:
        """Relative gap between the objective and its lower bound (0 when proven optimal)."""
        if self.totals.objective <= 0:
            return 0.0
        return (self.totals.objective - self.totals.lower_bound) / self.totals.objective
