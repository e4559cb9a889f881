"""The "Act first" block that opens a plan summary (issue 14): who runs dry first, what comes."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from coordination.act_first import (
    act_first_for_plan,
    planned_arrivals,
    status_moment,
    with_act_first,
)
from data.reporting import LOCAL_TZ
from data.schema.live import StatusThresholds
from data.schema.registry import DailyReport
from tests.registry_world import FACILITY_A, FACILITY_B

DAY = dt.date(2021, 8, 20)


def _plan(flows: list[Any], facilities: list[Any]) -> Any:
    return SimpleNamespace(
        request=SimpleNamespace(start_date=DAY, facilities=facilities),
        allocation=SimpleNamespace(flows=flows),
    )


def _flow(facility_id: str, day: int, m3: float, travel_s: float) -> Any:
    return SimpleNamespace(facility_id=facility_id, day=day, quantity_m3=m3, travel_time_s=travel_s)


def test_the_status_is_taken_at_the_plan_start_or_now_if_earlier() -> None:
    start = dt.datetime(2021, 8, 20, tzinfo=LOCAL_TZ)
    assert status_moment(DAY, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == start
    earlier = dt.datetime(2021, 8, 19, 9, 0, tzinfo=dt.UTC)
    assert status_moment(DAY, earlier) == earlier


def test_day_zero_deliveries_arrive_after_the_shift_start_plus_travel() -> None:
    plan = _plan(
        [_flow("79-A", 0, 300.0, 1800), _flow("79-A", 1, 500.0, 60), _flow("79-B", 0, 0.0, 60)],
        [],
    )
    arrivals = planned_arrivals(plan)
    assert arrivals == {"79-A": [(dt.datetime(2021, 8, 20, 6, 30, tzinfo=LOCAL_TZ), 300.0)]}


def test_the_block_opens_the_summary_after_its_title() -> None:
    summary = "Plan for hcmc\n  demand 10 m³\nrest"
    assert with_act_first(summary, ["Act first: x", "1. y"]).split("\n")[:5] == [
        "Plan for hcmc",
        "",
        "Act first: x",
        "1. y",
        "",
    ]
    assert with_act_first(summary, []) == summary


def test_a_facility_about_to_run_dry_comes_first_with_its_delivery(store: Any, clock: Any) -> None:
    # Chợ Rẫy reported 60 m³ in cylinders and 600 m³ a day of use (25 m³/h) at 15:00 on the
    # 19th: at 00:00 on the 20th, 9 h later, it has none left; Gia Định reported two days' worth.
    clock.set_local("2021-08-19 15:00")
    store.submit_report(
        DailyReport(
            facility_id="79-A",
            report_date=dt.date(2021, 8, 19),
            oxygen_used_24h_m3=600.0,
            patients_cannula_mask=40,
            cylinders_full={"40L": 10},
        ),
        submitted_by="test",
    )
    store.submit_report(
        DailyReport(
            facility_id="79-B",
            report_date=dt.date(2021, 8, 19),
            oxygen_used_24h_m3=300.0,
            patients_cannula_mask=30,
            cylinders_full={"40L": 100},
        ),
        submitted_by="test",
    )
    plan = _plan([_flow("79-A", 0, 240.0, 1200)], [FACILITY_A, FACILITY_B])
    region = SimpleNamespace(status=StatusThresholds(), province_code="79")
    lines = act_first_for_plan(store, plan, region, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert lines[0].startswith("Act first")
    assert lines[1].startswith("1. Bệnh viện Chợ Rẫy (79-A)")
    assert "240 m³ planned, arrives 06:20" in lines[1]
    assert not any("79-B" in line for line in lines)  # 600 m³ at 12.5 m³/h: ok, not listed
