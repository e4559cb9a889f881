"""Province and district outlines for the facility checks, loaded once per app (issue 13).

Facilities created over HTTP (``POST``/``PUT /facilities``, ``POST /imports/facilities``) get
their province checked against their point and their district from it; the outlines come from
the shared data directory and are read on first use. Without the file the check is skipped, as
before it existed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import current_app

from data.errors import MissingDataFileError
from web.common import app_state


def province_shapes() -> Sequence[tuple[str, Any]] | None:
    """Return the 2021 province shapes, loaded once per app on the first facilities import.

    Without the shared TopoJSON (a data directory without it) facilities import without the
    province check, as before it existed; the check needs the shapes, not the request.
    """
    from data.provinces import province_shapes_2021

    return _shapes_once("oxyroute_province_shapes", province_shapes_2021)


def district_shapes() -> Sequence[tuple[str, Any]] | None:
    """Return the district outlines (OSM 2018), loaded once per app; None without the file.

    Facilities imported without a district get the one their point lies in (issue 13).
    """
    from data.districts import district_shapes as load

    return _shapes_once("oxyroute_district_shapes", load)


def _shapes_once(
    key: str, load: Callable[[Path], Sequence[tuple[str, Any]]]
) -> Sequence[tuple[str, Any]] | None:
    from data.settings import resolve_data_dir

    cache = current_app.extensions.setdefault(key, {})
    if "shapes" not in cache:
        try:
            cache["shapes"] = load(resolve_data_dir(app_state().config.data_dir))
        except MissingDataFileError:
            cache["shapes"] = None
    shapes: Sequence[tuple[str, Any]] | None = cache["shapes"]
    return shapes
