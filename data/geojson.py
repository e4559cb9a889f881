"""GeoJSON conventions of every export: coordinate precision, geometry encoding, simplifying."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import mapping

#: Decimal places of exported coordinates: 6 decimals is about 0.1 m, as RFC 7946 suggests.
COORDINATE_DECIMALS = 6
MERCATOR_EPSG = 3857


def _rounded(value: Any, decimals: int) -> Any:
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, list | tuple):
        return [_rounded(v, decimals) for v in value]
    return value


def geometry_to_geojson(
    geometry: shapely.Geometry,
    *,
    decimals: int = COORDINATE_DECIMALS,
) -> dict[str, Any]:
    """Return a shapely geometry as an RFC 7946 geometry dict (polygons oriented, rounded)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        # Snap-round to the output grid first: plain rounding can make a valid shape invalid.
        geometry = shapely.set_precision(geometry, 10.0**-decimals)
        geometry = shapely.orient_polygons(geometry, exterior_cw=False)
    out = dict(mapping(geometry))
    out["coordinates"] = _rounded(out["coordinates"], decimals)
    return out


def simplify_mercator(geometry: shapely.Geometry, tolerance_m: float) -> shapely.Geometry:
    """Simplify a WGS84 geometry with a tolerance in Web Mercator metres (topology kept)."""
    to_mercator = pyproj.Transformer.from_crs(4326, MERCATOR_EPSG, always_xy=True)
    to_wgs84 = pyproj.Transformer.from_crs(MERCATOR_EPSG, 4326, always_xy=True)

    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_mercator.transform(xy[:, 0], xy[:, 1]))

    def back(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))

    simple = shapely.simplify(
        shapely.transform(geometry, forward), tolerance_m, preserve_topology=True
    )
    return shapely.transform(simple, back)
