"""``oxyroute vrp solve --region``: an unreachable job is named, not location 0 (issue 16)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import main
from commands.routes import _unreachable_location

# Two points on District 5's roads (Nguyễn Tri Phương and Nguyễn Trãi) and one 6 km away.
ON_MAP_A = [106.6679, 10.7574]
ON_MAP_B = [106.6786, 10.7567]
OFF_MAP = [106.7200, 10.8000]


def _solve(tmp_path: Path, problem: dict[str, object]) -> dict[str, object]:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["vrp", "solve", str(path), "--region", "hcmc_d5", "--max-iterations", "20"]
    )
    answer: dict[str, object] = json.loads(result.output.splitlines()[0])
    return answer


def test_the_job_off_the_map_is_named(tmp_path: Path, d5_network: object) -> None:
    problem = {
        "vehicles": [{"id": 1, "start": ON_MAP_A, "end": ON_MAP_A, "capacity": [10]}],
        "jobs": [
            {"id": 3, "location": ON_MAP_B, "delivery": [1]},
            {"id": 7, "location": OFF_MAP, "delivery": [1]},
        ],
    }
    answer = _solve(tmp_path, problem)
    assert answer["code"] == 3
    error = str(answer["error"])
    # Before: "location index 0 [106.6679, 10.7574]: not reached" (the vehicle's depot).
    assert "location index 0" not in error
    assert f"location index 2 {OFF_MAP} (job 7)" in error
    assert "5,536 m from the nearest road" in error and "2,000 m snapping limit" in error


def test_the_location_most_pairs_miss_is_the_culprit() -> None:
    inf = math.inf
    # Location 2 can neither be reached nor left; 0 and 1 reach each other.
    durations = np.array([[0.0, 60.0, inf], [70.0, 0.0, inf], [inf, inf, 0.0]])
    assert _unreachable_location(durations) == (2, 2)
    # Location 1 is only left (a one-way dead end): one pair each way from 0 and 2 is missing.
    durations = np.array([[0.0, inf, 50.0], [40.0, 0.0, 45.0], [55.0, inf, 0.0]])
    assert _unreachable_location(durations) == (1, 2)


def test_matrix_reads_the_id_column_it_is_given(
    tmp_path: Path, data_dir: Path, d5_network: object
) -> None:
    hospitals = data_dir / "derived" / "hcmc_d5_hospitals_curated.csv"
    out = tmp_path / "m.csv"
    args = ["matrix", "--region", "hcmc_d5", "--from", str(hospitals), "--to", str(hospitals)]
    # Before: no option; the file's id column is osm_id, so "missing column(s) ['id']".
    refused = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert refused.exit_code == 2
    assert "no column 'id' (chosen by --id-column, its default)" in refused.output
    assert "'osm_id'" in refused.output and "set --id-column to the file's column" in refused.output
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--id-column", "osm_id"])
    assert result.exit_code == 0, result.output
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "origin_id,destination_id,duration_s,distance_m"
    assert len(rows) == 1 + 6 * 6 and rows[1].startswith("3098834445,")
