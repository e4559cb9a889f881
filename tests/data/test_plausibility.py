"""Plausibility rules: each rule with a report that passes and one that breaks it.

The facility is hand-made: a 10,000 L tank, 100 cylinders of 40 L, no PSA. Expected figures:
patients 20 mask + 4 HFNC + 2 IMV -> planning 20 x 14.4 + 6 x 43.2 = 547.2 m³/day, observed
20 x 8.064 + 4 x 20.448 + 2 x 4.176 = 251.424 m³/day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from data.plausibility import (
    DEFAULT_LIMITS,
    Bound,
    Finding,
    Severity,
    check_report,
    fields_in_doubt,
    seriousness,
)
from data.schema.registry import DailyReport, Facility
from matcher.demand import OBSERVED_FLOW_TABLE, PLANNING_FLOW_TABLE, OxygenNeed

DAY = dt.date(2021, 8, 20)
FACILITY = Facility(
    facility_id="79-T",
    name="Bệnh viện Thử Nghiệm",
    province_code="79",
    lon=106.66,
    lat=10.76,
    tier=3,
    liquid_tank_capacity_l=10_000.0,
    cylinders_on_hand={"40L": 100},
)
PATIENTS = {"patients_cannula_mask": 20, "patients_high_flow": 4, "patients_invasive": 2}


def _report(day: dt.date = DAY, **values: Any) -> DailyReport:
    return DailyReport(
        **{
            "facility_id": "79-T",
            "report_date": day,
            "oxygen_used_24h_m3": 400.0,
            **PATIENTS,
            "liquid_stock_l": 4_000.0,
            "cylinders_full": {"40L": 30},
            "cylinders_empty": {"40L": 20},
            "deliveries_expected_m3": 400.0,
            **values,
        }
    )


def _history(*uses: float) -> list[DailyReport]:
    """Return reports of the days before DAY (the last value is the day before)."""
    return [
        _report(DAY - dt.timedelta(days=len(uses) - i), oxygen_used_24h_m3=use)
        for i, use in enumerate(uses)
    ]


def _rules(report: DailyReport, recent: list[DailyReport] | None = None) -> dict[str, Finding]:
    result = check_report(report, FACILITY, recent or _history(390.0, 410.0, 400.0))
    return {f.rule_id: f for f in (*result.refusals, *result.flags)}


def test_a_plausible_report_passes_every_rule() -> None:
    result = check_report(_report(), FACILITY, _history(390.0, 410.0, 400.0))
    assert result.refusals == () and result.flags == ()


def test_flow_bounds_are_matcher_demand_tables() -> None:
    needs = {
        "patients_cannula_mask": OxygenNeed.CANNULA_MASK,
        "patients_high_flow": OxygenNeed.HIGH_FLOW,
        "patients_niv": OxygenNeed.NON_INVASIVE,
        "patients_invasive": OxygenNeed.INVASIVE,
        "patients_ecmo": OxygenNeed.ECMO,
    }
    for flow in DEFAULT_LIMITS.flows:
        need = needs[flow.patients_field]
        assert flow.observed_l_per_min == OBSERVED_FLOW_TABLE.rate(need).flow_l_per_min
        assert flow.planning_l_per_min == PLANNING_FLOW_TABLE.rate(need).flow_l_per_min
    assert DEFAULT_LIMITS.expected_use_m3(_report()) == pytest.approx((251.424, 547.2))


@pytest.mark.parametrize(
    ("values", "rule", "severity", "field", "limit"),
    [
        # 100,000 L in a 10,000 L tank (issue 13): impossible
        (
            {"liquid_stock_l": 100_000.0},
            "capacity.liquid_above_tank",
            "refuse",
            "liquid_stock_l",
            10_000.0,
        ),
        # more than the whole country's liquid oxygen output in one day
        (
            {"oxygen_used_24h_m3": 1e9},
            "physical.oxygen_used_24h_m3",
            "refuse",
            "oxygen_used_24h_m3",
            1_001_000.0,
        ),
        (
            {"deliveries_expected_m3": 2e6},
            "physical.deliveries_expected_m3",
            "refuse",
            "deliveries_expected_m3",
            1_001_000.0,
        ),
        # 120 cylinders (full + empty) where the facility owns 100
        (
            {"cylinders_full": {"40L": 80}, "cylinders_empty": {"40L": 40}},
            "capacity.cylinders_above_declared",
            "flag",
            "cylinders_full['40L']",
            100.0,
        ),
        # above 3 x patients x planning flows (3 x 547.2 = 1,641.6)
        (
            {"oxygen_used_24h_m3": 1700.0},
            "use.above_patient_flows",
            "flag",
            "oxygen_used_24h_m3",
            1641.6,
        ),
        # below half of patients x observed flows (125.712)
        (
            {"oxygen_used_24h_m3": 120.0},
            "use.below_patient_flows",
            "flag",
            "oxygen_used_24h_m3",
            125.712,
        ),
        # use with no patient: above one cylinder + 0.5 % boil-off of 10,000 L (6 + 39.935)
        (
            {
                "patients_cannula_mask": 0,
                "patients_high_flow": 0,
                "patients_invasive": 0,
                "oxygen_used_24h_m3": 50.0,
            },
            "use.without_patients",
            "flag",
            "oxygen_used_24h_m3",
            45.935,
        ),
    ],
)
def test_each_rule_fires_on_its_bad_report(
    values: dict[str, Any], rule: str, severity: str, field: str, limit: float
) -> None:
    found = _rules(_report(**values))
    assert rule in found, found
    finding = found[rule]
    assert finding.severity == Severity(severity)
    assert finding.field == field
    assert finding.limit == pytest.approx(limit, abs=1e-3)
    assert finding.message_en and finding.message_vi != finding.message_en


def test_use_jump_against_history_is_flagged_and_a_steady_use_is_not() -> None:
    # 33,000 m³ against 650 the day before (issue 13); patients rose too, but not 50-fold
    history = _history(640.0, 660.0, 650.0)
    jump = _rules(_report(oxygen_used_24h_m3=33_000.0, patients_cannula_mask=200), history)
    assert jump["history.use_jump"].limit == pytest.approx(1950.0)
    assert "33,000" in jump["history.use_jump"].message_en
    assert "33.000" in jump["history.use_jump"].message_vi
    assert "history.use_jump" not in _rules(_report(oxygen_used_24h_m3=700.0), history)
    drop = _rules(_report(oxygen_used_24h_m3=150.0), history)
    assert drop["history.use_drop"].bound is Bound.BELOW
    # a small facility moving by less than one critical patient-day is never a jump
    assert "history.use_jump" not in _rules(
        _report(oxygen_used_24h_m3=40.0, **dict.fromkeys(PATIENTS, 1)), _history(5.0)
    )


def test_stock_rising_without_a_delivery_is_flagged() -> None:
    yesterday = _report(
        DAY - dt.timedelta(days=1), liquid_stock_l=2_000.0, deliveries_expected_m3=0.0
    )
    # 2,000 -> 4,000 L of liquid is +1,597 m³ with no delivery announced
    found = _rules(_report(liquid_stock_l=4_000.0), [yesterday])
    assert found["stock.rise_without_delivery"].field == "liquid_stock_l"
    announced = dataclasses.replace(yesterday, deliveries_expected_m3=1_700.0)
    assert "stock.rise_without_delivery" not in _rules(_report(), [announced])
    falling = dataclasses.replace(yesterday, liquid_stock_l=5_000.0)
    assert "stock.rise_without_delivery" not in _rules(_report(), [falling])


def test_liquid_stock_without_a_declared_tank() -> None:
    no_tank = dataclasses.replace(FACILITY, liquid_tank_capacity_l=None)
    flagged = check_report(_report(liquid_stock_l=4_000.0), no_tank)
    assert [f.rule_id for f in flagged.flags] == ["capacity.liquid_without_tank"]
    refused = check_report(_report(liquid_stock_l=80_000.0), no_tank)
    assert [f.rule_id for f in refused.refusals] == ["capacity.liquid_above_largest_tank"]
    assert refused.refusals[0].limit == 75_700.0


def test_one_e9_with_zero_patients_is_refused_and_named() -> None:
    report = _report(oxygen_used_24h_m3=1e9, **dict.fromkeys(PATIENTS, 0))
    result = check_report(report, FACILITY)
    assert result.refused
    problem = result.refusals[0].problem()
    assert problem.startswith("oxygen_used_24h_m3: ")
    assert "1,000,000,000" in problem and "1,001,000" in problem
    assert "use.without_patients" in {f.rule_id for f in result.flags}


def test_history_ignores_other_facilities_and_later_days() -> None:
    other = dataclasses.replace(_history(10.0)[0], facility_id="79-U")
    later = _report(DAY + dt.timedelta(days=1), oxygen_used_24h_m3=10.0)
    old = _report(DAY - dt.timedelta(days=8), oxygen_used_24h_m3=10.0)
    assert check_report(_report(), FACILITY, [other, later, old]).flags == ()


def test_findings_round_trip_and_order_by_seriousness() -> None:
    result = check_report(_report(oxygen_used_24h_m3=33_000.0), FACILITY, _history(650.0))
    for finding in result.flags:
        assert Finding.from_dict(finding.to_dict()) == finding
    # 33,000 against 3 x 547.2 m³ of patients x planning flows beats 3 x the median 650
    assert seriousness(result.flags) == (pytest.approx(33_000 / 1641.6), 2)
    assert fields_in_doubt(result.flags) == {"oxygen_used_24h_m3"}
    with pytest.raises(ValueError, match="checked against"):
        check_report(dataclasses.replace(_report(), facility_id="79-U"), FACILITY)
