"""``oxyroute irp solve`` and ``oxyroute irp check`` (the group of commands/irp.py)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from commands.irp import irp


def _instance(data_dir: Path, name: str) -> str:
    return str(data_dir / "irp-benchmarks" / "instances" / f"{name}.dat")


def test_solve_writes_a_solution_that_check_accepts(data_dir: Path, tmp_path: Path) -> None:
    instance = _instance(data_dir, "S_abs1n5_2_H3")
    out = tmp_path / "solution.json"
    solved = CliRunner().invoke(
        irp, ["solve", instance, "--time-limit", "8", "--seed", "1", "--out", str(out)]
    )
    assert solved.exit_code == 0, solved.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["cost"]["total"] == 2027.75  # the published (and proven) optimum
    assert document["proven_optimal"] is True
    checked = CliRunner().invoke(irp, ["check", instance, str(out)])
    assert checked.exit_code == 0
    assert checked.output.startswith("feasible: cost 2027.75 (routing ")


def test_check_lists_violations_and_exits_1(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    # 200 units on a vehicle of capacity 144, to a customer whose tank holds 195 - 130 = 65 more.
    stops = [{"customer": 1, "quantity": 200}]
    bad.write_text(json.dumps({"routes": [{"period": 1, "vehicle": 1, "stops": stops}]}))
    result = CliRunner().invoke(irp, ["check", _instance(data_dir, "S_abs1n5_2_H3"), str(bad)])
    assert result.exit_code == 1
    assert "load 200 exceeds the vehicle capacity 144" in result.output
    assert "level after delivery 330 exceeds the maximum level U = 195" in result.output


def test_solve_refuses_a_bad_instance_naming_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dat"
    bad.write_text("2 1 10 1\n0 0 0 10 5 0.1\n1 1 1 5 4 6 1 0.2\n", encoding="utf-8")
    result = CliRunner().invoke(irp, ["solve", str(bad), "--time-limit", "1"])
    assert result.exit_code == 2
    assert "line 3, field U: maximum level 4 is below the minimum level L = 6" in result.output


def test_baseline_flag_gives_a_feasible_plan(data_dir: Path) -> None:
    result = CliRunner().invoke(irp, ["solve", _instance(data_dir, "S_abs1n10_2_L3"), "--baseline"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["solver"] == "baseline" and "violations" not in document
    assert document["cost"]["total"] > 0


def test_a_plan_with_declared_shortfalls_is_valid_not_feasible(tmp_path: Path) -> None:
    """An empty depot: the solver declares the customer's shortfalls; check lists them, exit 1."""
    dry = tmp_path / "dry.dat"
    # 1 customer, 2 periods; it starts at 10, burns 20 a period, floor 5; the depot holds nothing.
    dry.write_text("2 2 100 1\n0 0 0 0 0 0.1\n1 3 4 10 50 5 20 0.2\n", encoding="utf-8")
    out = tmp_path / "solution.json"
    solved = CliRunner().invoke(irp, ["solve", str(dry), "--time-limit", "2", "--out", str(out)])
    assert solved.exit_code == 0, solved.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["shortfall"]["customer_periods"] == 2
    assert [s["reason"] for s in document["shortfalls"]] == ["depot", "depot"]
    checked = CliRunner().invoke(irp, ["check", str(dry), str(out)])
    assert checked.exit_code == 1
    # What a delivery would have had to bring to keep the floor: 5 - (10 - 20), then 5 - (0 - 20).
    assert "shortfall: period 1, customer 1: 15 below L" in checked.output
    assert "shortfall: period 2, customer 1: 25 below L" in checked.output
    assert "valid, not feasible: 2 shortfall(s), 40 units below the floor" in checked.output
