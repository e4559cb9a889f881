"""The inventory-routing solver (solve_irp): feasible answers, never worse than the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.irp import IrpParams, check_solution, parse_instance, solve_baseline, solve_irp


@pytest.mark.parametrize("name", ["S_abs2n15_3_L3", "S_abs1n25_2_H6", "L_abs1n50_3_H"])
def test_solver_answers_are_feasible_and_beat_or_match_the_baseline(
    data_dir: Path, name: str
) -> None:
    path = data_dir / "irp-benchmarks" / "instances" / f"{name}.dat"
    instance = parse_instance(path.read_text(encoding="utf-8"), name=name)
    solution = solve_irp(instance, IrpParams(time_limit_s=4.0, seed=3))
    check = check_solution(instance, solution)
    assert check.violations == () and solution.shortfalls == ()
    baseline = check_solution(instance, solve_baseline(instance, time_limit_s=0.05, seed=3))
    # The search starts from the baseline (its per-period PyVRP budget is at most this one).
    assert check.total_cost <= baseline.total_cost * 1.02


def test_params_refuse_a_non_positive_time_limit() -> None:
    with pytest.raises(ValueError, match="time_limit_s: 0 must be positive"):
        IrpParams(time_limit_s=0)
