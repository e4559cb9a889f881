"""The ``oxyroute`` command line: thin wrappers around the packages (I/O and printing live here)."""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from data.errors import InvalidInputError, MissingDataFileError, NoRouteError, OxyrouteError
from data.schema.network import Place, TravelMatrix

if TYPE_CHECKING:
    from routing.travel_time import Backend

F = TypeVar("F", bound=Callable[..., Any])


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _fail_cleanly(func: F) -> F:
    """Turn oxyroute's own errors into a one-paragraph message and exit code 2 (input) or 1."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InvalidInputError, MissingDataFileError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OxyrouteError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


@click.group()
@click.option(
    "--data-dir",
    envvar="OXYROUTE_DATA_DIR",
    default=None,
    help="Folder with the shared data (env OXYROUTE_DATA_DIR; default ../shared/data).",
)
@click.option(
    "--cache-dir",
    envvar="OXYROUTE_CACHE_DIR",
    default=None,
    help="Folder for caches such as built road graphs (env OXYROUTE_CACHE_DIR).",
)
@click.option(
    "--online",
    is_flag=True,
    default=False,
    help="Allow downloading a region's roads from OpenStreetMap when its file is missing.",
)
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, cache_dir: str | None, online: bool) -> None:
    """Oxygen coordination: road travel times, allocation plans and vehicle routes."""
    ctx.ensure_object(dict)
    ctx.obj.update(data_dir=data_dir, cache_dir=cache_dir, online=online)


def _region_network(ctx: click.Context, region_name: str) -> tuple[Any, Any]:
    from data.region import load_region
    from data.settings import resolve_cache_dir
    from routing.graph import network_for_region

    region = load_region(region_name, data_dir=ctx.obj["data_dir"])
    network = network_for_region(
        region,
        cache_dir=resolve_cache_dir(ctx.obj["cache_dir"]),
        online=ctx.obj["online"],
        progress=_progress,
    )
    return region, network


def _parse_lonlat(text: str, option: str) -> Place:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidInputError(
            f"{option}: expected LON,LAT such as 106.6597,10.7572, got {text!r}"
        ) from None
    return Place(option.lstrip("-"), lon, lat)


def _prepare_output_file(path: Path, option: str) -> None:
    """Create the folder of an output file, or refuse a path that cannot be a file (exit 2).

    Checked before any road network is loaded, so a typo in the path does not cost a build and
    does not end in a traceback after the work is done.
    """
    if path.is_dir():
        raise InvalidInputError(f"{option}: {str(path)!r} is a folder; give a file name in it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(
            f"{option}: cannot create the folder {str(path.parent)!r} ({exc.strerror})"
        ) from None


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def write_matrix_csv(matrix: TravelMatrix, out: Path, layout: str, value: str) -> None:
    """Write a matrix as long CSV (one row per pair) or wide CSV (origins x destinations).

    Unreachable pairs are empty cells. The file is UTF-8 with a byte-order mark so that Excel shows
    Vietnamese names correctly.
    """
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        if layout == "long":
            writer.writerow(["origin_id", "destination_id", "duration_s", "distance_m"])
            for i, origin_id in enumerate(matrix.origin_ids):
                for j, destination_id in enumerate(matrix.destination_ids):
                    writer.writerow(
                        [
                            origin_id,
                            destination_id,
                            _fmt(matrix.duration_s[i, j]),
                            _fmt(matrix.distance_m[i, j]),
                        ]
                    )
        else:
            array = matrix.duration_s if value == "duration_s" else matrix.distance_m
            writer.writerow([f"origin_id \\ destination_id ({value})", *matrix.destination_ids])
            for i, origin_id in enumerate(matrix.origin_ids):
                writer.writerow([origin_id, *(_fmt(v) for v in array[i])])


def _report_unreachable(matrix: TravelMatrix) -> None:
    for snap in matrix.snaps.values():
        if not snap.reachable:
            click.echo(f"unreachable: {snap.place_id}: {snap.reason}", err=True)


@main.command()
@click.option(
    "--region",
    "region_name",
    default="hcmc",
    show_default=True,
    help="Bundled region name or path to a region .toml file.",
)
@click.option(
    "--from",
    "from_file",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV (id,lon,lat[,name]) or GeoJSON of origins.",
)
@click.option(
    "--to",
    "to_file",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV (id,lon,lat[,name]) or GeoJSON of destinations.",
)
@click.option(
    "--out", "out_file", required=True, type=click.Path(path_type=Path), help="Output CSV file."
)
@click.option("--layout", type=click.Choice(["long", "wide"]), default="long", show_default=True)
@click.option(
    "--value",
    type=click.Choice(["duration_s", "distance_m"]),
    default="duration_s",
    show_default=True,
    help="Which value a wide CSV holds.",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "cch", "numba", "scipy"]),
    default="auto",
    show_default=True,
    help="auto = cch when available, else numba.",
)
@click.pass_context
@_fail_cleanly
def matrix(
    ctx: click.Context,
    region_name: str,
    from_file: Path,
    to_file: Path,
    out_file: Path,
    layout: str,
    value: str,
    backend: Backend,
) -> None:
    """Write road travel times (s) and distances (m) between two sets of places."""
    from data.places import read_places
    from routing.travel_time import travel_time_matrix

    origins, destinations = read_places(from_file), read_places(to_file)
    _prepare_output_file(out_file, "--out")
    region, network = _region_network(ctx, region_name)
    started = time.perf_counter()
    result = travel_time_matrix(
        network,
        origins,
        destinations,
        gateways=region.gateways,
        max_snap_m=region.max_snap_m,
        backend=backend,
    )
    elapsed = time.perf_counter() - started
    write_matrix_csv(result, out_file, layout, value)
    _report_unreachable(result)
    reachable = int(result.duration_s.size - (~(result.duration_s < math.inf)).sum())
    click.echo(
        f"{len(origins)} x {len(destinations)} matrix in {elapsed:.2f} s "
        f"({reachable} of {result.duration_s.size} pairs reachable) -> {out_file}"
    )


@main.command()
@click.option("--region", "region_name", default="hcmc", show_default=True)
@click.option("--from", "from_text", required=True, help="Origin as LON,LAT (WGS84).")
@click.option("--to", "to_text", required=True, help="Destination as LON,LAT (WGS84).")
@click.option(
    "--geojson",
    "geojson_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the path as a GeoJSON Feature (RFC 7946) to this file.",
)
@click.pass_context
@_fail_cleanly
def route(
    ctx: click.Context, region_name: str, from_text: str, to_text: str, geojson_file: Path | None
) -> None:
    """Print the fastest road path between two points (time, length, roads)."""
    from routing.travel_time import road_path

    origin, destination = _parse_lonlat(from_text, "--from"), _parse_lonlat(to_text, "--to")
    if geojson_file is not None:
        _prepare_output_file(geojson_file, "--geojson")
    region, network = _region_network(ctx, region_name)
    try:
        path = road_path(network, origin, destination, max_snap_m=region.max_snap_m)
    except NoRouteError as exc:
        click.echo(f"no route: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"{path.duration_s / 60:.1f} min, {path.distance_m / 1000:.2f} km "
        f"(snapped {path.origin.snap_distance_m:.0f} m and "
        f"{path.destination.snap_distance_m:.0f} m from the road)"
    )
    click.echo("via " + " → ".join(path.road_names))
    if geojson_file is not None:
        geojson_file.write_text(
            json.dumps(path.to_geojson(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        click.echo(f"GeoJSON written to {geojson_file}")


@main.group()
def graph() -> None:
    """Build or inspect a region's cached road network."""


@graph.command("info")
@click.option("--region", "region_name", default="hcmc", show_default=True)
@click.pass_context
@_fail_cleanly
def graph_info(ctx: click.Context, region_name: str) -> None:
    """Print the road network summary as JSON (building and caching it if needed)."""
    _, network = _region_network(ctx, region_name)
    click.echo(json.dumps(network.summary(), ensure_ascii=False, indent=1))


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def _registry_store(database_url: str | None):  # type: ignore[no-untyped-def]
    from data.db import create_db_engine, resolve_database_url, upgrade_database
    from data.store import Store

    engine = create_db_engine(resolve_database_url(database_url))
    upgrade_database(engine)
    return Store(engine)


_DATABASE_OPTION = click.option(
    "--database-url",
    envvar="OXYROUTE_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL of the registry (default: a SQLite file in ~/.local/share/oxyroute).",
)


@main.command()
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
@_DATABASE_OPTION
@click.pass_context
@_fail_cleanly
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

    The registry is seeded with the region's hospitals, suppliers, a generated fleet and generated
    August 2021 reports if it has no facility yet (only the bundled ``hcmc`` region has a seed).
    """
    from coordination.planning import build_plan, plan_request_from_store, plan_summary
    from routing.travel_time import travel_time_matrix

    region, network = _region_network(ctx, region_name)
    summary = network.summary()
    click.echo(
        f"{summary['name']}: {summary['nodes']:,} junctions, {summary['edges']:,} directed "
        f"road edges, {summary['road_km']:,} km of road (© OpenStreetMap contributors)"
    )
    facilities = region.facilities.read() if region.facilities else []
    if facilities:
        shown = facilities[:hospital_count]
        started = time.perf_counter()
        table = travel_time_matrix(
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
                    *(_fmt(table.duration_s[i, j] / 60.0) or "-" for j in range(len(shown))),
                ]
            )
        click.echo(_table(rows))

    store = _registry_store(database_url)
    if not store.list_facilities() and region.province_code == "79":
        # The bundled seed covers all of Ho Chi Minh City (79), so any region inside it can use it.
        click.echo(
            "\nthe registry is empty: seeding it with Ho Chi Minh City (sourced hospitals and "
            "suppliers, generated fleet and August 2021 reports, labelled as generated)"
        )
        ctx.invoke(db_seed, region="hcmc", database_url=database_url)
    request = plan_request_from_store(store, region, network, start_date=plan_date.date())
    result = build_plan(request, network, region)
    _write_plan_files(result, out_dir)
    click.echo("\n" + plan_summary(result))
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


# --------------------------------------------------------------------------- registry commands
# (appended for issue 3: the registry store, its users, and the HTTP API server)


@main.group()
def db() -> None:
    """Registry database: schema upgrades, provinces, seed data."""


@db.command("upgrade")
@_DATABASE_OPTION
def db_upgrade(database_url: str | None) -> None:
    """Apply pending schema migrations."""
    from data.db.migrate import current_revision

    store = _registry_store(database_url)
    click.echo(f"schema at revision {current_revision(store.engine)}")


@db.command("init")
@_DATABASE_OPTION
@click.pass_context
def db_init(ctx: click.Context, database_url: str | None) -> None:
    """Upgrade the schema and load the 63 provinces of 2021 with their 2025 units."""
    from data.provinces import provinces_with_2025_units
    from data.settings import resolve_data_dir

    store = _registry_store(database_url)
    provinces = provinces_with_2025_units(resolve_data_dir(ctx.obj.get("data_dir")))
    changed = store.upsert_provinces(provinces, actor="cli")
    click.echo(f"{len(provinces)} provinces ({changed} added or changed)")


@db.command("seed")
@click.option(
    "--region", type=click.Choice(["hcmc"]), required=True, help="Region whose seed data to load."
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=20210801,
    show_default=True,
    help="Seed of the generated fleet and reports (same seed, same rows).",
)
@_DATABASE_OPTION
@click.pass_context
def db_seed(ctx: click.Context, region: str, seed_value: int, database_url: str | None) -> None:
    """Load a region's hospitals and suppliers, a generated fleet and generated August 2021 reports.

    Hospitals and suppliers are sourced; the fleet and the reports are generated and labelled so
    (see data/seed.py and docs/registry.md). Records already present are left alone.
    """
    from data.provinces import provinces_with_2025_units
    from data.seed import SeedParameters, hcmc_seed, store_seed
    from data.settings import resolve_data_dir

    data_dir = resolve_data_dir(ctx.obj.get("data_dir"))
    store = _registry_store(database_url)
    store.upsert_provinces(provinces_with_2025_units(data_dir), actor="cli")
    seed = hcmc_seed(data_dir, parameters=SeedParameters(seed=seed_value))
    summary = store_seed(store, seed, actor="cli:seed")
    click.echo(
        f"{region}: added {summary.facilities} facilities (tiers by rule), {summary.suppliers} "
        f"suppliers (sourced), {summary.transport_operators} transport operators and "
        f"{summary.vehicles} vehicles (generated), {summary.report_revisions} report revisions "
        f"(generated, {seed.curve[0][0]} to {seed.curve[-1][0]}; "
        f"{summary.facility_days_skipped} facility-days already present were kept)"
    )
    click.echo(f"generated rows are labelled: {seed.source}")


@main.group()
def users() -> None:
    """Registry users and their API tokens."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        ["facility_reporter", "province_coordinator", "ministry", "dispatcher", "planner", "admin"]
    ),
)
@click.option("--facility", "facility_id", default=None, help="Facility id (facility_reporter).")
@click.option(
    "--province", "province_code", default=None, help="2021 province code (province_coordinator)."
)
@click.option("--token/--no-token", default=True, help="Also issue an API token (printed once).")
@_DATABASE_OPTION
def users_add(
    username: str,
    role: str,
    facility_id: str | None,
    province_code: str | None,
    token: bool,
    database_url: str | None,
) -> None:
    """Create a user (and print its first API token; only its hash is stored)."""
    from data.schema.registry import Role

    store = _registry_store(database_url)
    store.add_user(
        username, Role(role), facility_id=facility_id, province_code=province_code, actor="cli"
    )
    click.echo(f"user {username} ({role}) created")
    if token:
        click.echo(store.issue_token(username, label="cli", actor="cli"))


@users.command("token")
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expire after N days.")
@_DATABASE_OPTION
def users_token(username: str, days: int | None, database_url: str | None) -> None:
    """Issue a new API token for a user and print it (shown once)."""
    import datetime as dt

    store = _registry_store(database_url)
    expires_at = None if days is None else dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    click.echo(store.issue_token(username, label="cli", expires_at=expires_at, actor="cli"))


@users.command("disable")
@click.argument("username")
@_DATABASE_OPTION
def users_disable(username: str, database_url: str | None) -> None:
    """Disable a user: its tokens stop working at once."""
    _registry_store(database_url).set_user_disabled(username, True, actor="cli")
    click.echo(f"user {username} disabled")


@users.command("list")
@_DATABASE_OPTION
def users_list(database_url: str | None) -> None:
    """List users (never tokens)."""
    for user in _registry_store(database_url).list_users():
        click.echo(
            f"{user['username']}\t{user['role']}\t{user['facility_id'] or ''}\t"
            f"{user['province_code'] or ''}\t{'disabled' if user['disabled'] else ''}"
        )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--region",
    "regions",
    multiple=True,
    default=("hcmc",),
    show_default=True,
    help="Region served by the map and the plan endpoints (repeat for several).",
)
@_DATABASE_OPTION
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    threads: int,
    regions: tuple[str, ...],
    database_url: str | None,
) -> None:
    """Serve the HTTP API and the web map on a production WSGI server (waitress)."""
    import dataclasses
    import logging

    import waitress

    from api import ApiConfig, create_app
    from data.db import resolve_database_url
    from web.map import WebMapConfig

    logging.basicConfig(level=logging.INFO)
    webmap = WebMapConfig.from_environment()
    webmap = dataclasses.replace(
        webmap,
        regions=webmap.regions or regions,
        data_dir=Path(ctx.obj["data_dir"]) if ctx.obj["data_dir"] else None,
        cache_dir=Path(ctx.obj["cache_dir"]) if ctx.obj["cache_dir"] else None,
    )
    app = create_app(
        ApiConfig(
            database_url=resolve_database_url(database_url),
            regions=regions,
            data_dir=ctx.obj["data_dir"],
            cache_dir=ctx.obj["cache_dir"],
            webmap=webmap,
        )
    )
    click.echo(
        f"serving the map at http://{host}:{port}/ and the API at http://{host}:{port}/api/v1 "
        f"(OpenAPI at /api/v1/openapi.json); Ctrl-C stops"
    )
    waitress.serve(app, host=host, port=port, threads=threads, ident="oxyroute")


@main.command()
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
@_fail_cleanly
def allocate(
    ctx: click.Context, problem_file: str, out_file: str | None, region_name: str | None
) -> None:
    """Allocate supply to facilities from a JSON problem file (format: docs/allocation.md).

    Exit status 2 for a problem file that cannot be read or breaks the format (the message lists
    every field at fault), 1 when the solver gives up (time limit), 0 with the plan otherwise.
    """
    import json
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

        region, network = _region_network(ctx, region_name)
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


@main.command()
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
@_DATABASE_OPTION
@click.pass_context
@_fail_cleanly
def plan(
    ctx: click.Context,
    region_name: str,
    start_date: Any,
    horizon_days: int,
    out_dir: Path,
    max_delivery_min: int,
    fairness: bool,
    single_sourcing: bool,
    database_url: str | None,
) -> None:
    """Compute the coordinator's allocation plan from the registry's latest reports."""
    from coordination.planning import build_plan, plan_request_from_store, plan_summary
    from data.schema.allocation import AllocationOptions

    started = time.perf_counter()
    region, network = _region_network(ctx, region_name)
    store = _registry_store(database_url)
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
    _write_plan_files(result, out_dir)
    click.echo(plan_summary(result))
    click.echo(
        f"\nplan written to {out_dir}/ in {time.perf_counter() - started:.2f} s "
        f"(plan.json, plan.geojson, plan.gpkg, flows.csv, facilities.csv, summary.txt)"
    )


@main.group()
def scenario() -> None:
    """What-if scenarios (format: docs/scenarios.md)."""


def _registry_fleet(database_url: str | None) -> list[Any]:
    """Return the registry's vehicles that can be dispatched (a home depot and a capacity)."""
    from coordination.dispatch import FleetVehicle

    fleet = []
    for record in _registry_store(database_url).list_records("vehicles", limit=None):
        try:
            fleet.append(FleetVehicle.from_registry(record))
        except InvalidInputError:
            continue
    if not fleet:
        raise InvalidInputError(
            "vehicles: the registry has no vehicle with a home depot and a capacity; "
            "give --vehicles vehicles.json"
        )
    return fleet


def _write_plan_files(result: Any, out_dir: Path) -> None:
    from coordination.planning import (
        geojson_to_geopackage,
        plan_summary,
        plan_to_csv,
        plan_to_dict,
        plan_to_geojson,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plan.json").write_text(
        json.dumps(plan_to_dict(result), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    geojson = plan_to_geojson(result)
    (out_dir / "plan.geojson").write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
    (out_dir / "plan.gpkg").write_bytes(geojson_to_geopackage(geojson))
    for name, text in plan_to_csv(result).items():
        (out_dir / name).write_text(text, encoding="utf-8-sig")
    (out_dir / "summary.txt").write_text(plan_summary(result) + "\n", encoding="utf-8")


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
@_DATABASE_OPTION
@click.pass_context
@_fail_cleanly
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
    region, network = _region_network(ctx, what_if.region)
    store = _registry_store(database_url)
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

        fleet = _registry_fleet(database_url)
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
        _write_plan_files(base, out_dir / "base")
        _write_plan_files(result, out_dir / "scenario")
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
@_DATABASE_OPTION
@click.pass_context
@_fail_cleanly
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
    region, network = _region_network(ctx, base_scenario.region)
    store = _registry_store(database_url)
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
    click.echo(_table([[str(k) for k in rows[0]], *([str(v) for v in r.values()] for r in rows)]))
    click.echo(
        f"{len(runs)} runs in {time.perf_counter() - started:.1f} s -> "
        f"{out_dir}/sweep.csv, sweep.png"
    )


@main.group()
def vrp() -> None:
    """Vehicle routes in VROOM's JSON format."""


@vrp.command("solve")
@click.argument("problem_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--time-limit",
    "time_limit_s",
    type=float,
    default=10.0,
    show_default=True,
    help="Wall-clock budget in seconds.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the search.")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Parallel searches (processes); the best plan is kept.",
)
@click.option(
    "--max-iterations",
    type=int,
    default=None,
    help="Stop each search after this many iterations (reproducible plans).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the solution JSON here instead of standard output.",
)
@click.option(
    "--region",
    "region_name",
    default=None,
    help="Road network that fills a missing matrix from the [lon, lat] locations.",
)
@click.pass_context
def vrp_solve(
    ctx: click.Context,
    problem_file: str,
    time_limit_s: float,
    seed: int,
    workers: int,
    max_iterations: int | None,
    out_file: str | None,
    region_name: str | None,
) -> None:
    """Solve PROBLEM_FILE (VROOM input JSON, '-' for stdin) and write VROOM's solution JSON.

    The exit code is VROOM's code: 0 solved, 1 internal error, 2 input error, 3 routing error.
    Coordinates without 'matrices' need --region (road travel times and distances); without it
    they are refused.
    """
    import json
    import time

    from routing.route_validation import validate_route_plan
    from routing.vehicle_routes import SolverParams, solve_routes
    from routing.vroom import (
        CODE_INPUT_ERROR,
        CODE_INTERNAL_ERROR,
        CODE_OK,
        CODE_ROUTING_ERROR,
        parse_vroom_problem,
        to_vroom_error,
        to_vroom_solution,
    )

    started = time.perf_counter()
    try:
        with click.open_file(problem_file, "r", encoding="utf-8") as handle:
            document = json.load(handle)
        params = SolverParams(
            time_limit_s=time_limit_s, seed=seed, num_workers=workers, max_iterations=max_iterations
        )
        provider = None
        if region_name is not None and isinstance(document, dict) and "matrices" not in document:
            provider = _road_matrix_for_lonlats(*_region_network(ctx, region_name))
        parsed = parse_vroom_problem(document, matrix_provider=provider)
        loading_ms = round((time.perf_counter() - started) * 1000)
        plan = solve_routes(parsed.problem, params)
        validate_route_plan(parsed.problem, plan)
        answer = to_vroom_solution(parsed, plan, loading_ms=loading_ms)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        answer = to_vroom_error(CODE_INPUT_ERROR, f"cannot read {problem_file!r} as JSON: {error}")
    except (InvalidInputError, MissingDataFileError) as error:
        answer = to_vroom_error(CODE_INPUT_ERROR, str(error))
    except NoRouteError as error:
        answer = to_vroom_error(CODE_ROUTING_ERROR, str(error))
    except Exception as error:
        answer = to_vroom_error(
            CODE_INTERNAL_ERROR, f"internal error: {type(error).__name__}: {error}"
        )
    text = json.dumps(answer, ensure_ascii=False)
    if out_file is None:
        click.echo(text)
    else:
        with open(out_file, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if answer["code"] != CODE_OK:
        click.echo(f"error (code {answer['code']}): {answer['error']}", err=True)
    raise SystemExit(answer["code"])


def _road_matrix_for_lonlats(region: Any, network: Any) -> Callable[..., Any]:
    """Return a VROOM ``matrix_provider``: road durations (s) and distances (m) between points.

    The provider takes [lon, lat] points. It raises NoRouteError (VROOM code 3) naming the first
    location the roads do not reach.
    """
    from routing.travel_time import travel_time_matrix

    def provider(points: Sequence[tuple[float, float]]) -> tuple[Any, Any]:
        import numpy as np

        places = [Place(f"location {k}", lon, lat) for k, (lon, lat) in enumerate(points)]
        matrix = travel_time_matrix(
            network, places, places, gateways=region.gateways, max_snap_m=region.max_snap_m
        )
        for k, place in enumerate(places):
            snap = matrix.snaps[place.place_id]
            if not snap.reachable or not np.all(np.isfinite(matrix.duration_s[k])):
                raise NoRouteError(
                    f"location index {k} {list(points[k])}: not reached by the roads of "
                    f"{region.region_id} ({snap.reason or 'no road path to another location'})"
                )
        return np.rint(matrix.duration_s).astype(np.int64), np.rint(matrix.distance_m).astype(
            np.int64
        )

    return provider


@main.command("dispatch")
@click.option(
    "--plan-dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of a plan written by `oxyroute plan` (plan.json).",
)
@click.option("--day", required=True, type=int, help="Day offset in the plan (0 = its first day).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for routes.json, routes.geojson and sheets/<vehicle>-<lang>.html.",
)
@click.option(
    "--vehicles",
    "vehicles_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="JSON list of vehicles (default: the registry's fleet).",
)
@click.option("--start-time", default="06:00", show_default=True, help="Shift start, local HH:MM.")
@click.option(
    "--options",
    "options_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="JSON object of dispatch options (docs/dispatch.md).",
)
@click.option("--seed", type=int, default=None, help="Seed of the search (default 0).")
@click.option("--max-iterations", type=int, default=None, help="Iteration limit (reproducible).")
@_DATABASE_OPTION
@click.pass_context
@_fail_cleanly
def dispatch_command(
    ctx: click.Context,
    plan_dir: Path,
    day: int,
    out_dir: Path,
    vehicles_file: Path | None,
    start_time: str,
    options_file: Path | None,
    seed: int | None,
    max_iterations: int | None,
    database_url: str | None,
) -> None:
    """Route one day of a plan's deliveries: routes JSON, GeoJSON and printable route sheets."""
    from coordination.dispatch import (
        LANGUAGES,
        DispatchOptions,
        FleetVehicle,
        dispatch_request_from_plan,
        plan_dispatch,
        route_sheet_html,
        routes_to_dict,
        routes_to_geojson,
        vehicles_from_mapping,
    )

    def read_json(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInputError(f"{path.name}: cannot read it as JSON ({error})") from None

    plan_file = plan_dir / "plan.json"
    if not plan_file.is_file():
        raise InvalidInputError(
            f"--plan-dir: {plan_dir} has no plan.json; run `oxyroute plan` first"
        )
    plan = read_json(plan_file)
    values = read_json(options_file) if options_file else {}
    if isinstance(values, dict):
        values = {
            **values,
            **({"seed": seed} if seed is not None else {}),
            **({"max_iterations": max_iterations} if max_iterations is not None else {}),
        }
    options = DispatchOptions.from_mapping(values, start_time=start_time)
    fleet: Sequence[FleetVehicle]
    if vehicles_file is not None:
        fleet = vehicles_from_mapping(read_json(vehicles_file))
    else:
        fleet = _registry_fleet(database_url)
    request = dispatch_request_from_plan(
        plan,
        day=day,
        vehicles=fleet,
        options=options,
        plan_id=str(plan.get("plan_id", plan_dir.name)),
    )
    region, network = _region_network(ctx, request.region_id)
    answer = routes_to_dict(plan_dispatch(request, network, region))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "routes.json").write_text(
        json.dumps(answer, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out_dir / "routes.geojson").write_text(
        json.dumps(routes_to_geojson(answer, network, region), ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    sheets = out_dir / "sheets"
    sheets.mkdir(exist_ok=True)
    for route in answer["routes"]:
        for lang in LANGUAGES:
            (sheets / f"{route['vehicle']}-{lang}.html").write_text(
                route_sheet_html(answer, route["vehicle"], lang=lang), encoding="utf-8"
            )
    summary = answer["summary"]
    click.echo(
        f"{answer['date']}: {summary['routes']} routes, {summary['loads']} loads, "
        f"{summary['loads_unassigned']} unassigned -> {out_dir}/routes.json, "
        f"routes.geojson, sheets/"
    )
    for entry in answer["unassigned"]:
        if entry["type"] == "delivery":
            click.echo(
                f"  unassigned {entry['load_id']} -> {entry['facility_id']}: {entry['reason']}",
                err=True,
            )
