"""``oxyroute requests list``: by deadline, filters, JSON, Vietnamese names (CliRunner)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from click.testing import CliRunner

from commands.urgent_requests import requests_group
from data.store.urgent_requests import UrgentRequestDraft

NOW = dt.datetime(2021, 8, 20, 2, 0, tzinfo=dt.UTC)


def _file(store: Any, facility_id: str, needed_by: str, **quantity: Any) -> int:
    draft = UrgentRequestDraft.from_mapping(
        {
            "facility_id": facility_id,
            "product": "liquid" if "requested_liquid_kg" in quantity else "cylinders",
            "needed_by": needed_by,
            "reason": "Bệnh nhân tăng",
            **quantity,
        },
        now=NOW,
    )
    return int(store.file_request(draft, actor="coord79").request_id)


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(
        requests_group, ["list", "--database-url", db_url, *args], catch_exceptions=False
    )


def test_requests_are_listed_by_deadline_with_filters(store: Any, db_url: str) -> None:
    late = _file(store, "79-A", "2021-08-20T20:00:00+07:00", requested_cylinders=40)
    _file(store, "79-B", "2021-08-20T12:00:00+07:00", requested_liquid_kg=3000.0)
    _file(store, "01-C", "2021-08-21T08:00:00+07:00", requested_cylinders=10)
    store.approve_request(
        late, version=1, actor="coord79", approved_cylinders=30, reason="còn 30 bình"
    )
    result = run(db_url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "trạng thái/state" in lines[0]
    assert [line.split()[0] for line in lines[1:4]] == ["2", "1", "3"]  # by needed_by
    assert "Bệnh viện Nhân dân Gia Định" in lines[1] and "3000 kg" in lines[1]
    assert "2021-08-20 12:00" in lines[1]  # local time
    assert "40 bình/cyl (duyệt/approved 30)" in lines[2]
    assert lines[-1] == "3 yêu cầu / requests: requested 2, approved 1"
    approved = run(db_url, "--state", "approved", "--province", "79")
    assert approved.output.splitlines()[-1] == "1 yêu cầu / requests: approved 1"
    as_json = json.loads(run(db_url, "--province", "01", "--json").output)
    assert [(r["facility_id"], r["facility_name"]) for r in as_json] == [
        ("01-C", "Bệnh viện Bạch Mai")
    ]
    assert "no urgent requests" in run(db_url, "--state", "delivered").output


def test_an_unknown_state_is_refused(db_url: str) -> None:
    result = CliRunner().invoke(
        requests_group, ["list", "--database-url", db_url, "--state", "lost"]
    )
    assert result.exit_code == 2 and "'lost' is not one of" in result.output
