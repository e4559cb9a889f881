"""Road network commands: travel-time matrices, single routes, graph information."""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from data.errors import InvalidInputError, NoRouteError
from data.schema.network import Place, TravelMatrix

if TYPE_CHECKING:
    from routing.travel_time import Backend

from commands.common import (
    fail_cleanly,
    fmt,
    region_network,
)


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
                            fmt(matrix.duration_s[i, j]),
                            fmt(matrix.distance_m[i, j]),
                        ]
                    )
        else:
            array = matrix.duration_s if value == "duration_s" else matrix.distance_m
            writer.writerow([f"origin_id \\ destination_id ({value})", *matrix.destination_ids])
            for i, origin_id in enumerate(matrix.origin_ids):
                writer.writerow([origin_id, *(fmt(v) for v in array[i])])


def _report_unreachable(matrix: TravelMatrix) -> None:
    for snap in matrix.snaps.values():
        if not snap.reachable:
            click.echo(f"unreachable: {snap.place_id}: {snap.reason}", err=True)


@click.command()
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
@click.option(
    "--id-column", default="id", show_default=True, help="Id column (or GeoJSON property)."
)
@click.option(
    "--to-id-column",
    default=None,
    help="Id column of the --to file when it differs (default: --id-column).",
)
@click.option("--name-column", default="name", show_default=True, help="Name column.")
@click.option("--lon-column", default="lon", show_default=True, help="Longitude column (CSV).")
@click.option("--lat-column", default="lat", show_default=True, help="Latitude column (CSV).")
@click.pass_context
@fail_cleanly
def matrix(
    ctx: click.Context,
    region_name: str,
    from_file: Path,
    to_file: Path,
    out_file: Path,
    layout: str,
    value: str,
    backend: Backend,
    id_column: str,
    to_id_column: str | None,
    name_column: str,
    lon_column: str,
    lat_column: str,
) -> None:
    """Write road travel times (s) and distances (m) between two sets of places.

    The column options apply to both files (a region's facilities file with ``--id-column
    osm_id``, for example).
    """
    from data.places import read_places
    from routing.travel_time import travel_time_matrix

    columns = {
        "id_column": id_column,
        "name_column": name_column,
        "lon_column": lon_column,
        "lat_column": lat_column,
    }
    origins = read_places(from_file, **columns, setting="options")
    if to_id_column is not None:
        columns["id_column"] = to_id_column
    destinations = read_places(to_file, **columns, setting="options")
    _prepare_output_file(out_file, "--out")
    region, network = region_network(ctx, region_name)
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


@click.command()
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
@fail_cleanly
def route(
    ctx: click.Context, region_name: str, from_text: str, to_text: str, geojson_file: Path | None
) -> None:
    """Print the fastest road path between two points (time, length, roads)."""
    from routing.travel_time import road_path

    origin, destination = _parse_lonlat(from_text, "--from"), _parse_lonlat(to_text, "--to")
    if geojson_file is not None:
        _prepare_output_file(geojson_file, "--geojson")
    region, network = region_network(ctx, region_name)
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


@click.group()
def graph() -> None:
    """Build or inspect a region's cached road network."""


@graph.command("info")
@click.option("--region", "region_name", default="hcmc", show_default=True)
@click.pass_context
@fail_cleanly
def graph_info(ctx: click.Context, region_name: str) -> None:
    """Print the road network summary as JSON (building and caching it if needed)."""
    _, network = region_network(ctx, region_name)
    click.echo(json.dumps(network.summary(), ensure_ascii=False, indent=1))
