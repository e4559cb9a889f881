"""``oxyroute alerts scan``: one scan from the command line, run twice as cron would."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from commands.alerts import alerts


def test_the_scan_command_raises_once_and_says_what_it_did(db_url: str) -> None:
    runner = CliRunner()
    args = ["scan", "--database-url", db_url, "--at", "2021-08-20T17:00:00+07:00"]
    first = runner.invoke(alerts, args)
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert "3 new alerts, 3 facilities, report day 2021-08-20" in lines[0]
    assert "webhooks: 0 attempts" in lines[0]
    assert any("Bệnh viện Bạch Mai (01-C) chưa gửi báo cáo ngày 20/08/2021" in x for x in lines)
    again: Any = json.loads(runner.invoke(alerts, [*args, "--json", "--province", "79"]).output)
    assert again["raised"] == 0 and again["province_code"] == "79" and again["facilities"] == 2


def test_a_bad_instant_is_refused(db_url: str) -> None:
    result = CliRunner().invoke(alerts, ["scan", "--database-url", db_url, "--at", "17:00"])
    assert result.exit_code == 2 and "--at" in result.output
    naive = ["scan", "--database-url", db_url, "--at", "2021-08-20T17:00"]
    result = CliRunner().invoke(alerts, naive)
    assert result.exit_code == 2 and "offset" in result.output
