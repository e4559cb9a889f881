"""The investment command: which tanks, plants, cylinders and vehicles to buy before a wave."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.common import DATABASE_OPTION, fail_cleanly, progress, region_network, registry_store
from data.errors import InvalidInputError

if TYPE_CHECKING:
    from coordination.planning import PlanRequest
    from data.schema.investment import InvestmentCandidate


def _read_candidates(path: Path | None, base: PlanRequest) -> tuple[InvestmentCandidate, ...]:
    """Read the candidates CSV, or offer the default types to the registry's sites."""
    from coordination.investment import candidates_for_region, hcmc_candidate_types
    from data.schema.investment import candidates_from_csv_text

    if path is None:
        return candidates_for_region(
            base.facilities, base.suppliers, hcmc_candidate_types(base.conversions)
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"candidates file {path.name}: not UTF-8 text; save it as CSV UTF-8"
        ) from None
    return candidates_from_csv_text(text, name=path.name)


@click.command("invest")
@click.option("--region", "region_name", default="hcmc", show_default=True, help="Region name.")
@click.option(
    "--date",
    "start_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="First plan day, YYYY-MM-DD (reports of the days before are used).",
)
@click.option(
    "--scenarios",
    "scenarios_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="JSON file of weighted case scenarios (docs/investment.md).",
)
@click.option(
    "--candidates",
    "candidates_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Candidates CSV (e.g. data/investment_candidates_hcmc.csv); default: offered to the "
    "registry's facilities and suppliers by the rules of docs/investment.md.",
)
@click.option("--budget-vnd", type=float, required=True, help="Budget in đồng (>= 0).")
@click.option(
    "--deadline-weeks",
    type=float,
    required=True,
    help="Only candidates installed within this many weeks count.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for portfolio.csv, report.txt and investment.geojson.",
)
@click.option("--time-limit-s", type=float, default=60.0, show_default=True, help="Per MILP solve.")
@click.option(
    "--gap",
    "mip_rel_gap",
    type=float,
    default=0.0,
    show_default=True,
    help="Relative MIP gap at which to stop (0 = prove the optimum).",
)
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def invest(
    ctx: click.Context,
    region_name: str,
    start_date: dt.datetime,
    scenarios_file: Path,
    candidates_file: Path | None,
    budget_vnd: float,
    deadline_weeks: float,
    out_dir: Path,
    time_limit_s: float,
    mip_rel_gap: float,
    database_url: str | None,
) -> None:
    """Choose the investments that leave the least unmet oxygen demand under case scenarios.

    Writes the optimal portfolio and the greedy baseline (portfolio.csv), a report with the unmet
    demand per scenario before and after and the cost curve (report.txt), and what goes where
    (investment.geojson). Exit status 2 on bad input (every problem named), 1 on a solver failure.
    """
    from coordination.investment import (
        answer_investment,
        build_investment_case,
        investment_report,
        investment_to_geojson,
        load_investment_scenarios,
        portfolio_to_csv,
    )
    from coordination.planning import plan_request_from_store
    from data.schema.investment import InvestmentOptions

    day = start_date.date()
    options = InvestmentOptions(time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    scenarios = load_investment_scenarios(scenarios_file, region=region_name, start_date=day)
    region, network = region_network(ctx, region_name)
    store = registry_store(database_url)
    base = plan_request_from_store(
        store, region, network, start_date=day, horizon_days=scenarios[0].scenario.horizon_days
    )
    candidates = _read_candidates(candidates_file, base)
    progress(f"planning {len(scenarios)} scenarios, {len(candidates)} candidates ...")
    case = build_investment_case(
        base,
        network,
        region,
        scenarios,
        candidates,
        budget_vnd=budget_vnd,
        deadline_weeks=deadline_weeks,
    )
    progress("optimising the portfolio, the greedy baseline and the cost curve ...")
    answer = answer_investment(case, options=options)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = investment_report(case, answer)
    (out_dir / "portfolio.csv").write_text(portfolio_to_csv(case, answer), encoding="utf-8-sig")
    (out_dir / "report.txt").write_text(report, encoding="utf-8")
    (out_dir / "investment.geojson").write_text(
        json.dumps(investment_to_geojson(case, answer), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    click.echo(report, nl=False)
    click.echo(f"written to {out_dir}/ (portfolio.csv, report.txt, investment.geojson)")
