"""Named outlines read once from a slow source file and kept as WKB in the cache directory.

Province shapes (TopoJSON) and district outlines (an OSM extract) take 0.2-1.3 s to read; the
facility checks need them on the first facility a server stores, where a request must answer
within a second. They are kept as hex WKB in ``cache_dir``, keyed by the source file's size and
modification time, so a changed source is read again, and written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely


def cached_shapes(
    source: Path,
    cache_dir: Path | None,
    name: str,
    load: Callable[[], list[tuple[str, Any]]],
) -> list[tuple[str, Any]]:
    """Return ``load()``'s (name, geometry) pairs, from the cache when ``source`` is unchanged.

    Without ``cache_dir``, or when ``source`` is not a file (``load`` then reports it), ``load``
    runs every time.
    """
    if cache_dir is None or not source.is_file():
        return load()
    stat = source.stat()
    cached = cache_dir / "shapes" / f"{name}-{stat.st_size}-{stat.st_mtime_ns}.json"
    if cached.is_file():
        rows = json.loads(cached.read_text(encoding="utf-8"))
        return [(key, shapely.from_wkb(bytes.fromhex(wkb))) for key, wkb in rows]
    shapes = load()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(
        json.dumps([(key, shapely.to_wkb(shape, hex=True)) for key, shape in shapes]),
        encoding="utf-8",
    )
    partial.replace(cached)  # atomic: another process never reads half a file
    return shapes
