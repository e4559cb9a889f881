"""Scenario sweeps with Dask give the same results as the same runs done one by one."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordination.sweeps import expand_grid, run_one, run_sweep, sweep_chart, sweep_table
from data.errors import InvalidInputError

DOCUMENT = {
    "name": "tăng ca bệnh x mất nguồn",
    "region": "hcmc_d5",
    "date": "2021-08-20",
    "horizon_days": 3,
    "changes": [
        {"type": "case_surge", "daily_growth_rate": 0.0},
        {"type": "supplier_capacity", "supplier_id": "TDS", "capacity_factor": 1.0},
    ],
}
GRID = {"changes[0].daily_growth_rate": [0.0, 0.1, 0.2], "changes[1].capacity_factor": [1.0, 0.0]}


def test_grid_expands_every_combination_in_order() -> None:
    combos = expand_grid(DOCUMENT, GRID)
    assert len(combos) == 6
    assert combos[1][0] == {"changes[0].daily_growth_rate": 0.0, "changes[1].capacity_factor": 0.0}
    assert combos[1][1]["changes"][1]["capacity_factor"] == 0.0
    assert DOCUMENT["changes"][1]["capacity_factor"] == 1.0  # the base document is untouched


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "grid: empty"),
        ({"changes[5].factor": [1]}, "no changes\\[5\\]"),
        ({"horizon_days": []}, "non-empty list"),
        ({"changes[0]": [1]}, "give the field"),
        ({"changes[0].daily_growth_rate": [-3.0]}, "daily_growth_rate"),
    ],
)
def test_bad_grids_are_refused(request_d5, grid, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        run_sweep(DOCUMENT, grid, request_d5, processes=False)


def test_sweep_equals_runs_one_by_one(request_d5, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    runs = run_sweep(
        DOCUMENT,
        GRID,
        request_d5,
        processes=False,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (6, 6)
    one_by_one = [
        run_one(parameters, variant, request_d5)
        for parameters, variant in expand_grid(DOCUMENT, GRID)
    ]
    for swept, single in zip(runs, one_by_one, strict=True):
        assert swept.parameters == single.parameters
        assert (swept.demand_m3, swept.delivered_m3, swept.unmet_m3) == (
            single.demand_m3,
            single.delivered_m3,
            single.unmet_m3,
        )
    # More growth never lowers demand; losing a supplier never lowers unmet demand.
    by = {tuple(r.parameters.values()): r for r in runs}
    assert by[(0.2, 1.0)].demand_m3 > by[(0.0, 1.0)].demand_m3
    assert all(by[(g, 0.0)].unmet_m3 >= by[(g, 1.0)].unmet_m3 for g in (0.0, 0.1, 0.2))
    rows = sweep_table(runs)
    assert list(rows[0])[:2] == list(GRID)
    chart = tmp_path / "sweep.png"
    sweep_chart(runs, str(chart))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
