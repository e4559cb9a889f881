"""Report values a plan does not take at face value: unreviewed flags, corrections asked for.

The rule is docs/plausibility.md's "What a plan uses instead of an unreviewed flagged value"
(and docs/allocation.md, "Reports in doubt"): a revision whose review status is ``unreviewed``
or ``correction_requested`` has its flagged fields in doubt; accepted and unflagged revisions
are used as declared.

- **Use** in doubt: patients x flows (:func:`matcher.demand.reported_demand`); with no patient on
  oxygen, the latest earlier recent report whose use is not in doubt, carried forward; else the
  demand is unknown (never 0).
- **Stock** in doubt: the lower of the declared stock and what can be explained
  (:func:`stock_used_m3`).

This module reads the store's flags into plain pairs and writes the plan rows' record of each
replaced value (:class:`data.schema.documents.ReplacedValue`); planning applies the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data.plausibility import fields_in_doubt
from data.schema.documents import ReplacedValue
from data.store.reviews import ReportCheck, ReviewStatus
from data.units import OxygenConversions
from matcher.demand import DemandForecast, DemandRule

if TYPE_CHECKING:
    from coordination.planning import PlanFacility, StockReport

USE_FIELD = "oxygen_used_24h_m3"
"""The report field of declared use (m³ in the 24 h before the report)."""

STOCK_FIELDS = ("liquid_stock_l", "cylinders_full")
"""The report fields of stock on hand (cylinder sizes folded into ``cylinders_full``)."""

IN_DOUBT = frozenset({ReviewStatus.UNREVIEWED, ReviewStatus.CORRECTION_REQUESTED})
"""Review states whose flagged values a plan does not take at face value."""

CORRECTION_RULE = "review.correction_requested"
"""Rule id given to use and stock of a report sent back though no rule flagged it.

The officer's reason says what is wrong; the plan cannot tell which value, so both are in doubt.
"""


def doubts_of_check(check: ReportCheck | None) -> tuple[tuple[tuple[str, str], ...], str]:
    """Return ``((field, rule id), ...)`` in doubt and the review status of one revision.

    No check (a revision the store did not list) counts as unflagged.
    """
    if check is None:
        return (), ReviewStatus.UNFLAGGED.value
    status = check.status
    if status not in IN_DOUBT:
        return (), status.value
    pairs = sorted({(min(fields_in_doubt([flag])), flag.rule_id) for flag in check.flags})
    if not pairs:
        pairs = [(field, CORRECTION_RULE) for field in (USE_FIELD, *STOCK_FIELDS)]
    return tuple(pairs), status.value


@dataclass(frozen=True, slots=True)
class UseReview:
    """What the reviews say of one report's declared use.

    ``in_doubt`` says why it is in doubt (an unaccepted flag, a correction asked for), ``""``
    when it is not; ``accepted`` that a person accepted the report's flags (taken as declared).
    """

    in_doubt: str = ""
    accepted: bool = False


def use_reviews(
    checks: Mapping[tuple[str, dt.date, int], ReportCheck],
    revisions: Mapping[tuple[str, dt.date], int],
) -> dict[tuple[str, dt.date], UseReview]:
    """Return what the reviews say of each report's declared use, by (facility, date).

    ``checks`` are the store's flags and reviews (``Store.report_checks``), ``revisions`` the
    revision each (facility, date) is read at (the latest). Reports neither in doubt nor
    accepted are left out.
    """
    out = {}
    for (facility_id, day), revision in revisions.items():
        check = checks.get((facility_id, day, revision))
        pairs, status = doubts_of_check(check)
        rules = sorted({rule for field, rule in pairs if field == USE_FIELD})
        accepted = check is not None and check.status == ReviewStatus.ACCEPTED
        if rules or accepted:
            out[(facility_id, day)] = UseReview(
                doubt_reason(rules, status) if rules else "", accepted
            )
    return out


def doubt_reason(rule_ids: Sequence[str], review_status: str) -> str:
    """Say why a value is in doubt, e.g. ``"flag history.use_jump, unreviewed"``."""
    rules = ", ".join(rule_ids)
    status = review_status.replace("_", " ")
    return f"flag {rules}, {status}" if rules else status


def stock_cap_m3(facility: PlanFacility, conversions: OxygenConversions) -> float | None:
    """Return the most stock the facility record can hold (tank + cylinders owned), m³ gas.

    ``None`` when the record declares neither a tank nor cylinders (nothing to cap with).
    """
    if facility.liquid_tank_capacity_l <= 0 and facility.cylinder_storage <= 0:
        return None
    return conversions.lox_l_to_gas_m3(
        facility.liquid_tank_capacity_l
    ) + conversions.cylinders_to_gas_m3(facility.cylinder_storage)


def stock_used_m3(
    facility: PlanFacility,
    reports: Sequence[StockReport],
    conversions: OxygenConversions,
) -> tuple[float, str]:
    """Return the stock a plan uses from a facility's reports (oldest first) and why.

    The last report's stock when it is not in doubt; else the lowest of: the declared stock;
    the last earlier stock not in doubt plus the deliveries announced from that report up to
    the day before the last one; the facility's tank and cylinders (:func:`stock_cap_m3`).
    Overstated stock hides a shortage, so the lower figure wins.
    """
    latest = reports[-1]
    if not latest.stock_in_doubt:
        return latest.stock_m3, "declared"
    candidates = [(latest.stock_m3, "declared (the lower figure)")]
    clean = next((r for r in reversed(reports[:-1]) if not r.stock_in_doubt), None)
    if clean is not None:
        since = sum(
            r.expected_deliveries_m3
            for r in reports
            if clean.report_date <= r.report_date < latest.report_date
        )
        candidates.append(
            (
                clean.stock_m3 + since,
                f"stock of {clean.report_date.isoformat()} ({clean.stock_m3:,.0f} m³) + "
                f"deliveries announced since ({since:,.0f} m³)",
            )
        )
    cap = stock_cap_m3(facility, conversions)
    if cap is not None:
        candidates.append((cap, f"tank + cylinders owned ({cap:,.0f} m³)"))
    return min(candidates, key=lambda candidate: candidate[0])


def _rules_of(report: StockReport, fields: Sequence[str]) -> list[str]:
    return sorted({rule for field, rule in report.doubts if field in fields})


def replaced_values(
    facility: PlanFacility,
    forecast: DemandForecast,
    reports: Sequence[StockReport],
    *,
    start_date: dt.date,
    rule: DemandRule,
    conversions: OxygenConversions,
) -> list[ReplacedValue]:
    """Return the values of a facility's reports the plan did not take at face value.

    ``reports`` are the facility's reports before ``start_date``, oldest first. Declared use is
    looked at in the newest report of the carry-forward window (the one the demand starts from),
    stock in the newest report of all (the one the stock position starts from).
    """
    replaced: list[ReplacedValue] = []
    recent = [r for r in reports if (start_date - r.report_date).days <= rule.max_report_age_days]
    declared = recent[-1].declared_use_m3 if recent else None
    if recent and recent[-1].use_in_doubt and declared is not None:
        report = recent[-1]
        known = forecast.demand_known
        replaced.append(
            {
                "field": USE_FIELD,
                "report_date": report.report_date.isoformat(),
                "declared_m3": round(declared, 1),
                "used_m3": round(forecast.demand_m3_per_day[0], 1) if known else None,
                "used_basis": str(forecast.demand_basis)
                + (
                    f" (report of {forecast.report_date.isoformat()})"
                    if forecast.report_date is not None
                    and forecast.report_date != report.report_date
                    else ""
                ),
                "rule_ids": _rules_of(report, (USE_FIELD,)),
                "review_status": report.review_status,
                "reason": forecast.note,
            }
        )
    if reports and reports[-1].stock_in_doubt:
        report = reports[-1]
        used, why = stock_used_m3(facility, reports, conversions)
        replaced.append(
            {
                "field": " + ".join(f for f in STOCK_FIELDS if f in report.fields_in_doubt),
                "report_date": report.report_date.isoformat(),
                "declared_m3": round(report.stock_m3, 1),
                "used_m3": round(used, 1),
                "used_basis": why,
                "rule_ids": _rules_of(report, STOCK_FIELDS),
                "review_status": report.review_status,
                "reason": f"stock in doubt ({report.doubt_reason(STOCK_FIELDS)}): the lower of "
                "the declared stock and what can be explained",
            }
        )
    return replaced


def reports_by_facility(
    reports: Sequence[StockReport], start_date: dt.date
) -> Mapping[str, list[StockReport]]:
    """Group reports dated before ``start_date`` by facility, oldest first."""
    grouped: dict[str, list[StockReport]] = {}
    for report in sorted(reports, key=lambda r: r.report_date):
        if report.report_date < start_date:
            grouped.setdefault(report.facility_id, []).append(report)
    return grouped
