"""The ``oxyroute`` command line: thin wrappers around the packages."""

from __future__ import annotations

import click


@click.group()
@click.option("--data-dir", envvar="OXYROUTE_DATA_DIR", default=None,
              help="Folder with the shared data (default: ../shared/data beside the checkout).")
@click.option("--cache-dir", envvar="OXYROUTE_CACHE_DIR", default=None,
              help="Folder for caches such as built road graphs (default: ~/.cache/oxyroute).")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, cache_dir: str | None) -> None:
    """Oxygen coordination: road travel times, allocation plans and vehicle routes."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["cache_dir"] = cache_dir


@main.command()
@click.argument("problem_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="Write the plan JSON here (default: print it).")
def allocate(problem_file: str, out_file: str | None) -> None:
    """Allocate supply to facilities from a JSON problem file (format: docs/allocation.md)."""
    import json
    from pathlib import Path

    from data.errors import InvalidInputError
    from matcher.allocation import allocate_supply
    from matcher.problem_json import plan_to_json, problem_from_json_text

    try:
        request = problem_from_json_text(Path(problem_file).read_text(encoding="utf-8"))
        if request.problem.travel_time_s is None:
            raise InvalidInputError(
                "travel_time_s: missing; the command line needs a travel-time matrix (seconds, "
                "one row per supplier). Coordinates alone need the road network: use the Python "
                "API allocate_supply(problem, matrix_provider=...)"
            )
        plan = allocate_supply(
            request.problem, conversions=request.conversions, cylinder_size=request.cylinder_size
        )
    except InvalidInputError as error:
        raise click.ClickException(str(error)) from None
    text = json.dumps(plan_to_json(plan), ensure_ascii=False, indent=1)
    if out_file is None:
        click.echo(text)
    else:
        Path(out_file).write_text(text + "\n", encoding="utf-8")
    totals = plan.totals
    click.echo(
        f"{plan.solver} {plan.solver_status} in {plan.run_time_s:.3f} s: "
        f"{len(plan.flows)} flows, demand {totals.demand_m3:g} m³, delivered "
        f"{totals.delivered_m3:g} m³, unmet {totals.unmet_m3:g} m³ "
        f"({len(plan.unmet)} facility-days)",
        err=True,
    )
