"""Each facility's oxygen now: stock, burn, hours to empty and what is on its way (issue 14).

The model (``../shared/OPERATIONS.md``, "Hours to empty"), for each facility at an instant ``at``:

- **Stock at the last good report.** The newest report (the latest revision of its day, as
  stored at ``at``) whose stock is not in doubt: a stock flagged by the plausibility rules and
  not accepted on review, or sent back for correction, is skipped as plans skip it
  (:func:`coordination.report_doubts.doubts_of_check`), and the report before it is used.
  Liquid litres become gas m³ through the density and the m³ per tonne, full cylinders through
  their size's content (:class:`data.units.OxygenConversions`; unknown sizes are not counted,
  as in plans). The stock is taken as measured when the revision was submitted, at most at the
  end of its day (:func:`data.store.status_inputs.stock_instant`).
- **Burn.** The one demand rule of plans applied to the newest report that gives one
  (:func:`matcher.demand.reported_demand`, vectorised here and tested against it): the declared
  24 h use when it is plausible and not in doubt (``"declared use"``), else patients x the
  planning flows (``"patients x flows"``); ``"unknown"`` when neither is known. Per hour: the
  day's use / 24.
- **Stock now.** Stock at the report + deliveries confirmed since (``received_m3``) - burn x
  hours since, never below zero at any moment: a facility that ran dry and then received a
  delivery holds that delivery less what it used since it arrived (the stock is the running
  balance reflected at zero, computed from the balance just before each delivery).
- **Split by product.** The burn draws on the tank first and on cylinders as the reserve
  (hospitals pipe the tank's gas and keep cylinders for when it runs out): the liquid left is the
  liquid received less all use, at least zero; the cylinders hold the rest of the stock.
- **Hours to empty** = stock now / burn per hour; infinite with no use (level ``ok``). Unknown
  (None, level ``unknown``; never zero) when no good report is younger than
  :data:`STALE_AFTER_H` or no burn is known: a stock projected days ahead is a guess.
- **Level** by the region's :class:`data.schema.live.StatusThresholds`; ``in_transit_m3`` and
  ``next_arrival`` from deliveries planned or on their way with an ETA.

:func:`compute_statuses` is the pure core (numpy arrays: 10,000 facilities in a few tens of
ms, ``benchmarks/bench_status.py``); :func:`current_statuses` reads the store and calls it;
:func:`act_first_lines` writes the "Act first" block of a plan summary.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coordination.report_doubts import STOCK_FIELDS, USE_FIELD, doubts_of_check
from data.errors import InvalidInputError, MalformedInputError
from data.flows import OBSERVED_FLOW_TABLE, PATIENT_FIELDS, PLANNING_FLOW_TABLE, FlowTable
from data.reporting import LOCAL_TZ
from data.schema.live import LEVEL_ORDER, FacilityStatus, Level, StatusThresholds
from data.store.reviews import ReviewStatus
from data.store.status_inputs import StatusInputs, StatusReport, stock_instant
from data.units import OxygenConversions
from matcher.demand import DEFAULT_DEMAND_RULE, DemandRule

STALE_AFTER_H = 24.0 * DEFAULT_DEMAND_RULE.max_report_age_days
"""Hours after which a report's stock is no longer projected (72 h): the age at which plans stop
carrying a report forward (``matcher.demand.DemandRule.max_report_age_days``, 3 days)."""

DECLARED_USE = "declared use"
PATIENTS_X_FLOWS = "patients x flows"
UNKNOWN = "unknown"
BURN_BASES = (DECLARED_USE, PATIENTS_X_FLOWS, UNKNOWN)
"""The values of ``FacilityStatus.burn_basis``."""

_HOURS_PER_DAY = 24.0
_S_PER_H = 3600.0


def _flow_vector(table: FlowTable) -> np.ndarray:
    """Return m³ per patient-day of each need, in the order of ``PATIENT_FIELDS`` (float64)."""
    return np.array([table.rate(need).m3_per_patient_day for need in PATIENT_FIELDS])


def burn_per_day(
    patients: np.ndarray,
    declared_m3: np.ndarray,
    use_in_doubt: np.ndarray,
    use_accepted: np.ndarray,
    *,
    flow_table: FlowTable = PLANNING_FLOW_TABLE,
    rule: DemandRule = DEFAULT_DEMAND_RULE,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the demand rule of :func:`matcher.demand.reported_demand` to many reports at once.

    Parameters
    ----------
    patients
        Patients on oxygen, shape ``(n, 5)`` in the order of :data:`data.flows.PATIENT_FIELDS`.
    declared_m3
        Declared use in the 24 h before each report (m³ gas), shape ``(n,)``.
    use_in_doubt, use_accepted
        Boolean ``(n,)``: the declared use is in doubt (unreviewed flag, correction asked for);
        a person accepted the report's flags.

    Returns
    -------
    tuple of numpy.ndarray
        Use per day (m³, NaN when unknown) and the basis as an index into :data:`BURN_BASES`.
    """
    computed = np.round(patients @ _flow_vector(flow_table), 6)
    low = rule.declared_use_low_factor * (patients @ _flow_vector(OBSERVED_FLOW_TABLE))
    high = rule.declared_use_high_factor * (patients @ _flow_vector(PLANNING_FLOW_TABLE))
    in_band = (declared_m3 >= low - 1e-9) & (declared_m3 <= high + 1e-9)
    take_declared = ~use_in_doubt & (use_accepted | in_band)
    unknown = use_in_doubt & ~(patients > 0).any(axis=1)
    use = np.where(take_declared, declared_m3, computed)
    use = np.where(unknown, np.nan, use)
    basis = np.where(take_declared, 0, np.where(unknown, 2, 1))
    return use, basis


@dataclass(frozen=True, slots=True)
class _ReportDoubts:
    stock_in_doubt: bool
    use_in_doubt: bool
    accepted: bool


_NO_DOUBTS = _ReportDoubts(False, False, False)


def _doubts(report: StatusReport) -> _ReportDoubts:
    check = report.check
    if check is None or (not check.flags and check.review is None):
        return _NO_DOUBTS
    pairs, status = doubts_of_check(check)
    fields = {field for field, _ in pairs}
    return _ReportDoubts(
        bool(fields & set(STOCK_FIELDS)),
        USE_FIELD in fields,
        status == ReviewStatus.ACCEPTED.value,
    )


def _stock_m3(report: StatusReport, conversions: OxygenConversions) -> tuple[float, float]:
    """Return a report's liquid and cylinder stock as gas m³ (unknown cylinder sizes: 0)."""
    liquid = conversions.lox_l_to_gas_m3(report.liquid_stock_l) if report.liquid_stock_l else 0.0
    cylinders = sum(
        conversions.cylinders_to_gas_m3(count, size)
        for size, count in report.cylinders_full.items()
        if size in conversions.cylinder_gas_m3
    )
    return liquid, cylinders


@dataclass(frozen=True, slots=True)
class _Columns:
    """Per-facility arrays (float64; NaN where unknown) and per-delivery arrays."""

    stock_known: np.ndarray  # bool
    liquid0_m3: np.ndarray
    cylinders0_m3: np.ndarray
    stock_t_s: np.ndarray  # epoch seconds of the stock report
    stock_report: list[StatusReport | None]
    burn_m3_per_h: np.ndarray
    burn_basis: np.ndarray  # index into BURN_BASES


def _report_columns(
    inputs: StatusInputs, index: Mapping[str, int], at_s: float, conversions: OxygenConversions
) -> _Columns:
    """Pick each facility's stock report and burn report (newest first; see the module).

    Reports are looked at until both are found, so a facility's older reports cost nothing
    when its newest one is good (most facilities).
    """
    n = len(index)
    columns = _Columns(
        stock_known=np.zeros(n, dtype=bool),
        liquid0_m3=np.zeros(n),
        cylinders0_m3=np.zeros(n),
        stock_t_s=np.full(n, np.nan),
        stock_report=[None] * n,
        burn_m3_per_h=np.full(n, np.nan),
        burn_basis=np.full(n, 2, dtype=np.int64),
    )
    stock_of = columns.stock_report
    burn_of: list[tuple[StatusReport, _ReportDoubts] | None] = [None] * n
    oldest_s = at_s - STALE_AFTER_H * _S_PER_H
    # Reports come by facility, newest day first: the first fit of each facility wins.
    for report in inputs.reports:
        i = index.get(report.facility_id)
        if i is None or (stock_of[i] is not None and burn_of[i] is not None):
            continue
        stock_s = report.stock_at.timestamp()
        if stock_s < oldest_s:
            continue
        doubts = _doubts(report)
        if stock_of[i] is None and not doubts.stock_in_doubt:
            stock_of[i] = report
            columns.liquid0_m3[i], columns.cylinders0_m3[i] = _stock_m3(report, conversions)
            columns.stock_t_s[i] = stock_s
        # Unknown only when the use is in doubt and no patient is on oxygen (reported_demand).
        if burn_of[i] is None and not (doubts.use_in_doubt and not any(report.patients)):
            burn_of[i] = (report, doubts)
    columns.stock_known[:] = [r is not None for r in stock_of]
    chosen = [(i, pair) for i, pair in enumerate(burn_of) if pair is not None]
    if chosen:
        use, basis = burn_per_day(
            np.array([r.patients for _, (r, _) in chosen], dtype=np.float64).reshape(-1, 5),
            np.array([r.oxygen_used_24h_m3 for _, (r, _) in chosen], dtype=np.float64),
            np.array([d.use_in_doubt for _, (_, d) in chosen], dtype=bool),
            np.array([d.accepted for _, (_, d) in chosen], dtype=bool),
        )
        positions = np.array([i for i, _ in chosen], dtype=np.int64)
        columns.burn_m3_per_h[positions] = use / _HOURS_PER_DAY
        columns.burn_basis[positions] = basis
    return columns


def _delivery_arrays(
    inputs: StatusInputs, index: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return facility index, instant (s), gas m³ and is-liquid of the received deliveries."""
    rows = [d for d in inputs.received if d.facility_id in index]
    return (
        np.array([index[d.facility_id] for d in rows], dtype=np.int64),
        np.array([d.at.timestamp() for d in rows], dtype=np.float64),
        np.array([d.gas_m3 for d in rows], dtype=np.float64),
        np.array([d.product == "liquid" for d in rows], dtype=bool),
    )


@dataclass(frozen=True, slots=True)
class _Stocks:
    total_m3: np.ndarray
    liquid_m3: np.ndarray
    cylinders_m3: np.ndarray


def _stocks_now(
    columns: _Columns, inputs: StatusInputs, index: Mapping[str, int], at_s: float
) -> _Stocks:
    """Return stock now: the balance since the report, reflected at zero (see the module)."""
    n = len(index)
    fac, when, gas, liquid = _delivery_arrays(inputs, index)
    burn = np.nan_to_num(columns.burn_m3_per_h)
    t0 = columns.stock_t_s
    keep = columns.stock_known[fac] & (when > t0[fac])
    fac, when, gas, liquid = fac[keep], when[keep], gas[keep], liquid[keep]
    order = np.lexsort((when, fac))
    fac, when, gas, liquid = fac[order], when[order], gas[order], liquid[order]
    start = columns.liquid0_m3 + columns.cylinders0_m3
    delivered = np.bincount(fac, weights=gas, minlength=n)
    delivered_liquid = np.bincount(fac, weights=np.where(liquid, gas, 0.0), minlength=n)
    hours = np.where(columns.stock_known, (at_s - t0) / _S_PER_H, 0.0)
    balance_now = start + delivered - burn * hours
    # The balance just before each delivery: start + earlier deliveries - burn until then.
    cumulative = np.cumsum(gas)
    first = np.searchsorted(fac, np.arange(n))
    before = cumulative - gas - np.concatenate(([0.0], cumulative))[first[fac]]
    balance_before = start[fac] + before - burn[fac] * (when - t0[fac]) / _S_PER_H
    lowest = np.minimum(balance_now, 0.0)
    np.minimum.at(lowest, fac, balance_before)
    total = balance_now - lowest
    used = start + delivered - total
    liquid_now = np.maximum(columns.liquid0_m3 + delivered_liquid - used, 0.0)
    return _Stocks(total, liquid_now, total - liquid_now)


def _in_transit(
    inputs: StatusInputs, index: Mapping[str, int]
) -> tuple[np.ndarray, list[dt.datetime | None]]:
    n = len(index)
    amounts = np.zeros(n)
    earliest: list[dt.datetime | None] = [None] * n
    for delivery in inputs.in_transit:
        i = index.get(delivery.facility_id)
        if i is None:
            continue
        amounts[i] += delivery.gas_m3
        if earliest[i] is None or delivery.at < earliest[i]:  # type: ignore[operator]
            earliest[i] = delivery.at
    return amounts, earliest


def _last_report_age(
    inputs: StatusInputs, facility_id: str, at: dt.datetime
) -> tuple[dt.date | None, float | None]:
    last = inputs.last_reports.get(facility_id)
    if last is None:
        return None, None
    day, submitted_at = last
    return day, (at - stock_instant(day, submitted_at)).total_seconds() / _S_PER_H


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def compute_statuses(
    inputs: StatusInputs,
    at: dt.datetime,
    thresholds: StatusThresholds,
    conversions: OxygenConversions,
    *,
    thresholds_by_province: Mapping[str, StatusThresholds] | None = None,
) -> list[FacilityStatus]:
    """Return every facility's status at ``at``, most urgent first (see the module for the model).

    Parameters
    ----------
    inputs
        From :meth:`data.store.Store.status_inputs` (read at ``at``).
    at
        The instant (aware); the statuses carry it in Asia/Ho_Chi_Minh time.
    thresholds
        Hours to empty of the levels (critical, warning).
    conversions
        Liquid and cylinder factors (``data.units``).
    thresholds_by_province
        Thresholds of the provinces whose region sets its own (``[status]`` of a region TOML);
        the others use ``thresholds``.

    Returns
    -------
    list of FacilityStatus
        Sorted by level (:data:`data.schema.live.LEVEL_ORDER`), then hours to empty (shortest
        first), then report age (oldest first), then facility id.

    Raises
    ------
    ValueError
        If ``at`` is naive.
    """
    if at.tzinfo is None:
        raise ValueError(f"at: give an aware instant, got {at!r}")
    index = {f.facility_id: i for i, f in enumerate(inputs.facilities)}
    at_s = at.timestamp()
    columns = _report_columns(inputs, index, at_s, conversions)
    stocks = _stocks_now(columns, inputs, index, at_s)
    known = columns.stock_known & ~np.isnan(columns.burn_m3_per_h)
    with np.errstate(divide="ignore", invalid="ignore"):
        hours = np.where(columns.burn_m3_per_h > 0, stocks.total_m3 / columns.burn_m3_per_h, np.inf)
    hours = np.where(known, hours, np.nan)
    report_dates, ages = _report_ages(inputs, columns, at)
    levels = _level_codes(inputs, hours, thresholds, thresholds_by_province or {})
    order = _urgency_order(inputs, levels, hours, ages)
    transit_m3, arrivals = _in_transit(inputs, index)
    local_at = at.astimezone(LOCAL_TZ)
    # Plain Python values: indexing numpy arrays one element at a time is slow.
    hours_list = hours.tolist()
    stock = np.where(known, stocks.total_m3, np.nan).tolist()
    liquid = np.where(known, stocks.liquid_m3, np.nan).tolist()
    cylinders = np.where(known, stocks.cylinders_m3, np.nan).tolist()
    burn = columns.burn_m3_per_h.tolist()
    basis = columns.burn_basis.tolist()
    transit = transit_m3.tolist()
    level_list = levels.tolist()
    statuses = []
    for i in order.tolist():
        facility = inputs.facilities[i]
        arrival = arrivals[i]
        statuses.append(
            FacilityStatus(
                facility_id=facility.facility_id,
                name=facility.name,
                province_code=facility.province_code,
                at=local_at,
                level=_LEVELS_BY_CODE[level_list[i]],
                hours_to_empty=_finite(hours_list[i]),
                stock_m3=_finite(stock[i]),
                liquid_stock_m3=_finite(liquid[i]),
                cylinders_stock_m3=_finite(cylinders[i]),
                burn_m3_per_h=_finite(burn[i]),
                burn_basis=BURN_BASES[basis[i]],
                report_date=report_dates[i],
                report_age_h=ages[i],
                in_transit_m3=transit[i],
                next_arrival=None if arrival is None else arrival.astimezone(LOCAL_TZ),
            )
        )
    return statuses


_LEVELS_BY_CODE = sorted(Level, key=LEVEL_ORDER.__getitem__)
"""Levels by their sort code (:data:`data.schema.live.LEVEL_ORDER`)."""


def _report_ages(
    inputs: StatusInputs, columns: _Columns, at: dt.datetime
) -> tuple[list[dt.date | None], list[float | None]]:
    """Return each facility's report date and age (h): the stock report's, else the last one."""
    dates: list[dt.date | None] = []
    ages: list[float | None] = []
    stock_ages = ((at.timestamp() - columns.stock_t_s) / _S_PER_H).tolist()
    for i, facility in enumerate(inputs.facilities):
        report = columns.stock_report[i]
        if report is None:
            day, age = _last_report_age(inputs, facility.facility_id, at)
        else:
            day, age = report.report_date, stock_ages[i]
        dates.append(day)
        ages.append(age)
    return dates, ages


def _level_codes(
    inputs: StatusInputs,
    hours: np.ndarray,
    thresholds: StatusThresholds,
    by_province: Mapping[str, StatusThresholds],
) -> np.ndarray:
    """Return each facility's level code (:data:`LEVEL_ORDER`), as ``StatusThresholds.level``."""
    chosen = [by_province.get(f.province_code, thresholds) for f in inputs.facilities]
    critical = np.array([t.critical_hours for t in chosen], dtype=np.float64)
    warning = np.array([t.warning_hours for t in chosen], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.select(
            [np.isnan(hours), hours < critical, hours < warning],
            [LEVEL_ORDER[Level.UNKNOWN], LEVEL_ORDER[Level.CRITICAL], LEVEL_ORDER[Level.WARNING]],
            default=LEVEL_ORDER[Level.OK],
        )


def _urgency_order(
    inputs: StatusInputs, levels: np.ndarray, hours: np.ndarray, ages: list[float | None]
) -> np.ndarray:
    """Return facility positions most urgent first (the key of :func:`status_sort_key`)."""
    ids = [f.facility_id for f in inputs.facilities]
    id_rank = np.empty(len(ids), dtype=np.int64)
    id_rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
    age = np.array([math.inf if a is None else a for a in ages], dtype=np.float64)
    return np.lexsort((id_rank, -age, np.nan_to_num(hours, nan=np.inf), levels))


def status_sort_key(status: FacilityStatus) -> tuple[int, float, float, str]:
    """Return the sort key of a status: level, hours to empty, older report first, id."""
    hours = status.hours_to_empty if status.hours_to_empty is not None else math.inf
    age = status.report_age_h if status.report_age_h is not None else math.inf
    return (LEVEL_ORDER[status.level], hours, -age, status.facility_id)


def sort_statuses(statuses: Sequence[FacilityStatus]) -> list[FacilityStatus]:
    """Return statuses most urgent first (:func:`status_sort_key`)."""
    return sorted(statuses, key=status_sort_key)


def current_statuses(
    store: Any,
    at: dt.datetime,
    thresholds: StatusThresholds,
    *,
    province_code: str | None = None,
    facility_id: str | None = None,
    level: Level | None = None,
    conversions: OxygenConversions | None = None,
    thresholds_by_province: Mapping[str, StatusThresholds] | None = None,
) -> list[FacilityStatus]:
    """Return the status of the store's facilities at ``at``, most urgent first.

    Parameters
    ----------
    store
        A :class:`data.store.Store` (its ``status_inputs``: a few set-based queries).
    at
        The instant (aware).
    thresholds
        Hours to empty of the levels; ``thresholds_by_province`` overrides them per province.
    province_code, facility_id, level
        Keep only this province, this facility, this level (None: all).
    conversions
        Liquid and cylinder factors (default :class:`data.units.OxygenConversions`).

    Raises
    ------
    ValueError
        If ``at`` is naive.
    """
    inputs = store.status_inputs(at, province_code=province_code, facility_id=facility_id)
    statuses = compute_statuses(
        inputs,
        at,
        thresholds,
        conversions or OxygenConversions(),
        thresholds_by_province=thresholds_by_province,
    )
    if level is not None:
        statuses = [s for s in statuses if s.level == level]
    return statuses


# ------------------------------------------------------------------------- input and output

MAX_AHEAD_H = STALE_AFTER_H
"""Farthest ahead of now a status may be asked for (72 h): beyond, a projection is a guess."""

_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?")


def parse_at(raw: str, now: dt.datetime, *, name: str = "at") -> dt.datetime:
    """Return the instant a person asked a status for (the API's ``at``, the CLI's ``--at``).

    ISO 8601 date and time; without an offset it is Asia/Ho_Chi_Minh time; ``Z`` is UTC.

    Raises
    ------
    MalformedInputError
        If ``raw`` is not a date and time (a date alone is not), naming ``name`` and the value.
    InvalidInputError
        If it is more than :data:`MAX_AHEAD_H` after ``now``.
    """
    problem = (
        f"{name}: must be an ISO 8601 date and time such as 2021-08-20T10:00+07:00, got {raw!r:.80}"
    )
    try:
        if not _INSTANT.fullmatch(raw):
            raise ValueError(raw)
        at = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedInputError(problem, [problem]) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=LOCAL_TZ)
    if at > now + dt.timedelta(hours=MAX_AHEAD_H):
        raise InvalidInputError(
            f"{name}: must not be more than {MAX_AHEAD_H:.0f} h after now "
            f"({now.astimezone(LOCAL_TZ).isoformat()}), got {raw!r:.80}"
        )
    return at


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or math.isinf(value):
        return None
    return round(value, digits)


def status_to_dict(status: FacilityStatus) -> dict[str, Any]:
    """Return one facility's status as JSON (hours to 0.1 h, m³ to 0.1, local times).

    ``hours_to_empty`` is null when unknown and when the facility uses nothing
    (``never_empty``: true); ``runs_dry_at`` is when it would run out at its burn.
    """
    hours = status.hours_to_empty
    never_empty = hours is not None and math.isinf(hours)
    runs_dry = (
        None
        if hours is None or never_empty
        else (status.at + dt.timedelta(hours=hours)).astimezone(LOCAL_TZ).isoformat()
    )
    return {
        "facility_id": status.facility_id,
        "name": status.name,
        "province_code": status.province_code,
        "level": status.level.value,
        "hours_to_empty": _rounded(hours, 1),
        "never_empty": never_empty,
        "runs_dry_at": runs_dry,
        "stock_m3": _rounded(status.stock_m3, 1),
        "liquid_stock_m3": _rounded(status.liquid_stock_m3, 1),
        "cylinders_stock_m3": _rounded(status.cylinders_stock_m3, 1),
        "burn_m3_per_h": _rounded(status.burn_m3_per_h, 2),
        "burn_basis": status.burn_basis,
        "report_date": None if status.report_date is None else status.report_date.isoformat(),
        "report_age_h": _rounded(status.report_age_h, 1),
        "in_transit_m3": round(status.in_transit_m3, 1),
        "next_arrival": (
            None
            if status.next_arrival is None
            else status.next_arrival.astimezone(LOCAL_TZ).isoformat()
        ),
    }


# ------------------------------------------------------------------------- "Act first"


def _clock_text(instant: dt.datetime, at: dt.datetime) -> str:
    """Return ``HH:MM`` local, with the date when it is not the day of ``at``."""
    local = instant.astimezone(LOCAL_TZ)
    if local.date() == at.astimezone(LOCAL_TZ).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def _arrivals_text(
    status: FacilityStatus, planned: Sequence[tuple[dt.datetime, float]] | None
) -> str:
    """Say what is planned or on its way for a facility and whether it arrives in time."""
    runs_dry = (
        None
        if status.hours_to_empty is None or math.isinf(status.hours_to_empty)
        else status.at + dt.timedelta(hours=status.hours_to_empty)
    )
    if planned:
        parts = []
        for arrival, gas_m3 in sorted(planned):
            when = _clock_text(arrival, status.at)
            if runs_dry is None:
                parts.append(f"{gas_m3:,.0f} m³ planned, arrives {when}")
            elif arrival <= runs_dry:
                parts.append(f"{gas_m3:,.0f} m³ planned, arrives {when} (in time)")
            else:
                late_h = (arrival - runs_dry).total_seconds() / _S_PER_H
                parts.append(
                    f"{gas_m3:,.0f} m³ planned, arrives {when} ({late_h:.1f} h after it runs dry)"
                )
        return "; ".join(parts)
    if status.in_transit_m3 > 0:
        first = status.next_arrival
        text = f"{status.in_transit_m3:,.0f} m³ on its way"
        if first is not None:
            text += f", first arrives {_clock_text(first, status.at)}"
            if runs_dry is not None:
                text += " (in time)" if first <= runs_dry else " (after it runs dry)"
        return text
    return "nothing planned or on its way"


def _status_text(status: FacilityStatus) -> str:
    """Say a facility's hours to empty with its level, stock, burn basis and data age."""
    age = "no report" if status.report_age_h is None else f"report {status.report_age_h:.0f} h old"
    if status.hours_to_empty is None:
        fresh = status.report_age_h is not None and status.report_age_h <= STALE_AFTER_H
        why = (
            "no use known"
            if fresh and status.burn_basis == UNKNOWN
            else f"no good report in the last {STALE_AFTER_H:.0f} h"
        )
        last = "" if status.report_date is None else f", last {status.report_date.isoformat()}"
        return f"hours to empty unknown ({why}; {age}{last})"
    stock = status.stock_m3 or 0.0
    burn = status.burn_m3_per_h or 0.0
    hours = "empty now" if status.hours_to_empty <= 0 else f"{status.hours_to_empty:.1f} h to empty"
    return (
        f"{hours} ({status.level.value}; {stock:,.0f} m³ on hand, "
        f"{status.burn_basis} {burn:,.1f} m³/h, {age})"
    )


def act_first_lines(
    statuses: Sequence[FacilityStatus],
    planned: Mapping[str, list[tuple[dt.datetime, float]]] | None = None,
    limit: int = 10,
) -> list[str]:
    """Return the "Act first" block of a plan summary: who runs dry first and what is coming.

    Parameters
    ----------
    statuses
        Facility statuses (:func:`current_statuses`); they are sorted here again, most urgent
        first; facilities at level ``ok`` are left out.
    planned
        Per facility id, the plan's deliveries as ``(arrival, gas m³)`` (aware instants); a
        facility not listed shows what the deliveries table has on its way (``in_transit_m3``,
        ``next_arrival``).
    limit
        Most facilities listed (default 10); the heading says how many more need action.

    Returns
    -------
    list of str
        A heading, then one numbered line per facility: name (id), hours to empty with the
        level, stock, burn basis and data age, then what arrives when and whether in time.
    """
    urgent = [s for s in sort_statuses(statuses) if s.level is not Level.OK]
    if not urgent:
        return ["Act first: no facility is critical, in warning or of unknown stock."]
    at = urgent[0].at
    heading = (
        f"Act first: facilities by hours to empty at {at.strftime('%Y-%m-%d %H:%M')} "
        f"({len(urgent)} critical, warning or unknown"
        + (f"; the first {limit} listed)" if len(urgent) > limit else ")")
    )
    lines = [heading]
    for number, status in enumerate(urgent[:limit], start=1):
        arrivals = _arrivals_text(status, (planned or {}).get(status.facility_id))
        lines.append(
            f"{number}. {status.name} ({status.facility_id}): {_status_text(status)}; {arrivals}"
        )
    return lines
