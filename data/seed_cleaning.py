"""Cleaning of the seeded registry: duplicates merged, provinces and districts from the points.

Used by :func:`data.seed.hcmc_seed` (docs/seed.md, "Duplicates" and "Provinces from the
coordinates"); :mod:`data.seed` re-exports these names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from data.schema.registry import Facility


def assign_districts(facilities: Sequence[Facility], districts: dict[str, Any]) -> list[Facility]:
    """Set each facility's district from OSM district polygons (point in polygon).

    ``districts`` is a GeoJSON FeatureCollection of (Multi)Polygons with a ``name`` property; only
    complete polygons are used. Facilities outside every polygon, or with a district already, are
    left as they are.
    """
    from data.districts import district_for_point, district_polygons

    polygons = district_polygons(districts)
    out = []
    for facility in facilities:
        if facility.district:
            out.append(facility)
            continue
        name = district_for_point(facility.lon, facility.lat, polygons)
        out.append(dataclasses.replace(facility, district=name) if name else facility)
    return out


PROVINCE_NAMES = {
    "74": "Bình Dương",
    "75": "Đồng Nai",
    "77": "Bà Rịa - Vũng Tàu",
    "79": "Hồ Chí Minh",
    "80": "Long An",
}


def assign_provinces(
    facilities: Sequence[Facility], shapes: Sequence[tuple[str, Any]]
) -> tuple[list[Facility], list[str]]:
    """Set each facility's province from its point (:func:`data.provinces.province_for_point`).

    A facility whose point lies in another province than the declared one is moved there, and
    its ``source`` says so; a point outside every shape keeps the declared province. Districts
    of the old province are dropped with it.

    Returns
    -------
    (facilities, notes)
        The facilities, and one note per disagreement with the declared province.
    """
    from data.provinces import province_for_point

    out, notes = [], []
    for facility in facilities:
        code = province_for_point(facility.lon, facility.lat, shapes)
        if code is None or code == facility.province_code:
            if code is None:
                notes.append(f"{facility.facility_id}: point in no province shape; kept {code}")
            out.append(facility)
            continue
        notes.append(
            f"{facility.facility_id} {facility.name}: province_code: declared "
            f"{facility.province_code}, point in {code} ({PROVINCE_NAMES.get(code, code)})"
        )
        # Short: a facility's source holds 300 characters.
        note = f"province {code} from point (declared {facility.province_code})"
        source = "; ".join(part for part in (facility.source, note) if part)
        out.append(dataclasses.replace(facility, province_code=code, district=None, source=source))
    return out, notes


def merge_duplicates(facilities: Sequence[Facility]) -> tuple[list[Facility], list[str]]:
    """Keep one facility of each group of duplicates (:func:`data.dedupe.find_duplicates`).

    The kept record is :func:`data.dedupe.keeper`'s; its ``source`` names the records merged
    into it. OSM ids come from facility ids ``osm-<type>-<id>``.

    Returns
    -------
    (facilities, notes)
        The facilities left, in input order, and one note per merged record.
    """
    from data.dedupe import DedupeCandidate, duplicate_groups, find_duplicates, keeper

    candidates = [
        DedupeCandidate(
            f.facility_id,
            f.name,
            f.lon,
            f.lat,
            f.facility_id.removeprefix("osm-").replace("-", "/", 1)
            if f.facility_id.startswith("osm-")
            else None,
        )
        for f in facilities
    ]
    pairs = find_duplicates(candidates)
    by_id = {f.facility_id: f for f in facilities}
    rules = {frozenset((p.first_id, p.second_id)): p for p in pairs}
    dropped: set[str] = set()
    kept: dict[str, Facility] = {}
    notes = []
    for group in duplicate_groups(candidates, pairs):
        keep = keeper(group)
        merged = []
        for other in group:
            if other.record_id == keep.record_id:
                continue
            pair = rules.get(frozenset((keep.record_id, other.record_id)))
            how = f"{pair.rule} {pair.distance_m:.0f} m" if pair else "same group"
            merged.append((other.record_id, other.name, how))
            dropped.add(other.record_id)
        notes.append(
            f"{keep.record_id} {keep.name}: merged "
            + "; ".join(f"{rid} {name!r} ({how})" for rid, name, how in merged)
        )
        facility = by_id[keep.record_id]
        note = "merged " + ", ".join(f"{rid} ({how})" for rid, _, how in merged)
        source = "; ".join(part for part in (facility.source, note) if part)
        kept[keep.record_id] = dataclasses.replace(facility, source=source)
    return [kept.get(f.facility_id, f) for f in facilities if f.facility_id not in dropped], notes
