"""The ``serve`` command: the API and the web map on a production WSGI server.

One process (``--workers 1``, the default) runs waitress with ``--threads`` threads. Several
(``--workers N``) run gunicorn: a master process that only binds the port and watches N worker
processes, each with ``--threads`` threads (gunicorn's ``gthread`` worker). Each worker builds
its own app after the fork (no preload), so no database connection, loaded network or thread is
shared between processes; the master upgrades the schema once, before any worker starts.

What each process holds for itself: the failed-authentication lockout and the costly-operation
limits (in memory, :mod:`web.auth`), and the map's road networks. What they share is safe across
processes: the registry (SQLite in WAL mode, writes in ``BEGIN IMMEDIATE`` transactions, or
PostgreSQL) and the plan and scenario-run folders (each written to a temporary folder, then
renamed into place).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.common import (
    DATABASE_OPTION,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from api import ApiConfig

WORKER_SILENT_TIMEOUT_S = 300
"""Seconds gunicorn lets a worker go silent before it replaces it. A worker's start loads the
map's road networks (tens of seconds on a cold cache, on a loaded machine more) before its first
heartbeat; afterwards the ``gthread`` worker's heartbeat does not wait for requests, so a long
plan computation never counts as silence."""


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker process.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help=(
        "Worker processes. 1: one waitress process; more: gunicorn's master and this many "
        "worker processes (Linux and other Unix systems), each with its own limiters "
        "(README: Serving with several processes)."
    ),
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    default=("hcmc",),
    show_default=True,
    help="Region served by the map and the plan endpoints (repeat for several).",
)
@DATABASE_OPTION
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    threads: int,
    workers: int,
    regions: tuple[str, ...],
    database_url: str | None,
) -> None:
    """Serve the HTTP API and the web map on a production WSGI server (waitress or gunicorn)."""
    import logging

    if workers > 1 and sys.platform == "win32":
        raise click.BadParameter(
            f"{workers}: several worker processes need gunicorn, which runs on Linux and other "
            "Unix systems only; use --workers 1 (waitress) here",
            param_hint="--workers",
        )
    logging.basicConfig(level=logging.INFO)
    config = _api_config(ctx, regions, database_url)
    if workers == 1:
        # One process: it also scans for alerts and sends due webhooks every minute (issue 14).
        config = dataclasses.replace(config, alert_monitor_interval_s=ALERT_SCAN_INTERVAL_S)
        _serve_one_process(config, host=host, port=port, threads=threads)
    else:
        # Several: no worker scans (N monitors would send each webhook attempt N times); the
        # scan runs from cron: `oxyroute alerts scan` (docs/live-operations-alerts.md).
        click.echo(
            "alerts: with several workers, run `oxyroute alerts scan` every minute (cron); "
            "the workers do not scan"
        )
        _serve_worker_processes(config, host=host, port=port, threads=threads, workers=workers)


ALERT_SCAN_INTERVAL_S = 60.0
"""How often a one-process server scans for alerts and sends due webhooks."""


def _api_config(
    ctx: click.Context, regions: tuple[str, ...], database_url: str | None
) -> ApiConfig:
    """Return the app's configuration from the command's options and the environment."""
    from api import ApiConfig
    from data.db import resolve_database_url
    from web.map import WebMapConfig

    webmap = WebMapConfig.from_environment()
    webmap = dataclasses.replace(
        webmap,
        regions=webmap.regions or regions,
        data_dir=Path(ctx.obj["data_dir"]) if ctx.obj["data_dir"] else None,
        cache_dir=Path(ctx.obj["cache_dir"]) if ctx.obj["cache_dir"] else None,
    )
    return ApiConfig(
        database_url=resolve_database_url(database_url),
        regions=regions,
        data_dir=ctx.obj["data_dir"],
        cache_dir=ctx.obj["cache_dir"],
        webmap=webmap,
    )


def _announce(host: str, port: int, how: str) -> None:
    click.echo(
        f"serving the map at http://{host}:{port}/ and the API at http://{host}:{port}/api/v1 "
        f"(OpenAPI at /api/v1/openapi.json; {how}); Ctrl-C stops"
    )


def _serve_one_process(config: ApiConfig, *, host: str, port: int, threads: int) -> None:
    """Serve from this process with waitress (the behaviour of ``serve`` before ``--workers``)."""
    import waitress

    from api import create_app

    app = create_app(config)
    _announce(host, port, f"waitress, one process, {threads} threads")
    waitress.serve(app, host=host, port=port, threads=threads, ident="oxyroute")


def _serve_worker_processes(
    config: ApiConfig, *, host: str, port: int, threads: int, workers: int
) -> None:
    """Serve with gunicorn: this process is the master, ``workers`` forked processes answer.

    The schema is upgraded here, once, and the engine disposed before any fork; each worker then
    builds its app (``upgrade_schema=False``) in :meth:`load`, after the fork.
    """
    from data.db import create_db_engine, upgrade_database

    engine = create_db_engine(config.database_url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    worker_config = dataclasses.replace(config, upgrade_schema=False)
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,
        "timeout": WORKER_SILENT_TIMEOUT_S,
        "proc_name": "oxyroute",
        # gunicorn >= 25.1 opens a control socket at a fixed path in $HOME by default: two
        # servers on one machine would fight over it, and nothing here uses it.
        "control_socket_disable": True,
        # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
        # connections over them evenly. On one shared socket, whichever worker woke first took
        # them: 44 of locust's 50 keep-alive connections on one worker, 6 on the other, so one
        # worker queued while the other idled (issue 16, saturation).
        "reuse_port": True,
    }
    _announce(host, port, f"gunicorn, {workers} worker processes x {threads} threads")
    _gunicorn_application(options, lambda: _create_worker_app(worker_config)).run()


def _create_worker_app(config: ApiConfig) -> Any:
    import logging
    import os

    from api import create_app

    app = create_app(config)
    # Benchmarks wait for one such line per worker before they load the server.
    logging.getLogger("oxyroute.serve").info("worker %d ready", os.getpid())
    return app


def _gunicorn_application(options: dict[str, Any], build_app: Callable[[], Any]) -> Any:
    """Return a gunicorn application with ``options`` whose workers call ``build_app``.

    gunicorn is imported here, not at the module's top: it needs Unix (``fcntl``), and the other
    commands must keep working without it.
    """
    from gunicorn.app.base import BaseApplication

    class _OxyrouteGunicorn(BaseApplication):  # type: ignore[misc]
        """gunicorn configured by ``serve``'s options, not by its command line or a file."""

        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # an option older gunicorns lack is left out
                    self.cfg.set(key, value)

        def load(self) -> Any:
            # Called in each worker after the fork (preload_app is off).
            return build_app()

    return _OxyrouteGunicorn()
