"""Province and district outlines for the facility checks, loaded once per process (issue 13).

Facilities created over HTTP (``POST``/``PUT /facilities``, ``POST /imports/facilities``) get
their province checked against their point and their district from it; the outlines come from
the shared data directory and are read once per process, on first use. Without the file the
check is skipped, as before it existed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from data.errors import MissingDataFileError
from web.common import app_state


def province_shapes() -> Sequence[tuple[str, Any]] | None:
    """Return the 2021 province shapes, loaded once (per process) on first use.

    Without the shared TopoJSON (a data directory without it) facilities import without the
    province check, as before it existed; the check needs the shapes, not the request.
    """
    from data.provinces import province_shapes_2021 as load
    from data.settings import resolve_cache_dir

    cache_dir = resolve_cache_dir(app_state().config.cache_dir)
    return _shapes_once("oxyroute_province_shapes", lambda data_dir: load(data_dir, cache_dir))


def district_shapes() -> Sequence[tuple[str, Any]] | None:
    """Return the district outlines (OSM 2018), loaded once; None without the file.

    Facilities imported without a district get the one their point lies in (issue 13).
    """
    from data.districts import district_shapes as load
    from data.settings import resolve_cache_dir

    cache_dir = resolve_cache_dir(app_state().config.cache_dir)
    return _shapes_once("oxyroute_district_shapes", lambda data_dir: load(data_dir, cache_dir))


_LOADED: dict[tuple[str, Path], Sequence[tuple[str, Any]] | None] = {}
_LOCK = threading.Lock()


def _shapes_once(
    key: str, load: Callable[[Path], Sequence[tuple[str, Any]]]
) -> Sequence[tuple[str, Any]] | None:
    """Load outlines once per process and data directory (they are read-only files).

    The district outlines take about 1.3 s to read from the OSM file: once per process, not per
    app or request (a test session makes many apps).
    """
    from data.settings import resolve_data_dir

    data_dir = Path(resolve_data_dir(app_state().config.data_dir))
    with _LOCK:
        if (key, data_dir) not in _LOADED:
            try:
                _LOADED[key, data_dir] = load(data_dir)
            except MissingDataFileError:
                _LOADED[key, data_dir] = None
        return _LOADED[key, data_dir]
