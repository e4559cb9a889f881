"""Shared parts of the command line: error exits, progress, the region's network, the registry."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from data.errors import InvalidInputError, MissingDataFileError, OxyrouteError

F = TypeVar("F", bound=Callable[..., Any])


def progress(message: str) -> None:
    """Print a progress line on standard error."""
    click.echo(message, err=True)


def fail_cleanly(func: F) -> F:
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


def region_network(ctx: click.Context, region_name: str) -> tuple[Any, Any]:
    """Load a region and its cached road network, with the command line's data and cache dirs."""
    from data.region import load_region
    from data.settings import resolve_cache_dir
    from routing.graph import network_for_region

    region = load_region(region_name, data_dir=ctx.obj["data_dir"])
    network = network_for_region(
        region,
        cache_dir=resolve_cache_dir(ctx.obj["cache_dir"]),
        online=ctx.obj["online"],
        progress=progress,
    )
    return region, network


def fmt(value: float, digits: int = 1) -> str:
    """Format a number with ``digits`` decimals; an empty string for infinity or NaN."""
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows of text as a left-aligned plain-text table."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def registry_store(database_url: str | None):  # type: ignore[no-untyped-def]
    """Open the registry at ``database_url`` (or the default), migrated to the latest schema."""
    from data.db import create_db_engine, resolve_database_url, upgrade_database
    from data.store import Store

    engine = create_db_engine(resolve_database_url(database_url))
    upgrade_database(engine)
    return Store(engine)


DATABASE_OPTION = click.option(
    "--database-url",
    envvar="OXYROUTE_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL of the registry (default: a SQLite file in ~/.local/share/oxyroute).",
)


def registry_fleet(database_url: str | None) -> list[Any]:
    """Return the registry's vehicles that can be dispatched (a home depot and a capacity)."""
    from coordination.dispatch import FleetVehicle

    fleet = []
    for record in registry_store(database_url).list_records("vehicles", limit=None):
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


def write_plan_files(result: Any, out_dir: Path, *, act_first: Sequence[str] = ()) -> str:
    """Write a plan's folder: plan.json, plan.geojson, plan.gpkg, the CSVs and summary.txt.

    ``act_first`` (:func:`coordination.act_first.act_first_for_plan`) opens the summary; the
    summary is returned as written.
    """
    from coordination.planning import (
        plan_summary,
        plan_to_csv,
        plan_to_dict,
        plan_to_geojson,
    )
    from data.exchange.geopackage import geojson_to_geopackage

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plan.json").write_text(
        json.dumps(plan_to_dict(result), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    geojson = plan_to_geojson(result)
    (out_dir / "plan.geojson").write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
    (out_dir / "plan.gpkg").write_bytes(geojson_to_geopackage(geojson))
    for name, text in plan_to_csv(result).items():
        (out_dir / name).write_text(text, encoding="utf-8-sig")
    from coordination.act_first import with_act_first

    summary = with_act_first(plan_summary(result), act_first)
    (out_dir / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    return summary


def plan_region(plan: Any, region_option: str | None = None) -> str:
    """Return the region to load for a plan document (``plan.json``).

    ``--region`` when given; else the plan's ``region_file`` (written for a region given by path,
    issue 16: ``region`` keeps only the file's stem); else its ``region`` (a bundled name).
    """
    if region_option is not None:
        return region_option
    if isinstance(plan, dict):
        region_file = plan.get("region_file")
        if isinstance(region_file, str) and region_file:
            return region_file
        return str(plan.get("region", ""))
    return ""


def scenario_region(region: str, scenario_file: Path) -> str:
    """Return a scenario's region, a relative ``.toml`` path taken beside the scenario file.

    A bundled name, an absolute path and a path that exists from the working directory are kept
    as they are.
    """
    candidate = Path(region)
    if (
        candidate.suffix == ".toml"
        and not candidate.is_absolute()
        and not candidate.is_file()
        and (scenario_file.parent / candidate).is_file()
    ):
        return str(scenario_file.parent / candidate)
    return region
