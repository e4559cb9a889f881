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
