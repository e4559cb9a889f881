"""Plans never take an unreviewed flagged report value at face value (issue 13, item 1).

Built data: District 5's six hospitals (``request_d5``: 30 mask + 5 HFNC + 2 IMV each, i.e.
30 x 14.4 + 7 x 43.2 = 734.4 m³/day by patients x flows on the planning table; the declared-use
band is 0.5 x observed = 0.5 x (30 x 8.064 + 5 x 20.448 + 2 x 4.176) = 177.3 to 2 x 734.4 =
1,468.8 m³). A declared 900 m³ is inside the band: unflagged or accepted, the plan uses it;
flagged and unreviewed, or sent back for correction, it uses 734.4 instead. The store test
goes through ``Store.submit_report``'s real rules and ``Store.review_report``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from coordination.planning import (
    PlanRequest,
    StockReport,
    build_plan,
    plan_summary,
    plan_to_csv,
    plan_to_dict,
    replace_request,
)
from matcher.demand import DemandRule

START = dt.date(2021, 8, 20)
PXF_M3 = 30 * 14.4 + 7 * 43.2  # 734.4
JUMP = (("oxygen_used_24h_m3", "history.use_jump"),)


def _one_day(request: PlanRequest, target: StockReport, *others: StockReport) -> PlanRequest:
    rest = tuple(r for r in request.reports if r.facility_id != target.facility_id)
    return replace_request(request, reports=(target, *others, *rest), horizon_days=1)


def _row(plan: Any, facility_id: str) -> dict[str, Any]:
    return next(
        dict(r) for r in plan_to_dict(plan)["facilities"] if r["facility_id"] == facility_id
    )


@pytest.mark.parametrize(
    ("status", "doubts", "demand_m3", "basis", "replaced"),
    [
        ("unflagged", (), 900.0, "declared_use", False),
        ("accepted", (), 900.0, "declared_use", False),
        ("unreviewed", JUMP, PXF_M3, "patients_x_flows", True),
        ("correction_requested", JUMP, PXF_M3, "patients_x_flows", True),
    ],
)
def test_flagged_use_is_replaced_accepted_use_is_used(  # type: ignore[no-untyped-def]
    d5_network, d5_region, request_d5, status, doubts, demand_m3, basis, replaced
) -> None:
    target = dataclasses.replace(
        request_d5.reports[0], declared_use_m3=900.0, doubts=doubts, review_status=status
    )
    plan = build_plan(_one_day(request_d5, target), d5_network, d5_region)
    row = _row(plan, target.facility_id)
    assert (row["demand_m3"], row["demand_basis"]) == (pytest.approx(demand_m3), basis)
    assert row["report_review_status"] == status
    summary = plan_summary(plan)
    name = row["name"][:44]
    if not replaced:
        assert row["replaced_values"] == [] and "reports in doubt" not in summary
        return
    (value,) = row["replaced_values"]
    assert value == {
        "field": "oxygen_used_24h_m3",
        "report_date": "2021-08-19",
        "declared_m3": 900.0,
        "used_m3": pytest.approx(PXF_M3, abs=0.05),
        "used_basis": "patients_x_flows",
        "rule_ids": ["history.use_jump"],
        "review_status": status,
        "reason": f"declared use 900 m³ in doubt (flag history.use_jump, "
        f"{status.replace('_', ' ')}): patients x flows used instead",
    }
    assert "in doubt" in row["demand_note"]
    # Near the top: before the stale list and the shortfalls, naming facility, field, value used.
    section = summary.index("reports in doubt (unreviewed flags or correction requested")
    assert section < summary.index("facilities with unknown or stale demand")
    line = next(x for x in summary.splitlines() if x.startswith(f"  {name}"))
    assert "oxygen_used_24h_m3 of 2021-08-19: declared 900 m³, used 734 m³" in line
    assert "history.use_jump" in line
    assert "history.use_jump" in plan_to_csv(plan)["facilities.csv"]


def test_doubtful_use_without_patients_carries_the_last_clean_report(  # type: ignore[no-untyped-def]
    d5_network, d5_region, request_d5
) -> None:
    base = request_d5.reports[0]
    doubtful = dataclasses.replace(
        base,
        patients=(),
        declared_use_m3=5000.0,
        doubts=(("oxygen_used_24h_m3", "use.without_patients"),),
        review_status="unreviewed",
    )
    # Two days old and flagged on stock only: its use is clean, so it is carried forward.
    older = dataclasses.replace(
        base,
        report_date=START - dt.timedelta(days=2),
        declared_use_m3=900.0,
        doubts=(("liquid_stock_l", "stock.rise_without_delivery"),),
        review_status="unreviewed",
    )
    plan = build_plan(_one_day(request_d5, doubtful, older), d5_network, d5_region)
    row = _row(plan, base.facility_id)
    assert row["demand_basis"] == "declared_use" and row["report_date"] == "2021-08-18"
    assert row["carried_forward_days"] == 1 and row["demand_m3"] == pytest.approx(900.0)
    (value,) = row["replaced_values"]  # the stock flag is on the older report: not the last
    assert (value["field"], value["declared_m3"], value["used_m3"]) == (
        "oxygen_used_24h_m3",
        5000.0,
        pytest.approx(900.0),
    )
    assert value["used_basis"] == "declared_use (report of 2021-08-18)"
    assert "set aside" in row["demand_note"]


def test_doubtful_use_without_patients_and_nothing_clean_is_unknown_not_zero(  # type: ignore[no-untyped-def]
    d5_network, d5_region, request_d5
) -> None:
    base = request_d5.reports[0]
    doubtful = dataclasses.replace(
        base,
        patients=(),
        declared_use_m3=5000.0,
        doubts=(("oxygen_used_24h_m3", "use.without_patients"),),
        review_status="unreviewed",
    )
    older_doubtful = dataclasses.replace(doubtful, report_date=START - dt.timedelta(days=2))
    plan = build_plan(_one_day(request_d5, doubtful, older_doubtful), d5_network, d5_region)
    row = _row(plan, base.facility_id)
    # The facility has 100 beds, yet its demand is unknown: it reported, and the report is wrong.
    assert (row["demand_m3"], row["demand_basis"], row["demand_known"]) == (None, "unknown", False)
    assert row["replaced_values"][0]["used_m3"] is None
    summary = plan_summary(plan)
    assert "used UNKNOWN" in summary and "demand UNKNOWN for 1 facility" in summary


def test_doubtful_stock_is_the_lower_of_declared_and_explained(  # type: ignore[no-untyped-def]
    d5_network, d5_region, request_d5
) -> None:
    tank = next(f for f in request_d5.facilities if f.liquid_tank_capacity_l > 0)
    base = next(r for r in request_d5.reports if r.facility_id == tank.facility_id)
    clean = dataclasses.replace(
        base, report_date=START - dt.timedelta(days=2), stock_m3=100.0, expected_deliveries_m3=50.0
    )
    risen = dataclasses.replace(
        base,
        stock_m3=3000.0,
        doubts=(("liquid_stock_l", "stock.rise_without_delivery"),),
        review_status="unreviewed",
    )
    flagged = build_plan(_one_day(request_d5, risen, clean), d5_network, d5_region)
    accepted = build_plan(
        _one_day(
            request_d5, dataclasses.replace(risen, doubts=(), review_status="accepted"), clean
        ),
        d5_network,
        d5_region,
    )
    row = _row(flagged, tank.facility_id)
    (value,) = row["replaced_values"]
    assert (value["field"], value["declared_m3"], value["used_m3"]) == (
        "liquid_stock_l",
        3000.0,
        150.0,
    )
    assert value["used_basis"].startswith("stock of 2021-08-18 (100 m³) + deliveries")
    # 150 m³ against 734 m³ a day: short on day 0; the accepted 3,000 m³ covers it.
    assert row["first_shortfall_day"] == 0
    assert _row(accepted, tank.facility_id)["first_shortfall_day"] is None
    assert _row(accepted, tank.facility_id)["replaced_values"] == []


def test_doubtful_stock_without_a_clean_report_is_capped_by_the_record(  # type: ignore[no-untyped-def]
    d5_network, d5_region, request_d5
) -> None:
    # 200 cylinders of 6 m³ and a 5,000 L tank (5,000 x 1.141 / 1000 x 700 = 3,993.5 m³).
    tank = next(f for f in request_d5.facilities if f.liquid_tank_capacity_l > 0)
    base = next(r for r in request_d5.reports if r.facility_id == tank.facility_id)
    over = dataclasses.replace(
        base,
        stock_m3=9000.0,
        doubts=(("cylinders_full", "capacity.cylinders_above_declared"),),
        review_status="correction_requested",
    )
    row = _row(build_plan(_one_day(request_d5, over), d5_network, d5_region), tank.facility_id)
    (value,) = row["replaced_values"]
    assert value["field"] == "cylinders_full"
    assert value["used_m3"] == pytest.approx(200 * 6 + 5000 * 1.141 * 0.7, abs=0.1)


def test_demand_rule_is_validated_and_drives_the_window(request_d5) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="carry_forward_days: must be an integer from 0 to 30"):
        DemandRule(carry_forward_days=-1)
    with pytest.raises(Exception, match="declared_use_high_factor: must be from 1 to 10"):
        DemandRule(declared_use_high_factor=0.5)
    with pytest.raises(Exception, match="declared_use_low_factor"):
        DemandRule(declared_use_low_factor=float("nan"))
    with pytest.raises(Exception, match=r"demand_rule: must be a matcher\.demand\.DemandRule"):
        replace_request(request_d5, demand_rule=2)
    from coordination.planning import _project_demand

    old = tuple(
        dataclasses.replace(r, report_date=START - dt.timedelta(days=3)) for r in request_d5.reports
    )
    carried = _project_demand(replace_request(request_d5, reports=old))
    assert {f.carried_forward_days for f in carried} == {2}
    strict = _project_demand(
        replace_request(request_d5, reports=old, demand_rule=DemandRule(carry_forward_days=1))
    )
    assert {str(f.demand_basis) for f in strict} == {"estimated"}  # 100 beds each, report too old
    # A narrower band: 900 m³ is above 1.1 x 734.4 = 807.8, so patients x flows is used.
    narrow = replace_request(
        request_d5,
        reports=(dataclasses.replace(request_d5.reports[0], declared_use_m3=900.0),),
        demand_rule=DemandRule(declared_use_high_factor=1.1),
    )
    assert str(_project_demand(narrow)[0].demand_basis) == "patients_x_flows"


# ------------------------------------------------------------------ through the store's flags


class _MapOfHcmc:
    """A road network stand-in: plan_request_from_store only reads its bounding box."""

    def summary(self) -> dict[str, Any]:
        return {"bbox": [106.3, 10.3, 107.1, 11.2]}


def _store_forecast(store: Any) -> tuple[StockReport, Any]:
    from coordination.planning import _project_demand, plan_request_from_store

    request = plan_request_from_store(
        store,
        SimpleNamespace(region_id="hcmc", name="Hồ Chí Minh", suppliers=None),
        _MapOfHcmc(),
        start_date=START,
        horizon_days=1,
    )
    report = next(
        r
        for r in request.reports
        if r.facility_id == "79-A" and r.report_date == START - dt.timedelta(days=1)
    )
    forecast = next(f for f in _project_demand(request) if f.facility_id == "79-A")
    return report, forecast


def test_plan_reads_flags_and_reviews_from_the_store(store: Any) -> None:  # type: ignore[no-untyped-def]
    from data.schema.registry import DailyReport, Supplier, SupplierKind
    from data.store.reviews import ReviewDecision

    station = Supplier("S-TEST", "Trạm chiết nạp thử", SupplierKind("filling_station"), "79")
    station = dataclasses.replace(station, lon=106.70, lat=10.80, cylinders_per_day=500)
    store.create_records([station], actor="fixture")

    # 40 patients on masks: band 0.5 x 40 x 8.064 = 161.3 to 2 x 40 x 14.4 = 1,152 m³.
    day18 = DailyReport("79-A", START - dt.timedelta(days=2), 200.0, patients_cannula_mask=40)
    day19 = DailyReport("79-A", START - dt.timedelta(days=1), 700.0, patients_cannula_mask=40)
    store.submit_report(day18, submitted_by="repA")
    result = store.submit_report(day19, submitted_by="repA")
    assert "history.use_jump" in {f.rule_id for f in result.flags}  # 700 > 3 x 200

    report, forecast = _store_forecast(store)
    assert report.review_status == "unreviewed" and report.use_in_doubt
    assert ("oxygen_used_24h_m3", "history.use_jump") in report.doubts
    assert str(forecast.demand_basis) == "patients_x_flows"
    assert forecast.demand_m3_per_day[0] == pytest.approx(40 * 14.4)

    store.review_report(
        "79-A",
        day19.report_date,
        decision=ReviewDecision.CORRECTION_REQUESTED,
        reason="700 m³ cho 40 bệnh nhân? / check the meter",
        actor="coord79",
    )
    report, forecast = _store_forecast(store)
    assert report.review_status == "correction_requested" and report.use_in_doubt
    assert forecast.demand_m3_per_day[0] == pytest.approx(40 * 14.4)

    store.review_report(
        "79-A",
        day19.report_date,
        decision=ReviewDecision.ACCEPTED,
        reason="đã xác minh / verified by phone",
        actor="coord79",
    )
    report, forecast = _store_forecast(store)
    assert report.review_status == "accepted" and not report.doubts
    assert str(forecast.demand_basis) == "declared_use"
    assert forecast.demand_m3_per_day[0] == pytest.approx(700.0)
