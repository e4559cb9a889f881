"""Inventory-routing commands: solve and check instances of the standard benchmark format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.common import fail_cleanly
from data.errors import InvalidInputError

if TYPE_CHECKING:
    from routing.irp import IrpInstance


def _read_instance(instance_file: str) -> IrpInstance:
    from routing.irp import parse_instance

    path = Path(instance_file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"INSTANCE: cannot read {instance_file!r}: {exc.strerror}") from exc
    return parse_instance(text, name=path.stem)


@click.group()
def irp() -> None:
    """Inventory routing (the Archetti et al. benchmark format, docs/irp.md)."""


@irp.command("solve")
@click.argument("instance_file", type=click.Path(dir_okay=False))
@click.option(
    "--time-limit",
    "time_limit_s",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Wall-clock budget in seconds.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the search.")
@click.option(
    "--baseline",
    is_flag=True,
    default=False,
    help="Use the refill-when-needed baseline instead of the solver.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the solution JSON here instead of standard output.",
)
@fail_cleanly
def irp_solve(
    instance_file: str, time_limit_s: float, seed: int, baseline: bool, out_file: str | None
) -> None:
    """Solve INSTANCE_FILE (.dat) and write the benchmark's solution JSON.

    The JSON also carries "cost" (routing, holding, total, as the checker prices them) and
    "solver"; a plan that leaves a customer below its minimum lists it under "shortfalls".
    """
    import time

    from routing.irp import (
        IrpParams,
        IrpSolution,
        check_solution,
        solution_to_json,
        solve_baseline,
        solve_irp,
    )

    instance = _read_instance(instance_file)
    started = time.monotonic()
    if baseline:
        solution = solve_baseline(instance, seed=seed)
    else:
        solution = solve_irp(instance, IrpParams(time_limit_s=time_limit_s, seed=seed))
    elapsed_s = time.monotonic() - started
    check = check_solution(instance, solution)
    extras = dict(solution.extras)
    extras["cost"] = {
        "routing": check.routing_cost,
        "holding": round(check.holding_cost, 4),
        "total": round(check.total_cost, 4),
    }
    extras["time_s"] = round(elapsed_s, 2)
    if check.violations:
        extras["violations"] = list(check.violations)
    if check.shortfalls:
        extras["shortfall"] = {
            "customer_periods": len(check.shortfalls),
            "units": round(check.shortfall_units, 4),
            "weighted": round(check.weighted_shortfall, 4),
        }
    text = solution_to_json(IrpSolution(solution.routes, solution.shortfalls, extras))
    if out_file is None:
        click.echo(text)
    else:
        Path(out_file).write_text(text + "\n", encoding="utf-8")
        click.echo(
            f"{instance.name}: cost {check.total_cost:.2f} (routing {check.routing_cost}, holding "
            f"{check.holding_cost:.2f}) in {elapsed_s:.1f} s -> {out_file}",
            err=True,
        )


@irp.command("check")
@click.argument("instance_file", type=click.Path(dir_okay=False))
@click.argument("solution_file", type=click.Path(dir_okay=False))
@fail_cleanly
def irp_check(instance_file: str, solution_file: str) -> None:
    """Check SOLUTION_FILE against INSTANCE_FILE: print the cost, or every violation (exit 1).

    A plan whose only fault is declared shortfalls (customers below their floor, each with its
    reason) breaks no rule of its own but is not feasible for the benchmark: each shortfall and
    the totals are printed, and the exit status is 1.
    """
    from routing.irp import check_solution, parse_solution

    instance = _read_instance(instance_file)
    try:
        text = Path(solution_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"SOLUTION: cannot read {solution_file!r}: {exc.strerror}") from exc
    check = check_solution(instance, parse_solution(text))
    if check.violations:
        for violation in check.violations:
            click.echo(f"violation: {violation}")
        click.echo(f"{len(check.violations)} violation(s): infeasible")
        sys.exit(1)
    if check.shortfalls:
        for period, customer, missing in check.shortfalls:
            click.echo(f"shortfall: period {period}, customer {customer}: {missing:g} below L")
        click.echo(
            f"valid, not feasible: {len(check.shortfalls)} shortfall(s), "
            f"{check.shortfall_units:g} units below the floor (weighted "
            f"{check.weighted_shortfall:g}); cost {check.total_cost:.2f} (routing "
            f"{check.routing_cost}, holding {check.holding_cost:.2f})"
        )
        sys.exit(1)
    click.echo(
        f"feasible: cost {check.total_cost:.2f} (routing {check.routing_cost}, holding "
        f"{check.holding_cost:.2f})"
    )
