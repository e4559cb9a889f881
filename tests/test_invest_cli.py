"""``oxyroute invest`` end to end on District 5 with the seeded registry (2 days, 2 scenarios).

The command is mounted on a test group with the global options the real ``oxyroute`` group
sets (``cli.py`` registers it there).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main
from commands.invest import invest


@click.group()
@click.pass_context
def group(ctx: click.Context) -> None:
    """Stand in for the ``oxyroute`` group (its global options)."""
    ctx.ensure_object(dict)
    ctx.obj.update(data_dir=None, cache_dir=None, online=False)


group.add_command(invest)


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a registry seeded with the HCMC seed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('invest') / 'registry.sqlite3'}"
    result = CliRunner().invoke(main, ["db", "seed", "--region", "hcmc", "--database-url", url])
    assert result.exit_code == 0, result.output
    return url


def _args(tmp_path: Path, url: str, *extra: str) -> list[str]:
    surges = tmp_path / "surges.json"
    surges.write_text(
        json.dumps(
            {
                "horizon_days": 2,
                "scenarios": [
                    {"name": "Như báo cáo", "weight": 2, "surge_factor": 1.0},
                    {"name": "Gấp 4", "weight": 1, "surge_factor": 4.0},
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return [
        "invest",
        "--region",
        "hcmc_d5",
        "--date",
        "2021-08-20",
        "--scenarios",
        str(surges),
        "--out",
        str(tmp_path / "out"),
        "--database-url",
        url,
        *extra,
    ]


def test_invest_writes_portfolio_report_and_geojson(tmp_path: Path, seeded_url: str) -> None:
    args = _args(tmp_path, seeded_url, "--budget-vnd", "10e9", "--deadline-weeks", "8")
    result = CliRunner().invoke(group, args)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    rows = list(csv.DictReader(io.StringIO(out.joinpath("portfolio.csv").read_text("utf-8-sig"))))
    assert {r["method"] for r in rows} <= {"milp", "greedy"}
    report = out.joinpath("report.txt").read_text(encoding="utf-8")
    assert "Gấp 4" in report and "cost curve" in report
    assert report in result.output
    geojson = json.loads(out.joinpath("investment.geojson").read_text(encoding="utf-8"))
    assert geojson["type"] == "FeatureCollection"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # a budget below zero
        (
            ["--budget-vnd", "-1", "--deadline-weeks", "8"],
            "budget_vnd: must be a number of đồng >= 0",
        ),
        # a negative deadline
        (
            ["--budget-vnd", "1e9", "--deadline-weeks", "-1"],
            "deadline_weeks: must be a number >= 0",
        ),
    ],
)
def test_invest_refuses_bad_numbers(
    tmp_path: Path, seeded_url: str, extra: list[str], message: str
) -> None:
    result = CliRunner().invoke(group, _args(tmp_path, seeded_url, *extra))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()  # nothing written on refusal


def test_invest_refuses_a_candidate_of_another_region(tmp_path: Path, seeded_url: str) -> None:
    bundled = Path(__file__).resolve().parent.parent / "data" / "investment_candidates_hcmc.csv"
    extra = ["--budget-vnd", "1e9", "--deadline-weeks", "8", "--candidates", str(bundled)]
    result = CliRunner().invoke(group, _args(tmp_path, seeded_url, *extra))
    assert result.exit_code == 2, result.output
    assert "facility_id: unknown facility" in result.output
