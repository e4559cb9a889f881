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


@main.group()
def vrp() -> None:
    """Vehicle routes in VROOM's JSON format."""


@vrp.command("solve")
@click.argument("problem_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--time-limit", "time_limit_s", type=float, default=10.0, show_default=True,
              help="Wall-clock budget in seconds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the search.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Parallel searches (processes); the best plan is kept.")
@click.option("--max-iterations", type=int, default=None,
              help="Stop each search after this many iterations (reproducible plans).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="Write the solution JSON here instead of standard output.")
def vrp_solve(problem_file: str, time_limit_s: float, seed: int, workers: int,
              max_iterations: int | None, out_file: str | None) -> None:
    """Solve PROBLEM_FILE (VROOM input JSON, '-' for stdin) and write VROOM's solution JSON.

    The exit code is VROOM's code: 0 solved, 1 internal error, 2 input error, 3 routing error.
    Coordinates without 'matrices' are refused: a travel-time matrix is required.
    """
    import json
    import time

    from data.errors import InvalidInputError, NoRouteError
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
        params = SolverParams(time_limit_s=time_limit_s, seed=seed, num_workers=workers,
                              max_iterations=max_iterations)
        parsed = parse_vroom_problem(document)
        loading_ms = round((time.perf_counter() - started) * 1000)
        plan = solve_routes(parsed.problem, params)
        validate_route_plan(parsed.problem, plan)
        answer = to_vroom_solution(parsed, plan, loading_ms=loading_ms)
    except (OSError, json.JSONDecodeError) as error:
        answer = to_vroom_error(CODE_INPUT_ERROR, f"cannot read {problem_file!r} as JSON: {error}")
    except InvalidInputError as error:
        answer = to_vroom_error(CODE_INPUT_ERROR, str(error))
    except NoRouteError as error:
        answer = to_vroom_error(CODE_ROUTING_ERROR, str(error))
    except Exception as error:  # noqa: BLE001 - last resort: VROOM's internal-error answer
        answer = to_vroom_error(CODE_INTERNAL_ERROR, f"internal error: {type(error).__name__}: {error}")
    text = json.dumps(answer, ensure_ascii=False)
    if out_file is None:
        click.echo(text)
    else:
        with open(out_file, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if answer["code"] != CODE_OK:
        click.echo(f"error (code {answer['code']}): {answer['error']}", err=True)
    raise SystemExit(answer["code"])
