"""Oxygen investment under case scenarios: from the registry and scenario files to a portfolio.

Orchestration only (the model is :mod:`matcher.investment`): each weighted scenario is applied to
a copy of the base plan request (:func:`coordination.scenarios.apply_scenario`) and planned as
usual (:func:`coordination.planning.build_plan`: demand, shortfalls, road times, allocation);
the plans' arrays become one :class:`~data.schema.investment.InvestmentProblem`; the answer is
stated as a portfolio CSV, a text report (Vietnamese and English) and a GeoJSON of what goes
where. Formats and sources: ``docs/investment.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coordination.planning import (
    CoordinatorPlan,
    PlanFacility,
    PlanRequest,
    PlanSupplier,
    build_plan,
    integer_travel_seconds,
)
from coordination.scenarios import Scenario, apply_scenario, scenario_from_mapping
from data.errors import InvalidInputError
from data.region import Region
from data.schema.allocation import default_priority
from data.schema.investment import (
    CandidateKind,
    CostCurvePoint,
    InvestmentCandidate,
    InvestmentOptions,
    InvestmentProblem,
    PortfolioResult,
)
from data.schema.spreadsheet_text import safe_text
from data.units import OxygenConversions
from matcher.demand import OxygenNeed
from matcher.investment import cost_curve, evaluate_portfolio, greedy_portfolio, optimise_portfolio
from routing.network import RoadNetwork

_ATTRIBUTION = "© OpenStreetMap contributors"
_SCENARIO_KEYS = {"name", "weight", "surge_factor", "changes", "description"}
#: Budgets of the cost curve, as shares of the budget asked for (at least five points).
CURVE_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


# ----------------------------------------------------------------------------- scenarios


@dataclass(frozen=True, slots=True)
class WeightedScenario:
    """A scenario of the scenario engine with its weight (> 0; weights are normalised)."""

    scenario: Scenario
    weight: float


def _scenario_entry(
    entry: Any, where: str, base: Mapping[str, Any], problems: list[str]
) -> WeightedScenario | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be an object with name, weight and surge_factor or changes")
        return None
    problems.extend(
        f"{where}.{key}: unknown key (allowed: {', '.join(sorted(_SCENARIO_KEYS))})"
        for key in sorted(set(entry) - _SCENARIO_KEYS)
    )
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        problems.append(f"{where}.weight: must be a number > 0, got {weight!r}")
    if ("surge_factor" in entry) == ("changes" in entry):
        problems.append(f"{where}: give exactly one of surge_factor (x patients) or changes")
        return None
    changes = entry.get("changes")
    if "surge_factor" in entry:
        changes = [{"type": "case_surge", "scope": "all", "factor": entry["surge_factor"]}]
    document = {**base, "name": entry.get("name"), "changes": changes}
    if "description" in entry:
        document["description"] = entry["description"]
    try:
        scenario = scenario_from_mapping(document)
    except InvalidInputError as error:
        problems.extend(
            f"{where}.{problem.replace('changes[0].factor', 'surge_factor')}"
            if "surge_factor" in entry
            else f"{where}.{problem}"
            for problem in error.problems
        )
        return None
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        return None
    return WeightedScenario(scenario, float(weight))


def investment_scenarios_from_mapping(
    document: Any, *, region: str, start_date: dt.date, horizon_days: int = 7
) -> tuple[WeightedScenario, ...]:
    """Validate a scenarios document and return its weighted scenarios.

    The document: ``{"scenarios": [{"name", "weight", "surge_factor" | "changes"}, ...]}``;
    ``surge_factor`` multiplies every facility's patients (a ``case_surge`` of scope ``all``);
    ``changes`` is a list of scenario changes as in ``docs/scenarios.md``. Region, first day and
    horizon come from the caller (optional ``horizon_days`` in the document overrides).

    Raises
    ------
    InvalidInputError
        Listing every problem with its path (``scenarios[1].weight: must be a number > 0``).
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("scenarios"), list):
        raise InvalidInputError(
            'scenarios: missing; give an object {"scenarios": [{"name", "weight", '
            '"surge_factor"}, ...]}'
        )
    problems = [
        f"{key}: unknown key (allowed: horizon_days, scenarios)"
        for key in sorted(set(document) - {"scenarios", "horizon_days"})
    ]
    base = {
        "region": region,
        "date": start_date.isoformat(),
        "horizon_days": document.get("horizon_days", horizon_days),
    }
    entries = [
        _scenario_entry(entry, f"scenarios[{i}]", base, problems)
        for i, entry in enumerate(document["scenarios"])
    ]
    if not entries:
        problems.append("scenarios: empty; give at least one weighted scenario")
    names = [e.scenario.name for e in entries if e is not None]
    problems.extend(
        f"scenarios: name {name!r} is used twice"
        for name in sorted(set(names))
        if names.count(name) > 1
    )
    if problems:
        raise InvalidInputError.from_problems("investment scenarios", problems)
    return tuple(e for e in entries if e is not None)


def load_investment_scenarios(
    path: Path, *, region: str, start_date: dt.date, horizon_days: int = 7
) -> tuple[WeightedScenario, ...]:
    """Read a scenarios JSON file (see :func:`investment_scenarios_from_mapping`).

    Raises
    ------
    InvalidInputError
        If the file is not valid JSON (with the line and column), or its content is invalid.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"scenarios file {path.name}: not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}); see docs/investment.md for the format"
        ) from None
    return investment_scenarios_from_mapping(
        document, region=region, start_date=start_date, horizon_days=horizon_days
    )


# ----------------------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class CandidateType:
    """A kind of investment with its sourced (or assumed) figures, offered where a rule allows.

    ``capacity_m3_per_day`` is per unit; ``min_tier`` and ``min_beds`` say which facility may
    take it (space and staff: a tank pad or a plant room needs a real hospital), and
    ``needs_cylinder_limit`` offers cylinders only where a cylinder stock limit exists (elsewhere
    more cylinders change nothing in the model).
    """

    key: str
    kind: CandidateKind
    name: str
    size: float
    size_unit: str
    capex_vnd: float
    install_weeks: float
    capacity_m3_per_day: float
    max_units: int
    running_cost_vnd_per_day: float
    cylinders_per_day: int
    source: str
    min_tier: int = 1
    min_beds: int = 0
    needs_cylinder_limit: bool = False
    supplier_kind: str = ""


def hcmc_candidate_types(conversions: OxygenConversions | None = None) -> tuple[CandidateType, ...]:
    """Return the candidate types of the HCMC file with their figures (docs/investment.md).

    Capacities derive from the sizes through :class:`~data.units.OxygenConversions`: a tank
    adds its full gas content per day (the plan's receiving rule), a PSA plant 80 % of its rated
    m³/h over 24 h, a cylinder one 40 L fill per day, a tanker one 5 t trip per day, a
    cylinder truck 100 cylinders per day.
    """
    units = conversions or OxygenConversions()
    psa_m3_per_day = 30.0 * 24 * 0.8
    return (
        CandidateType(
            "vie5680",
            CandidateKind.LIQUID_TANK,
            "Bồn VIE 5.680 L / VIE tank 5,680 L",
            5680,
            "L LOX",
            2.5e9,
            6,
            round(units.lox_l_to_gas_m3(5680), 1),
            1,
            0.0,
            0,
            "size: VIE sizes (oxygen-parameters.md, PATH/CHAI VIE brief); capex 2.5 billion đồng "
            "and 6 weeks: assumption (tank, vaporiser, pad, installation)",
            min_tier=2,
            min_beds=30,
        ),
        CandidateType(
            "psa30",
            CandidateKind.PSA_PLANT,
            "Máy PSA 30 m³/h / PSA plant 30 m³/h",
            30,
            "m3/h",
            1.55e9,
            6,
            psa_m3_per_day,
            1,
            1.7e6,
            100,
            "size, 80 % of rated output, 100 cylinders/day: oxygen-parameters.md (iplussolutions, "
            "OCC); capex: Rs 50 lakh (ThePrint 2021, via en.rich-china.com/site/newsDetail/319) "
            "at 310 đồng/rupee; running cost: 36 kW x 24 h (OCC: 20 kW for 280 L/min) x 2,000 "
            "đồng/kWh (assumption); 6 weeks: assumption",
            min_tier=2,
            min_beds=30,
        ),
        CandidateType(
            "cyl40",
            CandidateKind.CYLINDERS,
            "Bình 40 L / 40 L cylinders",
            40,
            "L",
            4.5e6,
            1,
            round(units.cylinders_to_gas_m3(1), 3),
            500,
            0.0,
            0,
            "gas per fill: oxygen-parameters.md (40 L at 150 bar ≈ 6 m³); price 4.5 million "
            "đồng and 1 week: assumption",
            needs_cylinder_limit=True,
        ),
        CandidateType(
            "tanker5t",
            CandidateKind.TANKER,
            "Xe bồn 5 t / cryogenic tanker 5 t",
            5,
            "t LOX",
            6.0e9,
            12,
            round(units.lox_t_to_gas_m3(5.0), 1),
            1,
            0.0,
            0,
            "size 5-6 t, drivers need about 15 days of training: oxygen-parameters.md; one trip "
            "a day, capex 6 billion đồng, 12 weeks (import): assumption",
            supplier_kind="liquid_producer",
        ),
        CandidateType(
            "truck100",
            CandidateKind.CYLINDER_TRUCK,
            "Xe chở bình / cylinder truck",
            100,
            "cylinders/day",
            1.2e9,
            2,
            round(units.cylinders_to_gas_m3(100), 1),
            1,
            0.0,
            100,
            "100 cylinders a day, 1.2 billion đồng, 2 weeks: assumption",
            supplier_kind="filling_station",
        ),
    )


def candidates_for_region(
    facilities: Sequence[PlanFacility],
    suppliers: Sequence[PlanSupplier],
    types: Sequence[CandidateType],
) -> tuple[InvestmentCandidate, ...]:
    """Offer each candidate type wherever its rule allows (tier, beds, cylinder limit, supplier).

    Returns the candidates in a stable order: facilities in the order given, then suppliers.
    """
    offered: list[InvestmentCandidate] = []
    for facility in facilities:
        for kind in types:
            if kind.supplier_kind or facility.tier < kind.min_tier or facility.beds < kind.min_beds:
                continue
            if kind.needs_cylinder_limit and facility.cylinder_storage <= 0:
                continue
            offered.append(_candidate(kind, facility.facility_id))
    for supplier in suppliers:
        offered.extend(
            _candidate(kind, supplier.supplier_id)
            for kind in types
            if kind.supplier_kind and kind.supplier_kind == supplier.kind
        )
    return tuple(offered)


def _candidate(kind: CandidateType, site_id: str) -> InvestmentCandidate:
    return InvestmentCandidate(
        candidate_id=f"{kind.key}@{site_id}",
        kind=kind.kind,
        site_id=site_id,
        capex_vnd=kind.capex_vnd,
        install_weeks=kind.install_weeks,
        capacity_m3_per_day=kind.capacity_m3_per_day,
        max_units=kind.max_units,
        running_cost_vnd_per_day=kind.running_cost_vnd_per_day,
        name=kind.name,
        source=kind.source,
    )


def candidates_to_csv(
    candidates: Sequence[InvestmentCandidate], types: Sequence[CandidateType]
) -> str:
    """Write candidates as the candidates CSV (columns of ``data.schema.investment``)."""
    by_key = {t.key: t for t in types}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    from data.schema.investment import CANDIDATE_COLUMNS

    writer.writerow(CANDIDATE_COLUMNS)
    for c in candidates:
        kind = by_key.get(c.candidate_id.split("@", 1)[0])
        writer.writerow(
            [
                c.candidate_id,
                c.kind.value,
                c.site_id if c.at_facility else "",
                "" if c.at_facility else c.site_id,
                c.name,
                f"{kind.size:g}" if kind else "",
                kind.size_unit if kind else "",
                f"{c.capex_vnd:.0f}",
                f"{c.install_weeks:g}",
                f"{c.capacity_m3_per_day:g}",
                c.max_units,
                f"{c.running_cost_vnd_per_day:.0f}",
                kind.cylinders_per_day if kind else "",
                c.source,
            ]
        )
    return out.getvalue()


# ----------------------------------------------------------------------------- the problem


@dataclass(frozen=True, slots=True)
class InvestmentCase:
    """A built investment problem with the plans it came from (names and places for output)."""

    problem: InvestmentProblem
    plans: tuple[CoordinatorPlan, ...]
    facilities: Mapping[str, PlanFacility]
    suppliers: Mapping[str, PlanSupplier]


def _critical_share(request: PlanRequest, facility_id: str) -> float:
    """Share of critical patients in the facility's last report before the plan (0 if none)."""
    reports = [
        r
        for r in request.reports
        if r.facility_id == facility_id and r.report_date < request.start_date
    ]
    if not reports:
        return 0.0
    counts = dict(max(reports, key=lambda r: r.report_date).patients)
    total = sum(counts.values())
    critical = counts.get(OxygenNeed.INVASIVE, 0) + counts.get(OxygenNeed.ECMO, 0)
    return critical / total if total else 0.0


def _capacity_m3(request: PlanRequest) -> np.ndarray:
    """(S, 2, D) gas m³: the plan's supplier capacities (declared days, factors, conversions)."""
    days, conversions = request.horizon_days, request.conversions
    capacity = np.zeros((len(request.suppliers), 2, days))
    for s_idx, supplier in enumerate(request.suppliers):
        for day in range(days):
            liquid_t, cylinders, _ = supplier.capacity_on(
                request.start_date + dt.timedelta(days=day)
            )
            factor = supplier.factor(day)
            capacity[s_idx, 0, day] = conversions.lox_t_to_gas_m3(liquid_t) * factor
            capacity[s_idx, 1, day] = conversions.cylinders_to_gas_m3(cylinders) * factor
    return capacity


def _receiving(
    facility: PlanFacility, conversions: OxygenConversions
) -> tuple[list[bool], list[float]]:
    """Return accepted products and daily limits (liquid, cylinder), as the plan sets them."""
    tank = facility.liquid_tank_capacity_l > 0
    liquid_limit = (
        conversions.lox_l_to_gas_m3(facility.liquid_tank_capacity_l) if tank else math.inf
    )
    cylinder_limit = (
        conversions.cylinders_to_gas_m3(facility.cylinder_storage)
        if facility.cylinder_storage > 0
        else math.inf
    )
    return [tank, True], [liquid_limit, cylinder_limit]


def build_investment_case(
    base: PlanRequest,
    network: RoadNetwork,
    region: Region,
    scenarios: Sequence[WeightedScenario],
    candidates: Sequence[InvestmentCandidate],
    *,
    budget_vnd: float,
    deadline_weeks: float,
) -> InvestmentCase:
    """Plan every scenario on copies of the base and gather one investment problem.

    Facilities are the union over scenarios (a ``new_facility`` has no demand where absent);
    suppliers are the base's. Each scenario's plan is kept: its allocation is the "before"
    figure that the core's evaluation without investment reproduces.

    Raises
    ------
    InvalidInputError
        If a scenario names an unknown supplier, facility or road, or the problem is invalid
        (an unknown facility in the candidates, a budget below zero, ...); every problem listed.
    """
    plans = []
    for weighted in scenarios:
        request, changed = apply_scenario(weighted.scenario, base, network)
        plans.append(build_plan(request, changed, region))
    facilities: dict[str, PlanFacility] = {}
    for plan in plans:
        for facility in plan.request.facilities:
            facilities.setdefault(facility.facility_id, facility)
    facility_ids = tuple(facilities)
    position = {fid: i for i, fid in enumerate(facility_ids)}
    n_k, n_s, n_f = len(plans), len(base.suppliers), len(facility_ids)
    days = plans[0].request.horizon_days if plans else base.horizon_days
    travel = np.full((n_k, n_s, n_f), -1, dtype=np.int64)
    demand = np.zeros((n_k, n_f, days))
    capacity = np.zeros((n_k, n_s, 2, days))
    priority = np.ones(n_f, dtype=np.int64)
    for k, plan in enumerate(plans):
        columns = [position[f.facility_id] for f in plan.request.facilities]
        travel[k][:, columns] = integer_travel_seconds(plan.matrix)
        for facility, shortfall in zip(plan.request.facilities, plan.shortfalls, strict=True):
            f_idx = position[facility.facility_id]
            demand[k, f_idx] = np.round(shortfall.required_m3_per_day, 3)
            share = _critical_share(plan.request, facility.facility_id)
            priority[f_idx] = max(1, default_priority(facility.tier, share))
        capacity[k] = _capacity_m3(plan.request)
    receiving = [_receiving(f, base.conversions) for f in facilities.values()]
    problem = InvestmentProblem(
        supplier_ids=tuple(s.supplier_id for s in base.suppliers),
        facility_ids=facility_ids,
        scenario_names=tuple(w.scenario.name for w in scenarios),
        scenario_weights=np.array([w.weight for w in scenarios], dtype=np.float64),
        travel_time_s=travel,
        capacity_m3=capacity,
        demand_m3=demand,
        accepted=np.array([r[0] for r in receiving], dtype=bool).reshape(n_f, 2),
        receiving_limit_m3=np.array([r[1] for r in receiving], dtype=float).reshape(n_f, 2),
        priority=priority,
        candidates=tuple(candidates),
        budget_vnd=budget_vnd,
        deadline_weeks=deadline_weeks,
        max_delivery_time_s=base.options.max_delivery_time_s,
    )
    return InvestmentCase(
        problem, tuple(plans), facilities, {s.supplier_id: s for s in base.suppliers}
    )


@dataclass(frozen=True, slots=True)
class InvestmentAnswer:
    """Before (no investment), the optimum, the greedy baseline and the cost curve."""

    before: PortfolioResult
    optimum: PortfolioResult
    greedy: PortfolioResult
    curve: tuple[CostCurvePoint, ...]


def answer_investment(
    case: InvestmentCase,
    *,
    options: InvestmentOptions | None = None,
    curve_shares: Sequence[float] = CURVE_SHARES,
    curve_budgets_vnd: Sequence[float] | None = None,
) -> InvestmentAnswer:
    """Solve the case: unmet demand before, the optimal and greedy portfolios, the cost curve.

    The cost curve's budgets are ``curve_budgets_vnd`` (đồng, in the order given; empty: no
    curve) when given, else ``curve_shares`` times the case's budget (default six points from 0
    to 1.5 times it).
    """
    problem = case.problem
    before = evaluate_portfolio(problem, [0] * len(problem.candidates), method="none")
    optimum = optimise_portfolio(problem, options=options)
    greedy = greedy_portfolio(problem, options=options)
    budgets = (
        [share * problem.budget_vnd for share in curve_shares]
        if curve_budgets_vnd is None
        else list(curve_budgets_vnd)
    )
    curve = cost_curve(problem, budgets, options=options)
    return InvestmentAnswer(before, optimum, greedy, curve)


# ----------------------------------------------------------------------------- outputs

PORTFOLIO_COLUMNS = (
    "method",
    "candidate_id",
    "kind",
    "site_id",
    "site_name",
    "candidate_name",
    "units",
    "capex_vnd",
    "running_cost_vnd",
    "capacity_m3_per_day",
    "source",
)
"""Columns of ``portfolio.csv``: one row per candidate bought, optimum then greedy baseline."""


def _site_name(case: InvestmentCase, site_id: str) -> str:
    facility = case.facilities.get(site_id)
    if facility is not None:
        return facility.name
    supplier = case.suppliers.get(site_id)
    return supplier.name if supplier is not None else ""


def site_name(case: InvestmentCase, site_id: str) -> str:
    """Return the name of a facility or supplier of the case ("" for an unknown id)."""
    return _site_name(case, site_id)


def portfolio_to_csv(case: InvestmentCase, answer: InvestmentAnswer) -> str:
    """Return ``portfolio.csv``: names beside ids, units, costs (đồng), capacity, source."""
    sources = {c.candidate_id: (c.name, c.source) for c in case.problem.candidates}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PORTFOLIO_COLUMNS)
    for result in (answer.optimum, answer.greedy):
        for chosen in result.chosen:
            name, source = sources[chosen.candidate_id]
            writer.writerow(
                [
                    result.method,
                    safe_text(chosen.candidate_id),
                    chosen.kind.value,
                    safe_text(chosen.site_id),
                    safe_text(_site_name(case, chosen.site_id)),
                    safe_text(name),
                    chosen.units,
                    f"{chosen.capex_vnd:.0f}",
                    f"{chosen.running_cost_vnd:.0f}",
                    f"{chosen.capacity_m3_per_day:.1f}",
                    safe_text(source),
                ]
            )
    return out.getvalue()


def _money(vnd: float) -> str:
    return f"{vnd / 1e9:,.2f} tỷ đồng (billion VND)"


def _portfolio_lines(case: InvestmentCase, result: PortfolioResult) -> list[str]:
    lines = []
    for chosen in result.chosen:
        site = _site_name(case, chosen.site_id)[:44]
        lines.append(
            f"  {chosen.units:>4} x {chosen.kind.value:<15} {site:<44} "
            f"{chosen.capex_vnd / 1e9:>8,.2f} tỷ  +{chosen.capacity_m3_per_day:>9,.0f} m³/ngày"
        )
    return lines or ["  (không mua gì / nothing bought)"]


def _scenario_lines(answer: InvestmentAnswer) -> list[str]:
    lines = [
        "Thiếu hụt theo kịch bản / unmet demand per scenario (m³ over the horizon):",
        f"  {'scenario':<28} {'weight':>6} {'demand':>12} {'before':>11} "
        f"{'optimum':>11} {'greedy':>11}",
    ]
    for before, after, greedy in zip(
        answer.before.scenarios, answer.optimum.scenarios, answer.greedy.scenarios, strict=True
    ):
        lines.append(
            f"  {before.scenario[:28]:<28} {before.weight:>6.2f} {before.demand_m3:>12,.0f} "
            f"{before.unmet_m3:>11,.0f} {after.unmet_m3:>11,.0f} {greedy.unmet_m3:>11,.0f}"
        )
    lines.append(
        f"  {'expected / kỳ vọng':<28} {'':>6} {'':>12} {answer.before.expected_unmet_m3:>11,.0f} "
        f"{answer.optimum.expected_unmet_m3:>11,.0f} {answer.greedy.expected_unmet_m3:>11,.0f}"
    )
    return lines


def investment_report(case: InvestmentCase, answer: InvestmentAnswer) -> str:
    """Return the text report: portfolio, unmet per scenario before and after, the cost curve.

    Headings are in Vietnamese and English; quantities are m³ of gas over the horizon, money in
    tỷ đồng (billions of đồng).
    """
    problem, optimum, greedy = case.problem, answer.optimum, answer.greedy
    too_slow = sum(1 for c in problem.candidates if c.install_weeks > problem.deadline_weeks)
    lines = [
        "Đầu tư oxy theo kịch bản / Oxygen investment under case scenarios",
        f"Ngân sách / budget: {_money(problem.budget_vnd)}; hạn lắp đặt / deadline: "
        f"{problem.deadline_weeks:g} tuần (weeks); {len(problem.candidates)} phương án / "
        f"candidates, {too_slow} quá hạn / too slow",
        f"Tối ưu / optimum: {optimum.status}, gap {optimum.mip_gap:.2%}, "
        f"{optimum.solve_time_s:.1f} s; chi phí / capex {_money(optimum.capex_vnd)}, "
        f"vận hành / running {_money(optimum.running_cost_vnd)}",
        "",
        "Danh mục đầu tư / portfolio:",
        *_portfolio_lines(case, optimum),
        "",
        *_scenario_lines(answer),
        f"  greedy (thiếu nhiều nhất trước / largest unmet first): capex "
        f"{_money(greedy.capex_vnd)}, weighted unmet {greedy.expected_weighted_unmet:,.0f} "
        f"vs optimum {optimum.expected_weighted_unmet:,.0f}",
        "",
        "Đường chi phí / cost curve (budget -> expected unmet m³):",
    ]
    lines += [
        f"  {point.budget_vnd / 1e9:>8,.2f} tỷ -> {point.expected_unmet_m3:>11,.0f} m³ "
        f"(spent {point.capex_vnd / 1e9:,.2f} tỷ, {point.status})"
        for point in answer.curve
    ] or ["  (không tính / not computed)"]
    if optimum.scenarios and optimum.scenarios[-1].unmet_m3_by_facility:
        last = optimum.scenarios[-1]
        worst = sorted(last.unmet_m3_by_facility, key=lambda item: -item[1])[:8]
        lines += ["", f"Còn thiếu nhiều nhất / largest unmet left ({last.scenario}):"]
        lines += [f"  {_site_name(case, fid)[:50]:<50} {m3:>10,.0f} m³" for fid, m3 in worst]
    return "\n".join(lines) + "\n"


def investment_to_geojson(case: InvestmentCase, answer: InvestmentAnswer) -> dict[str, Any]:
    """Return what goes where (RFC 7946, WGS84 ``[lon, lat]``).

    One Point per candidate bought by the optimum (``kind: "investment"``) at its facility or
    supplier, and one Point per facility with unmet demand before or after
    (``kind: "facility_unmet"``, expected m³ before and after).
    """
    features: list[dict[str, Any]] = []
    for chosen in answer.optimum.chosen:
        place = case.facilities.get(chosen.site_id) or case.suppliers.get(chosen.site_id)
        if place is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
                "properties": {
                    "kind": "investment",
                    "candidate_id": chosen.candidate_id,
                    "investment": chosen.kind.value,
                    "site_id": chosen.site_id,
                    "site_name": place.name,
                    "units": chosen.units,
                    "capex_vnd": chosen.capex_vnd,
                    "capacity_m3_per_day": round(chosen.capacity_m3_per_day, 1),
                },
            }
        )
    before, after = _expected_by_facility(answer.before), _expected_by_facility(answer.optimum)
    for fid in sorted(set(before) | set(after)):
        facility = case.facilities[fid]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [facility.lon, facility.lat]},
                "properties": {
                    "kind": "facility_unmet",
                    "facility_id": fid,
                    "name": facility.name,
                    "unmet_m3_before": round(before.get(fid, 0.0), 1),
                    "unmet_m3_after": round(after.get(fid, 0.0), 1),
                },
            }
        )
    return {"type": "FeatureCollection", "attribution": _ATTRIBUTION, "features": features}


def _expected_by_facility(result: PortfolioResult) -> dict[str, float]:
    totals: dict[str, float] = {}
    for scenario in result.scenarios:
        for fid, m3 in scenario.unmet_m3_by_facility:
            totals[fid] = totals.get(fid, 0.0) + scenario.weight * m3
    return totals
