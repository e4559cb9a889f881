"""Plan commands: the main job (``run``), the coordinator's plan, allocation of a JSON problem."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click

from commands.common import (
    DATABASE_OPTION,
    fail_cleanly,
    fmt,
    region_network,
    registry_store,
    table,
    write_plan_files,
)
from commands.registry import db_seed
from commands.server import serve
from data.errors import InvalidInputError


@click.command()
@click.option("--region", "region_name", default="hcmc", show_default=True)
@click.option(
    "--hospitals",
    "hospital_count",
    default=6,
    show_default=True,
    help="How many hospitals the small travel-time table shows.",
)
@click.option(
    "--date",
    "plan_date",
    default="2021-08-20",
    show_default=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day of the plan.",
)
@click.option(
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the plan files.",
)
@click.option(
    "--serve/--no-serve",
    "then_serve",
    default=False,
    show_default=True,
    help="Serve the API and the map afterwards (make run does).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def run(
    ctx: click.Context,
    region_name: str,
    hospital_count: int,
    plan_date: Any,
    out_dir: Path,
    then_serve: bool,
    port: int,
    database_url: str | None,
) -> None:
    """Run the main job: road network, travel times, the coordinator's plan; then serve (optional).

    The registry is seeded with Ho Chi Minh City's hospitals, suppliers, a generated fleet and
    generated August 2021 reports if it has no facility yet and the region is one of the bundled
    ``hcmc`` regions (``HCMC_SEEDED_REGIONS``); another region's registry is filled with
    ``oxyroute db import --region`` first.
    """
    from coordination.act_first import act_first_for_plan
    from coordination.planning import build_plan, plan_request_from_store
    from routing.travel_time import travel_time_matrix

    region, network = region_network(ctx, region_name)
    summary = network.summary()
    click.echo(
        f"{summary['name']}: {summary['nodes']:,} junctions, {summary['edges']:,} directed "
        f"road edges, {summary['road_km']:,} km of road (© OpenStreetMap contributors)"
    )
    facilities = region.facilities.read() if region.facilities else []
    if facilities:
        shown = facilities[:hospital_count]
        started = time.perf_counter()
        durations = travel_time_matrix(
            network, shown, shown, gateways=region.gateways, max_snap_m=region.max_snap_m
        )
        click.echo(
            f"\ndriving minutes between {len(shown)} hospitals "
            f"({time.perf_counter() - started:.2f} s)"
        )
        rows = [["from \\ to", *(f"{i + 1}" for i in range(len(shown)))]]
        for i, place in enumerate(shown):
            rows.append(
                [
                    f"{i + 1} {place.name[:38]}",
                    *(fmt(durations.duration_s[i, j] / 60.0) or "-" for j in range(len(shown))),
                ]
            )
        click.echo(table(rows))

    store = registry_store(database_url)
    if not store.list_facilities() and region.reference in HCMC_SEEDED_REGIONS:
        # The seed is Ho Chi Minh City's, for its bundled regions only: another region of
        # province 79 (given by path) has its own registry files (`db import`; issue 16).
        click.echo(
            "\nthe registry is empty: seeding it with Ho Chi Minh City (sourced hospitals and "
            "suppliers, generated fleet and August 2021 reports, labelled as generated)"
        )
        ctx.invoke(db_seed, region="hcmc", database_url=database_url)
    request = plan_request_from_store(store, region, network, start_date=plan_date.date())
    result = build_plan(request, network, region)
    lines = act_first_for_plan(store, result, region, now=dt.datetime.now(dt.UTC))
    click.echo("\n" + write_plan_files(result, out_dir, act_first=lines))
    click.echo(
        f"\nplan files in {out_dir}/ (plan.json, plan.geojson, plan.gpkg, flows.csv, "
        "facilities.csv, summary.txt)"
    )
    if then_serve:
        username = "demo-coordinator"
        from data.schema.registry import Role

        if username not in {u["username"] for u in store.list_users()}:
            store.add_user(
                username,
                Role.PROVINCE_COORDINATOR,
                province_code=region.province_code,
                actor="cli:run",
            )
        token = store.issue_token(username, label="make run", actor="cli:run")
        click.echo(f"\nlog in to the map with this token of {username!r} (shown once): {token}")
        ctx.invoke(
            serve,
            host="127.0.0.1",
            port=port,
            threads=8,
            regions=(region_name,),
            database_url=database_url,
        )


#: The bundled regions the Ho Chi Minh City seed serves (`run` seeds an empty registry for them).
HCMC_SEEDED_REGIONS = ("hcmc", "hcmc_d5")


@click.command()
@click.argument("problem_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the plan JSON here (default: print it).",
)
@click.option(
    "--region",
    "region_name",
    default=None,
    help="Road network for problems that give coordinates instead of a matrix.",
)
@click.pass_context
@fail_cleanly
def allocate(
    ctx: click.Context, problem_file: str, out_file: str | None, region_name: str | None
) -> None:
    """Allocate supply to facilities from a JSON problem file (format: docs/allocation.md).

    Exit status 2 for a problem file that cannot be read or breaks the format (the message lists
    every field at fault), 1 when the solver gives up (time limit), 0 with the plan otherwise.
    """
    from pathlib import Path

    from matcher.allocation import allocate_supply
    from matcher.problem_json import plan_to_json, problem_from_json_text

    path = Path(problem_file)
    try:
        # utf-8-sig: a byte-order mark, as Windows editors write one, is not an error.
        text_in = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInputError(
            f"{path.name}: not UTF-8 text (byte {error.start}: {error.reason}); save the "
            "problem file as UTF-8"
        ) from None
    except OSError as error:
        raise InvalidInputError(f"{path.name}: cannot read it ({error.strerror})") from None
    request = problem_from_json_text(text_in)
    provider = None
    if request.problem.travel_time_s is None:
        if region_name is None:
            raise InvalidInputError(
                "travel_time_s: missing; give a travel-time matrix (seconds, one row per "
                "supplier), or coordinates and --region so that road travel times are computed"
            )
        from coordination.planning import road_matrix_provider

        region, network = region_network(ctx, region_name)
        provider = road_matrix_provider(network, region)
    plan = allocate_supply(
        request.problem,
        matrix_provider=provider,
        conversions=request.conversions,
        cylinder_size=request.cylinder_size,
    )
    text = json.dumps(plan_to_json(plan), ensure_ascii=False, indent=1)
    if out_file is None:
        click.echo(text)
    else:
        try:
            Path(out_file).write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise InvalidInputError(
                f"--out {out_file}: cannot write the plan there ({error.strerror})"
            ) from None
    totals = plan.totals
    click.echo(
        f"{plan.solver} {plan.solver_status} in {plan.run_time_s:.3f} s: "
        f"{len(plan.flows)} flows, demand {totals.demand_m3:g} m³, delivered "
        f"{totals.delivered_m3:g} m³, unmet {totals.unmet_m3:g} m³ "
        f"({len(plan.unmet)} facility-days)",
        err=True,
    )


@click.command()
@click.option("--region", "region_name", default="hcmc", show_default=True)
@click.option(
    "--date",
    "start_date",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day of the plan (reports of the days before it are used).",
)
@click.option("--horizon", "horizon_days", default=7, show_default=True, type=int)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for plan.json, plan.geojson, plan.gpkg, flows.csv, facilities.csv, summary.txt.",
)
@click.option(
    "--max-delivery-min",
    default=240,
    show_default=True,
    type=int,
    help="Longest road trip a delivery may take (minutes).",
)
@click.option("--fairness", is_flag=True, help="Minimise the largest unmet share first.")
@click.option("--single-sourcing", is_flag=True, help="One supplier per facility and product.")
@click.option(
    "--mode",
    type=click.Choice(["allocation", "irp"]),
    default="allocation",
    show_default=True,
    help="irp: also plan the liquid tanks by inventory routing (irp_plan.json, "
    "irp_routes_day0.json, irp_summary.txt; docs/irp.md).",
)
@click.option(
    "--irp-time-limit",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=1.0, max=600.0),
    help="Seconds for the inventory-routing solve (--mode irp).",
)
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def plan(
    ctx: click.Context,
    region_name: str,
    start_date: Any,
    horizon_days: int,
    out_dir: Path,
    max_delivery_min: int,
    fairness: bool,
    single_sourcing: bool,
    mode: str,
    irp_time_limit: float,
    database_url: str | None,
) -> None:
    """Compute the coordinator's allocation plan from the registry's latest reports.

    With ``--mode irp`` the facilities with a liquid tank are also planned by inventory routing
    over the horizon (from their status at the start date, keeping deliveries in transit), and
    the plan and the first day's tanker routes are written beside the usual files; cylinder
    facilities keep the allocation.
    """
    from coordination.act_first import act_first_for_plan
    from coordination.planning import build_plan, plan_request_from_store
    from data.schema.allocation import AllocationOptions

    started = time.perf_counter()
    region, network = region_network(ctx, region_name)
    store = registry_store(database_url)
    options = AllocationOptions(
        max_delivery_time_s=max_delivery_min * 60,
        fairness=fairness,
        single_sourcing=single_sourcing,
    )
    request = plan_request_from_store(
        store,
        region,
        network,
        start_date=start_date.date(),
        horizon_days=horizon_days,
        options=options,
    )
    result = build_plan(request, network, region)
    lines = act_first_for_plan(store, result, region, now=dt.datetime.now(dt.UTC))
    click.echo(write_plan_files(result, out_dir, act_first=lines))
    written = "plan.json, plan.geojson, plan.gpkg, flows.csv, facilities.csv, summary.txt"
    if mode == "irp":
        from coordination.irp_plan_io import IRP_FILES, irp_plan_for_plan, write_irp_files

        problem, irp = irp_plan_for_plan(
            store, result, network, region, time_limit_s=irp_time_limit
        )
        click.echo("\n" + write_irp_files(irp, problem, out_dir), nl=False)
        written += ", " + ", ".join(IRP_FILES)
    click.echo(f"\nplan written to {out_dir}/ in {time.perf_counter() - started:.2f} s ({written})")
