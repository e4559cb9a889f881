"""The region's inventory-routing plan from the registry, and its files (issue 17, item 2).

:func:`region_irp_input` turns a coordinator's plan (its facilities and suppliers, the region's
scope), the live status at the plan's start (:func:`coordination.status.current_statuses`), the
registry's cryogenic tankers and the deliveries in transit into the plain problem of
:mod:`coordination.irp_plan`; :func:`irp_plan_for_plan` does that and solves it;
:func:`write_irp_files` writes ``irp_plan.json``, ``irp_routes_day0.json`` and
``irp_summary.txt`` beside the usual plan files. Units: kg of liquid oxygen, metres, seconds;
gas m³ become kg through :class:`data.units.OxygenConversions` (700 m³ a tonne).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coordination.irp_periods import starts_at, time_label
from coordination.irp_plan import (
    DEFAULT_FLOOR_H,
    FixedDelivery,
    IrpPlanShortfall,
    IrpPlant,
    IrpTank,
    IrpTanker,
    RegionIrpInput,
    RegionIrpPlan,
    TankerRoute,
    plan_region_irp,
)
from data.errors import InvalidInputError
from data.flows import OxygenNeed
from data.reporting import LOCAL_TZ
from data.schema.allocation import Product as PlanProduct
from data.schema.allocation import default_priority
from data.schema.live import DeliveryState, FacilityStatus
from data.schema.live import Product as DeliveryProduct
from data.schema.network import Place
from data.schema.registry import VehicleKind
from data.units import OxygenConversions

IRP_FILES = ("irp_plan.json", "irp_routes_day0.json", "irp_summary.txt")


def main_plants(flows: Sequence[Any]) -> dict[str, str]:
    """Return, per facility, the plant sending it the most liquid in the plan's flows."""
    totals: Counter[tuple[str, str]] = Counter()
    for flow in flows:
        if flow.product == PlanProduct.BULK_LIQUID:
            totals[flow.facility_id, flow.supplier_id] += flow.quantity_m3
    best: dict[str, tuple[float, str]] = {}
    for (facility_id, supplier_id), quantity in sorted(totals.items()):
        if facility_id not in best or quantity > best[facility_id][0]:
            best[facility_id] = (quantity, supplier_id)
    return {facility_id: supplier_id for facility_id, (_, supplier_id) in best.items()}


def _kg(gas_m3: float, conversions: OxygenConversions) -> float:
    return conversions.gas_m3_to_lox_t(gas_m3) * 1000.0


def facility_priorities(request: Any) -> dict[str, float]:
    """Return each facility's priority weight as the allocation computes it.

    ``request`` is a :class:`coordination.planning.PlanRequest`. The weight is
    :func:`data.schema.allocation.default_priority`: ``10 x tier + round(10 x critical share)``,
    the critical share (invasive ventilation and ECMO among its oxygen patients) taken from the
    facility's last report before the start date, 0 without one; at least 1.
    """
    latest: dict[str, Any] = {}
    for report in sorted(request.reports, key=lambda r: r.report_date):
        if report.report_date < request.start_date:
            latest[report.facility_id] = report
    weights: dict[str, float] = {}
    for facility in request.facilities:
        counts = (
            dict(latest[facility.facility_id].patients) if facility.facility_id in latest else {}
        )
        total = sum(counts.values())
        critical = sum(counts.get(need, 0) for need in (OxygenNeed.INVASIVE, OxygenNeed.ECMO))
        share = critical / total if total else 0.0
        weights[facility.facility_id] = float(max(1, default_priority(facility.tier, share)))
    return weights


def burn_growth(forecasts: Sequence[Any]) -> dict[str, tuple[float, ...]]:
    """Return each facility's projected use per day relative to day 0 (the demand projection).

    ``forecasts`` are :class:`matcher.demand.DemandForecast`. A facility whose day-0 projection
    is not positive (unknown demand) gets no factors: its burn stays the live status's.
    """
    growth: dict[str, tuple[float, ...]] = {}
    for forecast in forecasts:
        days = [float(v) for v in forecast.demand_m3_per_day]
        if days and days[0] > 0 and all(math.isfinite(v) and v >= 0 for v in days):
            growth[forecast.facility_id] = tuple(round(v / days[0], 6) for v in days)
    return growth


def tanks_from_statuses(
    facilities: Sequence[Any],
    statuses: Mapping[str, FacilityStatus],
    conversions: OxygenConversions,
    *,
    floor_h: float = DEFAULT_FLOOR_H,
    priorities: Mapping[str, float] | None = None,
    growth: Mapping[str, tuple[float, ...]] | None = None,
) -> tuple[list[IrpTank], list[IrpPlanShortfall]]:
    """Return the tanks of the facilities with a liquid tank, and those whose status is unknown.

    ``facilities`` are :class:`coordination.planning.PlanFacility`; the tank's level is the
    status's liquid stock, its burn the status's burn (the tank feeds the burn first), its
    priority the facility's in ``priorities`` (:func:`facility_priorities`; 1.0 when absent),
    its burn's trend over the horizon the facility's in ``growth`` (:func:`burn_growth`).
    """
    tanks: list[IrpTank] = []
    unknown: list[IrpPlanShortfall] = []
    for facility in facilities:
        if not facility.liquid_tank_capacity_l:
            continue
        status = statuses.get(facility.facility_id)
        if status is None or status.liquid_stock_m3 is None or status.burn_m3_per_h is None:
            unknown.append(IrpPlanShortfall(facility.facility_id, None, 0.0, "no_status"))
            continue
        tanks.append(
            IrpTank(
                facility.facility_id,
                facility.name,
                capacity_kg=facility.liquid_tank_capacity_l * conversions.lox_kg_per_l,
                level_kg=_kg(status.liquid_stock_m3, conversions),
                burn_kg_per_day=_kg(status.burn_m3_per_h * 24.0, conversions),
                lon=facility.lon,
                lat=facility.lat,
                floor_h=floor_h,
                priority=(priorities or {}).get(facility.facility_id, 1.0),
                burn_growth=(growth or {}).get(facility.facility_id, ()),
            )
        )
    return tanks, unknown


def fixed_deliveries(
    deliveries: Sequence[Any],
    tank_ids: set[str],
    start_date: dt.date,
    conversions: OxygenConversions,
) -> list[FixedDelivery]:
    """Return the liquid deliveries in transit to the tanks, each on its ETA's local day.

    A delivery without an ETA, or due before the start, arrives on day 0 at 00:00; otherwise at
    its ETA's local hour.
    """
    fixed = []
    for delivery in deliveries:
        if delivery.state != DeliveryState.IN_TRANSIT or delivery.product != DeliveryProduct.LIQUID:
            continue
        if delivery.facility_id not in tank_ids:
            continue
        day = hour = 0
        if delivery.eta is not None:
            local = delivery.eta.astimezone(LOCAL_TZ)
            day = max((local.date() - start_date).days, 0)
            hour = local.hour if local.date() >= start_date else 0
        quantity = delivery.planned_liquid_kg
        if quantity is None:
            quantity = _kg(delivery.planned_m3, conversions)
        fixed.append(
            FixedDelivery(
                delivery.delivery_id,
                delivery.facility_id,
                day,
                float(quantity),
                vehicle_id=delivery.vehicle_id,
                supplier_id=delivery.supplier_id,
                hour=hour,
            )
        )
    return fixed


def region_irp_input(
    plan: Any,
    statuses: Sequence[FacilityStatus],
    vehicles: Sequence[Any],
    deliveries: Sequence[Any],
    network: Any,
    region: Any,
    *,
    floor_h: float = DEFAULT_FLOOR_H,
    horizon_days: int | None = None,
) -> RegionIrpInput:
    """Build the region's inventory-routing problem from a coordinator's plan and the registry.

    Parameters
    ----------
    plan
        A :class:`coordination.planning.CoordinatorPlan`: its facilities and suppliers (the
        region's scope), start date, horizon, conversions, and its allocation's flows, whose
        main liquid plant per facility becomes the assignment.
    statuses
        The live statuses at the plan's start (:func:`coordination.status.current_statuses`).
    vehicles
        Registry vehicles; the cryogenic tankers based at one of the plan's liquid plants are
        used.
    deliveries
        Stored deliveries; the liquid ones in transit to a tank are fixed.
    network, region
        The road network and its region (gateways, snapping), for the tanker's road matrix.
    """
    from routing.travel_time import travel_time_matrix

    request = plan.request
    conversions: OxygenConversions = request.conversions
    by_id = {status.facility_id: status for status in statuses}
    tanks, unknown = tanks_from_statuses(
        request.facilities,
        by_id,
        conversions,
        floor_h=floor_h,
        priorities=facility_priorities(request),
        growth=burn_growth(plan.forecasts),
    )
    plants = [
        IrpPlant(s.supplier_id, s.name, s.liquid_t_per_day * 1000.0, 0.0, s.lon, s.lat)
        for s in request.suppliers
        if s.liquid_t_per_day > 0
    ]
    plant_ids = {plant.supplier_id for plant in plants}
    tankers = [
        IrpTanker(v.vehicle_id, float(v.tank_capacity_lox_kg), v.home_depot_id)
        for v in vehicles
        if v.kind == VehicleKind.CRYOGENIC_TANKER
        and v.home_depot_id in plant_ids
        and v.tank_capacity_lox_kg
    ]
    places = [Place(p.supplier_id, p.lon, p.lat, p.name) for p in plants] + [
        Place(t.facility_id, t.lon, t.lat, t.name) for t in tanks
    ]
    duration_s = distance_m = np.zeros((0, 0), dtype=np.float64)
    if places:  # a region without liquid plants or tanks has nothing to plan, and no matrix
        matrix = travel_time_matrix(
            network,
            places,
            places,
            gateways=region.gateways,
            max_snap_m=region.max_snap_m,
            profile="tanker",
            cache=True,
        )
        duration_s = np.asarray(matrix.duration_s, dtype=np.float64)
        distance_m = np.asarray(matrix.distance_m, dtype=np.float64)
    start_date: dt.date = request.start_date
    tank_ids = {tank.facility_id for tank in tanks}
    return RegionIrpInput(
        start_date=start_date,
        horizon_days=horizon_days or request.horizon_days,
        tanks=tuple(tanks),
        plants=tuple(plants),
        tankers=tuple(tankers),
        place_ids=tuple(place.place_id for place in places),
        duration_s=duration_s,
        distance_m=distance_m,
        fixed=tuple(fixed_deliveries(deliveries, tank_ids, start_date, conversions)),
        assignment=main_plants(plan.allocation.flows),
        left_out=tuple(unknown),
        names={f.facility_id: f.name for f in request.facilities},
    )


def irp_plan_for_plan(
    store: Any,
    plan: Any,
    network: Any,
    region: Any,
    *,
    floor_h: float = DEFAULT_FLOOR_H,
    time_limit_s: float = 30.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> tuple[RegionIrpInput, RegionIrpPlan]:
    """Read the status at the plan's start (local midnight), the fleet and deliveries; solve.

    Returns the problem (for the files' names and figures) and its plan. ``time_limit_s``,
    ``seed`` and ``max_iterations`` go to :func:`coordination.irp_plan.plan_region_irp`.
    """
    from coordination.status import current_statuses

    at = dt.datetime.combine(plan.request.start_date, dt.time(0), tzinfo=LOCAL_TZ)
    statuses = current_statuses(store, at, region.status)
    vehicles = store.list_records("vehicles", limit=None)
    deliveries = store.list_deliveries(states=[DeliveryState.IN_TRANSIT], limit=100_000)
    problem = region_irp_input(
        plan, statuses, vehicles, deliveries, network, region, floor_h=floor_h
    )
    return problem, plan_region_irp(
        problem, time_limit_s=time_limit_s, seed=seed, max_iterations=max_iterations
    )


# --------------------------------------------------------------------------------- figures


def route_figures(routes: Sequence[TankerRoute]) -> dict[str, float]:
    """Return tanker km, hours (driving plus stops), trips, mean load factor, trips over shift.

    ``longest_tanker_day_h`` is the longest day of one tanker (all its trips), hours.
    """
    trips = len(routes)
    days: dict[tuple[int, str], float] = defaultdict(float)
    for route in routes:
        days[route.day, route.vehicle_id] += route.duration_s
    return {
        "tanker_km": sum(r.distance_m for r in routes) / 1000.0,
        "tanker_h": sum(r.duration_s for r in routes) / 3600.0,
        "trips": trips,
        "load_factor": (
            sum(r.load_kg / r.capacity_kg for r in routes) / trips if trips else math.nan
        ),
        "trips_over_shift": sum(r.over_shift for r in routes),
        "longest_tanker_day_h": max(days.values(), default=0.0) / 3600.0,
    }


def plan_figures(plan: RegionIrpPlan) -> dict[str, Any]:
    """Return the figures the summary and the HCMC comparison print."""
    planned = [d for d in plan.deliveries if not d.fixed]
    per_day = Counter(d.day for d in planned)
    return {
        **route_figures(plan.routes),
        "tanks_planned": len(plan.period_h),
        "deliveries": len(planned),
        "delivered_t": sum(d.quantity_kg for d in planned) / 1000.0,
        "deliveries_per_day": [per_day[day] for day in range(plan.horizon_days)],
        "fixed_deliveries": len(plan.deliveries) - len(planned),
        "facility_days_below_floor": len(plan.figures.below_floor),
        "facility_periods_below_floor": len(plan.figures.periods_below_floor),
        "facility_days_empty": plan.figures.empty_days,
        "lowest_hours_to_empty": plan.figures.lowest_hours_to_empty,
    }


# ----------------------------------------------------------------------------- documents


def _starts_at(plan: RegionIrpPlan, day: int, start_h: int) -> str:
    return starts_at(plan.start_date, day, start_h).isoformat(timespec="minutes")


def _route_dict(
    route: TankerRoute,
    plan: RegionIrpPlan,
    names: Mapping[str, str],
    points: Mapping[str, tuple[float, float]],
) -> Any:
    return {
        "day": route.day,
        "date": (plan.start_date + dt.timedelta(days=route.day)).isoformat(),
        "period_h": route.period_h,
        "starts_at": _starts_at(plan, route.day, route.start_h),
        "vehicle_id": route.vehicle_id,
        "plant_id": route.plant_id,
        "plant_name": names.get(route.plant_id, ""),
        "plant_lon_lat": list(points[route.plant_id]),
        "capacity_kg": route.capacity_kg,
        "load_kg": round(route.load_kg, 1),
        "distance_m": round(route.distance_m),
        "driving_s": round(route.driving_s),
        "duration_s": round(route.duration_s),
        "trip": route.trip,
        "over_shift": route.over_shift,
        "stops": [
            {
                "facility_id": f,
                "name": names.get(f, ""),
                "quantity_kg": round(q, 1),
                "lon_lat": list(points[f]),
            }
            for f, q in route.stops
        ],
    }


def _number(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def _names(problem: RegionIrpInput) -> dict[str, str]:
    names = dict(problem.names)
    names.update({t.facility_id: t.name for t in problem.tanks})
    names.update({p.supplier_id: p.name for p in problem.plants})
    return names


def _points(problem: RegionIrpInput) -> dict[str, tuple[float, float]]:
    """Return [lon, lat] (WGS84) of every tank and plant of the problem."""
    points = {t.facility_id: (t.lon, t.lat) for t in problem.tanks}
    points.update({p.supplier_id: (p.lon, p.lat) for p in problem.plants})
    return points


def irp_plan_to_dict(plan: RegionIrpPlan, problem: RegionIrpInput) -> dict[str, Any]:
    """Return the plan as a JSON-ready document (``irp_plan.json``)."""
    names = _names(problem)
    points = _points(problem)
    figures = plan_figures(plan)
    return {
        "start_date": plan.start_date.isoformat(),
        "horizon_days": plan.horizon_days,
        "units": {
            "quantity": "kg of liquid oxygen",
            "distance": "m",
            "time": "s",
            "period_h": "hours; starts_at is local time (Asia/Ho_Chi_Minh)",
            "lon_lat": "WGS84 [lon, lat]",
        },
        "summary": {k: _number(v) if isinstance(v, float) else v for k, v in figures.items()},
        "tanks": [
            {
                "facility_id": t.facility_id,
                "name": t.name,
                "plant_id": plan.assignment.get(t.facility_id),
                "period_h": plan.period_h.get(t.facility_id),
                "capacity_kg": round(t.capacity_kg, 1),
                "level_kg": round(t.level_kg, 1),
                "burn_kg_per_day": round(t.burn_kg_per_day, 1),
                "floor_kg": round(t.floor_kg, 1),
                "priority": t.priority,
                "end_of_day_levels_kg": [
                    round(x, 1) for x in plan.figures.levels_kg.get(t.facility_id, ())
                ],
                "lowest_hours_to_empty": _number(
                    plan.figures.lowest_hours.get(t.facility_id, math.inf)
                ),
            }
            for t in plan.tanks
        ],
        "deliveries": [
            {
                "day": d.day,
                "period_h": d.period_h,
                "starts_at": _starts_at(plan, d.day, d.start_h),
                "facility_id": d.facility_id,
                "plant_id": d.plant_id,
                "vehicle_id": d.vehicle_id,
                "quantity_kg": round(d.quantity_kg, 1),
                "fixed": d.fixed,
                "delivery_id": d.delivery_id,
            }
            for d in plan.deliveries
        ],
        "routes": [_route_dict(r, plan, names, points) for r in plan.routes],
        "shortfalls": [
            {
                "facility_id": s.facility_id,
                "name": names.get(s.facility_id, ""),
                "day": s.day,
                "period_h": s.period_h,
                "starts_at": None if s.day is None else _starts_at(plan, s.day, s.start_h),
                "missing_kg": round(s.missing_kg, 1),
                "reason": s.reason,
                "message_en": s.message_en,
                "message_vi": s.message_vi,
            }
            for s in plan.shortfalls
        ],
        "unused_tankers": [{"vehicle_id": v, "reason": why} for v, why in plan.unused_tankers],
        "solver": dict(plan.solver),
    }


def irp_summary(plan: RegionIrpPlan, problem: RegionIrpInput, *, lowest: int = 8) -> str:
    """Return the plain-text summary (``irp_summary.txt``)."""
    figures = plan_figures(plan)
    names = _names(problem)
    lines = [
        f"Inventory-routing plan from {plan.start_date.isoformat()}, {plan.horizon_days} days, "
        f"{len(plan.tanks)} tanks, floor {problem.tanks[0].floor_h if problem.tanks else 0:g} h "
        "of burn",
        f"tanker km {figures['tanker_km']:.1f}, tanker hours {figures['tanker_h']:.1f}, "
        f"trips {figures['trips']}, mean load factor {figures['load_factor']:.2f}, "
        f"trips over the shift {figures['trips_over_shift']}",
        f"deliveries {figures['deliveries']} (per day: "
        f"{', '.join(str(n) for n in figures['deliveries_per_day'])}), "
        f"dispatched and kept {figures['fixed_deliveries']}",
        f"facility-days below the floor {figures['facility_days_below_floor']} "
        f"(facility-periods {figures['facility_periods_below_floor']}), with the tank "
        f"empty {figures['facility_days_empty']}",
        _periods_line(plan, names),
        "",
        "lowest hours to empty over the horizon:",
    ]
    ranked = sorted(plan.figures.lowest_hours.items(), key=lambda item: (item[1], item[0]))
    for facility_id, hours in ranked[:lowest]:
        lines.append(f"  {hours:7.1f} h  {names.get(facility_id, '')} ({facility_id})")
    if plan.shortfalls:
        lines += ["", "shortfalls / thiếu hụt:"]
        for s in plan.shortfalls:
            day = "all days" if s.day is None else time_label(s.day, s.start_h, s.period_h)
            lines.append(
                f"  {names.get(s.facility_id, s.facility_id)} ({s.facility_id}), {day}: "
                f"{s.message_en} / {s.message_vi}"
                + (f" ({s.missing_kg:,.0f} kg)" if s.missing_kg else "")
            )
    return "\n".join(lines) + "\n"


def _periods_line(plan: RegionIrpPlan, names: Mapping[str, str]) -> str:
    """Return each plant's period length, e.g. ``periods: 24 h Phú Mỹ (30 tanks)``."""
    tanks: Counter[tuple[int, str]] = Counter(
        (plan.period_h[facility_id], plant_id)
        for facility_id, plant_id in plan.assignment.items()
        if facility_id in plan.period_h
    )
    parts = [
        f"{period_h} h {names.get(plant_id, plant_id)} ({count} tanks)"
        for (period_h, plant_id), count in sorted(tanks.items(), key=lambda item: item[0][1])
    ]
    return "periods: " + (", ".join(parts) if parts else "none planned")


def irp_files(plan: RegionIrpPlan, problem: RegionIrpInput) -> dict[str, str]:
    """Return the IRP files (:data:`IRP_FILES`) by name: UTF-8 text, names with their diacritics.

    ``irp_routes_day0.json`` holds the date and the routes of day 0 (every period of it).
    """
    document = irp_plan_to_dict(plan, problem)
    first = {
        "date": plan.start_date.isoformat(),
        "routes": [r for r in document["routes"] if r["day"] == 0],
    }
    texts = (
        json.dumps(document, ensure_ascii=False, indent=1),
        json.dumps(first, ensure_ascii=False, indent=1),
        irp_summary(plan, problem),
    )
    return {
        name: text + ("" if text.endswith("\n") else "\n")
        for name, text in zip(IRP_FILES, texts, strict=True)
    }


def routes_to_geojson(routes_document: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``irp_routes_day0.json`` as GeoJSON: a line per trip, a point per stop (WGS84).

    A trip's line joins its plant, its stops in order and the plant again by straight segments
    (the road's path is not kept); its ``distance_m`` is the road's. Each stop point carries the
    trip's vehicle, trip number, period start and the kg left.
    """
    features: list[dict[str, Any]] = []
    for route in routes_document["routes"]:
        trip = {k: route[k] for k in ("vehicle_id", "trip", "starts_at", "period_h", "plant_id")}
        plant = route["plant_lon_lat"]
        line = [plant, *(stop["lon_lat"] for stop in route["stops"]), plant]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "kind": "trip",
                    **trip,
                    "plant_name": route["plant_name"],
                    "load_kg": route["load_kg"],
                    "distance_m": route["distance_m"],
                    "duration_s": route["duration_s"],
                },
            }
        )
        features.extend(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": stop["lon_lat"]},
                "properties": {
                    "kind": "stop",
                    **trip,
                    "order": order,
                    "facility_id": stop["facility_id"],
                    "name": stop["name"],
                    "quantity_kg": stop["quantity_kg"],
                },
            }
            for order, stop in enumerate(route["stops"], start=1)
        )
    return {"type": "FeatureCollection", "features": features}


def write_irp_files(plan: RegionIrpPlan, problem: RegionIrpInput, out_dir: Path) -> str:
    """Write the IRP files (:data:`IRP_FILES`) into ``out_dir``; return the summary.

    Raises
    ------
    InvalidInputError
        If the folder cannot be written, naming it and the reason.
    """
    files = irp_files(plan, problem)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out_dir / name).write_text(text, "utf-8")
    except OSError as error:
        raise InvalidInputError(
            f"--out {out_dir}: cannot write the IRP files there ({error.strerror})"
        ) from None
    return files[IRP_FILES[-1]]
