"""Demand projection and shortfalls: flow tables, growth, estimates, safety stock."""

from __future__ import annotations

from datetime import date

import pytest

from data.errors import InvalidInputError
from matcher.demand import (
    OBSERVED_FLOW_TABLE,
    PLANNING_FLOW_TABLE,
    CaseScenario,
    FacilityProfile,
    Growth,
    OxygenNeed,
    PatientReport,
    project_demand,
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
