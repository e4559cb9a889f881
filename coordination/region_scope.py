"""A plan's region scope: which registry records a region's plan takes, and what it leaves out.

The registry is national: one database holds the facilities, suppliers and vehicles of every
region (issue 16: a plan for one city listed the other city's suppliers and vehicles, and
dropped registry facilities off its map without a word). A region's plan takes, by the
region's **map** (its road network's bounding box), not by province (a city's oxygen comes from
plants in other provinces):

* **facilities** inside the map's bounding box widened by :data:`FACILITY_MARGIN_DEG` (0.02°,
  about 2.2 km: a hospital at the extract's edge still counts);
* **suppliers** the roads can reach: inside the bounding box widened by the region's
  ``max_snap_m`` (a point farther from every road cannot be snapped), or linked by one of the
  region's gateways;
* **vehicles** through their depots: the dispatch uses only vehicles whose home depot is one of
  the plan's suppliers (``coordination.dispatch``), the others are listed as excluded.

What is left out is said, with the reason: every supplier, and the facilities of the region's
own province (of every province when the region has no ``province_code``); facilities of other
provinces are only counted. The plan also notes the places it snapped far from a road
(:data:`FAR_SNAP_M`): a facility 800 m outside the map is planned from the nearest road, which
the coordinator must know.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from data.region import DEFAULT_MAX_SNAP_M

if TYPE_CHECKING:
    from coordination.planning import CoordinatorPlan
    from data.region import Region

#: Margin around the map's bounding box within which registry facilities are planned (degrees).
FACILITY_MARGIN_DEG = 0.02
#: A place snapped farther than this from a road gets a note in the plan (m).
FAR_SNAP_M = 300.0
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A registry record a region's plan does not take, and why."""

    kind: str
    record_id: str
    name: str
    province_code: str | None
    lon: float | None
    lat: float | None
    #: Great-circle distance from the map's bounding box (m); ``None`` without a position.
    distance_from_map_m: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (``location`` as WGS84 ``[lon, lat]``, distance in whole m)."""
        return {
            "kind": self.kind,
            "id": self.record_id,
            "name": self.name,
            "province_code": self.province_code,
            "location": None if self.lon is None else [self.lon, self.lat],
            "distance_from_map_m": None
            if self.distance_from_map_m is None
            else round(self.distance_from_map_m),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RegionScope:
    """The records a region's plan takes, and those it leaves out."""

    facilities: tuple[Any, ...]
    suppliers: tuple[Any, ...]
    left_out: tuple[LeftOut, ...]
    #: Facilities off the map in other provinces than the region's: counted, not listed.
    other_provinces_off_map: int


def distance_to_bbox_m(lon: float, lat: float, bbox: Sequence[float]) -> float:
    """Return the great-circle distance (m) from a WGS84 point to a ``[w, s, e, n]`` box.

    0 inside the box.
    """
    west, south, east, north = bbox
    near_lon, near_lat = min(max(lon, west), east), min(max(lat, south), north)
    phi1, phi2 = math.radians(lat), math.radians(near_lat)
    d_phi, d_lambda = phi2 - phi1, math.radians(near_lon - lon)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _inside(lon: float, lat: float, bbox: Sequence[float], margin_deg: float) -> bool:
    west, south, east, north = bbox
    return (
        west - margin_deg <= lon <= east + margin_deg
        and south - margin_deg <= lat <= north + margin_deg
    )


def scope_registry(
    facilities: Iterable[Any],
    suppliers: Iterable[Any],
    region: Region,
    bbox: Sequence[float],
) -> RegionScope:
    """Split registry facilities and suppliers into those a region's plan takes and the rest.

    Parameters
    ----------
    facilities, suppliers
        Registry records (``data.schema.registry.Facility``, ``Supplier``): ids, names,
        provinces and WGS84 positions.
    region
        Its gateways, ``max_snap_m`` and ``province_code``.
    bbox
        The road network's ``[west, south, east, north]`` (WGS84 degrees).
    """
    # Read with defaults: callers may pass a region-like object with fewer fields (a test's map).
    province_code = getattr(region, "province_code", None)
    max_snap_m = float(getattr(region, "max_snap_m", DEFAULT_MAX_SNAP_M))
    gateways = getattr(region, "gateways", ())
    kept_facilities, left_out, others = [], [], 0
    for record in facilities:
        if _inside(record.lon, record.lat, bbox, FACILITY_MARGIN_DEG):
            kept_facilities.append(record)
            continue
        if province_code is not None and record.province_code != province_code:
            others += 1
            continue
        distance = distance_to_bbox_m(record.lon, record.lat, bbox)
        left_out.append(
            LeftOut(
                "facility",
                record.facility_id,
                record.name,
                record.province_code,
                record.lon,
                record.lat,
                distance,
                f"{distance / 1000:,.1f} km off the map of {region.name} (facilities are planned "
                f"within {FACILITY_MARGIN_DEG}° of its roads' bounding box)",
            )
        )
    linked = {place_id for gateway in gateways for place_id in gateway.links}
    margin_deg = max_snap_m / 111_320.0  # a degree of latitude; longitude is no longer
    kept_suppliers = []
    for record in suppliers:
        if record.lon is not None and (
            record.supplier_id in linked or _inside(record.lon, record.lat, bbox, margin_deg)
        ):
            kept_suppliers.append(record)
            continue
        off_m = None if record.lon is None else distance_to_bbox_m(record.lon, record.lat, bbox)
        reason = (
            "no position in the registry: give its lon and lat to plan it"
            if off_m is None
            else f"{off_m / 1000:,.1f} km off the map of {region.name}, beyond its "
            f"{max_snap_m:,.0f} m snapping limit, and linked by none of its gateways (add a "
            "[[gateways]] link to plan it)"
        )
        left_out.append(
            LeftOut(
                "supplier",
                record.supplier_id,
                record.name,
                record.province_code,
                record.lon,
                record.lat,
                off_m,
                reason,
            )
        )
    return RegionScope(tuple(kept_facilities), tuple(kept_suppliers), tuple(left_out), others)


def far_snaps(plan: CoordinatorPlan) -> list[dict[str, Any]]:
    """Return the plan's facilities and suppliers snapped farther than :data:`FAR_SNAP_M`.

    Each: ``kind``, ``id``, ``name``, ``snap_distance_m`` (whole m), ``road_name`` (of the
    nearest road, may be empty) and ``note``; farthest first.
    """
    names = {f.facility_id: ("facility", f.name) for f in plan.request.facilities}
    names.update({s.supplier_id: ("supplier", s.name) for s in plan.request.suppliers})
    notes: list[dict[str, Any]] = []
    for place_id, snap in plan.matrix.snaps.items():
        distance = snap.snap_distance_m
        if place_id not in names or not snap.reachable or snap.gateway_id is not None:
            continue
        if distance is None or distance <= FAR_SNAP_M:
            continue
        kind, name = names[place_id]
        road = snap.road_name or "an unnamed road"
        notes.append(
            {
                "kind": kind,
                "id": place_id,
                "name": name,
                "snap_distance_m": round(distance),
                "road_name": snap.road_name,
                "note": f"{distance:,.0f} m from the nearest road of the map ({road}); its "
                "travel times start there: check its position, or whether the map covers it",
            }
        )
    notes.sort(key=lambda n: -float(n["snap_distance_m"]))
    return notes


def scope_document(plan: CoordinatorPlan) -> dict[str, Any]:
    """Return the plan document's scope keys.

    ``left_out``, ``off_map_other_provinces``, ``far_snaps``, and ``region_file`` for a region
    given by path.
    """
    request = plan.request
    document: dict[str, Any] = {
        "left_out": [entry.to_dict() for entry in request.left_out],
        "off_map_other_provinces": request.off_map_other_provinces,
        "far_snaps": far_snaps(plan),
    }
    if request.region_file is not None:
        document["region_file"] = request.region_file
    return document


def scope_text(plan: CoordinatorPlan, *, listed: int = 10) -> str:
    """Return the summary's lines on what the plan left out and snapped far (empty if nothing)."""
    request = plan.request
    lines = []
    snaps = far_snaps(plan)
    if snaps:
        lines.append(f"Snapped far from the map's roads ({len(snaps)}):")
        lines += [f"  {n['kind']} {n['id']} {n['name']}: {n['note']}" for n in snaps[:listed]]
    for kind in ("facility", "supplier"):
        entries = [e for e in request.left_out if e.kind == kind]
        if not entries:
            continue
        lines.append(f"Left out: {len(entries)} registry {kind} record(s) off this region's map:")
        lines += [f"  {e.record_id} {e.name}: {e.reason}" for e in entries[:listed]]
        if len(entries) > listed:
            lines.append(f"  ... and {len(entries) - listed} more (plan.json, left_out)")
    if request.off_map_other_provinces:
        lines.append(
            f"Left out: {request.off_map_other_provinces} registry facilities of other provinces, "
            "off this region's map (counted, not listed)"
        )
    return "\n".join(lines)
