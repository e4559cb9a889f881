"""The ``serve`` command: the API and the web map on a production WSGI server."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import (
    DATABASE_OPTION,
)


@click.command("serve")
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
@DATABASE_OPTION
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
