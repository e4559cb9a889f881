"""The plan summary a coordinator reads (``summary.txt``): data gaps first, then who is short.

Kept apart from :mod:`coordination.planning`, which re-exports it as ``plan_summary``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from coordination.plan_supply import declaration_on
from coordination.planning import (
    _ATTRIBUTION,
    CoordinatorPlan,
    _facility_row_dicts,
    last_report_dates,
)
from data.schema.documents import PlanFacilityRow
from matcher.demand import DemandBasis


def reporting_line(plan: CoordinatorPlan) -> str:
    """Say how many facilities reported on the plan's reporting day, or that none did and when."""
    request = plan.request
    reporting_day = request.start_date - dt.timedelta(days=1)
    reported = {r.facility_id for r in request.reports if r.report_date == reporting_day}
    if reported:
        return (
            f"reports of {reporting_day.isoformat()}: {len(reported)} of "
            f"{len(request.facilities)} facilities"
        )
    last = last_report_dates(request)
    if not last:
        return (
            f"NO REPORTS for {reporting_day.isoformat()} (the reporting day of this plan) "
            "and none before it: demand is estimated or unknown everywhere"
        )
    latest = max(last.values())
    count = sum(day == latest for day in last.values())
    return (
        f"NO REPORTS for {reporting_day.isoformat()} (the reporting day of this plan); the "
        f"latest day with reports is {latest.isoformat()} ({_count(count)})"
    )


def _basis_line(rows: Sequence[Mapping[str, Any]], carry_forward_days: int) -> str:
    count = defaultdict(int, {str(b): 0 for b in DemandBasis})
    for r in rows:
        count[r["demand_basis"]] += 1
    carried = sum((r["carried_forward_days"] or 0) > 0 for r in rows)
    return (
        f"  demand basis (facilities): declared use {count[DemandBasis.DECLARED_USE]}, patients "
        f"x flows {count[DemandBasis.PATIENTS_X_FLOWS]}, estimated from beds x tier "
        f"{count[DemandBasis.ESTIMATED]}, UNKNOWN {count[DemandBasis.UNKNOWN]}; reports carried "
        f"forward {carried} (up to {carry_forward_days} days)"
    )


def _unknown_and_stale_lines(rows: Sequence[Mapping[str, Any]], largest: int) -> list[str]:
    """List facilities whose demand is unknown, estimated or carried forward: unknown first."""
    rank = {DemandBasis.UNKNOWN.value: 0, DemandBasis.ESTIMATED.value: 1}
    doubtful = sorted(
        (r for r in rows if r["demand_basis"] in rank or (r["carried_forward_days"] or 0) > 0),
        key=lambda r: (
            rank.get(r["demand_basis"], 2),
            -(r["carried_forward_days"] or 0),
            r["last_report_date"] or "",
        ),
    )
    unknown = sum(r["demand_basis"] == DemandBasis.UNKNOWN for r in rows)
    lines = [
        f"\nfacilities with unknown or stale demand: {len(doubtful)} "
        f"(unknown {unknown}: their need is not in any total below)"
    ]
    # Every unknown facility is someone to phone; list them, within reason (the CSV has all).
    shown = max(largest, min(unknown, 3 * largest))
    for r in doubtful[:shown]:
        last = r["last_report_date"] or "never"
        if r["demand_basis"] == DemandBasis.UNKNOWN:
            what = "UNKNOWN demand (no recent report, no beds)"
        elif r["demand_basis"] == DemandBasis.ESTIMATED:
            what = f"estimated from beds x tier ({r['demand_m3']:,.0f} m³ over the plan)"
        else:
            what = (
                f"{r['demand_basis']} carried forward {r['carried_forward_days']} d"
                f" ({r['demand_m3']:,.0f} m³ over the plan)"
            )
        lines.append(f"  {r['name'][:44]:<44} {what}; last report {last}")
    if len(doubtful) > shown:
        lines.append(f"  ... and {len(doubtful) - shown} more (facilities.csv)")
    return lines


def _in_doubt_lines(rows: Sequence[PlanFacilityRow], largest: int) -> list[str]:
    """List report values the plan did not take at face value: facility, field, used instead."""
    doubtful = [r for r in rows if r.get("replaced_values")]
    if not doubtful:
        return []
    lines = [
        f"\nreports in doubt (unreviewed flags or correction requested; not taken at face "
        f"value): {_count(len(doubtful))}"
    ]
    shown = 3 * largest
    for r in doubtful[:shown]:
        for v in r.get("replaced_values", []):
            used = "UNKNOWN" if v["used_m3"] is None else f"{v['used_m3']:,.0f} m³"
            lines.append(
                f"  {r['name'][:44]:<44} {v['field']} of {v['report_date']}: declared "
                f"{v['declared_m3']:,.0f} m³, used {used} ({v['used_basis']}); "
                f"{', '.join(v['rule_ids'])}, {v['review_status'].replace('_', ' ')}"
            )
    if len(doubtful) > shown:
        lines.append(f"  ... and {len(doubtful) - shown} more (facilities.csv, replaced_values)")
    return lines


def summary_text(plan: CoordinatorPlan, *, largest: int = 8) -> str:
    """Return a text summary a coordinator can read: data gaps first, then who is short.

    The first line says how many facilities reported on the plan's reporting day (the day before
    ``start_date``), or that none did and which day last had reports. Report values in doubt
    (unreviewed flags, corrections asked for) come next, each with what the plan used instead;
    then facilities whose demand is unknown, estimated or carried forward, before the
    shortfalls; every total says how many facilities it leaves out because their demand is
    unknown.
    """
    rows = _facility_row_dicts(plan)
    totals = plan.allocation.totals
    request = plan.request
    unknown = sum(not r["demand_known"] for r in rows)
    left_out = f"; demand UNKNOWN for {_count(unknown)}, not included" if unknown else ""
    lines = [
        f"Plan for {request.region_id}, {request.start_date.isoformat()} + "
        f"{request.horizon_days} days: {reporting_line(plan)}; "
        f"{len(request.facilities)} facilities, {len(request.suppliers)} suppliers",
        f"  demand {totals.demand_m3:,.0f} m³ (needs beyond stock and safety stock), delivered "
        f"{totals.delivered_m3:,.0f} m³, unmet {totals.unmet_m3:,.0f} m³"
        + (
            " (" + ", ".join(f"{r}: {q:,.0f}" for r, q in totals.unmet_m3_by_reason) + ")"
            if totals.unmet_m3_by_reason
            else ""
        )
        + left_out,
        _basis_line(rows, request.demand_rule.carry_forward_days),
        f"  solver {plan.allocation.solver} ({plan.allocation.solver_status}) in "
        f"{plan.allocation.run_time_s:.2f} s; estimated demand for "
        f"{sum(r['demand_estimated'] for r in rows)} facilities without a recent report",
    ]
    lines += supply_lines(plan)
    lines += _in_doubt_lines(rows, largest)
    lines += _unknown_and_stale_lines(rows, largest)
    short = sorted(
        (r for r in rows if r["first_shortfall_day"] is not None),
        key=lambda r: (r["first_shortfall_day"], -r["shortfall_m3"]),
    )
    lines.append(
        f"\nfacilities short within the horizon: {len(short)}"
        + (f" (and {_count(unknown)} with unknown demand: maybe short too)" if unknown else "")
    )
    for r in short[:largest]:
        dos = "-" if r["days_of_supply"] is None else f"{r['days_of_supply']:.1f}"
        # The shortfall is the horizon's total, not the first short day's: said so (issue 14).
        lines.append(
            f"  day {r['first_shortfall_day']}: {r['name'][:44]:<44} "
            f"short in {request.horizon_days} d {r['shortfall_m3']:>8,.0f} m³"
            f"  days of supply {dos:>5}  unmet {r['unmet_m3']:>7,.0f} m³"
        )
    lines += _district_lines(rows)
    names = {f.facility_id: f.name for f in request.facilities}
    supplier_names = {s.supplier_id: s.name for s in request.suppliers}
    biggest = sorted(plan.allocation.flows, key=lambda f: -f.quantity_m3)[:largest]
    lines.append("\nlargest flows")
    for flow in biggest:
        lines.append(
            f"  day {flow.day}: {supplier_names[flow.supplier_id][:34]:<34} -> "
            f"{names[flow.facility_id][:34]:<34} {flow.quantity_m3:>7,.0f} m³ "
            f"({flow.quantity:,.1f} {flow.unit}, {flow.travel_time_s / 60:.0f} min)"
        )
    lines.append(f"\n{_ATTRIBUTION}")
    return "\n".join(lines)


STOCK_NOTE = (
    "  a declared plant stock is shown, not planned with: it is the plant's whole storage, "
    "industrial customers' too, and the declared day's liquid is what the plant can give, from "
    "its stock or not (docs/seed.md, 'Supply')"
)
"""The summary's note when a declaration gives the plant's stock."""


def supply_lines(plan: CoordinatorPlan) -> list[str]:
    """Say per plan day which suppliers' declarations the plan used and which fell back.

    A day's declaration replaces the supplier's usual figures (its documented medical share,
    :mod:`coordination.plan_supply`); each supplier is named with its id. Without any
    declaration for the plan's days, one line says so.
    """
    request = plan.request
    dates = [request.start_date + dt.timedelta(days=d) for d in range(request.horizon_days)]
    suppliers = request.suppliers
    if not any(declaration_on(day, s.declared) for s in suppliers for day in dates):
        return [
            f"  supply: no supplier declared for these days; all {len(suppliers)} at their "
            "documented medical share (docs/seed.md, 'Supply')"
        ]
    lines = ["\nsupply by plan day: the supplier's declaration, else its documented medical share"]
    with_stock = False
    for day in dates:
        declared, usual = [], []
        for s in suppliers:
            found = declaration_on(day, s.declared)
            if found is None:
                usual.append(f"{s.name} [{s.supplier_id}]")
                continue
            stock = ""
            if found.liquid_stock_t is not None:
                with_stock = True
                stock = f", plant stock {found.liquid_stock_t:,.1f} t"
            declared.append(
                f"{s.name} [{s.supplier_id}] {found.liquid_t:,.1f} t, "
                f"{found.cylinders:,} cylinders{stock}"
            )
        lines.append(
            f"  {day.isoformat()}: declared {len(declared)}"
            + (f" ({'; '.join(declared)})" if declared else "")
            + f"; medical share {len(usual)}"
            + (f" ({', '.join(usual)})" if usual else "")
        )
    if with_stock:
        lines.append(STOCK_NOTE)
    return lines


def _count(facilities: int) -> str:
    return f"{facilities} facility" if facilities == 1 else f"{facilities} facilities"


def _district_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    by_district: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    for r in rows:
        entry = by_district[r["district"] or "(district not recorded)"]
        entry[0] += 1 if r["first_shortfall_day"] is not None else 0
        entry[1] += r["shortfall_m3"]
        entry[2] += r["unmet_m3"]
        entry[3] += 0 if r["demand_known"] else 1
    lines = [
        "\nby district: facilities short, shortfall m³, unmet m³, facilities with unknown demand"
    ]
    for district, (count, shortfall, unmet, unknown) in sorted(
        by_district.items(), key=lambda kv: -kv[1][1]
    ):
        lines.append(
            f"  {district[:40]:<40} {int(count):>4} {shortfall:>10,.0f} {unmet:>9,.0f}"
            f" {int(unknown):>4}"
        )
    return lines
