"""The JSON problem format of the allocation: parse and validate it, serialise problems and plans.

The format is documented key by key in ``docs/allocation.md``. Parsing collects every problem in the
document (path, offending value, fix) and raises one :class:`~data.errors.InvalidInputError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from data.errors import InvalidInputError
from data.schema.allocation import (
    PRODUCTS,
    UNREACHABLE_S,
    AllocationOptions,
    AllocationPlan,
    AllocationProblem,
    FacilityDemand,
    Product,
    Supplier,
    SupplierCapacity,
)
from data.units import OxygenConversions

FORMAT_NAME = "oxyroute.allocation-problem"
PLAN_FORMAT_NAME = "oxyroute.allocation-plan"
FORMAT_VERSION = 1
MAX_HORIZON_DAYS = 3660
"""Longest horizon a document may plan (ten years): a larger one is refused, not expanded into
per-day lists that exhaust memory."""
_MAX_SECONDS = int(np.iinfo(np.int64).max)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_TOP_KEYS = {
    "format",
    "version",
    "start_date",
    "horizon_days",
    "suppliers",
    "facilities",
    "travel_time_s",
    "options",
    "conversions",
}
_SUPPLIER_KEYS = {"supplier_id", "name", "lonlat", "products"}
_CAPACITY_KEYS = {"capacity_m3_per_day", "capacity_lox_t_per_day", "capacity_cylinders_per_day"}
_FACILITY_KEYS = {
    "facility_id",
    "demand_m3_per_day",
    "accepted_products",
    "receiving_limit_m3_per_day",
    "tier",
    "critical_share",
    "priority",
    "lonlat",
    "estimated",
}
_CONVERSION_KEYS = {"gas_m3_per_lox_t", "cylinder_size"}


@dataclass(frozen=True, slots=True, eq=False)
class AllocationRequest:
    """A parsed problem document: the problem plus how to state quantities in the plan.

    Parameters
    ----------
    problem
        The validated allocation problem.
    conversions
        Conversion factors (the document's ``conversions.gas_m3_per_lox_t`` or the default 700).
    cylinder_size
        Cylinder size label for counting cylinders (document's ``conversions.cylinder_size``,
        default ``"40L"``).
    """

    problem: AllocationProblem
    conversions: OxygenConversions = field(default_factory=OxygenConversions)
    cylinder_size: str = "40L"


def problem_from_json_text(text: str) -> AllocationRequest:
    """Parse a JSON problem document from text.

    Raises
    ------
    InvalidInputError
        If the text is not JSON (with line and column), is nested too deeply to read, or the
        document breaks the format.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"problem JSON: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise InvalidInputError(
            "problem JSON: nested too deeply to read (arrays or objects inside one another "
            "thousands of levels deep); the format nests only a few levels"
        ) from None
    return problem_from_json(data)


def problem_from_json(data: Any) -> AllocationRequest:
    """Validate a parsed JSON problem document and build the typed problem.

    Parameters
    ----------
    data
        The document as returned by :func:`json.loads`.

    Returns
    -------
    AllocationRequest
        The problem, conversions and cylinder size.

    Raises
    ------
    InvalidInputError
        Listing every problem found: unknown keys, missing fields, wrong types, negative, NaN or
        infinite quantities, unknown products, per-day lists of the wrong length, duplicate ids,
        a travel-time matrix of the wrong shape or with bad entries, invalid options.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise InvalidInputError.from_problems(
            "allocation problem", [f"document: must be a JSON object, got {type(data).__name__}"]
        )
    _unknown_keys("", data, _TOP_KEYS, problems)
    if data.get("format", FORMAT_NAME) != FORMAT_NAME:
        problems.append(f"format: got {data.get('format')!r}, expected {FORMAT_NAME!r}")
    version = data.get("version", FORMAT_VERSION)
    if not _is_int(version) or version != FORMAT_VERSION:
        problems.append(f"version: got {version!r}; this reader knows version 1")
    horizon = data.get("horizon_days")
    in_range = isinstance(horizon, int) and 1 <= horizon <= MAX_HORIZON_DAYS
    if isinstance(horizon, bool) or not in_range:
        problems.append(
            f"horizon_days: must be an integer from 1 to {MAX_HORIZON_DAYS} (days planned), "
            f"got {horizon!r}"
        )
        horizon = None
    start_date = None
    if data.get("start_date") is not None:
        raw_date = data["start_date"]
        try:
            # Only YYYY-MM-DD: fromisoformat also reads 20210820 and 2021-W33-5 (and str() of
            # the number 20210820), which the format does not document.
            if not isinstance(raw_date, str) or not _ISO_DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            start_date = date.fromisoformat(raw_date)
        except ValueError:
            problems.append(f"start_date: {raw_date!r} is not an ISO date; use YYYY-MM-DD")
    conversions, cylinder_size = _parse_conversions(data.get("conversions", {}), problems)
    options = _parse_options(data.get("options", {}), problems)
    suppliers = _parse_suppliers(
        data.get("suppliers"), horizon, conversions, cylinder_size, problems
    )
    facilities = _parse_facilities(data.get("facilities"), horizon, problems)
    matrix = None
    if data.get("travel_time_s") is not None and suppliers is not None and facilities is not None:
        # The shape is that of the document's lists: an entry refused above still has its row
        # or column, so the matrix is not reported as the wrong shape on top.
        matrix = _parse_matrix(
            data["travel_time_s"], len(data["suppliers"]), len(data["facilities"]), problems
        )
    if problems or horizon is None or suppliers is None or facilities is None:
        raise InvalidInputError.from_problems("allocation problem", problems)
    try:
        problem = AllocationProblem(
            suppliers=tuple(suppliers),
            facilities=tuple(facilities),
            horizon_days=horizon,
            travel_time_s=matrix,
            options=options or AllocationOptions(),
            start_date=start_date,
        )
    except InvalidInputError as error:
        raise InvalidInputError.from_problems("allocation problem", error.problems) from None
    return AllocationRequest(problem, conversions, cylinder_size)


def problem_to_json(request: AllocationRequest) -> dict[str, Any]:
    """Serialise a request to the JSON problem format (quantities in m³; parses back equal)."""
    problem = request.problem
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "horizon_days": problem.horizon_days,
    }
    if problem.start_date is not None:
        document["start_date"] = problem.start_date.isoformat()
    document["conversions"] = {
        "gas_m3_per_lox_t": request.conversions.gas_m3_per_lox_t,
        "cylinder_size": request.cylinder_size,
    }
    options = problem.options
    document["options"] = {
        option.name: getattr(options, option.name) for option in dataclasses.fields(options)
    }
    document["suppliers"] = [
        {
            "supplier_id": s.supplier_id,
            **({"name": s.name} if s.name else {}),
            **({"lonlat": list(s.lonlat)} if s.lonlat is not None else {}),
            "products": {
                c.product.value: {"capacity_m3_per_day": list(c.capacity_m3_per_day)}
                for c in s.capacities
            },
        }
        for s in problem.suppliers
    ]
    document["facilities"] = [
        {
            "facility_id": f.facility_id,
            "demand_m3_per_day": list(f.demand_m3_per_day),
            "accepted_products": [p.value for p in PRODUCTS if p in f.accepted_products],
            "receiving_limit_m3_per_day": {p.value: v for p, v in f.receiving_limit_m3_per_day},
            "tier": f.tier,
            "critical_share": f.critical_share,
            "priority": f.priority,
            **({"lonlat": list(f.lonlat)} if f.lonlat is not None else {}),
            "estimated": f.estimated,
        }
        for f in problem.facilities
    ]
    if problem.travel_time_s is not None:
        document["travel_time_s"] = [
            [None if v == UNREACHABLE_S else int(v) for v in row]
            for row in problem.travel_time_s.tolist()
        ]
    return document


def plan_to_json(plan: AllocationPlan) -> dict[str, Any]:
    """Serialise a plan: flows, unmet demand with reasons, totals and solver facts."""
    totals = plan.totals
    return {
        "format": PLAN_FORMAT_NAME,
        "version": FORMAT_VERSION,
        "start_date": plan.start_date.isoformat() if plan.start_date else None,
        "horizon_days": plan.horizon_days,
        "solver": plan.solver,
        "solver_status": plan.solver_status,
        "run_time_s": plan.run_time_s,
        "totals": {
            "demand_m3": totals.demand_m3,
            "delivered_m3": totals.delivered_m3,
            "unmet_m3": totals.unmet_m3,
            "unmet_m3_by_reason": {reason.value: m3 for reason, m3 in totals.unmet_m3_by_reason},
            "transport_m3_s": totals.transport_m3_s,
            "objective": totals.objective,
            "lower_bound": totals.lower_bound,
            "gap": plan.gap,
            "max_unmet_share": totals.max_unmet_share,
            "facility_days_unmet": len(plan.unmet),
            "flows": len(plan.flows),
        },
        "flows": [
            {
                "supplier_id": flow.supplier_id,
                "facility_id": flow.facility_id,
                "day": flow.day,
                "product": flow.product.value,
                "quantity_m3": flow.quantity_m3,
                "quantity": flow.quantity,
                "unit": flow.unit,
                "travel_time_s": flow.travel_time_s,
            }
            for flow in plan.flows
        ],
        "unmet": [
            {
                "facility_id": entry.facility_id,
                "day": entry.day,
                "unmet_m3": entry.unmet_m3,
                "demand_m3": entry.demand_m3,
                "reason": entry.reason.value,
                "detail": entry.detail,
            }
            for entry in plan.unmet
        ],
    }


# --------------------------------------------------------------------------------------------
# Parsing helpers (each appends problems and returns None where a part cannot be built)
# --------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range, such as 10**400
        return False


def _unknown_keys(path: str, data: Mapping[str, Any], known: set[str], problems: list[str]) -> None:
    for key in sorted(set(data) - known):
        problems.append(f"{path}{key}: unknown key; known keys: {', '.join(sorted(known))}")


def _per_day(path: str, value: Any, horizon: int | None, problems: list[str]) -> list[float] | None:
    """Read a quantity given as one number (every day) or a list of one number per day."""
    if horizon is None:
        return None
    values = [value] * horizon if _is_number(value) else value
    if not isinstance(values, list):
        problems.append(f"{path}: must be a number or a list of {horizon} numbers, got {value!r}")
        return None
    if len(values) != horizon:
        problems.append(
            f"{path}: has {len(values)} values, expected horizon_days={horizon} (one per day)"
        )
        return None
    ok = True
    for day, item in enumerate(values):
        if not _is_number(item) or item < 0:
            problems.append(
                f"{path}[{day}]: {item!r} is not a finite number >= 0; NaN, infinity, negative "
                "and text are refused"
            )
            ok = False
    return [float(v) for v in values] if ok else None


def _parse_product(path: str, value: Any, problems: list[str]) -> Product | None:
    try:
        return Product(value)
    except ValueError:
        problems.append(
            f"{path}: unknown product {value!r}; use one of {', '.join(p.value for p in PRODUCTS)}"
        )
        return None


def _parse_lonlat(path: str, value: Any, problems: list[str]) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(_is_number(v) for v in value)
        or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90)
    ):
        problems.append(f"{path}: must be [lon, lat] in WGS84 degrees, got {value!r}")
        return None
    return (float(value[0]), float(value[1]))


def _parse_conversions(data: Any, problems: list[str]) -> tuple[OxygenConversions, str]:
    if not isinstance(data, Mapping):
        problems.append(f"conversions: must be an object, got {data!r}")
        return OxygenConversions(), "40L"
    _unknown_keys("conversions.", data, _CONVERSION_KEYS, problems)
    conversions = OxygenConversions()
    if "gas_m3_per_lox_t" in data:
        try:
            conversions = OxygenConversions(gas_m3_per_lox_t=data["gas_m3_per_lox_t"])
        except InvalidInputError as error:
            problems.extend(f"conversions.{p}" for p in error.problems)
    cylinder_size = data.get("cylinder_size", "40L")
    if not isinstance(cylinder_size, str) or cylinder_size not in conversions.cylinder_gas_m3:
        problems.append(
            f"conversions.cylinder_size: unknown size {cylinder_size!r}; known sizes: "
            f"{', '.join(sorted(conversions.cylinder_gas_m3))}"
        )
        cylinder_size = "40L"
    return conversions, cylinder_size


def _parse_options(data: Any, problems: list[str]) -> AllocationOptions | None:
    if not isinstance(data, Mapping):
        problems.append(f"options: must be an object, got {data!r}")
        return None
    try:
        return AllocationOptions.from_mapping(data)
    except InvalidInputError as error:
        problems.extend(p if p.startswith("options.") else f"options.{p}" for p in error.problems)
        return None


def _parse_suppliers(
    data: Any,
    horizon: int | None,
    conversions: OxygenConversions,
    cylinder_size: str,
    problems: list[str],
) -> list[Supplier] | None:
    if not isinstance(data, list) or not data:
        problems.append(f"suppliers: must be a non-empty list of supplier objects, got {data!r}")
        return None
    suppliers: list[Supplier] = []
    for s_idx, item in enumerate(data):
        path = f"suppliers[{s_idx}]"
        if not isinstance(item, Mapping):
            problems.append(f"{path}: must be an object, got {item!r}")
            continue
        _unknown_keys(f"{path}.", item, _SUPPLIER_KEYS, problems)
        supplier_id = item.get("supplier_id")
        if not isinstance(supplier_id, str) or not supplier_id:
            problems.append(f"{path}.supplier_id: must be a non-empty string, got {supplier_id!r}")
        products = item.get("products")
        capacities: list[SupplierCapacity] = []
        if not isinstance(products, Mapping) or not products:
            problems.append(
                f"{path}.products: must be an object such as "
                '{"cylinder": {"capacity_m3_per_day": 600}}, got '
                f"{products!r}"
            )
            products = {}
        for name, spec in products.items():
            product = _parse_product(f"{path}.products.{name}", name, problems)
            capacity = _parse_capacity(
                f"{path}.products.{name}",
                spec,
                product,
                horizon,
                conversions,
                cylinder_size,
                problems,
            )
            if product is not None and capacity is not None:
                capacities.append(SupplierCapacity(product, tuple(capacity)))
        lonlat = _parse_lonlat(f"{path}.lonlat", item.get("lonlat"), problems)
        name_value = item.get("name", "")
        if not isinstance(name_value, str):
            problems.append(f"{path}.name: must be a string, got {name_value!r}")
            name_value = ""
        if isinstance(supplier_id, str) and supplier_id:
            try:
                suppliers.append(Supplier(supplier_id, tuple(capacities), name_value, lonlat))
            except InvalidInputError as error:
                problems.extend(f"{path}.{p}" for p in error.problems)
    return suppliers


def _parse_capacity(
    path: str,
    spec: Any,
    product: Product | None,
    horizon: int | None,
    conversions: OxygenConversions,
    cylinder_size: str,
    problems: list[str],
) -> list[float] | None:
    if not isinstance(spec, Mapping):
        problems.append(f"{path}: must be an object with one capacity key, got {spec!r}")
        return None
    _unknown_keys(f"{path}.", spec, _CAPACITY_KEYS, problems)
    given = sorted(set(spec) & _CAPACITY_KEYS)
    if len(given) != 1:
        problems.append(
            f"{path}: give exactly one of {', '.join(sorted(_CAPACITY_KEYS))}, "
            f"got {given or 'none'}"
        )
        return None
    key = given[0]
    if key == "capacity_lox_t_per_day" and product is Product.CYLINDER:
        problems.append(
            f"{path}.{key}: tonnes of liquid apply to bulk_liquid; use "
            "capacity_cylinders_per_day or capacity_m3_per_day"
        )
        return None
    if key == "capacity_cylinders_per_day" and product is Product.BULK_LIQUID:
        problems.append(
            f"{path}.{key}: cylinders apply to cylinder; use "
            "capacity_lox_t_per_day or capacity_m3_per_day"
        )
        return None
    values = _per_day(f"{path}.{key}", spec[key], horizon, problems)
    if values is None:
        return None
    if key == "capacity_lox_t_per_day":
        values_m3 = [conversions.lox_t_to_gas_m3(v) for v in values]
    elif key == "capacity_cylinders_per_day":
        values_m3 = [conversions.cylinders_to_gas_m3(v, cylinder_size) for v in values]
    else:
        return values
    for day, (value, value_m3) in enumerate(zip(values, values_m3, strict=True)):
        if not math.isfinite(value_m3):
            problems.append(
                f"{path}.{key}[{day}]: {value!r} is too large: it converts to more m³ of gas "
                "than a float holds; give a realistic daily capacity"
            )
            return None
    return values_m3


def _parse_facilities(
    data: Any, horizon: int | None, problems: list[str]
) -> list[FacilityDemand] | None:
    if not isinstance(data, list) or not data:
        problems.append(f"facilities: must be a non-empty list of facility objects, got {data!r}")
        return None
    facilities: list[FacilityDemand] = []
    for f_idx, item in enumerate(data):
        path = f"facilities[{f_idx}]"
        if not isinstance(item, Mapping):
            problems.append(f"{path}: must be an object, got {item!r}")
            continue
        before = len(problems)
        _unknown_keys(f"{path}.", item, _FACILITY_KEYS, problems)
        facility_id = item.get("facility_id")
        if not isinstance(facility_id, str) or not facility_id:
            problems.append(f"{path}.facility_id: must be a non-empty string, got {facility_id!r}")
        if "demand_m3_per_day" not in item:
            problems.append(f"{path}.demand_m3_per_day: missing; give m³ per day of the horizon")
        demand = (
            _per_day(f"{path}.demand_m3_per_day", item.get("demand_m3_per_day"), horizon, problems)
            if "demand_m3_per_day" in item
            else None
        )
        accepted_raw = item.get("accepted_products")
        accepted: set[Product] = set()
        if not isinstance(accepted_raw, list) or not accepted_raw:
            problems.append(
                f'{path}.accepted_products: must be a non-empty list such as ["cylinder"] '
                f'(add "bulk_liquid" only for a facility with a tank), got {accepted_raw!r}'
            )
        else:
            for position, name in enumerate(accepted_raw):
                product = _parse_product(f"{path}.accepted_products[{position}]", name, problems)
                if product is not None:
                    accepted.add(product)
        limits_raw = item.get("receiving_limit_m3_per_day", {})
        limits: list[tuple[Product, float]] = []
        if not isinstance(limits_raw, Mapping):
            problems.append(
                f"{path}.receiving_limit_m3_per_day: must be an object such as "
                f'{{"cylinder": 120}}, got {limits_raw!r}'
            )
        else:
            for name, value in limits_raw.items():
                product = _parse_product(
                    f"{path}.receiving_limit_m3_per_day.{name}", name, problems
                )
                if not _is_number(value) or value < 0:
                    problems.append(
                        f"{path}.receiving_limit_m3_per_day.{name}: {value!r} is not a finite "
                        "number >= 0 (m³/day); omit the product for no limit"
                    )
                elif product is not None:
                    limits.append((product, float(value)))
        lonlat = _parse_lonlat(f"{path}.lonlat", item.get("lonlat"), problems)
        if len(problems) > before or demand is None or not isinstance(facility_id, str):
            continue
        try:
            facilities.append(
                FacilityDemand(
                    facility_id=facility_id,
                    demand_m3_per_day=tuple(demand),
                    accepted_products=frozenset(accepted),
                    receiving_limit_m3_per_day=tuple(sorted(limits)),
                    tier=item.get("tier", 2),
                    critical_share=item.get("critical_share", 0.0),
                    priority=item.get("priority"),
                    lonlat=lonlat,
                    estimated=item.get("estimated", False),
                )
            )
        except InvalidInputError as error:
            problems.extend(f"{path}.{p}" for p in error.problems)
    return facilities


def _parse_matrix(data: Any, n_suppliers: int, n_facilities: int, problems: list[str]) -> Any:
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        problems.append(
            "travel_time_s: must be a list of rows (one per supplier) of seconds or null"
        )
        return None
    if len(data) != n_suppliers or any(len(row) != n_facilities for row in data):
        lengths = sorted({len(row) for row in data})
        problems.append(
            f"travel_time_s: {len(data)} rows of lengths {lengths}, expected {n_suppliers} rows "
            f"(suppliers) of {n_facilities} (facilities); null marks an unreachable pair"
        )
        return None
    matrix = np.empty((n_suppliers, n_facilities), np.int64)
    for s_idx, row in enumerate(data):
        for f_idx, value in enumerate(row):
            if value is None or value == math.inf:
                matrix[s_idx, f_idx] = UNREACHABLE_S
            elif _is_number(value) and 0 <= value <= _MAX_SECONDS:
                matrix[s_idx, f_idx] = round(value)
            elif _is_number(value) and value > 0:
                problems.append(
                    f"travel_time_s[{s_idx}][{f_idx}]: {value!r} seconds is too large (at most "
                    f"{_MAX_SECONDS}); use null for an unreachable pair"
                )
            else:
                problems.append(
                    f"travel_time_s[{s_idx}][{f_idx}]: {value!r} is not seconds >= 0; use null "
                    "for an unreachable pair"
                )
    return matrix
