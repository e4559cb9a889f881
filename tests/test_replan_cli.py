"""``oxyroute replan``: the live re-plan on the command line (issue 15).

The hand-made District 5 day of ``tests/web/test_replan_http.py``: CT1 breaks down after loading;
CT2 (given with ``--vehicles``) collects its cylinders at the transfer point.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from commands.replan import replan_command
from tests.coordination.test_dispatch import HAND_FLOWS, plan_document
from tests.web.test_replan_http import CT2, OPTIONS, _breakdown_body, _route, published

__all__ = ["published"]  # the module-scoped fixture, shared


@pytest.fixture
def files(tmp_path: Path, published: Any) -> dict[str, Path]:
    """Write the plan, the published routes, CT2 and the re-plan options; return their paths."""
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text(
        json.dumps(plan_document(HAND_FLOWS), ensure_ascii=False), encoding="utf-8"
    )
    paths = {"plan": plan_dir}
    for name, value in (
        ("routes", published[0]),
        ("vehicles", [CT2]),
        ("options", OPTIONS),
        ("events", _breakdown_body(published[0])[0]["events"]),
    ):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return paths


def _run(files: dict[str, Path], *extra: str, now: str = "07:05") -> Any:
    arguments = [
        "--plan-dir",
        str(files["plan"]),
        "--routes",
        str(files["routes"]),
        "--events",
        str(files["events"]),
        "--now",
        now,
        "--vehicles",
        str(files["vehicles"]),
        "--options",
        str(files["options"]),
        *extra,
    ]
    obj = {"data_dir": None, "cache_dir": None, "online": False}
    return CliRunner().invoke(replan_command, arguments, obj=obj)


def test_replan_writes_routes_geojson_and_sheets(
    files: dict[str, Path], tmp_path: Path, published: Any
) -> None:
    out = tmp_path / "out"
    result = _run(files, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "re-planned at 2021-08-20T07:05:00+07:00" in result.output
    assert "moved " in result.output and "-> CT2" in result.output
    document = json.loads((out / "routes.json").read_text(encoding="utf-8"))
    assert _route(document, "CT1")["broken_down"]
    loaded = _breakdown_body(published[0])[2]
    transfer = [s for s in _route(document, "CT2")["steps"] if s["place_id"] == "transfer-CT1"]
    assert sum(s["quantity"] for s in transfer) == loaded
    assert document["replan"]["balance"]["cylinder"]["unassigned"] == 0
    assert json.loads((out / "routes.geojson").read_text(encoding="utf-8"))["features"]
    sheet = (out / "sheets" / "CT2-vi.html").read_text(encoding="utf-8")
    assert "Điểm chuyển tải: xe CT1 hỏng" in sheet
    assert (out / "sheets" / "CT2-en.html").is_file()


def test_without_out_the_routes_go_to_stdout(files: dict[str, Path]) -> None:
    result = _run(files, now="2021-08-20T07:05:00+07:00")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["replan"]["now"] == "2021-08-20T07:05:00+07:00"


@pytest.mark.parametrize(
    ("events", "now", "message"),
    [
        # a vehicle nobody knows
        ([{"type": "delay", "vehicle": "XX9", "minutes": 5}], "08:00", "events[0].vehicle"),
        # a stop that was never planned
        ([{"type": "stop_done", "vehicle": "CT1", "step": 40}], "08:00", "events[0].step"),
        # now before the routes start (06:00)
        ([], "05:30", "now: "),
        ([], "soon", "--now: expected an ISO 8601 time"),
    ],
)
def test_bad_events_exit_2_naming_the_field_and_write_nothing(
    files: dict[str, Path], tmp_path: Path, events: list[Any], now: str, message: str
) -> None:
    files["events"].write_text(json.dumps(events), encoding="utf-8")
    out = tmp_path / "out"
    result = _run(files, "--out", str(out), now=now)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()


def test_a_replans_routes_may_be_replanned(files: dict[str, Path], tmp_path: Path) -> None:
    # A live day on the command line: the first re-plan's routes.json is the next --routes.
    first = tmp_path / "first"
    assert _run(files, "--out", str(first)).exit_code == 0
    document = json.loads((first / "routes.json").read_text(encoding="utf-8"))
    ct2 = _route(document, "CT2")["steps"]
    transfer = next(i for i, s in enumerate(ct2) if s["place_id"] == "transfer-CT1")
    files["routes"] = first / "routes.json"
    files["events"].write_text(
        json.dumps([{"type": "stop_done", "vehicle": "CT2", "step": transfer}]), encoding="utf-8"
    )
    second = tmp_path / "second"
    result = _run(files, "--out", str(second), now="09:30")
    assert result.exit_code == 0, result.output
    again = json.loads((second / "routes.json").read_text(encoding="utf-8"))
    assert again["replan"]["from_routes_id"] == document["routes_id"]
    assert _route(again, "CT1")["broken_down"]
    assert _route(again, "CT2")["steps"][transfer]["done"]
    assert again["replan"]["balance"]["cylinder"]["unassigned"] == 0
    # Going back before that re-plan is refused, and nothing is written.
    late = tmp_path / "late"
    files["routes"] = second / "routes.json"
    result = _run(files, "--out", str(late), now="07:00")
    assert result.exit_code == 2 and "before the re-plan these routes come from" in result.output
    assert not late.exists()
