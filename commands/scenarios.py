"""What-if commands: one scenario against its base plan, and parameter sweeps."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import click

from commands.common import (
    DATABASE_OPTION,
    fail_cleanly,
    region_network,
    registry_fleet,
    registry_store,
    scenario_region,
    table,
    write_plan_files,
)
from data.errors import InvalidInputError


@click.group()
def scenario() -> None:
    """What-if scenarios (format: docs/scenarios.md)."""


@scenario.command("run")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--routes-day",
    type=int,
    default=None,
    help="Also route this plan day (0 = first) in both plans with the registry's fleet "
    "and compare the routes.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for base/ and scenario/ plans and comparison.json.",
)
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def scenario_run(
    ctx: click.Context,
    scenario_file: Path,
    routes_day: int | None,
    out_dir: Path | None,
    database_url: str | None,
) -> None:
    """Run a scenario against its base plan and print the comparison."""
    from coordination.planning import build_plan, plan_request_from_store
    from coordination.scenarios import apply_scenario, compare_plans, load_scenario

    what_if = load_scenario(scenario_file)
    region, network = region_network(ctx, scenario_region(what_if.region, scenario_file))
    store = registry_store(database_url)
    base_request = plan_request_from_store(
        store, region, network, start_date=what_if.start_date, horizon_days=what_if.horizon_days
    )
    request, changed_network = apply_scenario(what_if, base_request, network)
    base = build_plan(base_request, network, region)
    result = build_plan(request, changed_network, region)
    comparison = compare_plans(base, result)
    click.echo(
        f"scenario {what_if.name!r} on {region.name}, {what_if.start_date} + "
        f"{what_if.horizon_days} days ({len(what_if.changes)} changes)"
    )
    for key, values in comparison["totals"].items():
        click.echo(
            f"  {key:<16} base {values['base']:>14,.1f}  scenario {values['scenario']:>14,.1f}"
            f"  change {values['change']:>+14,.1f}"
        )
    click.echo(
        f"  flows added {len(comparison['flows_added'])}, removed "
        f"{len(comparison['flows_removed'])}, changed {len(comparison['flows_changed'])}"
    )
    for row in comparison["facilities"][:10]:
        click.echo(
            f"  {row['name'][:44]:<44} unmet {row['unmet_m3_base']:>9,.0f} -> "
            f"{row['unmet_m3_scenario']:>9,.0f} m³"
        )
    if routes_day is not None:
        from coordination.dispatch import dispatch_request_from_plan, plan_dispatch, routes_to_dict
        from coordination.planning import plan_to_dict
        from coordination.scenarios import compare_routes

        fleet = registry_fleet(database_url)
        answers = [
            routes_to_dict(
                plan_dispatch(
                    dispatch_request_from_plan(plan_to_dict(p), day=routes_day, vehicles=fleet),
                    n,
                    region,
                )
            )
            for p, n in ((base, network), (result, changed_network))
        ]
        comparison["routes"] = compare_routes(*answers)
        route_totals = comparison["routes"]["totals"]
        click.echo(
            f"  routes on day {routes_day}: {route_totals['routes']['base']} -> "
            f"{route_totals['routes']['scenario']}, unassigned loads "
            f"{route_totals['unassigned']['base']} -> {route_totals['unassigned']['scenario']}, "
            f"{len(comparison['routes']['routes_changed'])} routes changed"
        )
    if out_dir is not None:
        write_plan_files(base, out_dir / "base")
        write_plan_files(result, out_dir / "scenario")
        (out_dir / "comparison.json").write_text(
            json.dumps(comparison, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        click.echo(f"written to {out_dir}/ (base/, scenario/, comparison.json)")


@scenario.command("sweep")
@click.argument("sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for sweep.csv and sweep.png.",
)
@click.option(
    "--scheduler",
    "scheduler_address",
    envvar="OXYROUTE_DASK_SCHEDULER",
    default=None,
    help="Dask scheduler address (env OXYROUTE_DASK_SCHEDULER); default: a local cluster.",
)
@click.option("--workers", default=2, show_default=True, help="Workers of the local cluster.")
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def scenario_sweep(
    ctx: click.Context,
    sweep_file: Path,
    out_dir: Path,
    scheduler_address: str | None,
    workers: int,
    database_url: str | None,
) -> None:
    """Run a scenario over a grid of parameters in parallel (Dask) and write a table and a chart."""
    import tomllib

    from coordination.planning import plan_request_from_store
    from coordination.scenarios import scenario_from_mapping
    from coordination.sweeps import run_sweep, sweep_chart, sweep_table

    try:
        spec = tomllib.loads(sweep_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"sweep file {sweep_file.name}: malformed TOML ({exc})") from None
    unknown = sorted(set(spec) - {"scenario", "grid"})
    if (
        unknown
        or not isinstance(spec.get("scenario"), dict)
        or not isinstance(spec.get("grid"), dict)
    ):
        raise InvalidInputError(
            f"sweep file {sweep_file.name}: needs a [scenario] table and a [grid] table"
            + (f"; unknown keys {unknown}" if unknown else "")
        )
    document = spec["scenario"]
    base_scenario = scenario_from_mapping(document)
    region, network = region_network(ctx, scenario_region(base_scenario.region, sweep_file))
    store = registry_store(database_url)
    base_request = plan_request_from_store(
        store,
        region,
        network,
        start_date=base_scenario.start_date,
        horizon_days=base_scenario.horizon_days,
    )
    started = time.perf_counter()
    runs = run_sweep(
        document,
        spec["grid"],
        base_request,
        scheduler_address=scheduler_address,
        workers=workers,
        data_dir=ctx.obj["data_dir"],
        cache_dir=ctx.obj["cache_dir"],
        progress=lambda done, total: click.echo(f"  run {done}/{total} done", err=True),
    )
    rows = sweep_table(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "sweep.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    sweep_chart(runs, str(out_dir / "sweep.png"))
    click.echo(table([[str(k) for k in rows[0]], *([str(v) for v in r.values()] for r in rows)]))
    click.echo(
        f"{len(runs)} runs in {time.perf_counter() - started:.1f} s -> "
        f"{out_dir}/sweep.csv, sweep.png"
    )
