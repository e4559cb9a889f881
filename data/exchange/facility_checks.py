"""Checks of imported facility rows: province and district from the point, duplicates (issue 13).

**Province from the coordinates.** With the 2021 province shapes
(:func:`data.provinces.province_shapes_2021`), each row's point gives its province
(:func:`data.provinces.province_for_point`). A declared ``province_code`` that differs is refused
with the row, the declared and the found province, in Vietnamese and English, unless the point
lies within :data:`BORDER_TOLERANCE_M` of the declared province's shape: the shapes are coarse
(Open Development Vietnam outlines, simplified), so a hospital on a border street may fall a few
hundred metres on the wrong side; such a row is stored as declared and listed in the summary's
``warnings``. A point in no shape (offshore, or past a coarse coastline) keeps the declared
province, with a warning.

**District from the coordinates.** With district polygons (:func:`data.districts.district_shapes`:
Hồ Chí Minh City's OSM boundaries of 2018, the outlines the seed uses), a row without a district
gets the one its point lies in, listed in the summary's ``districts_from_points``; a declared
district that another polygon covers is kept as declared and flagged in ``warnings`` (Vietnamese
and English), as a province near its border is. Names are compared without diacritics and without
their kind word (:func:`data.districts.same_district`: "Q.5" is "Quận 5", "Thành phố Thủ Đức" is
"Quận Thủ Đức"). A point in no complete polygon (outside the city, or in a district the extract
cuts) is left as it is.

**Duplicates.** Each row is matched by :func:`data.dedupe.find_duplicates` (same OSM id; same
normalised name within 5 km; one name inside the other within 300 m) against the stored
facilities and the file's earlier rows; a match is refused, naming the row, the matching id and
name, the rule and the distance. A row with the id of a stored facility is that record (an
update), never its own duplicate. OSM ids come from ``osm-<type>-<id>`` facility ids and from an
optional ``osm_id`` column of the file (``way/127299413``), read for this check and not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from data.dedupe import (
    CONTAINED_NAME_MAX_M,
    SAME_NAME_MAX_M,
    DedupeCandidate,
    DuplicatePair,
    find_duplicates,
)
from data.errors import RowProblem
from data.schema.registry import Facility, RegistryRecord

BORDER_TOLERANCE_M = 500.0
"""A point this close (metres) to its declared province's shape is accepted with a warning: the
shared province outlines are simplified, and at 1:250,000 a border drawn 0.2 mm off is 50 m."""

_RULE_TEXT = {
    "same_osm_id": ("same OSM id", "cùng mã OSM"),
    "same_name": (f"same name within {SAME_NAME_MAX_M:,.0f} m", "cùng tên trong phạm vi"),
    "name_contained": (
        f"one name inside the other within {CONTAINED_NAME_MAX_M:,.0f} m",
        "tên này nằm trong tên kia, trong phạm vi",
    ),
}
# Degrees of latitude in 5 km, widened: a cheap box before the exact rules.
_NEAR_DEG = 0.06


@dataclass
class FacilityRowChecks:
    """Problems (refusals, by row) and warnings (stored, shown in the summary) of facility rows."""

    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: District found from the point, by row number, for rows that declare none.
    districts: dict[int, str] = field(default_factory=dict)


def osm_id_of(facility_id: str) -> str | None:
    """Return the OSM id a facility id carries (``osm-way-123`` -> ``way/123``), else None."""
    if not facility_id.startswith("osm-"):
        return None
    return facility_id.removeprefix("osm-").replace("-", "/", 1)


def _province_name(code: str) -> str:
    from data.provinces import PROVINCES_2021

    return next((name for c, name, _ in PROVINCES_2021 if c == code), code)


def distance_to_shape_m(lon: float, lat: float, shape: Any) -> float:
    """Return the distance in metres from a WGS84 point to a province shape (0 inside).

    The part of the shape near the point is projected to an azimuthal equidistant projection
    centred on the point, where distances from the centre are true; beyond about 5 km the
    answer is only "far" (``inf``).
    """
    import pyproj
    import shapely

    point = shapely.Point(lon, lat)
    if shape.covers(point):
        return 0.0
    near = shape.intersection(shapely.box(lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05))
    if near.is_empty:
        return float("inf")
    local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    to_local = pyproj.Transformer.from_crs(4326, local, always_xy=True).transform
    local_near = shapely.transform(near, to_local, interleaved=False)
    return float(local_near.distance(shapely.Point(0, 0)))


def province_checks(
    rows: Sequence[tuple[int, Facility]],
    shapes: Sequence[tuple[str, Any]],
    *,
    tolerance_m: float = BORDER_TOLERANCE_M,
) -> FacilityRowChecks:
    """Check each row's declared province against the one its point lies in (module docs)."""
    from data.provinces import province_for_point

    by_code = dict(shapes)
    out = FacilityRowChecks()
    for number, facility in rows:
        found = province_for_point(facility.lon, facility.lat, shapes)
        declared = facility.province_code
        if found == declared:
            continue
        warning = {"row": number, "facility_id": facility.facility_id, "field": "province_code"}
        if found is None:
            out.warnings.append(
                warning
                | {
                    "message_en": f"the point ({facility.lon}, {facility.lat}) lies in no "
                    f"province shape; province {declared} kept as declared",
                    "message_vi": f"tọa độ ({facility.lon}, {facility.lat}) không nằm trong "
                    f"tỉnh nào; giữ mã tỉnh {declared} như đã khai",
                }
            )
            continue
        gap_m = (
            distance_to_shape_m(facility.lon, facility.lat, by_code[declared])
            if declared in by_code
            else float("inf")
        )
        texts = (
            f"declared {declared} ({_province_name(declared)}) but the point lies in {found} "
            f"({_province_name(found)})",
            f"khai tỉnh {declared} ({_province_name(declared)}) nhưng tọa độ nằm trong tỉnh "
            f"{found} ({_province_name(found)})",
        )
        if gap_m <= tolerance_m:
            out.warnings.append(
                warning
                | {
                    "declared": declared,
                    "found": found,
                    "distance_to_declared_m": round(gap_m, 1),
                    "message_en": f"{texts[0]}, {gap_m:.0f} m from its border (within "
                    f"{tolerance_m:.0f} m): kept as declared",
                    "message_vi": f"{texts[1]}, cách ranh giới {gap_m:.0f} m (trong phạm vi "
                    f"{tolerance_m:.0f} m): giữ như đã khai",
                }
            )
            continue
        out.problems.append(
            RowProblem(
                number,
                "province_code",
                f"{texts[0]}; correct province_code or the coordinates / {texts[1]}; hãy sửa "
                "mã tỉnh hoặc tọa độ",
            )
        )
    return out


def district_checks(
    rows: Sequence[tuple[int, Facility]], polygons: Sequence[tuple[str, Any]]
) -> FacilityRowChecks:
    """Find each row's district from its point; flag a declared one that differs (module docs)."""
    from data.districts import district_for_point, same_district

    out = FacilityRowChecks()
    for number, facility in rows:
        found = district_for_point(facility.lon, facility.lat, polygons)
        if found is None:
            continue
        declared = (facility.district or "").strip()
        if not declared:
            out.districts[number] = found
        elif not same_district(declared, found):
            out.warnings.append(
                {
                    "row": number,
                    "facility_id": facility.facility_id,
                    "field": "district",
                    "declared": declared,
                    "found": found,
                    "message_en": f"declared district {declared!r} but the point "
                    f"({facility.lon}, {facility.lat}) lies in {found!r}: kept as declared; "
                    "correct district or the coordinates",
                    "message_vi": f"khai quận/huyện {declared!r} nhưng tọa độ ({facility.lon}, "
                    f"{facility.lat}) nằm trong {found!r}: giữ như đã khai; hãy sửa quận/huyện "
                    "hoặc tọa độ",
                }
            )
    return out


def _candidate(facility: Facility, osm_id: str | None = None) -> DedupeCandidate:
    return DedupeCandidate(
        facility.facility_id,
        facility.name,
        facility.lon,
        facility.lat,
        osm_id or osm_id_of(facility.facility_id),
    )


def _near(a: DedupeCandidate, b: DedupeCandidate) -> bool:
    if a.osm_id and a.osm_id == b.osm_id:
        return True
    return abs(a.lat - b.lat) <= _NEAR_DEG and abs(a.lon - b.lon) <= _NEAR_DEG


def _duplicate_reason(pair: DuplicatePair, other: str) -> str:
    en, vi = _RULE_TEXT.get(pair.rule, (pair.rule, pair.rule))
    if pair.rule == "same_name":
        vi = f"{vi} {SAME_NAME_MAX_M:,.0f} m"
    elif pair.rule == "name_contained":
        vi = f"{vi} {CONTAINED_NAME_MAX_M:,.0f} m"
    return (
        f"duplicate of {other}: {en}, {pair.distance_m:,.0f} m apart; if it is that facility, "
        f"use its id (an update) or leave the row out / trùng với {other}: {vi}, cách "
        f"{pair.distance_m:,.0f} m; nếu là cùng cơ sở, hãy dùng mã của nó hoặc bỏ dòng này"
    )


def duplicate_checks(
    rows: Sequence[tuple[int, Facility]],
    stored: Sequence[Facility],
    *,
    osm_ids: Mapping[int, str] | None = None,
) -> FacilityRowChecks:
    """Refuse rows that duplicate a stored facility or an earlier row (module docs).

    ``osm_ids`` maps a row number to the OSM id its ``osm_id`` column declares.
    """
    osm_ids = osm_ids or {}
    row_ids = {facility.facility_id for _, facility in rows}
    # A stored facility with a row's id is that row's record (replaced by it).
    others: list[tuple[int | None, DedupeCandidate]] = [
        (None, _candidate(f)) for f in stored if f.facility_id not in row_ids
    ]
    out = FacilityRowChecks()
    for number, facility in rows:
        mine = _candidate(facility, osm_ids.get(number))
        near = [(where, c) for where, c in others if _near(mine, c)]
        for where, candidate in near:
            if candidate.record_id == mine.record_id:
                continue
            pairs = find_duplicates([mine, candidate])
            if not pairs:
                continue
            label = "stored facility" if where is None else f"row {where}"
            other = f"{label} {candidate.record_id} {candidate.name!r}"
            column = "osm_id" if pairs[0].rule == "same_osm_id" else "name"
            out.problems.append(RowProblem(number, column, _duplicate_reason(pairs[0], other)))
            break
        others.append((number, mine))
    return out


def check_facility_rows(
    records: Sequence[tuple[int, RegistryRecord]],
    stored: Sequence[Facility],
    *,
    province_shapes: Sequence[tuple[str, Any]] | None,
    osm_ids: Mapping[int, str] | None = None,
    district_shapes: Sequence[tuple[str, Any]] | None = None,
) -> FacilityRowChecks:
    """Run the duplicate check, and the province and district checks when shapes are given."""
    rows = [(n, r) for n, r in records if isinstance(r, Facility)]
    out = duplicate_checks(rows, stored, osm_ids=osm_ids)
    if province_shapes is not None:
        provinces = province_checks(rows, province_shapes)
        out.problems.extend(provinces.problems)
        out.warnings.extend(provinces.warnings)
    if district_shapes is not None:
        districts = district_checks(rows, district_shapes)
        out.warnings.extend(districts.warnings)
        out.districts.update(districts.districts)
    return out


__all__ = [
    "BORDER_TOLERANCE_M",
    "FacilityRowChecks",
    "check_facility_rows",
    "distance_to_shape_m",
    "district_checks",
    "duplicate_checks",
    "osm_id_of",
    "province_checks",
]
