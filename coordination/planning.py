"""The coordinator's plan, end to end: reports -> demand -> shortfall -> road matrix -> allocation.

A thin orchestration layer (STYLE.md, "api.py or a thin orchestration function wires them"): it
gathers the registry's records, turns them into the plain inputs of ``matcher/`` and ``routing/``,
calls them, and serialises the answer (JSON, GeoJSON, CSV, a text summary). No optimisation or
routing logic lives here.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from coordination.compliance import oxygen_beds, report_patients
from coordination.counted_facilities import facilities_counted_on
from coordination.plan_supply import (
    DeclaredSupply,
    capacity_columns,
    capacity_on,
    declared_supply,
)
from coordination.region_scope import LeftOut, scope_document, scope_registry, scope_text
from coordination.report_doubts import (
    doubt_reason,
    doubts_of_check,
    replaced_values,
    reports_by_facility,
    stock_used_m3,
)
from data.errors import InvalidInputError
from data.region import Region
from data.schema.allocation import (
    UNREACHABLE_S,
    AllocationOptions,
    AllocationPlan,
    AllocationProblem,
    FacilityDemand,
    Product,
    Supplier,
    SupplierCapacity,
)
from data.schema.documents import PlanDocument, PlanFacilityRow, PlanSupplierRow, ReplacedValue
from data.schema.network import Place, TravelMatrix
from data.schema.spreadsheet_text import safe_text
from data.units import OxygenConversions, flow_l_per_min_to_m3_per_day
from matcher.allocation import allocate_supply
from matcher.demand import (
    DEFAULT_DEMAND_RULE,
    PLANNING_FLOW_TABLE,
    CaseScenario,
    DemandForecast,
    DemandRule,
    FacilityProfile,
    FlowTable,
    OxygenNeed,
    PatientReport,
    project_demand,
)
from matcher.problem_json import plan_to_json
from matcher.shortfall import (
    NFPA99_ONE_DAY,
    FacilityShortfall,
    SafetyStockRule,
    SupplyPosition,
    compute_shortfalls,
)
from routing.network import RoadNetwork
from routing.travel_time import travel_time_matrix

DEFAULT_HORIZON_DAYS = 7
#: Days before a plan searched for each facility's last report, to name how old it is (a year).
LAST_REPORT_SEARCH_DAYS = 366
#: A delivery may take at most this long on the road (s): 4 h, a tanker's half shift each way.
DEFAULT_MAX_DELIVERY_TIME_S = 4 * 3600

_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass(frozen=True, slots=True)
class PlanFacility:
    """A facility as the plan needs it (plain data, from the registry or a region file)."""

    facility_id: str
    name: str
    lon: float
    lat: float
    province_code: str
    tier: int
    district: str = ""
    beds: int = 0
    liquid_tank_capacity_l: float = 0.0
    cylinder_storage: int = 0
    generation_m3_per_day: float = 0.0
    generated: bool = False


@dataclass(frozen=True, slots=True)
class PlanSupplier:
    """A supplier as the plan needs it: position, usual daily capacities, declared days."""

    supplier_id: str
    name: str
    lon: float
    lat: float
    kind: str
    liquid_t_per_day: float = 0.0
    cylinders_per_day: int = 0
    #: Share of capacity available on each horizon day (outages, ramp-ups); missing days are 1.
    capacity_factor_per_day: tuple[float, ...] = ()
    #: Declarations for plan days (one per day); a declared day replaces the usual figures.
    declared: tuple[DeclaredSupply, ...] = ()

    def factor(self, day: int) -> float:
        """Return the capacity share available on a horizon day."""
        return self.capacity_factor_per_day[day] if day < len(self.capacity_factor_per_day) else 1.0

    def capacity_on(self, day: dt.date | None) -> tuple[float, int, str]:
        """Return liquid t, cylinders and their basis on ``day``, before the day's factor.

        See :func:`coordination.plan_supply.capacity_on`: the day's declaration, else the
        usual figures (``"medical share"``).
        """
        return capacity_on(day, (self.liquid_t_per_day, self.cylinders_per_day), self.declared)


@dataclass(frozen=True, slots=True)
class StockReport:
    """A facility's latest daily report, reduced to what the plan uses."""

    facility_id: str
    report_date: dt.date
    patients: tuple[tuple[OxygenNeed, int], ...]
    stock_m3: float
    expected_deliveries_m3: float = 0.0
    #: Declared use in the 24 h before the report (m³ gas); None when not given.
    declared_use_m3: float | None = None
    #: ``(field, rule id)`` pairs a plan must not take at face value (unreviewed flags, or a
    #: correction asked for); empty when the report is unflagged or its flags were accepted.
    doubts: tuple[tuple[str, str], ...] = ()
    #: ``unflagged``, ``unreviewed``, ``accepted`` or ``correction_requested``.
    review_status: str = "unflagged"

    @property
    def fields_in_doubt(self) -> frozenset[str]:
        """Report fields in doubt (``oxygen_used_24h_m3``, ``liquid_stock_l``, ...)."""
        return frozenset(field for field, _ in self.doubts)

    def doubt_reason(self, fields: Sequence[str]) -> str:
        """Say why ``fields`` are in doubt (flags and review status), ``""`` if they are not."""
        rules = sorted({rule for field, rule in self.doubts if field in fields})
        return doubt_reason(rules, self.review_status) if rules else ""

    @property
    def use_in_doubt(self) -> str:
        """Why the declared use is in doubt, ``""`` when it is not."""
        return self.doubt_reason(("oxygen_used_24h_m3",))

    @property
    def stock_in_doubt(self) -> bool:
        """True when the liquid or cylinder stock is in doubt."""
        return bool(self.fields_in_doubt & {"liquid_stock_l", "cylinders_full"})


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Everything a plan depends on besides the road network; changing any field is a what-if."""

    region_id: str
    start_date: dt.date
    facilities: tuple[PlanFacility, ...]
    suppliers: tuple[PlanSupplier, ...]
    reports: tuple[StockReport, ...] = ()
    horizon_days: int = DEFAULT_HORIZON_DAYS
    scenario: CaseScenario | None = None
    options: AllocationOptions = field(
        default_factory=lambda: AllocationOptions(max_delivery_time_s=DEFAULT_MAX_DELIVERY_TIME_S)
    )
    flow_table: FlowTable = PLANNING_FLOW_TABLE
    safety_stock: SafetyStockRule = NFPA99_ONE_DAY
    conversions: OxygenConversions = field(default_factory=OxygenConversions)
    #: Each facility's last report date before ``start_date``, of any age (to show how old the
    #: data is); facilities not listed fall back to ``reports``.
    last_report_dates: tuple[tuple[str, dt.date], ...] = ()
    #: Carry-forward window and declared-use band (``matcher.demand.DemandRule``, validated).
    demand_rule: DemandRule = DEFAULT_DEMAND_RULE
    #: The region's file when it is not bundled (``Region.reference``), so that the plan's
    #: dispatch finds the region again (issue 16); its province (a new facility's default).
    region_file: str | None = None
    region_province_code: str | None = None
    #: Registry records off the region's map, with the reason (``coordination.region_scope``).
    left_out: tuple[LeftOut, ...] = ()
    off_map_other_provinces: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not self.facilities:
            problems.append("facilities: the plan has no facility")
        if not self.suppliers:
            problems.append("suppliers: the plan has no supplier")
        if (
            isinstance(self.horizon_days, bool)
            or not isinstance(self.horizon_days, int)
            or not 1 <= self.horizon_days <= 60
        ):
            problems.append(
                f"horizon_days: must be an integer from 1 to 60, got {self.horizon_days!r}"
            )
        if not isinstance(self.demand_rule, DemandRule):
            problems.append(
                f"demand_rule: must be a matcher.demand.DemandRule, got {self.demand_rule!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("plan request", problems)


@dataclass(frozen=True, slots=True)
class CoordinatorPlan:
    """A plan with all a coordinator reads: forecasts, shortfalls, allocation, travel times."""

    request: PlanRequest
    forecasts: tuple[DemandForecast, ...]
    shortfalls: tuple[FacilityShortfall, ...]
    allocation: AllocationPlan
    matrix: TravelMatrix
    timings_s: Mapping[str, float]


def _supplier_capacities(
    supplier: PlanSupplier,
    horizon: int,
    conversions: OxygenConversions,
    start_date: dt.date | None = None,
) -> tuple[SupplierCapacity, ...]:
    """Return a supplier's capacity per product and horizon day (m³ gas).

    Each day takes the supplier's declaration for that date when there is one, else its
    usual medical figures (:meth:`PlanSupplier.capacity_on`), times the day's factor
    (scenarios' outages). A product appears when some day has capacity for it.
    """
    days = [
        supplier.capacity_on(None if start_date is None else start_date + dt.timedelta(days=d))
        for d in range(horizon)
    ]
    factors = [supplier.factor(day) for day in range(horizon)]
    liquid_m3 = tuple(
        conversions.lox_t_to_gas_m3(liquid_t) * f
        for (liquid_t, _, _), f in zip(days, factors, strict=True)
    )
    cylinders_m3 = tuple(
        conversions.cylinders_to_gas_m3(cylinders) * f
        for (_, cylinders, _), f in zip(days, factors, strict=True)
    )
    capacities = []
    if any(liquid_t > 0 for liquid_t, _, _ in days):
        capacities.append(SupplierCapacity(Product.BULK_LIQUID, liquid_m3))
    if any(cylinders > 0 for _, cylinders, _ in days):
        capacities.append(SupplierCapacity(Product.CYLINDER, cylinders_m3))
    return tuple(capacities)


def _facility_demand(
    facility: PlanFacility,
    shortfall: FacilityShortfall,
    critical_share: float,
    conversions: OxygenConversions,
) -> FacilityDemand:
    # Bulk liquid only into a tank (VIE); cylinders go everywhere. Receiving limits: the tank's
    # gas content, and the facility's own cylinder stock (the empties it can swap).
    accepted = {Product.CYLINDER}
    limits: list[tuple[Product, float]] = []
    if facility.liquid_tank_capacity_l > 0:
        accepted.add(Product.BULK_LIQUID)
        limits.append(
            (Product.BULK_LIQUID, conversions.lox_l_to_gas_m3(facility.liquid_tank_capacity_l))
        )
    if facility.cylinder_storage > 0:
        limits.append(
            (Product.CYLINDER, conversions.cylinders_to_gas_m3(facility.cylinder_storage))
        )
    return FacilityDemand(
        facility_id=facility.facility_id,
        demand_m3_per_day=tuple(round(v, 3) for v in shortfall.required_m3_per_day),
        accepted_products=frozenset(accepted),
        receiving_limit_m3_per_day=tuple(limits),
        tier=facility.tier,
        critical_share=critical_share,
        lonlat=(facility.lon, facility.lat),
        estimated=shortfall.estimated,
    )


def _critical_share(forecast_report: StockReport | None) -> float:
    if forecast_report is None:
        return 0.0
    counts = dict(forecast_report.patients)
    total = sum(counts.values())
    critical = sum(counts.get(n, 0) for n in (OxygenNeed.INVASIVE, OxygenNeed.ECMO))
    return critical / total if total else 0.0


def integer_travel_seconds(matrix: TravelMatrix) -> np.ndarray:
    """Round a travel matrix to whole seconds, unreachable pairs as ``UNREACHABLE_S``."""
    seconds = np.full(matrix.duration_s.shape, UNREACHABLE_S, dtype=np.int64)
    finite = np.isfinite(matrix.duration_s)
    seconds[finite] = np.rint(matrix.duration_s[finite]).astype(np.int64)
    return seconds


def _project_demand(request: PlanRequest) -> tuple[DemandForecast, ...]:
    """Project each facility's demand over the horizon from its patient reports."""
    profiles = [
        FacilityProfile(f.facility_id, f.province_code, f.tier, f.beds) for f in request.facilities
    ]
    patient_reports = [
        PatientReport(
            r.facility_id,
            r.report_date,
            r.patients,
            r.declared_use_m3,
            r.use_in_doubt,
            use_confirmed=r.review_status == "accepted",
        )
        for r in request.reports
    ]
    return project_demand(
        profiles,
        patient_reports,
        start_date=request.start_date,
        horizon_days=request.horizon_days,
        scenario=request.scenario,
        flow_table=request.flow_table,
        rule=request.demand_rule,
    )


def _latest_reports(request: PlanRequest) -> dict[str, StockReport]:
    """Return each facility's last stock report before the plan's first day."""
    latest: dict[str, StockReport] = {}
    for report in sorted(request.reports, key=lambda r: r.report_date):
        if report.report_date < request.start_date:
            latest[report.facility_id] = report
    return latest


def _supply_positions(
    request: PlanRequest, latest: Mapping[str, StockReport]
) -> list[SupplyPosition]:
    """Return each facility's stock, expected deliveries and generation (none if not reported).

    Stock in doubt (an unreviewed flag) counts as the lower of the declared stock and what can
    be explained (:func:`coordination.report_doubts.stock_used_m3`).
    """
    by_facility = reports_by_facility(request.reports, request.start_date)
    positions = []
    for facility in request.facilities:
        last_report = latest.get(facility.facility_id)
        stock_m3 = (
            stock_used_m3(facility, by_facility[facility.facility_id], request.conversions)[0]
            if last_report
            else 0.0
        )
        positions.append(
            SupplyPosition(
                facility.facility_id,
                stock_m3=stock_m3,
                expected_deliveries_m3_per_day=(
                    (last_report.expected_deliveries_m3,) if last_report else ()
                ),
                generation_m3_per_day=facility.generation_m3_per_day,
            )
        )
    return positions


def _allocation_problem(
    request: PlanRequest,
    shortfalls: Sequence[FacilityShortfall],
    latest: Mapping[str, StockReport],
    matrix: TravelMatrix,
) -> AllocationProblem:
    """Return the allocation problem: supplier capacities, facility demand, road times."""
    suppliers = tuple(
        Supplier(
            s.supplier_id,
            _supplier_capacities(s, request.horizon_days, request.conversions, request.start_date),
            s.name,
            (s.lon, s.lat),
        )
        for s in request.suppliers
    )
    demands = tuple(
        _facility_demand(f, sf, _critical_share(latest.get(f.facility_id)), request.conversions)
        for f, sf in zip(request.facilities, shortfalls, strict=True)
    )
    return AllocationProblem(
        suppliers=suppliers,
        facilities=demands,
        horizon_days=request.horizon_days,
        travel_time_s=integer_travel_seconds(matrix),
        options=request.options,
        start_date=request.start_date,
    )


def build_plan(request: PlanRequest, network: RoadNetwork, region: Region) -> CoordinatorPlan:
    """Compute the coordinator's plan: forecasts, shortfalls, road travel times, allocation.

    Demand that cannot be served is part of the answer (``allocation.unmet`` with reasons,
    "unreachable" for facilities the roads do not reach); nothing here raises for infeasibility.

    Raises
    ------
    InvalidInputError
        If the request is inconsistent (reports of unknown facilities, a tier without estimate).
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    forecasts = _project_demand(request)
    latest = _latest_reports(request)
    shortfalls = compute_shortfalls(
        forecasts, _supply_positions(request, latest), rule=request.safety_stock
    )
    timings["demand_and_shortfall"] = time.perf_counter() - started

    started = time.perf_counter()
    supplier_places = [Place(s.supplier_id, s.lon, s.lat, s.name) for s in request.suppliers]
    facility_places = [Place(f.facility_id, f.lon, f.lat, f.name) for f in request.facilities]
    matrix = travel_time_matrix(
        network,
        supplier_places,
        facility_places,
        gateways=region.gateways,
        max_snap_m=region.max_snap_m,
    )
    timings["travel_times"] = time.perf_counter() - started

    started = time.perf_counter()
    problem = _allocation_problem(request, shortfalls, latest, matrix)
    allocation = allocate_supply(problem, conversions=request.conversions)
    timings["allocation"] = time.perf_counter() - started
    return CoordinatorPlan(request, forecasts, shortfalls, allocation, matrix, timings)


# --------------------------------------------------------------------------- serialisation


def last_report_dates(request: PlanRequest) -> dict[str, dt.date]:
    """Return each facility's last report date before the plan (of any age), where known."""
    last = {fid: day for fid, day in request.last_report_dates if day < request.start_date}
    for report in request.reports:
        if report.report_date < request.start_date and report.report_date > last.get(
            report.facility_id, dt.date.min
        ):
            last[report.facility_id] = report.report_date
    return last


def _facility_row_dicts(plan: CoordinatorPlan) -> list[PlanFacilityRow]:
    """Return the facility rows; ``demand_m3`` is ``None`` where the demand is unknown."""
    unmet_by_facility: dict[str, float] = defaultdict(float)
    reasons: dict[str, set[str]] = defaultdict(set)
    for entry in plan.allocation.unmet:
        unmet_by_facility[entry.facility_id] += entry.unmet_m3
        reasons[entry.facility_id].add(str(entry.reason))
    delivered: dict[str, float] = defaultdict(float)
    for flow in plan.allocation.flows:
        delivered[flow.facility_id] += flow.quantity_m3
    request = plan.request
    last = last_report_dates(request)
    by_facility = reports_by_facility(request.reports, request.start_date)
    rows: list[PlanFacilityRow] = []
    for facility, forecast, shortfall in zip(
        request.facilities, plan.forecasts, plan.shortfalls, strict=True
    ):
        snap = plan.matrix.snaps[facility.facility_id]
        known = forecast.demand_known
        last_date = last.get(facility.facility_id)
        reports = by_facility.get(facility.facility_id, [])
        replaced: list[ReplacedValue] = replaced_values(
            facility,
            forecast,
            reports,
            start_date=request.start_date,
            rule=request.demand_rule,
            conversions=request.conversions,
        )
        rows.append(
            {
                "facility_id": facility.facility_id,
                "name": facility.name,
                "district": facility.district,
                "tier": facility.tier,
                "location": [facility.lon, facility.lat],
                "demand_m3": round(sum(forecast.demand_m3_per_day), 1) if known else None,
                "demand_estimated": forecast.estimated,
                # Kept a number (0 where the demand is unknown): readers add these up.
                "shortfall_m3": round(shortfall.shortfall_m3, 1),
                "first_shortfall_day": shortfall.first_shortfall_day,
                "days_of_supply": None
                if shortfall.days_of_supply is None
                else round(shortfall.days_of_supply, 2),
                "allocated_m3": round(delivered[facility.facility_id], 1),
                "unmet_m3": round(unmet_by_facility[facility.facility_id], 1),
                "unmet_reasons": sorted(reasons[facility.facility_id]),
                "reachable": snap.reachable,
                "unreachable_reason": snap.reason,
                "generated_data": facility.generated,
                # Added by issue 13 ("missing is never zero"): what the demand stands on.
                "demand_basis": str(forecast.demand_basis),
                "demand_known": known,
                "report_date": None
                if forecast.report_date is None
                else forecast.report_date.isoformat(),
                "report_age_days": forecast.report_age_days,
                "carried_forward_days": forecast.carried_forward_days
                if forecast.report_date is not None
                else None,
                "last_report_date": None if last_date is None else last_date.isoformat(),
                "demand_note": forecast.note,
                # Issue 13, item 1: values of reports in doubt the plan replaced, and why.
                "report_review_status": reports[-1].review_status if reports else None,
                "replaced_values": replaced,
            }
        )
    return rows


def _facility_rows(plan: CoordinatorPlan) -> list[PlanFacilityRow]:
    return _facility_row_dicts(plan)


def _csv_cell(value: Any) -> Any:
    """Return a facility row value as a CSV cell: lists joined by ``; ``, replaced values named."""
    if isinstance(value, str):
        return safe_text(value)  # a name "=cmd|..." is shown, never run
    if not isinstance(value, list):
        return value
    return "; ".join(
        f"{v['field']} {v['report_date']}: declared {v['declared_m3']} m³, used "
        f"{'unknown' if v['used_m3'] is None else v['used_m3']} m³ ({v['used_basis']}; "
        f"{', '.join(v['rule_ids'])}, {v['review_status']})"
        if isinstance(v, dict)
        else str(v)
        for v in value
    )


def _supplier_row(plan: CoordinatorPlan, supplier: PlanSupplier) -> PlanSupplierRow:
    """Return a plan's supplier row, with each day's capacity and its basis.

    ``capacity_basis`` has one entry per plan date: ``"declared YYYY-MM-DD"`` or
    ``"medical share"``; ``capacity_by_day`` the day's liquid t and cylinders before scenario
    factors (added by issue 13, "real supply").
    """
    request = plan.request
    dates = [request.start_date + dt.timedelta(days=d) for d in range(request.horizon_days)]
    usual = (supplier.liquid_t_per_day, supplier.cylinders_per_day)
    row = {
        "supplier_id": supplier.supplier_id,
        "name": supplier.name,
        "kind": supplier.kind,
        "location": [supplier.lon, supplier.lat],
        "liquid_t_per_day": supplier.liquid_t_per_day,
        "cylinders_per_day": supplier.cylinders_per_day,
        "via_gateway": plan.matrix.snaps[supplier.supplier_id].gateway_id,
        "reachable": plan.matrix.snaps[supplier.supplier_id].reachable,
        **capacity_columns(dates, usual, supplier.declared),
    }
    # Built with ** of a plain dict (the capacity columns), which a TypedDict literal cannot take.
    return cast(PlanSupplierRow, row)


def plan_to_dict(plan: CoordinatorPlan) -> PlanDocument:
    """Return the plan as JSON-ready data (ids, m³, seconds, WGS84 ``[lon, lat]``)."""
    from coordination.plan_text import reporting_line

    request = plan.request
    allocation = plan_to_json(plan.allocation)
    dates = [
        (request.start_date + dt.timedelta(days=d)).isoformat() for d in range(request.horizon_days)
    ]
    document: PlanDocument = {
        "region": request.region_id,
        "headline": reporting_line(plan),
        "start_date": request.start_date.isoformat(),
        "horizon_days": request.horizon_days,
        "dates": dates,
        "facilities": _facility_rows(plan),
        "suppliers": [_supplier_row(plan, s) for s in request.suppliers],
        "allocation": allocation,
        "timings_s": {k: round(v, 3) for k, v in plan.timings_s.items()},
        "attribution": _ATTRIBUTION,
    }
    # Added keys (issue 16): region_file, left_out, off_map_other_provinces, far_snaps.
    scope = scope_document(plan)
    document["left_out"] = scope["left_out"]
    document["off_map_other_provinces"] = scope["off_map_other_provinces"]
    document["far_snaps"] = scope["far_snaps"]
    if "region_file" in scope:
        document["region_file"] = scope["region_file"]
    return document


def plan_to_geojson(plan: CoordinatorPlan) -> dict[str, Any]:
    """Return facilities (points), suppliers (points) and flows (lines) as RFC 7946 GeoJSON."""
    features: list[dict[str, Any]] = []
    for row in _facility_rows(plan):
        lon, lat = row["location"]
        properties = {key: value for key, value in row.items() if key != "location"}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {"kind": "facility", **properties},
            }
        )
    suppliers = {s.supplier_id: s for s in plan.request.suppliers}
    facilities = {f.facility_id: f for f in plan.request.facilities}
    for supplier in plan.request.suppliers:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(supplier.lon, 6), round(supplier.lat, 6)],
                },
                "properties": {
                    "kind": "supplier",
                    "supplier_id": supplier.supplier_id,
                    "name": supplier.name,
                    "supplier_kind": supplier.kind,
                    "liquid_t_per_day": supplier.liquid_t_per_day,
                    "cylinders_per_day": supplier.cylinders_per_day,
                },
            }
        )
    totals: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for flow in plan.allocation.flows:
        entry = totals[(flow.supplier_id, flow.facility_id, str(flow.product))]
        entry[0] += flow.quantity_m3
        entry[1] = flow.travel_time_s
    for (supplier_id, facility_id, product), (quantity_m3, travel_s) in totals.items():
        s, f = suppliers[supplier_id], facilities[facility_id]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(s.lon, 6), round(s.lat, 6)],
                        [round(f.lon, 6), round(f.lat, 6)],
                    ],
                },
                "properties": {
                    "kind": "flow",
                    "supplier_id": supplier_id,
                    "facility_id": facility_id,
                    "product": product,
                    "quantity_m3": round(quantity_m3, 1),
                    "travel_time_s": travel_s,
                    "geometry_note": (
                        "straight line from supplier to facility; road paths via /route"
                    ),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "attribution": _ATTRIBUTION}


def plan_to_csv(plan: CoordinatorPlan) -> dict[str, str]:
    """Return the plan as CSV texts: ``flows.csv`` and ``facilities.csv`` (UTF-8, no BOM added)."""
    request = plan.request
    names = {f.facility_id: f.name for f in request.facilities}
    supplier_names = {s.supplier_id: s.name for s in request.suppliers}
    flows = io.StringIO()
    writer = csv.writer(flows)
    writer.writerow(
        [
            "date",
            "supplier_id",
            "supplier_name",
            "facility_id",
            "facility_name",
            "product",
            "quantity_m3",
            "quantity",
            "unit",
            "travel_time_min",
        ]
    )
    for flow in plan.allocation.flows:
        writer.writerow(
            [
                (request.start_date + dt.timedelta(days=flow.day)).isoformat(),
                flow.supplier_id,
                safe_text(supplier_names[flow.supplier_id]),
                flow.facility_id,
                safe_text(names[flow.facility_id]),
                str(flow.product),
                round(flow.quantity_m3, 1),
                round(flow.quantity, 3),
                flow.unit,
                round(flow.travel_time_s / 60, 1),
            ]
        )
    facilities = io.StringIO()
    rows = _facility_row_dicts(plan)
    writer = csv.writer(facilities)
    columns = [c for c in rows[0] if c != "location"] + ["lon", "lat"]
    writer.writerow(columns)
    for row in rows:
        lon, lat = row["location"]
        cells: dict[str, Any] = {**row, "lon": lon, "lat": lat}
        writer.writerow([_csv_cell(cells[c]) for c in columns])
    return {"flows.csv": flows.getvalue(), "facilities.csv": facilities.getvalue()}


def plan_summary(plan: CoordinatorPlan, *, largest: int = 8) -> str:
    """Return a text summary a coordinator can read: data gaps first, then who is short.

    The first line says how many facilities reported on the plan's reporting day (the day before
    ``start_date``), or that none did and which day last had reports. Facilities whose demand is
    unknown, estimated or carried forward are listed before the shortfalls, and every total says
    how many facilities it leaves out because their demand is unknown.
    """
    from coordination.plan_text import summary_text

    scope = scope_text(plan)
    return summary_text(plan, largest=largest) + (f"\n{scope}" if scope else "")


def replace_request(request: PlanRequest, **changes: Any) -> PlanRequest:
    """Return a copy of a request with fields replaced (what-ifs never edit the base)."""
    return dataclasses.replace(request, **changes)


def _cell_number(value: Any) -> float | None:
    """Return a file cell as a finite number >= 0, ``None`` when empty or unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def suppliers_from_places(places: Iterable[Place]) -> tuple[PlanSupplier, ...]:
    """Read plan suppliers from a region's suppliers file (columns as in hcmc_suppliers.csv).

    Liquid capacity (t/day) is ``medical_lox_t_per_day`` (the liquid oxygen a plant gives to
    medical use; issue 13: a plant's capacity is O2, N2 and Ar together) when that column is
    present and holds a number, 0 included, else ``capacity_lox_t_per_day`` as before. Empty or
    unreadable cells count as absent; a missing capacity is 0.
    """
    suppliers = []
    for p in places:
        medical = _cell_number(p.properties.get("medical_lox_t_per_day"))
        liquid = (
            medical
            if medical is not None
            else _cell_number(p.properties.get("capacity_lox_t_per_day"))
        )
        cylinders = _cell_number(p.properties.get("capacity_cylinders_per_day"))
        suppliers.append(
            PlanSupplier(
                p.place_id,
                p.name,
                p.lon,
                p.lat,
                p.properties.get("kind", ""),
                liquid or 0.0,
                int(cylinders or 0),
            )
        )
    return tuple(suppliers)


def generation_m3_per_day(
    psa_output_m3_per_day: float | None,
    concentrators: int | None,
    concentrator_output_l_per_min: float | None,
) -> float:
    """On-site oxygen generation per day: PSA output plus concentrators running all day."""
    psa = psa_output_m3_per_day or 0.0
    concentrator = (concentrators or 0) * flow_l_per_min_to_m3_per_day(
        concentrator_output_l_per_min or 0.0
    )
    return psa + concentrator


def facilities_from_registry(records: Iterable[Any]) -> tuple[PlanFacility, ...]:
    """Turn registry facility records (``data.schema.registry.Facility``) into plan facilities."""
    facilities = []
    for f in records:
        beds = oxygen_beds(f)
        facilities.append(
            PlanFacility(
                facility_id=f.facility_id,
                name=f.name,
                lon=f.lon,
                lat=f.lat,
                province_code=f.province_code,
                tier=f.tier,
                district=f.district or "",
                beds=beds,
                liquid_tank_capacity_l=f.liquid_tank_capacity_l or 0.0,
                cylinder_storage=sum(f.cylinders_on_hand.values()),
                generation_m3_per_day=generation_m3_per_day(
                    f.psa_output_m3_per_day, f.concentrators, f.concentrator_output_l_per_min
                ),
                generated="generated" in (f.source or "").lower(),
            )
        )
    return tuple(facilities)


def stock_reports_from_registry(
    revisions: Iterable[Any],
    conversions: OxygenConversions,
    checks: Mapping[tuple[str, dt.date, int], Any] | None = None,
) -> tuple[StockReport, ...]:
    """Turn registry report revisions (``ReportRevision``) into the plan's stock reports.

    ``checks`` are the store's flags and reviews (``Store.report_checks``, keyed by facility,
    date and revision): fields flagged and not accepted, or sent back for correction, are in
    doubt (:func:`coordination.report_doubts.doubts_of_check`). Without ``checks`` nothing is.
    """
    reports = []
    for revision in revisions:
        r = revision.report
        doubts, status = doubts_of_check(
            None
            if checks is None
            else checks.get((r.facility_id, r.report_date, revision.revision))
        )
        stock_m3 = (
            conversions.lox_l_to_gas_m3(r.liquid_stock_l) if r.liquid_stock_l else 0.0
        ) + sum(
            conversions.cylinders_to_gas_m3(count, size)
            for size, count in r.cylinders_full.items()
            if size in conversions.cylinder_gas_m3
        )
        reports.append(
            StockReport(
                facility_id=r.facility_id,
                report_date=r.report_date,
                patients=report_patients(r),
                stock_m3=stock_m3,
                expected_deliveries_m3=r.deliveries_expected_m3 or 0.0,
                declared_use_m3=r.oxygen_used_24h_m3,
                doubts=doubts,
                review_status=status,
            )
        )
    return tuple(reports)


def plan_request_from_store(
    store: Any,
    region: Region,
    network: RoadNetwork,
    *,
    start_date: dt.date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    lookback_days: int | None = None,
    options: AllocationOptions | None = None,
    scenario: CaseScenario | None = None,
    demand_rule: DemandRule = DEFAULT_DEMAND_RULE,
) -> PlanRequest:
    """Gather a plan request from the registry for the facilities on a region's map.

    Facilities are the registry's facilities on the region's map
    (:func:`coordination.region_scope.scope_registry`: the network's bounding box, a 0.02°
    margin), less those closed before ``start_date`` and merged duplicates
    (:func:`coordination.counted_facilities.facilities_counted_on`);
    suppliers are the registry's suppliers the region's roads or gateways reach, each with its
    supply declarations
    for the plan's days (a declared day replaces the record's medical figures,
    docs/declarations.md), or the region's suppliers file when the registry has none (records
    left out are kept in ``left_out``, with the reason); reports
    are the latest revisions of the ``lookback_days`` before ``start_date`` (default
    ``demand_rule.max_report_age_days``: the reporting day and
    ``demand_rule.carry_forward_days`` more), with their plausibility flags and reviews
    (``Store.report_checks``: values flagged and not accepted are in doubt); each facility's
    last report date of the :data:`LAST_REPORT_SEARCH_DAYS` before is kept too, so that the plan
    can say how old its data is.

    Raises
    ------
    InvalidInputError
        If no facility of the registry lies on the region's map.
    """
    scope = scope_registry(
        facilities_counted_on(store.list_facilities(), start_date),
        store.list_records("suppliers", limit=None),
        region,
        network.summary()["bbox"],
    )
    records = list(scope.facilities)
    if not records:
        raise InvalidInputError(
            f"facilities: the registry has no facility on the map of {region.name}; add its "
            'facilities with `oxyroute db import --region` (README, "A second region"), or, '
            "for a map inside Ho Chi Minh City, run `oxyroute db seed --region hcmc`"
        )
    conversions = OxygenConversions()
    if scope.suppliers:
        declared = declared_supply(store, start_date, horizon_days)
        suppliers = tuple(
            PlanSupplier(
                s.supplier_id,
                s.name,
                s.lon,
                s.lat,
                str(s.kind),
                s.liquid_output_t_per_day or 0.0,
                s.cylinders_per_day or 0,
                declared=declared.get(s.supplier_id, ()),
            )
            for s in scope.suppliers
        )
    else:
        suppliers = suppliers_from_places(region.suppliers.read() if region.suppliers else [])
    if lookback_days is None:
        lookback_days = demand_rule.max_report_age_days
    date_from = start_date - dt.timedelta(days=lookback_days)
    date_to = start_date - dt.timedelta(days=1)
    revisions = store.latest_reports(date_from=date_from, date_to=date_to)
    checks = store.report_checks(date_from=date_from, date_to=date_to)
    known = {f.facility_id for f in records}
    last: dict[str, dt.date] = {}
    for submission in store.first_submissions(
        date_from=start_date - dt.timedelta(days=LAST_REPORT_SEARCH_DAYS),
        date_to=start_date - dt.timedelta(days=1),
    ):
        if submission.facility_id in known and submission.report_date > last.get(
            submission.facility_id, dt.date.min
        ):
            last[submission.facility_id] = submission.report_date
    return PlanRequest(
        region_id=region.region_id,
        start_date=start_date,
        facilities=facilities_from_registry(records),
        suppliers=suppliers,
        reports=stock_reports_from_registry(
            [r for r in revisions if r.report.facility_id in known], conversions, checks
        ),
        horizon_days=horizon_days,
        scenario=scenario,
        options=options
        if options is not None
        else AllocationOptions(max_delivery_time_s=DEFAULT_MAX_DELIVERY_TIME_S),
        conversions=conversions,
        last_report_dates=tuple(sorted(last.items())),
        demand_rule=demand_rule,
        region_file=_region_file(region),
        region_province_code=getattr(region, "province_code", None),
        left_out=scope.left_out,
        off_map_other_provinces=scope.other_provinces_off_map,
    )


def _region_file(region: Region) -> str | None:
    """Return a region's file when it is not bundled (``Region.reference``), else None."""
    reference = getattr(region, "reference", region.region_id)
    return None if reference == region.region_id else str(reference)


def road_matrix_provider(network: RoadNetwork, region: Region) -> Any:
    """Return a ``matrix_provider`` for ``matcher.allocation.allocate_supply`` on a region's roads.

    It maps ``(origins_lonlat, destinations_lonlat)`` to travel seconds (``inf`` = unreachable).
    """

    def provider(
        origins: Sequence[tuple[float, float]],
        destinations: Sequence[tuple[float, float]],
    ) -> np.ndarray:
        o = [Place(f"o{i}", lon, lat) for i, (lon, lat) in enumerate(origins)]
        d = [Place(f"d{i}", lon, lat) for i, (lon, lat) in enumerate(destinations)]
        return travel_time_matrix(network, o, d, max_snap_m=region.max_snap_m).duration_s

    return provider
