"""Vehicle-route commands: VROOM problems and the dispatch of a plan day."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from commands.common import (
    DATABASE_OPTION,
    fail_cleanly,
    plan_region,
    region_network,
    registry_fleet,
)
from data.errors import InvalidInputError, MissingDataFileError, NoRouteError
from data.schema.network import Place


@click.group()
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
            provider = _road_matrix_for_lonlats(*region_network(ctx, region_name), document)
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


def _users_of_locations(document: Any) -> dict[tuple[float, float], list[str]]:
    """Return who stands at each ``[lon, lat]`` of a VROOM input: ``job 7``, ``vehicle 1 start``."""
    users: dict[tuple[float, float], list[str]] = {}

    def add(location: Any, label: str) -> None:
        if isinstance(location, list) and len(location) == 2:
            try:
                users.setdefault((float(location[0]), float(location[1])), []).append(label)
            except (TypeError, ValueError):
                return

    if not isinstance(document, dict):
        return users
    for kind, parts in (("vehicles", ("start", "end")), ("jobs", ("location",))):
        for item in document.get(kind) or []:
            if isinstance(item, dict):
                for part in parts:
                    suffix = "" if part == "location" else f" {part}"
                    add(item.get(part), f"{kind[:-1]} {item.get('id')}{suffix}")
    for item in document.get("shipments") or []:
        if isinstance(item, dict):
            for part in ("pickup", "delivery"):
                step = item.get(part)
                if isinstance(step, dict):
                    add(step.get("location"), f"shipment {part} {step.get('id')}")
    return users


def _unreachable_location(duration_s: Any) -> tuple[int, int]:
    """Return the location with the most unreachable pairs, and how many others it misses.

    A job on a road the others cannot reach makes every row's entry to it infinite, so row 0
    holds an infinity too; the culprit is the location most of whose pairs are missing
    (issue 16: location 0 was blamed for a job elsewhere).
    """
    import numpy as np

    missing = ~np.isfinite(duration_s)
    np.fill_diagonal(missing, False)
    per_location = missing.sum(axis=0) + missing.sum(axis=1)
    k = int(np.argmax(per_location))
    others = int(np.count_nonzero(missing[:, k] | missing[k, :]))
    return k, others


def _road_matrix_for_lonlats(region: Any, network: Any, document: Any = None) -> Callable[..., Any]:
    """Return a VROOM ``matrix_provider``: road durations (s) and distances (m) between points.

    The provider takes [lon, lat] points. It raises NoRouteError (VROOM code 3) naming every
    location the roads do not reach (off the map), else the one that most other locations
    cannot reach or leave, with the jobs, shipment steps and vehicle ends of ``document`` that
    stand there.
    """
    from routing.travel_time import travel_time_matrix

    users = _users_of_locations(document)

    def name(points: Sequence[tuple[float, float]], k: int) -> str:
        point = (float(points[k][0]), float(points[k][1]))
        who = ", ".join(users.get(point, [])) or "no job or vehicle"
        return f"location index {k} {list(points[k])} ({who})"

    def provider(points: Sequence[tuple[float, float]]) -> tuple[Any, Any]:
        import numpy as np

        places = [Place(f"location {k}", lon, lat) for k, (lon, lat) in enumerate(points)]
        matrix = travel_time_matrix(
            network, places, places, gateways=region.gateways, max_snap_m=region.max_snap_m
        )
        off_map = [
            f"{name(points, k)}: {matrix.snaps[place.place_id].reason or 'not snapped'}"
            for k, place in enumerate(places)
            if not matrix.snaps[place.place_id].reachable
        ]
        if off_map:
            raise NoRouteError(
                f"not reached by the roads of {region.region_id}: " + "; ".join(off_map)
            )
        if not np.all(np.isfinite(matrix.duration_s)):
            k, others = _unreachable_location(matrix.duration_s)
            raise NoRouteError(
                f"{name(points, k)}: no road path to or from {others} of the other "
                f"{len(points) - 1} locations on the roads of {region.region_id} (a one-way or "
                "cut-off road); move it to a road the others reach"
            )
        return np.rint(matrix.duration_s).astype(np.int64), np.rint(matrix.distance_m).astype(
            np.int64
        )

    return provider


@click.command("dispatch")
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
@click.option(
    "--region",
    "region_name",
    default=None,
    help="Region of the plan (default: the plan's region_file, else its region name).",
)
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
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
    region_name: str | None,
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
        fleet = registry_fleet(database_url)
    request = dispatch_request_from_plan(
        plan,
        day=day,
        vehicles=fleet,
        options=options,
        plan_id=str(plan.get("plan_id", plan_dir.name)),
    )
    region, network = region_network(ctx, plan_region(plan, region_name))
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
