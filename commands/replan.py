"""The live re-plan command: ``oxyroute replan`` (issue 15), the CLI twin of the HTTP re-plan."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from commands.common import DATABASE_OPTION, fail_cleanly, plan_region, region_network
from data.errors import InvalidInputError


def _read_json(path: Path, option: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInputError(f"{option}: cannot read {path} as JSON ({error})") from None


def _fleet(vehicles_file: Path | None, database_url: str | None) -> Sequence[Any]:
    """Return the vehicles that may take work besides the routes' own.

    The file's list if given, else the registry's routable vehicles (none is fine: the routes'
    own vehicles go on alone).
    """
    from commands.common import registry_fleet
    from coordination.dispatch import vehicles_from_mapping

    if vehicles_file is not None:
        return vehicles_from_mapping(_read_json(vehicles_file, "--vehicles"))
    try:
        return registry_fleet(database_url)
    except InvalidInputError:
        return ()


@click.command("replan")
@click.option(
    "--plan-dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of the plan the routes came from (plan.json).",
)
@click.option(
    "--routes",
    "routes_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The routes.json to re-plan: published (by `oxyroute dispatch` or the API) or a "
    "re-plan's (a live day: the events are those since it).",
)
@click.option(
    "--events",
    "events_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON list of events since the routes were published (docs/replan.md).",
)
@click.option(
    "--now",
    required=True,
    help="Time of the re-plan: ISO 8601 with an offset, or local HH:MM on the routes' date.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for routes.json, routes.geojson and sheets/ (default: routes JSON on stdout).",
)
@click.option(
    "--vehicles",
    "vehicles_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="JSON list of vehicles that may take work (default: the registry's fleet, if any).",
)
@click.option(
    "--options",
    "options_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="JSON object of re-plan options: move_penalty_s, eta_tolerance_min, time_limit_s, "
    "seed, max_iterations.",
)
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def replan_command(
    ctx: click.Context,
    plan_dir: Path,
    routes_file: Path,
    events_file: Path,
    now: str,
    out_dir: Path | None,
    vehicles_file: Path | None,
    options_file: Path | None,
    database_url: str | None,
) -> None:
    """Re-plan published or re-planned routes after EVENTS at NOW; print what changed.

    Done stops are kept, every vehicle starts where it is now with what it carries, a broken
    vehicle's load is collected at a transfer point, and stops already announced move only when
    that pays (docs/replan.md). Exit code 2 names the event and field at fault.
    """
    from coordination.replan import ReplanOptions, replan_routes
    from coordination.replan_events import events_from_mapping, moment_on

    plan_file = plan_dir / "plan.json"
    if not plan_file.is_file():
        raise InvalidInputError(f"--plan-dir: {plan_dir} has no plan.json")
    plan = _read_json(plan_file, "--plan-dir")
    routes = _read_json(routes_file, "--routes")
    if not isinstance(routes, dict) or "date" not in routes or "routes" not in routes:
        raise InvalidInputError(f"--routes: {routes_file} is not a routes document (no date)")
    date = dt.date.fromisoformat(routes["date"])
    problems: list[str] = []
    moment = moment_on(now, date, "--now", problems)
    if moment is None:
        raise InvalidInputError.from_problems("re-plan request", problems)
    events = events_from_mapping(_read_json(events_file, "--events"), date=date)
    options = ReplanOptions.from_mapping(
        _read_json(options_file, "--options") if options_file else None
    )
    fleet = _fleet(vehicles_file, database_url)
    # A region given by path is found again through the plan's region_file (issue 16).
    region, network = region_network(ctx, plan_region(plan))
    document = replan_routes(
        routes,
        plan,
        events,
        now=moment,
        network=network,
        region=region,
        fleet=fleet,
        options=options,
        routes_id=uuid.uuid4().hex,
    ).document
    if out_dir is None:
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        _write(document, out_dir, network, region)
    _report(document, out_dir)


def _write(document: dict[str, Any], out_dir: Path, network: Any, region: Any) -> None:
    """Write routes.json, routes.geojson and a sheet per vehicle and language."""
    from coordination.dispatch import LANGUAGES, route_sheet_html, routes_to_geojson

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "routes.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out_dir / "routes.geojson").write_text(
        json.dumps(routes_to_geojson(document, network, region), ensure_ascii=False) + "\n",  # type: ignore[arg-type]
        encoding="utf-8",
    )
    sheets = out_dir / "sheets"
    sheets.mkdir(exist_ok=True)
    for route in document["routes"]:
        for lang in LANGUAGES:
            (sheets / f"{route['vehicle']}-{lang}.html").write_text(
                route_sheet_html(document, route["vehicle"], lang=lang),  # type: ignore[arg-type]
                encoding="utf-8",
            )


def _report(document: dict[str, Any], out_dir: Path | None) -> None:
    """Print what changed on standard error: moves, ETA shifts beyond tolerance, unassigned."""
    changes = document["replan"]["changes"]
    counts = changes["counts"]
    where = f" -> {out_dir}/routes.json, routes.geojson, sheets/" if out_dir else ""
    click.echo(
        f"{document['date']} re-planned at {document['replan']['now']}: "
        f"{document['summary']['routes']} routes, {counts['moved']} stops moved, "
        f"{counts['eta_beyond_tolerance']} ETAs beyond tolerance, {counts['new_stops']} new "
        f"stops, {document['summary']['loads_unassigned']} loads unassigned{where}",
        err=True,
    )
    for move in changes["moved"]:
        click.echo(f"  moved {move['id']}: {move['from']} -> {move['to']}", err=True)
    for shift in changes["eta_shifts"]:
        if shift["beyond_tolerance"]:
            click.echo(
                f"  ETA {shift['id']} ({shift['vehicle']}): {shift['from'][11:16]} -> "
                f"{shift['to'][11:16]} ({shift['shift_min']:+d} min)",
                err=True,
            )
    for entry in document["unassigned"]:
        if entry["type"] == "delivery":
            click.echo(
                f"  unassigned {entry['load_id']} -> {entry['facility_id']}: {entry['reason']}",
                err=True,
            )
