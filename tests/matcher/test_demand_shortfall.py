"""Demand projection and shortfalls: flow tables, growth, estimates, safety stock."""

from __future__ import annotations

from datetime import date

import pytest

from data.errors import InvalidInputError
from matcher.demand import (
    CARRY_FORWARD_DAYS,
    OBSERVED_FLOW_TABLE,
    PLANNING_FLOW_TABLE,
    CaseScenario,
    DemandBasis,
    FacilityProfile,
    Growth,
    OxygenNeed,
    PatientReport,
    declared_use_band_m3,
    project_demand,
    reported_demand,
)
from matcher.shortfall import NFPA99_ONE_DAY, NTF_BUFFER_20, SupplyPosition, compute_shortfalls

START = date(2021, 8, 21)
PROFILES = (FacilityProfile("79001", "79", 3, 100), FacilityProfile("79002", "79", 2, 50))
REPORT = PatientReport(
    "79001", date(2021, 8, 20), ((OxygenNeed.CANNULA_MASK, 10), (OxygenNeed.INVASIVE, 5))
)


def test_every_flow_figure_has_a_source() -> None:
    for table in (PLANNING_FLOW_TABLE, OBSERVED_FLOW_TABLE):
        assert {rate.need for rate in table.rates} == set(OxygenNeed)
        assert all(rate.source for rate in table.rates)
    assert PLANNING_FLOW_TABLE.rate(OxygenNeed.CANNULA_MASK).m3_per_patient_day == pytest.approx(
        14.4
    )  # WHO severe 10 L/min
    assert OBSERVED_FLOW_TABLE.rate(OxygenNeed.INVASIVE).flow_l_per_min == 2.9


def test_reported_facility_uses_its_patients_and_growth() -> None:
    scenario = CaseScenario(by_province=(("79", Growth(doubling_time_days=1.0)),))
    forecasts = project_demand(
        PROFILES, [REPORT], start_date=START, horizon_days=2, scenario=scenario
    )
    reported = forecasts[0]
    # Day 0 is one day after the report: patients doubled. 20 x 14.4 + 10 x 43.2 = 720 m³.
    assert reported.demand_m3_per_day == pytest.approx((720.0, 1440.0))
    assert not reported.estimated


def test_planner_override_and_observed_table() -> None:
    table = PLANNING_FLOW_TABLE.with_overrides({OxygenNeed.INVASIVE: 10.0})
    assert table.rate(OxygenNeed.INVASIVE).source == "planner override"
    forecast = project_demand(
        PROFILES, [REPORT], start_date=START, horizon_days=1, flow_table=table
    )[0]
    assert forecast.demand_m3_per_day[0] == pytest.approx(10 * 14.4 + 5 * 14.4)


def test_facility_without_recent_report_is_estimated() -> None:
    old = PatientReport("79002", date(2021, 8, 1), ((OxygenNeed.CANNULA_MASK, 99),))
    forecast = project_demand(PROFILES, [REPORT, old], start_date=START, horizon_days=1)[1]
    assert forecast.estimated
    # Tier 2 default: 60 % of 50 beds, 85 % mask (14.4) and 15 % HFNC (43.2).
    assert forecast.demand_m3_per_day[0] == pytest.approx(30 * (0.85 * 14.4 + 0.15 * 43.2))


def test_explicit_series_and_severity_mix() -> None:
    scenario = CaseScenario(
        default=Growth(factors=(1.0, 2.0)),
        severity_mix=((OxygenNeed.CANNULA_MASK, 1.0),),
    )
    forecast = project_demand(
        PROFILES, [REPORT], start_date=START, horizon_days=2, scenario=scenario
    )[0]
    assert forecast.demand_m3_per_day == pytest.approx((15 * 14.4, 30 * 14.4))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # a report for a facility nobody profiled
        (
            lambda: project_demand(PROFILES, [PatientReport("x", START, ())], start_date=START),
            r"reports\['x'\]: no facility profile",
        ),
        # a tier without an estimate and no report
        (
            lambda: project_demand([FacilityProfile("79009", "79", 5, 10)], [], start_date=START),
            "tier: 5 has no tier estimate",
        ),
        # two growth forms at once
        (lambda: Growth(daily_growth_rate=0.1, doubling_time_days=3), "give exactly one of"),
    ],
)
def test_demand_errors_name_the_field(call: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call()  # type: ignore[operator]


def test_shortfall_first_day_quantity_and_days_of_supply() -> None:
    forecast = project_demand(PROFILES, [REPORT], start_date=START, horizon_days=3)[0]
    use = forecast.demand_m3_per_day[0]  # 10 x 14.4 + 5 x 43.2 = 360 m³/day, flat
    position = SupplyPosition(
        "79001", stock_m3=700.0, expected_deliveries_m3_per_day=(100.0,), generation_m3_per_day=60.0
    )
    result = compute_shortfalls([forecast], [position], rule=NFPA99_ONE_DAY)[0]
    # Net use 300/day; safety 360 (one average day). Day 0: 700+100+60-360 = 500, fine. Day 1:
    # 500+60-360 = 200 -> need 160 (back to 360). Day 2: 360+60-360 = 60 -> need 300.
    assert use == pytest.approx(360.0)
    assert result.required_m3_per_day == pytest.approx((0.0, 160.0, 300.0))
    assert result.first_shortfall_day == 1
    assert result.shortfall_m3 == pytest.approx(460.0)
    assert result.days_of_supply == pytest.approx(700 / 300, abs=1e-3)
    assert result.projected_stock_m3_per_day == pytest.approx((500.0, 200.0, -100.0))


def test_buffer_rule_and_unknown_stock() -> None:
    forecast = project_demand(PROFILES, [REPORT], start_date=START, horizon_days=1)[0]
    result = compute_shortfalls([forecast], [], rule=NTF_BUFFER_20)[0]
    assert not result.stock_known
    assert result.required_m3_per_day[0] == pytest.approx(360.0 * 1.2)


# ------------------------------------------------------------- issue 13: one demand rule, no zeros

# 10 mask + 5 IMV patients: planning 10 x 14.4 + 5 x 43.2 = 360 m³; observed 10 x 8.064 +
# 5 x 4.176 = 101.52 m³. Plausible band: 0.5 x 101.52 = 50.76 to 2 x 360 = 720 m³.
PATIENTS = ((OxygenNeed.CANNULA_MASK, 10), (OxygenNeed.INVASIVE, 5))


def test_declared_use_band_comes_from_the_two_flow_tables() -> None:
    low, high = declared_use_band_m3(PATIENTS)
    assert (low, high) == pytest.approx((50.76, 720.0))
    assert declared_use_band_m3(()) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("declared", "basis", "demand", "note"),
    [
        # inside the band: the facility's own figure wins (Chợ Rẫy's case: 9,500 vs 7,920)
        (500.0, DemandBasis.DECLARED_USE, 500.0, ""),
        # both edges of the band are inside
        (50.76, DemandBasis.DECLARED_USE, 50.76, ""),
        (720.0, DemandBasis.DECLARED_USE, 720.0, ""),
        # 33,000 m³ against 15 patients: far above twice the planning figure
        (33_000.0, DemandBasis.PATIENTS_X_FLOWS, 360.0, "outside the plausible 51-720"),
        # a tenth of the observed use: below half of it
        (10.0, DemandBasis.PATIENTS_X_FLOWS, 360.0, "outside the plausible"),
        # nothing declared
        (None, DemandBasis.PATIENTS_X_FLOWS, 360.0, "no declared use"),
    ],
)
def test_one_demand_rule(
    declared: float | None, basis: DemandBasis, demand: float, note: str
) -> None:
    result = reported_demand(PATIENTS, declared)
    assert result.basis == basis
    assert result.demand_m3 == pytest.approx(demand)
    assert result.patients_x_flows_m3 == pytest.approx(360.0)
    assert note in result.note


def test_declared_use_without_patients_is_not_taken() -> None:
    # 1e9 m³ with zero patients (issue 13): patients x flows (0), with the reason
    result = reported_demand((), 1e9)
    assert result.basis == DemandBasis.PATIENTS_X_FLOWS and result.demand_m3 == 0.0
    assert "for 0 patients" in result.note
    assert reported_demand((), 0.0).basis == DemandBasis.DECLARED_USE


def test_declared_use_is_day_zero_and_grows_with_patients() -> None:
    report = PatientReport("79001", date(2021, 8, 20), PATIENTS, declared_use_m3=500.0)
    scenario = CaseScenario(default=Growth(factors=(1.0, 2.0)))
    forecast = project_demand(
        PROFILES[:1], [report], start_date=START, horizon_days=2, scenario=scenario
    )[0]
    assert forecast.demand_basis == DemandBasis.DECLARED_USE
    assert forecast.demand_m3_per_day == pytest.approx((500.0, 1000.0))
    assert (forecast.report_age_days, forecast.carried_forward_days) == (1, 0)
    # A severity mix replaces the reported mix: patients x flows under that mix.
    mixed = CaseScenario(severity_mix=((OxygenNeed.CANNULA_MASK, 1.0),))
    forecast = project_demand(
        PROFILES[:1], [report], start_date=START, horizon_days=1, scenario=mixed
    )[0]
    assert forecast.demand_m3_per_day == pytest.approx((15 * 14.4,))


@pytest.mark.parametrize(
    ("report_day", "beds", "basis", "age", "day0_m3"),
    [
        # the day before: fresh
        (20, 50, DemandBasis.PATIENTS_X_FLOWS, 1, 360.0),
        # 3 days old: carried forward 2 days (CARRY_FORWARD_DAYS), still the report
        (18, 50, DemandBasis.PATIENTS_X_FLOWS, 3, 360.0),
        # 4 days old: too old; estimated from 50 tier-2 beds (30 x (0.85 x 14.4 + 0.15 x 43.2))
        (17, 50, DemandBasis.ESTIMATED, None, 30 * (0.85 * 14.4 + 0.15 * 43.2)),
        # too old and no beds: unknown, never a silent zero
        (17, 0, DemandBasis.UNKNOWN, None, 0.0),
    ],
)
def test_carry_forward_then_estimate_then_unknown(
    report_day: int, beds: int, basis: DemandBasis, age: int | None, day0_m3: float
) -> None:
    assert CARRY_FORWARD_DAYS == 2
    profile = FacilityProfile("79002", "79", 2, beds)
    report = PatientReport("79002", date(2021, 8, report_day), PATIENTS)
    forecast = project_demand([profile], [report], start_date=START, horizon_days=2)[0]
    assert forecast.demand_basis == basis
    assert forecast.report_age_days == age
    assert forecast.demand_m3_per_day[0] == pytest.approx(day0_m3)
    assert forecast.demand_known == (basis != DemandBasis.UNKNOWN)
    assert forecast.estimated == (basis == DemandBasis.ESTIMATED)
    if age is not None:
        assert forecast.carried_forward_days == age - 1
        assert f"report of 2021-08-{report_day}" in forecast.basis


def test_unknown_demand_reaches_the_shortfall_as_unknown() -> None:
    forecast = project_demand([FacilityProfile("79003", "79", 3, 0)], [], start_date=START)[0]
    assert forecast.demand_basis == DemandBasis.UNKNOWN and "no beds" in forecast.basis
    result = compute_shortfalls([forecast], [])[0]
    assert not result.demand_known and result.first_shortfall_day is None
    known = compute_shortfalls(project_demand(PROFILES, [REPORT], start_date=START), [])[0]
    assert known.demand_known


def test_a_bad_declared_use_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="declared_use_m3: must be a finite number"):
        PatientReport("79001", START, (), declared_use_m3=float("nan"))


def test_a_use_accepted_on_review_is_taken_as_declared() -> None:
    patients = ((OxygenNeed.CANNULA_MASK, 10),)
    outside = declared_use_band_m3(patients)[1] * 3
    assert reported_demand(patients, outside).basis == DemandBasis.PATIENTS_X_FLOWS
    accepted = reported_demand(patients, outside, use_confirmed=True)
    assert (accepted.basis, accepted.demand_m3) == (DemandBasis.DECLARED_USE, outside)
    # A doubt still wins over an older acceptance flag: never taken at face value.
    doubted = reported_demand(
        patients, outside, use_in_doubt="flag x, unreviewed", use_confirmed=True
    )
    assert doubted.basis == DemandBasis.PATIENTS_X_FLOWS


def test_an_accepted_use_without_patients_holds_over_the_horizon() -> None:
    profile = FacilityProfile("H", "79", 2, 0)
    report = PatientReport("H", date(2021, 8, 19), (), 300.0, use_confirmed=True)
    (forecast,) = project_demand([profile], [report], start_date=date(2021, 8, 20), horizon_days=3)
    assert forecast.demand_basis == DemandBasis.DECLARED_USE
    assert forecast.demand_m3_per_day == (300.0, 300.0, 300.0)
    unreviewed = PatientReport("H", date(2021, 8, 19), (), 300.0, use_in_doubt="flag, unreviewed")
    (doubted,) = project_demand(
        [profile], [unreviewed], start_date=date(2021, 8, 20), horizon_days=3
    )
    assert doubted.demand_basis == DemandBasis.UNKNOWN
