"""What-if scenarios: a base (region, date) plus changes, applied to copies; plan comparison.

A scenario never edits shared data: :func:`apply_scenario` returns a new plan request and a new road
network built with ``dataclasses.replace`` and :func:`routing.network.change_roads`, so two
planners can run scenarios on the same base at once. The file format (TOML or JSON) is documented
in ``docs/scenarios.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import tomllib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from coordination.planning import CoordinatorPlan, PlanFacility, PlanRequest, PlanSupplier
from data.errors import InvalidInputError
from data.schema.documents import RouteDocument, RoutesDocument
from matcher.demand import CaseScenario, Growth
from routing.network import RoadNetwork, change_roads

CHANGE_TYPES = ("case_surge", "supplier_capacity", "road_change", "new_facility", "fleet_change")
_COMMON = {"type", "note"}
_KEYS: dict[str, set[str]] = {
    "case_surge": {"scope", "ids", "factor", "daily_growth_rate", "doubling_time_days"},
    "supplier_capacity": {"supplier_id", "capacity_factor", "days"},
    "road_change": {"polygon", "road_names", "factor"},
    "new_facility": {
        "facility_id",
        "name",
        "lon",
        "lat",
        "tier",
        "district",
        "province_code",
        "beds",
        "liquid_tank_capacity_l",
        "cylinder_storage",
        "generation_m3_per_day",
    },
    "fleet_change": {"vehicles"},
}
_TOP = {"name", "description", "region", "date", "horizon_days", "changes"}
_SCOPES = ("all", "province", "district", "facility")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named base (region, first plan day, horizon) and the changes applied to it, in order."""

    name: str
    region: str
    start_date: dt.date
    horizon_days: int
    changes: tuple[Mapping[str, Any], ...]
    description: str = ""


def _number(
    change: Mapping[str, Any],
    key: str,
    where: str,
    problems: list[str],
    *,
    low: float = 0.0,
    low_inclusive: bool = True,
) -> float | None:
    value = change.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < low
        or (value == low and not low_inclusive)
    ):
        bound = f">= {low:g}" if low_inclusive else f"> {low:g}"
        problems.append(f"{where}.{key}: must be a number {bound}, got {value!r}")
        return None
    return float(value)


def _check_case_surge(change: Mapping[str, Any], where: str, problems: list[str]) -> None:
    given = [k for k in ("factor", "daily_growth_rate", "doubling_time_days") if k in change]
    if len(given) != 1:
        problems.append(
            f"{where}: give exactly one of factor, daily_growth_rate, doubling_time_days"
        )
    elif given[0] == "daily_growth_rate":
        _number(change, "daily_growth_rate", where, problems, low=-1.0, low_inclusive=False)
    else:
        _number(change, given[0], where, problems, low_inclusive=given[0] == "factor")
    scope = change.get("scope", "all")
    if scope not in _SCOPES:
        problems.append(f"{where}.scope: {scope!r} is not one of {', '.join(_SCOPES)}")
    elif scope != "all" and not (
        isinstance(change.get("ids"), list)
        and change["ids"]
        and all(isinstance(i, str) for i in change["ids"])
    ):
        problems.append(f"{where}.ids: a {scope} surge needs a list of {scope} ids or names")


def _check_supplier_capacity(change: Mapping[str, Any], where: str, problems: list[str]) -> None:
    if not isinstance(change.get("supplier_id"), str):
        problems.append(f"{where}.supplier_id: missing")
    _number(change, "capacity_factor", where, problems)
    days = change.get("days")
    if days is not None and not (
        isinstance(days, list)
        and days
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in days)
    ):
        problems.append(f"{where}.days: must be a list of horizon days (0 = first plan day)")


def _check_polygon(value: Any, where: str, problems: list[str]) -> None:
    try:
        polygon = shapely.geometry.shape(value)
    except Exception:  # shapely raises several types on malformed GeoJSON
        problems.append(f"{where}.polygon: not a GeoJSON geometry")
        return
    if polygon.geom_type not in ("Polygon", "MultiPolygon") or not polygon.is_valid:
        problems.append(
            f"{where}.polygon: not a valid polygon ({shapely.is_valid_reason(polygon)})"
        )


def _check_road_change(change: Mapping[str, Any], where: str, problems: list[str]) -> None:
    if "polygon" not in change and "road_names" not in change:
        problems.append(f"{where}: give a polygon, road_names, or both")
    if "polygon" in change:
        _check_polygon(change["polygon"], where, problems)
    if "road_names" in change and not (
        isinstance(change["road_names"], list)
        and all(isinstance(n, str) for n in change["road_names"])
    ):
        problems.append(f"{where}.road_names: must be a list of road names")
    if "factor" in change:
        _number(change, "factor", where, problems, low_inclusive=False)


def _check_new_facility(change: Mapping[str, Any], where: str, problems: list[str]) -> None:
    for key in ("facility_id", "name"):
        if not isinstance(change.get(key), str) or not change[key].strip():
            problems.append(f"{where}.{key}: missing")
    for key, limit in (("lon", 180.0), ("lat", 90.0)):
        value = change.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not -limit <= value <= limit
        ):
            problems.append(f"{where}.{key}: must be a WGS84 coordinate, got {value!r}")
    if not isinstance(change.get("tier", 2), int) or change.get("tier", 2) < 1:
        problems.append(f"{where}.tier: must be an integer >= 1")
    if "beds" in change and (not isinstance(change["beds"], int) or change["beds"] < 0):
        problems.append(f"{where}.beds: must be an integer >= 0")


def _check_fleet_change(change: Mapping[str, Any], where: str, problems: list[str]) -> None:
    if not isinstance(change.get("vehicles"), list):
        problems.append(f"{where}.vehicles: must be a list of vehicle changes")


_CHECKS: dict[str, Callable[[Mapping[str, Any], str, list[str]], None]] = {
    "case_surge": _check_case_surge,
    "supplier_capacity": _check_supplier_capacity,
    "road_change": _check_road_change,
    "new_facility": _check_new_facility,
    "fleet_change": _check_fleet_change,
}
"""The checks of each change type's values (its keys are checked against ``_KEYS`` first)."""


def _check_change(change: Any, where: str, problems: list[str]) -> None:
    if not isinstance(change, Mapping):
        problems.append(f"{where}: must be a table with a type")
        return
    kind = change.get("type")
    if kind not in _KEYS:
        problems.append(f"{where}.type: {kind!r} is not one of {', '.join(CHANGE_TYPES)}")
        return
    for key in sorted(set(change) - _KEYS[kind] - _COMMON):
        problems.append(
            f"{where}.{key}: unknown key for {kind} (allowed: {', '.join(sorted(_KEYS[kind]))})"
        )
    _CHECKS[kind](change, where, problems)


def scenario_from_mapping(document: Mapping[str, Any]) -> Scenario:
    """Validate a scenario document (parsed TOML or JSON) and return it.

    Raises
    ------
    InvalidInputError
        Listing every problem: unknown keys, bad types, negative factors, invalid polygons.
    """
    problems = [
        f"{key}: unknown key (allowed: {', '.join(sorted(_TOP))})"
        for key in sorted(set(document) - _TOP)
    ]
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: missing")
    region = document.get("region")
    if not isinstance(region, str) or not region.strip():
        problems.append("region: missing (a region name such as 'hcmc')")
    raw_start = document.get("date")
    start: dt.date | None = None
    if isinstance(raw_start, str):
        try:
            start = dt.date.fromisoformat(raw_start)
        except ValueError:
            problems.append(f"date: expected YYYY-MM-DD, got {raw_start!r}")
    elif isinstance(raw_start, dt.date) and not isinstance(raw_start, dt.datetime):
        start = raw_start
    else:  # a TOML datetime is a dt.date too, but a plan starts on a day, not at an instant
        problems.append(f"date: expected YYYY-MM-DD, got {raw_start!r}")
    horizon = document.get("horizon_days", 7)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 60:
        problems.append(f"horizon_days: must be an integer from 1 to 60, got {horizon!r}")
    changes = document.get("changes", [])
    if not isinstance(changes, list):
        problems.append("changes: must be a list ([[changes]] in TOML)")
        changes = []
    for i, change in enumerate(changes):
        _check_change(change, f"changes[{i}]", problems)
    if problems or start is None:  # start is None only when a date problem was recorded
        raise InvalidInputError.from_problems("scenario", problems)
    return Scenario(
        str(name),
        str(region),
        start,
        horizon,
        tuple(dict(c) for c in changes),
        str(document.get("description", "")),
    )


def load_scenario(path: Path) -> Scenario:
    """Read a scenario from a ``.toml`` or ``.json`` file (see :func:`scenario_from_mapping`)."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(f"scenario file {path.name}: malformed ({exc})") from None
    return scenario_from_mapping(document)


def _growth(change: Mapping[str, Any], horizon: int) -> Growth:
    if "factor" in change:
        return Growth(factors=(float(change["factor"]),) * horizon)
    if "daily_growth_rate" in change:
        return Growth(daily_growth_rate=float(change["daily_growth_rate"]))
    return Growth(doubling_time_days=float(change["doubling_time_days"]))


@dataclass(slots=True)
class _Draft:
    """The parts of a request and network a scenario changes, gathered while its changes apply.

    A private, short-lived accumulator: :func:`apply_scenario` builds the new (immutable) request
    from it at the end; nothing shared is edited.
    """

    horizon_days: int
    facilities: list[PlanFacility]
    suppliers: dict[str, PlanSupplier]
    default: Growth
    by_province: dict[str, Growth]
    by_facility: dict[str, Growth]
    network: RoadNetwork
    #: The region's province: a new facility's default (issue 16: it was always "79").
    province_code: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)


def _apply_case_surge(draft: _Draft, change: Mapping[str, Any], where: str) -> None:
    growth = _growth(change, draft.horizon_days)
    scope = change.get("scope", "all")
    ids = change.get("ids", [])
    if scope == "all":
        draft.default, draft.by_province, draft.by_facility = growth, {}, {}
    elif scope == "province":
        draft.by_province.update({code: growth for code in ids})
    elif scope == "facility":
        known = {f.facility_id for f in draft.facilities}
        draft.problems.extend(
            f"{where}.ids: unknown facility {fid!r}" for fid in ids if fid not in known
        )
        draft.by_facility.update({fid: growth for fid in ids})
    else:
        hits = [f.facility_id for f in draft.facilities if f.district in ids]
        known_districts = {f.district for f in draft.facilities}
        draft.problems.extend(
            f"{where}.ids: no facility in district {d!r}" for d in ids if d not in known_districts
        )
        draft.by_facility.update({fid: growth for fid in hits})


def _apply_supplier_capacity(draft: _Draft, change: Mapping[str, Any], where: str) -> None:
    supplier = draft.suppliers.get(change["supplier_id"])
    if supplier is None:
        draft.problems.append(
            f"{where}.supplier_id: unknown supplier {change['supplier_id']!r} "
            f"(known: {', '.join(sorted(draft.suppliers))})"
        )
        return
    horizon = draft.horizon_days
    days = change.get("days", list(range(horizon)))
    factors = [supplier.factor(d) for d in range(horizon)]
    for day in days:
        if day < horizon:
            factors[day] = float(change["capacity_factor"])
    draft.suppliers[supplier.supplier_id] = dataclasses.replace(
        supplier, capacity_factor_per_day=tuple(factors)
    )


def _apply_road_change(draft: _Draft, change: Mapping[str, Any], where: str) -> None:
    try:
        draft.network = change_roads(
            draft.network,
            polygon=change.get("polygon"),
            road_names=change.get("road_names"),
            factor=change.get("factor"),
        )
    except InvalidInputError as exc:
        draft.problems.extend(f"{where}.{p}" for p in exc.problems)


def _apply_new_facility(draft: _Draft, change: Mapping[str, Any], where: str) -> None:
    if any(f.facility_id == change["facility_id"] for f in draft.facilities):
        draft.problems.append(f"{where}.facility_id: {change['facility_id']!r} already exists")
        return
    if "province_code" not in change and draft.province_code is None:
        draft.problems.append(
            f"{where}.province_code: missing, and the region has no province_code to take; "
            "give the new facility's 2021 province code"
        )
        return
    draft.facilities.append(
        PlanFacility(
            facility_id=change["facility_id"],
            name=change["name"],
            lon=float(change["lon"]),
            lat=float(change["lat"]),
            province_code=change.get("province_code", draft.province_code),
            tier=int(change.get("tier", 2)),
            district=change.get("district", ""),
            beds=int(change.get("beds", 0)),
            liquid_tank_capacity_l=float(change.get("liquid_tank_capacity_l", 0.0)),
            cylinder_storage=int(change.get("cylinder_storage", 0)),
            generation_m3_per_day=float(change.get("generation_m3_per_day", 0.0)),
        )
    )


_APPLY: dict[str, Callable[[_Draft, Mapping[str, Any], str], None]] = {
    "case_surge": _apply_case_surge,
    "supplier_capacity": _apply_supplier_capacity,
    "road_change": _apply_road_change,
    "new_facility": _apply_new_facility,
}
"""How each change type applies; fleet changes are kept for dispatch (:func:`fleet_changes`)."""


def _shared_province(facilities: Sequence[PlanFacility]) -> str | None:
    """Return the one province all the base's facilities share, else None.

    The default of a new facility when the request does not say its region's province (a
    request built by hand rather than from the registry).
    """
    provinces = {f.province_code for f in facilities}
    return provinces.pop() if len(provinces) == 1 else None


def apply_scenario(
    scenario: Scenario,
    base: PlanRequest,
    network: RoadNetwork,
) -> tuple[PlanRequest, RoadNetwork]:
    """Apply a scenario's changes, in order, to copies of a base request and network.

    Later changes win where they overlap (a facility surged twice takes the last surge). Fleet
    changes are kept for dispatch and do not change the allocation.

    Raises
    ------
    InvalidInputError
        If a change names an unknown supplier, facility, district or road; every problem is listed.
    """
    request = dataclasses.replace(
        base, start_date=scenario.start_date, horizon_days=scenario.horizon_days
    )
    case = request.scenario or CaseScenario()
    draft = _Draft(
        horizon_days=scenario.horizon_days,
        facilities=list(request.facilities),
        suppliers={s.supplier_id: s for s in request.suppliers},
        default=case.default,
        by_province=dict(case.by_province),
        by_facility=dict(case.by_facility),
        network=network,
        province_code=request.region_province_code or _shared_province(request.facilities),
    )
    for i, change in enumerate(scenario.changes):
        apply = _APPLY.get(change["type"])
        if apply is not None:
            apply(draft, change, f"changes[{i}]")
    if draft.problems:
        raise InvalidInputError.from_problems(f"scenario {scenario.name!r}", draft.problems)
    request = dataclasses.replace(
        request,
        facilities=tuple(draft.facilities),
        suppliers=tuple(draft.suppliers[s.supplier_id] for s in request.suppliers),
        scenario=CaseScenario(
            default=draft.default,
            by_province=tuple(draft.by_province.items()),
            by_facility=tuple(draft.by_facility.items()),
            severity_mix=case.severity_mix,
        ),
    )
    return request, draft.network


def compare_plans(
    base: CoordinatorPlan,
    other: CoordinatorPlan,
    *,
    tolerance_m3: float = 0.5,
) -> dict[str, Any]:
    """Compare two plans: unmet demand per facility, flows added, removed or changed, totals.

    Flows are compared summed over the horizon per (supplier, facility, product); a change smaller
    than ``tolerance_m3`` is not reported. Quantities are m³ of gas.
    """

    def unmet(plan: CoordinatorPlan) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for entry in plan.allocation.unmet:
            totals[entry.facility_id] += entry.unmet_m3
        return totals

    def flows(plan: CoordinatorPlan) -> dict[tuple[str, str, str], float]:
        totals: dict[tuple[str, str, str], float] = defaultdict(float)
        for flow in plan.allocation.flows:
            totals[(flow.supplier_id, flow.facility_id, str(flow.product))] += flow.quantity_m3
        return totals

    names = {f.facility_id: f.name for f in (*base.request.facilities, *other.request.facilities)}
    base_unmet, other_unmet = unmet(base), unmet(other)
    facilities = []
    for fid in sorted(
        set(base_unmet) | set(other_unmet) | {f.facility_id for f in other.request.facilities}
    ):
        before, after = base_unmet.get(fid, 0.0), other_unmet.get(fid, 0.0)
        if abs(after - before) >= tolerance_m3 or fid not in {
            f.facility_id for f in base.request.facilities
        }:
            facilities.append(
                {
                    "facility_id": fid,
                    "name": names.get(fid, ""),
                    "unmet_m3_base": round(before, 1),
                    "unmet_m3_scenario": round(after, 1),
                    "change_m3": round(after - before, 1),
                }
            )
    base_flows, other_flows = flows(base), flows(other)
    added, removed, changed = [], [], []
    for key in sorted(set(base_flows) | set(other_flows)):
        supplier_id, facility_id, product = key
        row = {"supplier_id": supplier_id, "facility_id": facility_id, "product": product}
        before, after = base_flows.get(key, 0.0), other_flows.get(key, 0.0)
        if key not in base_flows:
            added.append({**row, "quantity_m3": round(after, 1)})
        elif key not in other_flows:
            removed.append({**row, "quantity_m3": round(before, 1)})
        elif abs(after - before) >= tolerance_m3:
            changed.append(
                {
                    **row,
                    "quantity_m3_base": round(before, 1),
                    "quantity_m3_scenario": round(after, 1),
                }
            )
    a, b = base.allocation.totals, other.allocation.totals
    return {
        "totals": {
            key: {
                "base": round(getattr(a, key), 1),
                "scenario": round(getattr(b, key), 1),
                "change": round(getattr(b, key) - getattr(a, key), 1),
            }
            for key in ("demand_m3", "delivered_m3", "unmet_m3", "transport_m3_s")
        },
        "facilities": sorted(facilities, key=lambda r: -abs(r["change_m3"])),
        "flows_added": added,
        "flows_removed": removed,
        "flows_changed": changed,
    }


def fleet_changes(scenario: Scenario) -> Sequence[Mapping[str, Any]]:
    """Return the scenario's fleet changes (vehicle additions or removals) for dispatch."""
    return [v for c in scenario.changes if c["type"] == "fleet_change" for v in c["vehicles"]]


def compare_routes(base: RoutesDocument, other: RoutesDocument) -> dict[str, Any]:
    """Compare two routes documents (:func:`coordination.dispatch.routes_to_dict`) of one day.

    Returns the totals of both (routes, loads left unassigned, driving time and distance), the
    vehicles used in only one of them, and for each vehicle used in both whose stops changed, the
    stop sequences (supplier and facility ids, in driving order) before and after.
    """

    def stops(route: RouteDocument) -> list[str]:
        return [
            str(step.get("place_id", ""))
            for step in route.get("steps", [])
            if step.get("type") not in ("start", "end")
        ]

    def totals(answer: RoutesDocument) -> dict[str, float]:
        routes = answer.get("routes", [])
        return {
            "routes": len(routes),
            "unassigned": len(answer.get("unassigned", [])),
            "duration_s": sum(r.get("duration", 0) for r in routes),
            "distance_m": sum(r.get("distance") or 0 for r in routes),
        }

    before = {r["vehicle"]: stops(r) for r in base.get("routes", [])}
    after = {r["vehicle"]: stops(r) for r in other.get("routes", [])}
    a, b = totals(base), totals(other)
    return {
        "totals": {
            key: {"base": a[key], "scenario": b[key], "change": b[key] - a[key]} for key in a
        },
        "vehicles_added": sorted(set(after) - set(before)),
        "vehicles_removed": sorted(set(before) - set(after)),
        "routes_changed": [
            {"vehicle": v, "stops_base": before[v], "stops_scenario": after[v]}
            for v in sorted(set(before) & set(after))
            if before[v] != after[v]
        ],
    }
