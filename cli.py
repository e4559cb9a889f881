"""The ``oxyroute`` command line: the group and its global options; the commands live in commands/.

Each command is a thin wrapper: parse, call the packages, print or write files (I/O lives here).
"""

from __future__ import annotations

import click

from commands.alerts import alerts
from commands.deliveries import deliveries
from commands.invest import invest
from commands.irp import irp
from commands.network import graph, matrix, route
from commands.plans import allocate, plan, run
from commands.registry import db, users
from commands.replan import replan_command
from commands.routes import dispatch_command, vrp
from commands.scenarios import scenario
from commands.server import serve
from commands.status import status
from commands.urgent_requests import requests_group


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


for _command in (
    matrix,
    route,
    graph,
    run,
    db,
    users,
    serve,
    allocate,
    plan,
    scenario,
    vrp,
    dispatch_command,
    alerts,
    requests_group,
    deliveries,
    status,
    replan_command,
    invest,
    irp,
):
    main.add_command(_command)
