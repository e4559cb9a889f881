"""Compliance counts against a hand-built month, and demand aggregation by province.

The month (August 2021, checked at 2021-09-01):

- facility A (province 79) reports from 1 Aug: every day at 15:00 local, except 5 Aug at 16:00:00
  exactly (still on time), 6 Aug at 16:00:01 (late), and 7 Aug not at all (missing):
  31 expected, 30 reports, 29 on time, 1 late, 1 missing;
- facility B (79) reports from 11 Aug: 11-20 Aug at 09:00 (10 on time), nothing 21-31 Aug
  (11 missing), plus a report on 5 Aug, before its period (not counted): 21 expected;
- facility C (01) reports 1-10 Aug only: 1-3 Aug at 17:00 (3 late), nothing 4-10 Aug (7 missing),
  plus a report on 15 Aug, after its period (not counted): 10 expected;
- province 60 (Bình Thuận) has no facility.

So the monthly table is 79: 40 reports of 52 expected (39 on time); 01: 3 of 10 (0 on time);
60: not reported.
"""

from __future__ import annotations

import datetime as dt

import pytest

from coordination.compliance import (
    MONTHLY_TABLE_HEADERS,
    compliance_by_province_day,
    demand_by_province,
    monthly_reporting_table,
    monthly_table_cells,
    national_compliance,
)
from data.reporting import LOCAL_TZ, Submission, is_on_time
from data.schema.registry import DailyReport, Facility, Province, ReportRevision
from data.units import OxygenConversions

AUG = [dt.date(2021, 8, d) for d in range(1, 32)]
NOW = dt.datetime(2021, 9, 1, 8, 0, tzinfo=LOCAL_TZ)


def _facility(facility_id: str, province_code: str, start: int, end: int | None = None) -> Facility:
    return Facility(
        facility_id=facility_id,
        name=f"Bệnh viện {facility_id}",
        province_code=province_code,
        lon=106.7,
        lat=10.8,
        tier=2,
        reporting_from=dt.date(2021, 8, start),
        reporting_until=None if end is None else dt.date(2021, 8, end),
    )


def _at(day: dt.date, clock: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=LOCAL_TZ)


FACILITIES = [_facility("A", "79", 1), _facility("B", "79", 11), _facility("C", "01", 1, 10)]
PROVINCES = [
    Province("79", "Thành phố Hồ Chí Minh"),
    Province("01", "Thành phố Hà Nội"),
    Province("60", "Tỉnh Bình Thuận"),
]


def _submissions() -> list[Submission]:
    out = []
    for day in AUG:
        if day.day == 7:
            continue
        clock = {5: "16:00:00", 6: "16:00:01"}.get(day.day, "15:00")
        out.append(Submission("A", day, _at(day, clock)))
    out += [
        Submission("B", dt.date(2021, 8, d), _at(dt.date(2021, 8, d), "09:00"))
        for d in range(11, 21)
    ]
    out.append(Submission("B", dt.date(2021, 8, 5), _at(dt.date(2021, 8, 5), "09:00")))
    out += [
        Submission("C", dt.date(2021, 8, d), _at(dt.date(2021, 8, d), "17:00")) for d in (1, 2, 3)
    ]
    out.append(Submission("C", dt.date(2021, 8, 15), _at(dt.date(2021, 8, 15), "09:00")))
    return out


def test_deadline_is_16_00_local_inclusive() -> None:
    day = dt.date(2021, 8, 5)
    assert is_on_time(_at(day, "16:00:00"), day)
    assert not is_on_time(_at(day, "16:00:01"), day)
    # 09:00 UTC is 16:00 in Hồ Chí Minh City (UTC+7).
    assert is_on_time(dt.datetime(2021, 8, 5, 9, 0, tzinfo=dt.UTC), day)
    assert not is_on_time(dt.datetime(2021, 8, 5, 9, 0, 1, tzinfo=dt.UTC), day)


def test_monthly_table_matches_the_hand_count() -> None:
    table = monthly_reporting_table(
        PROVINCES, FACILITIES, _submissions(), year=2021, month=8, now=NOW
    )
    rows = {r.province_code: r for r in table}
    assert [r.province_code for r in table] == ["79", "01", "60"]  # most reports first
    assert (rows["79"].reports, rows["79"].expected_reports, rows["79"].actual_reports_on_time) == (
        40,
        52,
        39,
    )
    assert (rows["01"].reports, rows["01"].expected_reports, rows["01"].actual_reports_on_time) == (
        3,
        10,
        0,
    )
    assert rows["60"].reported is False and rows["60"].reports == 0
    assert rows["60"].reporting_rate is None
    assert rows["79"].reporting_rate == pytest.approx(100 * 40 / 52, abs=0.01)


def test_monthly_table_cells_put_names_beside_codes() -> None:
    table = monthly_reporting_table(
        PROVINCES, FACILITIES, _submissions(), year=2021, month=8, now=NOW
    )
    cells = monthly_table_cells(table)
    assert all(len(row) == len(MONTHLY_TABLE_HEADERS) for row in cells)
    assert cells == [
        [1, "79", "Thành phố Hồ Chí Minh", "Đã báo cáo (reported)", 40, 52, 39, 76.92],
        [2, "01", "Thành phố Hà Nội", "Đã báo cáo (reported)", 3, 10, 0, 30.0],
        [3, "60", "Tỉnh Bình Thuận", "Chưa báo cáo (not reported)", 0, 0, 0, None],
    ]


def test_daily_rows_name_late_and_missing_facilities() -> None:
    rows = compliance_by_province_day(
        FACILITIES, _submissions(), date_from=AUG[0], date_to=AUG[-1], now=NOW
    )
    by_key = {(r.province_code, r.report_date.day): r for r in rows}
    aug5, aug6, aug7 = by_key[("79", 5)], by_key[("79", 6)], by_key[("79", 7)]
    assert (aug5.expected_reports, aug5.actual_reports_on_time) == (
        1,
        1,
    )  # B's early report not counted
    assert (aug6.late_reports, aug6.late_facility_ids) == (1, ("A",))
    assert (aug7.missing_reports, aug7.missing_facility_ids) == (1, ("A",))
    # names beside ids, same order: whom to phone
    assert aug6.late_facility_names == aug7.missing_facility_names == ("Bệnh viện A",)
    assert aug5.missing_facility_names == aug5.late_facility_names == ()
    for row in rows:
        assert len(row.missing_facility_names) == len(row.missing_facility_ids)
        assert len(row.late_facility_names) == len(row.late_facility_ids)
    assert sum(r.missing_reports for r in rows if r.province_code == "79") == 1 + 11
    assert sum(r.missing_reports for r in rows if r.province_code == "01") == 7
    for row in rows:
        assert (
            row.actual_reports + row.missing_reports + row.pending_reports == row.expected_reports
        )
        assert row.reporting_rate is None or 0 <= row.reporting_rate <= 100


def test_unreported_day_is_pending_until_its_deadline() -> None:
    day = dt.date(2021, 8, 25)
    before = compliance_by_province_day(
        FACILITIES, [], date_from=day, date_to=day, now=_at(day, "15:59"), province_codes=["79"]
    )[0]
    after = compliance_by_province_day(
        FACILITIES, [], date_from=day, date_to=day, now=_at(day, "16:01"), province_codes=["79"]
    )[0]
    assert (before.pending_reports, before.missing_reports) == (2, 0)
    assert (after.pending_reports, after.missing_reports) == (0, 2)


def test_national_view_sums_provinces() -> None:
    rows = compliance_by_province_day(
        FACILITIES, _submissions(), date_from=AUG[0], date_to=AUG[-1], now=NOW
    )
    national = {n.report_date.day: n for n in national_compliance(rows)}
    aug2, aug15 = national[2], national[15]
    assert (aug2.expected_reports, aug2.actual_reports, aug2.actual_reports_on_time) == (2, 2, 1)
    assert (aug2.provinces_expected, aug2.provinces_reporting) == (2, 2)
    assert (aug15.expected_reports, aug15.actual_reports, aug15.provinces_reporting) == (2, 2, 1)
    assert aug15.reporting_rate_on_time == 100.0


def test_demand_by_province_in_m3_and_tonnes() -> None:
    day = dt.date(2021, 8, 15)
    reports = [
        DailyReport(
            facility_id="A",
            report_date=day,
            oxygen_used_24h_m3=700.0,
            patients_high_flow=4,
            liquid_stock_l=1000.0,
            cylinders_full={"40L": 10},
        ),
        DailyReport(
            facility_id="B", report_date=day, oxygen_used_24h_m3=350.0, patients_cannula_mask=6
        ),
        DailyReport(
            facility_id="A", report_date=dt.date(2021, 8, 14), oxygen_used_24h_m3=9e5
        ),  # other day
    ]
    rows = {
        r.province_code: r
        for r in demand_by_province(
            FACILITIES, reports, report_date=day, conversions=OxygenConversions()
        )
    }
    hcmc = rows["79"]
    assert hcmc.oxygen_used_m3_per_day == 1050.0
    assert hcmc.lox_t_per_day == 1.5  # 1050 m³ / 700 m³ per tonne
    # 1000 L liquid x 1.141 kg/L = 1.141 t -> 798.7 m³, plus 10 x 6 m³ cylinders.
    assert hcmc.stock_on_hand_m3 == pytest.approx(798.7 + 60.0)
    assert hcmc.patients_on_oxygen == 10
    assert rows["01"].facilities_expected == 0 and rows["01"].facilities_without_report == ()


# ------------------------------------------------------ issue 13: one demand figure, never zero

DAY = dt.date(2021, 8, 15)
# 10 mask + 5 IMV: patients x flows (planning) 10 x 14.4 + 5 x 43.2 = 360 m³/day; plausible
# declared use 50.76 to 720 m³/day (matcher.demand.declared_use_band_m3).
_PATIENTS = {"patients_cannula_mask": 10, "patients_invasive": 5}


def _hcmc(facility_id: str, name: str, tier: int, beds: int | None) -> Facility:
    return Facility(
        facility_id=facility_id,
        name=name,
        province_code="79",
        lon=106.7,
        lat=10.8,
        tier=tier,
        beds_oxygen=beds,
        reporting_from=dt.date(2021, 8, 1),
    )


DEMAND_FACILITIES = [
    _hcmc("S", "Bệnh viện Chợ Rẫy", 3, None),  # today's report, declared use plausible
    _hcmc("P", "Bệnh viện Nhân dân Gia Định", 2, None),  # 2-day-old report, 33,000 declared
    _hcmc("Q", "Bệnh viện Quận 5", 2, 50),  # 3-day-old report (too old), 50 beds
    _hcmc("R", "Bệnh viện Thủ Đức", 3, None),  # nothing at all
]
DEMAND_REPORTS = [
    DailyReport(facility_id="S", report_date=DAY, oxygen_used_24h_m3=500.0, **_PATIENTS),
    DailyReport(
        facility_id="P",
        report_date=DAY - dt.timedelta(days=2),
        oxygen_used_24h_m3=33_000.0,
        **_PATIENTS,
    ),
    DailyReport(
        facility_id="Q",
        report_date=DAY - dt.timedelta(days=3),
        oxygen_used_24h_m3=400.0,
        **_PATIENTS,
    ),
]


def test_province_demand_follows_the_one_rule_with_its_basis() -> None:
    (row,) = demand_by_province(
        DEMAND_FACILITIES, DEMAND_REPORTS, report_date=DAY, conversions=OxygenConversions()
    )
    # Declared sum of the day's own reports, as before: S only.
    assert row.oxygen_used_m3_per_day == 500.0 and row.facilities_reporting == 1
    # S declared 500 (plausible); P's 33,000 is not, so 360 (carried forward 2 days); Q is
    # estimated from 50 tier-2 beds: 30 x (0.85 x 14.4 + 0.15 x 43.2) = 561.6; R is unknown.
    assert row.demand_m3_per_day == pytest.approx(500.0 + 360.0 + 561.6)
    assert row.demand_lox_t_per_day == pytest.approx((500.0 + 360.0 + 561.6) / 700, abs=1e-4)
    counts = (
        row.facilities_declared_use,
        row.facilities_patients_x_flows,
        row.facilities_carried_forward,
        row.facilities_estimated,
        row.facilities_unknown,
    )
    assert counts == (1, 1, 1, 1, 1)
    # Unknown first, then estimated, then carried forward, then the rest; names beside ids.
    demands = row.facility_demands
    assert [(d.facility_id, d.basis) for d in demands] == [
        ("R", "unknown"),
        ("Q", "estimated"),
        ("P", "patients_x_flows"),
        ("S", "declared_use"),
    ]
    unknown, estimated, carried, fresh = demands
    assert unknown.demand_m3_per_day is None and unknown.name == "Bệnh viện Thủ Đức"
    assert estimated.demand_m3_per_day == pytest.approx(561.6) and estimated.report_date is None
    assert carried.carried_forward_days == 2 and carried.declared_use_m3 == 33_000.0
    assert carried.patients_x_flows_m3 == pytest.approx(360.0) and "outside" in carried.note
    assert (fresh.demand_m3_per_day, fresh.carried_forward_days) == (500.0, 0)
    assert row.facilities_without_report == ("P", "Q", "R")
    assert row.facilities_without_report_names == (
        "Bệnh viện Nhân dân Gia Định",
        "Bệnh viện Quận 5",
        "Bệnh viện Thủ Đức",
    )


def test_province_demand_is_the_plans_day_zero() -> None:
    from coordination.planning import (
        PlanRequest,
        PlanSupplier,
        facilities_from_registry,
        stock_reports_from_registry,
    )
    from coordination.planning import _project_demand as plan_demand

    conversions = OxygenConversions()
    revisions = [ReportRevision(r, 1, NOW, "test", r.content_hash()) for r in DEMAND_REPORTS]
    request = PlanRequest(
        "hcmc",
        DAY + dt.timedelta(days=1),
        facilities_from_registry(DEMAND_FACILITIES),
        (PlanSupplier("x", "x", 106.7, 10.8, "liquid_producer", 10.0),),
        stock_reports_from_registry(revisions, conversions),
        horizon_days=1,
    )
    plan_day0 = {f.facility_id: f for f in plan_demand(request)}
    (row,) = demand_by_province(
        DEMAND_FACILITIES, DEMAND_REPORTS, report_date=DAY, conversions=conversions
    )
    for demand in row.facility_demands:
        forecast = plan_day0[demand.facility_id]
        assert str(forecast.demand_basis) == demand.basis
        if demand.demand_m3_per_day is None:
            assert not forecast.demand_known
        else:
            assert forecast.demand_m3_per_day[0] == pytest.approx(demand.demand_m3_per_day)


def test_a_day_without_any_report_is_unknown_not_zero() -> None:
    (row,) = demand_by_province(
        DEMAND_FACILITIES[:1] + DEMAND_FACILITIES[3:],
        [],
        report_date=DAY,
        conversions=OxygenConversions(),
    )
    assert row.demand_m3_per_day == 0.0
    assert row.facilities_unknown == 2 == row.facilities_expected
    assert all(d.demand_m3_per_day is None for d in row.facility_demands)
