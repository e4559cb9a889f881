"""``oxyroute status``: the table most urgent first, JSON, filters, and bad options (CliRunner)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from click.testing import CliRunner

from commands.status import status
from data.reporting import LOCAL_TZ
from data.schema.registry import DailyReport


def submit(store: Any, clock: Any, facility_id: str, when: dt.datetime, cylinders: int) -> None:
    clock.now = when.astimezone(dt.UTC)
    store.submit_report(
        DailyReport(
            facility_id=facility_id,
            report_date=when.date(),
            oxygen_used_24h_m3=240.0,
            patients_cannula_mask=20,
            cylinders_full={"40L": cylinders},
        ),
        submitted_by="tester",
    )


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(
        status, ["--region", "hcmc_d5", "--database-url", db_url, *args], catch_exceptions=False
    )


def test_the_table_is_most_urgent_first_with_vietnamese_names(
    store: Any, clock: Any, db_url: str
) -> None:
    # Gia Định: 10 x 40 L = 60 m³ at 15:00 on 19 Aug, 10 m³/h: empty at 21:00, 0 h at 10:00.
    # Chợ Rẫy: 60 x 40 L = 360 m³ at 08:00 on 20 Aug: 340 m³ at 10:00, 34 h: ok.
    submit(store, clock, "79-B", dt.datetime(2021, 8, 19, 15, tzinfo=LOCAL_TZ), 10)
    submit(store, clock, "79-A", dt.datetime(2021, 8, 20, 8, tzinfo=LOCAL_TZ), 60)
    result = run(db_url, "--at", "2021-08-20T10:00")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("hcmc_d5, province 79, at 2021-08-20 10:00")
    assert "critical < 8 h, warning < 24 h" in lines[0]
    header, first, second = lines[1], lines[2], lines[3]
    assert header.split()[:3] == ["#", "level", "hours"]
    assert "critical" in first and "Bệnh viện Nhân dân Gia Định" in first and " 0.0 " in first
    assert "declared use" in first and "19" in first  # 19 h old
    assert "ok" in second and "Bệnh viện Chợ Rẫy" in second and "34.0" in second
    assert "Bạch Mai" not in result.output  # province 01 is not the region's


def test_json_level_and_province(store: Any, clock: Any, db_url: str) -> None:
    submit(store, clock, "79-B", dt.datetime(2021, 8, 19, 15, tzinfo=LOCAL_TZ), 10)
    result = run(db_url, "--at", "2021-08-20T10:00+07:00", "--json", "--level", "critical")
    body = json.loads(result.output)
    assert body["at"] == "2021-08-20T10:00:00+07:00"
    assert [s["facility_id"] for s in body["statuses"]] == ["79-B"]
    assert body["statuses"][0]["name"] == "Bệnh viện Nhân dân Gia Định"
    other = json.loads(run(db_url, "--at", "2021-08-20T10:00", "--json", "--province", "01").output)
    assert [(s["facility_id"], s["level"]) for s in other["statuses"]] == [("01-C", "unknown")]


def test_bad_options_name_the_option(db_url: str) -> None:
    bad_at = run(db_url, "--at", "hôm qua")
    assert bad_at.exit_code == 2
    assert "--at: must be an ISO 8601 date and time" in bad_at.output
    bad_province = run(db_url, "--province", "HCM")
    assert (
        bad_province.exit_code == 2
        and "--province: must be a two-digit code" in bad_province.output
    )
    bad_level = run(db_url, "--level", "red")
    assert bad_level.exit_code == 2 and "'red' is not one of" in bad_level.output
    bad_region = CliRunner().invoke(status, ["--region", "atlantis", "--database-url", db_url])
    assert bad_region.exit_code == 2 and "atlantis" in bad_region.output
