"""Plans as GeoPackage files for QGIS: one layer per feature kind, WGS84, names in UTF-8."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

GEOPACKAGE_LAYERS = {"facility": "facilities", "supplier": "suppliers", "flow": "flows"}


def geojson_to_geopackage(collection: dict[str, Any]) -> bytes:
    """Write a plan's GeoJSON as a GeoPackage, one layer per kind.

    The GeoJSON is :func:`coordination.planning.plan_to_geojson`'s.

    Layers ``facilities`` and ``suppliers`` (points) and ``flows`` (lines), WGS84 (EPSG:4326), as
    QGIS users expect (INTEROP.md). Properties that are lists or objects are stored as JSON text;
    text is UTF-8, so Vietnamese names survive. Built from the GeoJSON so that a stored plan can
    be converted without recomputing it.
    """
    import tempfile

    import geopandas as gpd

    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for feature in collection["features"]:
        properties = {
            key: json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
            for key, value in feature["properties"].items()
        }
        by_kind[properties.pop("kind")].append({**feature, "properties": properties})
    with tempfile.TemporaryDirectory(prefix="oxyroute-gpkg-") as folder:
        path = Path(folder) / "plan.gpkg"
        for kind, layer in GEOPACKAGE_LAYERS.items():
            if not by_kind.get(kind):
                continue
            frame = gpd.GeoDataFrame.from_features(by_kind[kind], crs="EPSG:4326")
            frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        if not path.exists():  # an empty plan: an empty but valid file with its facilities layer
            gpd.GeoDataFrame({"facility_id": []}, geometry=[], crs="EPSG:4326").to_file(
                path, layer="facilities", driver="GPKG", engine="pyogrio"
            )
        return path.read_bytes()
