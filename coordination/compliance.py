"""Reporting compliance and demand aggregation over plain data (no database, no clock reads).

A report for day D is **on time** when it was first submitted at or before D 16:00 in
Asia/Ho_Chi_Minh (the ministry's deadline; DHIS2's ``timelyDays`` cannot express a same-day hour,
so it is computed here, see INTEROP.md). Corrections keep the time of the first submission: a
report sent at 15:00 and corrected at 18:00 is on time. A facility is **expected** on D when D lies
in its reporting period (``reporting_from``/``reporting_until``, inclusive). An expected facility
with no report is **missing** once the deadline has passed, and **pending** before that. Metric
names follow DHIS2: ``EXPECTED_REPORTS``, ``ACTUAL_REPORTS``, ``ACTUAL_REPORTS_ON_TIME``,
``REPORTING_RATE`` and ``REPORTING_RATE_ON_TIME`` (percent; None when nothing was expected).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from coordination.counted_facilities import facilities_counted_on
from coordination.report_doubts import UseReview
from data.flows import PATIENT_FIELDS
from data.reporting import (
    Submission,
    days_between,
    is_on_time,
    local_date,
    month_days,
    report_deadline,
)
from data.schema.registry import DailyReport, Facility, Province
from data.units import OxygenConversions
from matcher.demand import (
    CARRY_FORWARD_DAYS,
    DemandBasis,
    DemandForecast,
    FacilityProfile,
    OxygenNeed,
    PatientReport,
    project_demand,
    reported_demand,
)


@dataclass(frozen=True, slots=True)
class ProvinceDayCompliance:
    """Reporting compliance of one province on one day (DHIS2 reporting-rate metrics).

    ``missing_facility_ids`` and ``late_facility_ids`` name the facilities behind the counts;
    ``missing_facility_names`` and ``late_facility_names`` give their names in the same order
    (whom to phone).
    """

    province_code: str
    report_date: dt.date
    expected_reports: int
    actual_reports: int
    actual_reports_on_time: int
    late_reports: int
    missing_reports: int
    pending_reports: int
    missing_facility_ids: tuple[str, ...] = ()
    late_facility_ids: tuple[str, ...] = ()
    missing_facility_names: tuple[str, ...] = ()
    late_facility_names: tuple[str, ...] = ()

    @property
    def reporting_rate(self) -> float | None:
        """ACTUAL_REPORTS / EXPECTED_REPORTS in percent (None if nothing was expected)."""
        return _rate(self.actual_reports, self.expected_reports)

    @property
    def reporting_rate_on_time(self) -> float | None:
        """ACTUAL_REPORTS_ON_TIME / EXPECTED_REPORTS in percent (None if nothing was expected)."""
        return _rate(self.actual_reports_on_time, self.expected_reports)


def _rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(100.0 * numerator / denominator, 2)


def compliance_by_province_day(
    facilities: Iterable[Facility],
    submissions: Iterable[Submission],
    *,
    date_from: dt.date,
    date_to: dt.date,
    now: dt.datetime,
    province_codes: Sequence[str] | None = None,
) -> list[ProvinceDayCompliance]:
    """Count expected, on-time, late, missing and pending reports per province and day.

    Parameters
    ----------
    facilities
        Every facility (their reporting periods say when they are expected).
    submissions
        First submission of each (facility, day); reports from facilities not expected that day
        are not counted (DHIS2 counts only assigned units).
    date_from, date_to
        The days to count, inclusive (at most 366).
    now
        The present instant (aware): before a day's deadline an unreported facility is pending,
        not missing.
    province_codes
        Provinces to include (default: those with at least one facility).

    Returns
    -------
    list of ProvinceDayCompliance
        One row per province and day, ordered by province code then day.
    """
    days = days_between(date_from, date_to)
    facility_list = list(facilities)
    first_by_key = {(s.facility_id, s.report_date): s.first_submitted_at for s in submissions}
    by_province: dict[str, list[Facility]] = defaultdict(list)
    for facility in facility_list:
        by_province[facility.province_code].append(facility)
    codes = sorted(by_province) if province_codes is None else list(province_codes)
    names = {f.facility_id: f.name for f in facility_list}
    rows = []
    for code in codes:
        for day in days:
            expected = [f for f in by_province.get(code, []) if f.expected_on(day)]
            on_time: list[str] = []
            late: list[str] = []
            missing: list[str] = []
            pending: list[str] = []
            for facility in expected:
                submitted_at = first_by_key.get((facility.facility_id, day))
                if submitted_at is None:
                    (pending if now <= report_deadline(day) else missing).append(
                        facility.facility_id
                    )
                elif is_on_time(submitted_at, day):
                    on_time.append(facility.facility_id)
                else:
                    late.append(facility.facility_id)
            rows.append(
                ProvinceDayCompliance(
                    province_code=code,
                    report_date=day,
                    expected_reports=len(expected),
                    actual_reports=len(on_time) + len(late),
                    actual_reports_on_time=len(on_time),
                    late_reports=len(late),
                    missing_reports=len(missing),
                    pending_reports=len(pending),
                    missing_facility_ids=tuple(sorted(missing)),
                    late_facility_ids=tuple(sorted(late)),
                    missing_facility_names=tuple(names[i] for i in sorted(missing)),
                    late_facility_names=tuple(names[i] for i in sorted(late)),
                )
            )
    return rows


@dataclass(frozen=True, slots=True)
class ProvinceMonthRow:
    """One line of the monthly table the ministry publishes: did the province report, how often.

    ``reports`` counts (facility, day) reports in the month (corrections are not extra reports).
    """

    province_code: str
    province_name: str
    reported: bool
    reports: int
    expected_reports: int
    actual_reports_on_time: int

    @property
    def reporting_rate(self) -> float | None:
        """Reports / expected reports in percent (None if nothing was expected)."""
        return _rate(self.reports, self.expected_reports)


def monthly_reporting_table(
    provinces: Iterable[Province],
    facilities: Iterable[Facility],
    submissions: Iterable[Submission],
    *,
    year: int,
    month: int,
    now: dt.datetime,
) -> list[ProvinceMonthRow]:
    """Build the monthly seed table: every province, whether it reported, and how many reports.

    A month in progress is counted up to today (Asia/Ho_Chi_Minh); later days are not expected yet.

    Returns
    -------
    list of ProvinceMonthRow
        Every province given (also those without facilities), most reports first, then by code.
    """
    first, last = month_days(year, month)
    # Days after today are not expected yet: a month in progress is counted up to today.
    last = min(last, local_date(now))
    province_list = list(provinces)
    facility_list = list(facilities)
    submission_list = [s for s in submissions if first <= s.report_date <= last]
    daily = (
        []
        if last < first
        else compliance_by_province_day(
            facility_list,
            submission_list,
            date_from=first,
            date_to=last,
            now=now,
            province_codes=[p.province_code for p in province_list],
        )
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in daily:
        totals[row.province_code][0] += row.actual_reports
        totals[row.province_code][1] += row.expected_reports
        totals[row.province_code][2] += row.actual_reports_on_time
    table = [
        ProvinceMonthRow(
            province_code=p.province_code,
            province_name=p.name,
            reported=totals[p.province_code][0] > 0,
            reports=totals[p.province_code][0],
            expected_reports=totals[p.province_code][1],
            actual_reports_on_time=totals[p.province_code][2],
        )
        for p in province_list
    ]
    return sorted(table, key=lambda r: (-r.reports, r.province_code))


MONTHLY_TABLE_HEADERS = (
    "STT (No.)",
    "Mã tỉnh (Province code)",
    "Tỉnh, thành phố (Province)",
    "Tình trạng (Reported)",
    "Số báo cáo (Reports)",
    "Số báo cáo phải gửi (Expected reports)",
    "Đúng hạn (On time)",
    "Tỷ lệ báo cáo % (Reporting rate %)",
)
"""Columns of the monthly table's file, like the ministry letter's appendix: Vietnamese first."""


def monthly_table_cells(table: Sequence[ProvinceMonthRow]) -> list[list[str | int | float | None]]:
    """Return the cells of the monthly table under :data:`MONTHLY_TABLE_HEADERS`, in table order.

    Each row: its number (1-based), the province code (text), the province name beside it,
    ``Đã báo cáo (reported)`` or ``Chưa báo cáo (not reported)``, the number of reports, the
    expected reports, those on time and the reporting rate (empty when nothing was expected).
    """
    return [
        [
            number,
            row.province_code,
            row.province_name,
            "Đã báo cáo (reported)" if row.reported else "Chưa báo cáo (not reported)",
            row.reports,
            row.expected_reports,
            row.actual_reports_on_time,
            row.reporting_rate,
        ]
        for number, row in enumerate(table, start=1)
    ]


@dataclass(frozen=True, slots=True)
class NationalDayCompliance:
    """National totals for one day, and how many provinces sent at least one report."""

    report_date: dt.date
    provinces_expected: int
    provinces_reporting: int
    expected_reports: int
    actual_reports: int
    actual_reports_on_time: int
    late_reports: int
    missing_reports: int
    pending_reports: int

    @property
    def reporting_rate(self) -> float | None:
        """National ACTUAL_REPORTS / EXPECTED_REPORTS in percent."""
        return _rate(self.actual_reports, self.expected_reports)

    @property
    def reporting_rate_on_time(self) -> float | None:
        """National ACTUAL_REPORTS_ON_TIME / EXPECTED_REPORTS in percent."""
        return _rate(self.actual_reports_on_time, self.expected_reports)


def national_compliance(rows: Iterable[ProvinceDayCompliance]) -> list[NationalDayCompliance]:
    """Sum province-day rows into one national row per day (ordered by day)."""
    by_day: dict[dt.date, list[ProvinceDayCompliance]] = defaultdict(list)
    for row in rows:
        by_day[row.report_date].append(row)
    out = []
    for day in sorted(by_day):
        day_rows = by_day[day]
        out.append(
            NationalDayCompliance(
                report_date=day,
                provinces_expected=sum(1 for r in day_rows if r.expected_reports > 0),
                provinces_reporting=sum(1 for r in day_rows if r.actual_reports > 0),
                expected_reports=sum(r.expected_reports for r in day_rows),
                actual_reports=sum(r.actual_reports for r in day_rows),
                actual_reports_on_time=sum(r.actual_reports_on_time for r in day_rows),
                late_reports=sum(r.late_reports for r in day_rows),
                missing_reports=sum(r.missing_reports for r in day_rows),
                pending_reports=sum(r.pending_reports for r in day_rows),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class FacilityDayDemand:
    """One facility's demand on a day under the one demand rule, with what it stands on.

    Parameters
    ----------
    facility_id, name
        The facility, its name beside its id (whom to phone).
    demand_m3_per_day
        Gas use (m³/day); ``None`` when ``basis`` is ``unknown``.
    basis
        ``declared_use``, ``patients_x_flows``, ``estimated`` or ``unknown``
        (:class:`matcher.demand.DemandBasis`).
    report_date
        The report used (``None`` when estimated or unknown).
    carried_forward_days
        Days between that report and the day asked for (0: the day's own report).
    declared_use_m3, patients_x_flows_m3
        Both figures of the report, whichever was used.
    note
        Why this basis when it is not the first choice.
    """

    facility_id: str
    name: str
    demand_m3_per_day: float | None
    basis: str
    report_date: dt.date | None = None
    carried_forward_days: int | None = None
    declared_use_m3: float | None = None
    patients_x_flows_m3: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ProvinceDemand:
    """Oxygen demand of one province on one day, from the latest revision of each report.

    ``oxygen_used_m3_per_day`` sums the facilities' declared use in the last 24 h of the day's own
    reports (what was declared, kept for reference); ``lox_t_per_day`` is the same quantity as
    tonnes of liquid oxygen (via :class:`data.units.OxygenConversions`). Facilities expected but
    without a report are listed in ``facilities_without_report``: their demand is unknown, not
    zero.

    ``demand_m3_per_day`` is **the** demand figure, the same rule as the plans' day 0
    (:func:`matcher.demand.project_demand`): declared use when plausible, else patients x flows,
    a report carried forward up to :data:`matcher.demand.CARRY_FORWARD_DAYS` days, else beds x
    tier (estimated), else unknown. It sums the facilities whose demand is known;
    ``facilities_unknown`` says how many are left out, and ``facility_demands`` gives each
    facility's figure and basis.
    """

    province_code: str
    report_date: dt.date
    facilities_expected: int
    facilities_reporting: int
    oxygen_used_m3_per_day: float
    lox_t_per_day: float
    stock_on_hand_m3: float
    deliveries_expected_m3: float
    patients_on_oxygen: int
    facilities_without_report: tuple[str, ...] = field(default=())
    facilities_without_report_names: tuple[str, ...] = field(default=())
    demand_m3_per_day: float = 0.0
    demand_lox_t_per_day: float = 0.0
    facilities_declared_use: int = 0
    facilities_patients_x_flows: int = 0
    facilities_carried_forward: int = 0
    facilities_estimated: int = 0
    facilities_unknown: int = 0
    facility_demands: tuple[FacilityDayDemand, ...] = field(default=())


def oxygen_beds(facility: Facility) -> int:
    """Return a registry facility's beds with oxygen (all levels), 0 when none are recorded."""
    return sum(
        v or 0
        for v in (
            facility.beds_oxygen,
            facility.beds_high_flow,
            facility.beds_niv,
            facility.beds_invasive,
            facility.beds_ecmo,
        )
    )


def report_patients(report: DailyReport) -> tuple[tuple[OxygenNeed, int], ...]:
    """Return a daily report's patients on oxygen as ``(need, count)`` pairs."""
    return tuple((need, getattr(report, field)) for need, field in PATIENT_FIELDS.items())


_NO_REVIEW = UseReview()


def _patient_report(report: DailyReport, review: UseReview) -> PatientReport:
    return PatientReport(
        report.facility_id,
        report.report_date,
        report_patients(report),
        report.oxygen_used_24h_m3,
        review.in_doubt,
        use_confirmed=review.accepted,
    )


def facility_demands_on(
    facilities: Sequence[Facility],
    reports: Iterable[DailyReport],
    *,
    report_date: dt.date,
    use_reviews: Mapping[tuple[str, dt.date], UseReview] | None = None,
) -> tuple[FacilityDayDemand, ...]:
    """Return each facility's demand on ``report_date`` under the plans' one demand rule.

    The day's own report counts first, then one of the :data:`~matcher.demand.CARRY_FORWARD_DAYS`
    days before (carried forward, its age shown), then beds x tier (estimated), else unknown. It
    is the day-0 demand of a plan starting the next day (the same function computes both).

    Parameters
    ----------
    facilities
        The facilities to compute (order kept).
    reports
        Latest revisions of reports; those of unknown facilities or other days are ignored.
    report_date
        The day asked for.
    use_reviews
        What the reviews say of each report's declared use, by (facility, date)
        (:func:`coordination.report_doubts.use_reviews`): a use in doubt is not taken at face
        value, an accepted one is taken as declared, as in plans.
    """
    known = {f.facility_id for f in facilities}
    reviews = use_reviews or {}
    oldest = report_date - dt.timedelta(days=CARRY_FORWARD_DAYS)
    patient_reports = [
        _patient_report(r, reviews.get((r.facility_id, r.report_date), _NO_REVIEW))
        for r in reports
        if r.facility_id in known and oldest <= r.report_date <= report_date
    ]
    forecasts = project_demand(
        [
            FacilityProfile(f.facility_id, f.province_code, f.tier, oxygen_beds(f))
            for f in facilities
        ],
        patient_reports,
        start_date=report_date + dt.timedelta(days=1),
        horizon_days=1,
    )
    by_key = {(r.facility_id, r.report_date): r for r in patient_reports}
    return tuple(
        _day_demand(f, forecast, by_key) for f, forecast in zip(facilities, forecasts, strict=True)
    )


def _day_demand(
    facility: Facility,
    forecast: DemandForecast,
    by_key: dict[tuple[str, dt.date], PatientReport],
) -> FacilityDayDemand:
    report = (
        by_key.get((facility.facility_id, forecast.report_date))
        if forecast.report_date is not None
        else None
    )
    rule = (
        reported_demand(
            report.patients,
            report.declared_use_m3,
            use_in_doubt=report.use_in_doubt,
            use_confirmed=report.use_confirmed,
        )
        if report
        else None
    )
    return FacilityDayDemand(
        facility_id=facility.facility_id,
        name=facility.name,
        demand_m3_per_day=round(forecast.demand_m3_per_day[0], 3)
        if forecast.demand_known
        else None,
        basis=str(forecast.demand_basis),
        report_date=forecast.report_date,
        carried_forward_days=forecast.carried_forward_days if report else None,
        declared_use_m3=report.declared_use_m3 if report else None,
        patients_x_flows_m3=None if rule is None else rule.patients_x_flows_m3,
        note=forecast.note,
    )


def demand_by_province(
    facilities: Iterable[Facility],
    latest_reports: Iterable[DailyReport],
    *,
    report_date: dt.date,
    conversions: OxygenConversions,
    province_codes: Sequence[str] | None = None,
    use_reviews: Mapping[tuple[str, dt.date], UseReview] | None = None,
) -> list[ProvinceDemand]:
    """Aggregate demand, declared use, stock and patients by province for one day.

    Parameters
    ----------
    facilities
        Every facility (gives each report its province and the expected set). Those closed
        before ``report_date`` and merged duplicates are left out, their reports with them
        (:func:`coordination.counted_facilities.facilities_counted_on`).
    latest_reports
        The latest revision of each report. Declared use, stock and patients sum the reports of
        ``report_date`` only; the demand figure also carries forward reports of the
        :data:`~matcher.demand.CARRY_FORWARD_DAYS` days before (give them to use them).
    report_date
        The day to aggregate.
    conversions
        Unit factors (gas m³ per tonne of liquid, cylinder sizes).
    province_codes
        Provinces to include (default: those with a facility).
    use_reviews
        What the reviews say of declared uses, as :func:`facility_demands_on` takes them.
    """
    every = list(facilities)
    facility_by_id = {f.facility_id: f for f in facilities_counted_on(every, report_date)}
    all_reports = list(latest_reports)
    reports_by_province: dict[str, list[DailyReport]] = defaultdict(list)
    for report in all_reports:
        facility = facility_by_id.get(report.facility_id)
        if report.report_date == report_date and facility is not None:
            reports_by_province[facility.province_code].append(report)
    expected_by_province: dict[str, list[str]] = defaultdict(list)
    for facility in facility_by_id.values():
        if facility.expected_on(report_date):
            expected_by_province[facility.province_code].append(facility.facility_id)
    codes = (
        sorted({f.province_code for f in every}) if province_codes is None else list(province_codes)
    )
    out = []
    for code in codes:
        reports = reports_by_province.get(code, [])
        reported_ids = {r.facility_id for r in reports}
        counted = [
            f
            for f in facility_by_id.values()
            if f.province_code == code
            and (f.expected_on(report_date) or f.facility_id in reported_ids)
        ]
        demands = facility_demands_on(
            counted,
            all_reports,
            report_date=report_date,
            use_reviews=use_reviews,
        )
        without = sorted(set(expected_by_province.get(code, [])) - reported_ids)
        used_m3 = sum(r.oxygen_used_24h_m3 for r in reports)
        demand_m3 = sum(d.demand_m3_per_day or 0.0 for d in demands)
        out.append(
            ProvinceDemand(
                province_code=code,
                report_date=report_date,
                facilities_expected=len(expected_by_province.get(code, [])),
                facilities_reporting=len(reports),
                oxygen_used_m3_per_day=round(used_m3, 3),
                lox_t_per_day=round(conversions.gas_m3_to_lox_t(used_m3), 4),
                stock_on_hand_m3=round(sum(r.stock_on_hand_m3(conversions) for r in reports), 3),
                deliveries_expected_m3=round(
                    sum(r.deliveries_expected_m3 or 0.0 for r in reports), 3
                ),
                patients_on_oxygen=sum(
                    r.patients_cannula_mask
                    + r.patients_high_flow
                    + r.patients_niv
                    + r.patients_invasive
                    + r.patients_ecmo
                    for r in reports
                ),
                facilities_without_report=tuple(without),
                facilities_without_report_names=tuple(facility_by_id[i].name for i in without),
                demand_m3_per_day=round(demand_m3, 3),
                demand_lox_t_per_day=round(conversions.gas_m3_to_lox_t(demand_m3), 4),
                **_basis_counts(demands),
                facility_demands=_unknown_and_stale_first(demands),
            )
        )
    return out


def _basis_counts(demands: Sequence[FacilityDayDemand]) -> dict[str, int]:
    return {
        "facilities_declared_use": sum(d.basis == DemandBasis.DECLARED_USE for d in demands),
        "facilities_patients_x_flows": sum(
            d.basis == DemandBasis.PATIENTS_X_FLOWS for d in demands
        ),
        "facilities_carried_forward": sum((d.carried_forward_days or 0) > 0 for d in demands),
        "facilities_estimated": sum(d.basis == DemandBasis.ESTIMATED for d in demands),
        "facilities_unknown": sum(d.basis == DemandBasis.UNKNOWN for d in demands),
    }


def _unknown_and_stale_first(
    demands: Sequence[FacilityDayDemand],
) -> tuple[FacilityDayDemand, ...]:
    """Order: unknown, estimated, carried forward (oldest first), then the rest (stable)."""
    rank = {DemandBasis.UNKNOWN: 0, DemandBasis.ESTIMATED: 1}
    return tuple(
        sorted(
            demands,
            key=lambda d: (rank.get(DemandBasis(d.basis), 2), -(d.carried_forward_days or 0)),
        )
    )
