"""Vietnam's 63 provincial units of 2021, their codes, and the 34 units of 2025 they became.

Codes are the two-digit codes of the General Statistics Office list of administrative units
(Decision 124/2004/QĐ-TTg and its updates), checked against the ``admin_units_legacy`` table of the
``vietnamadminunits`` 1.0.4 package. The province shapes come from the two TopoJSON files in
``raw/`` of the shared data directory (Open Development Vietnam "Địa phận tỉnh", via
TaliaCao/Vietnam-Shape-Map; licence not verified, likely CC BY-SA 4.0: credit it). Their own
``code`` property is a placeholder (``AD01`` everywhere in the 63-unit file), so it is not used.

The 63 -> 34 mapping is computed, not typed in: each 2021 polygon is intersected with the 2025
polygons and assigned to the one holding the largest share of its area; the share is kept so that a
caller can check it (every share is above 0.999 with the shared files, as the 2025 file was made by
dissolving the 2021 polygons). The 2025 codes are the official ones (Resolution 202/2025/QH15), from
``vietnamadminunits``' ``admin_units`` table, matched by name.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data.errors import InvalidInputError, MissingDataFileError
from data.schema.registry import Province

TOPOJSON_63 = Path("raw") / "vn_provinces_63_pre2025.topojson"
TOPOJSON_34 = Path("raw") / "vn_provinces_34_2025.topojson"

# (GSO code, official 2021 name, name as written in the 63-unit TopoJSON)
PROVINCES_2021: tuple[tuple[str, str, str], ...] = (
    ("01", "Thành phố Hà Nội", "TP Hà Nội"),
    ("02", "Tỉnh Hà Giang", "Hà Giang"),
    ("04", "Tỉnh Cao Bằng", "Cao Bằng"),
    ("06", "Tỉnh Bắc Kạn", "Bắc Kạn"),
    ("08", "Tỉnh Tuyên Quang", "Tuyên Quang"),
    ("10", "Tỉnh Lào Cai", "Lào Cai"),
    ("11", "Tỉnh Điện Biên", "Điện Biên"),
    ("12", "Tỉnh Lai Châu", "Lai Châu"),
    ("14", "Tỉnh Sơn La", "Sơn La"),
    ("15", "Tỉnh Yên Bái", "Yên Bái"),
    ("17", "Tỉnh Hoà Bình", "Hoà Bình"),
    ("19", "Tỉnh Thái Nguyên", "Thái Nguyên"),
    ("20", "Tỉnh Lạng Sơn", "Lạng Sơn"),
    ("22", "Tỉnh Quảng Ninh", "Quảng Ninh"),
    ("24", "Tỉnh Bắc Giang", "Bắc Giang"),
    ("25", "Tỉnh Phú Thọ", "Phú Thọ"),
    ("26", "Tỉnh Vĩnh Phúc", "Vĩnh Phúc"),
    ("27", "Tỉnh Bắc Ninh", "Bắc Ninh"),
    ("30", "Tỉnh Hải Dương", "Hải Dương"),
    ("31", "Thành phố Hải Phòng", "TP Hải Phòng"),
    ("33", "Tỉnh Hưng Yên", "Hưng Yên"),
    ("34", "Tỉnh Thái Bình", "Thái Bình"),
    ("35", "Tỉnh Hà Nam", "Hà Nam"),
    ("36", "Tỉnh Nam Định", "Nam Định"),
    ("37", "Tỉnh Ninh Bình", "Ninh Bình"),
    ("38", "Tỉnh Thanh Hoá", "Thanh Hoá"),
    ("40", "Tỉnh Nghệ An", "Nghệ An"),
    ("42", "Tỉnh Hà Tĩnh", "Hà Tĩnh"),
    ("44", "Tỉnh Quảng Bình", "Quảng Bình"),
    ("45", "Tỉnh Quảng Trị", "Quảng Trị"),
    # Thừa Thiên Huế became the centrally run "Thành phố Huế" on 1 January 2025; the TopoJSON
    # already carries the new name, 2021 data needs the old one.
    ("46", "Tỉnh Thừa Thiên Huế", "TP Huế"),
    ("48", "Thành phố Đà Nẵng", "TP Đà Nẵng"),
    ("49", "Tỉnh Quảng Nam", "Quảng Nam"),
    ("51", "Tỉnh Quảng Ngãi", "Quảng Ngãi"),
    ("52", "Tỉnh Bình Định", "Bình Định"),
    ("54", "Tỉnh Phú Yên", "Phú Yên"),
    ("56", "Tỉnh Khánh Hoà", "Khánh Hoà"),
    ("58", "Tỉnh Ninh Thuận", "Ninh Thuận"),
    ("60", "Tỉnh Bình Thuận", "Bình Thuận"),
    ("62", "Tỉnh Kon Tum", "Kon Tum"),
    ("64", "Tỉnh Gia Lai", "Gia Lai"),
    ("66", "Tỉnh Đắk Lắk", "Đắk Lắk"),
    ("67", "Tỉnh Đắk Nông", "Đắk Nông"),
    ("68", "Tỉnh Lâm Đồng", "Lâm Đồng"),
    ("70", "Tỉnh Bình Phước", "Bình Phước"),
    ("72", "Tỉnh Tây Ninh", "Tây Ninh"),
    ("74", "Tỉnh Bình Dương", "Bình Dương"),
    ("75", "Tỉnh Đồng Nai", "Đồng Nai"),
    ("77", "Tỉnh Bà Rịa - Vũng Tàu", "Bà Rịa - Vũng Tàu"),
    ("79", "Thành phố Hồ Chí Minh", "TP HCM"),
    ("80", "Tỉnh Long An", "Long An"),
    ("82", "Tỉnh Tiền Giang", "Tiền Giang"),
    ("83", "Tỉnh Bến Tre", "Bến Tre"),
    ("84", "Tỉnh Trà Vinh", "Trà Vinh"),
    ("86", "Tỉnh Vĩnh Long", "Vĩnh Long"),
    ("87", "Tỉnh Đồng Tháp", "Đồng Tháp"),
    ("89", "Tỉnh An Giang", "An Giang"),
    ("91", "Tỉnh Kiên Giang", "Kiên Giang"),
    ("92", "Thành phố Cần Thơ", "TP Cần Thơ"),
    ("93", "Tỉnh Hậu Giang", "Hậu Giang"),
    ("94", "Tỉnh Sóc Trăng", "Sóc Trăng"),
    ("95", "Tỉnh Bạc Liêu", "Bạc Liêu"),
    ("96", "Tỉnh Cà Mau", "Cà Mau"),
)

# Official code of each 2025 unit, keyed by the name written in the 34-unit TopoJSON.
UNITS_2025_CODES: dict[str, str] = {
    "TP Hà Nội": "01",
    "Cao Bằng": "04",
    "Tuyên Quang": "08",
    "Điện Biên": "11",
    "Lai Châu": "12",
    "Sơn La": "14",
    "Lào Cai": "15",
    "Thái Nguyên": "19",
    "Lạng Sơn": "20",
    "Quảng Ninh": "22",
    "Bắc Ninh": "24",
    "Phú Thọ": "25",
    "TP Hải Phòng": "31",
    "Hưng Yên": "33",
    "Ninh Bình": "37",
    "Thanh Hoá": "38",
    "Nghệ An": "40",
    "Hà Tĩnh": "42",
    "Quảng Trị": "44",
    "TP Huế": "46",
    "TP Đà Nẵng": "48",
    "Quảng Ngãi": "51",
    "Gia Lai": "52",
    "Khánh Hoà": "56",
    "Đắk Lắk": "66",
    "Lâm Đồng": "68",
    "Đồng Nai": "75",
    "TP HCM": "79",
    "Tây Ninh": "80",
    "Đồng Tháp": "82",
    "Vĩnh Long": "86",
    "An Giang": "91",
    "TP Cần Thơ": "92",
    "Cà Mau": "96",
}


@dataclass(frozen=True, slots=True)
class ProvinceMapping:
    """How one 2021 province maps to a 2025 unit, with the evidence.

    Parameters
    ----------
    province_code
        2021 code.
    unit_2025_code, unit_2025_name
        The 2025 unit holding the largest share of the 2021 polygon.
    area_share
        That share of the 2021 polygon's area (0-1; planar on lon/lat, which is enough to rank
        overlaps of one polygon and is not used as an area).
    """

    province_code: str
    unit_2025_code: str
    unit_2025_name: str
    area_share: float


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def provinces_2021() -> list[Province]:
    """Return the 63 provinces of 2021 without their 2025 mapping (no data file needed)."""
    return [Province(province_code=code, name=name) for code, name, _ in PROVINCES_2021]


def _read_topojson(path: Path) -> list[tuple[dict[str, Any], Any]]:
    """Decode a TopoJSON GeometryCollection into (properties, valid shapely geometry) pairs."""
    from shapely import make_valid
    from shapely.geometry import MultiPolygon, Polygon

    if not path.is_file():
        raise MissingDataFileError(
            f"province shapes {str(path)!r} not found; point OXYROUTE_DATA_DIR at the shared data"
        )
    topology = json.loads(path.read_text(encoding="utf-8"))
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # delta-encoded, quantised positions
            x += dx
            y += dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indices:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    collection = next(iter(topology["objects"].values()))
    out = []
    for geometry in collection["geometries"]:
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            raise InvalidInputError(f"{path.name}: unexpected geometry type {geometry['type']!r}")
        shape = MultiPolygon([Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polygons])
        out.append((geometry.get("properties") or {}, make_valid(shape)))
    return out


def map_provinces_to_2025(data_dir: Path) -> list[ProvinceMapping]:
    """Map each 2021 province to the 2025 unit holding most of its area (polygon overlay).

    Parameters
    ----------
    data_dir
        The shared data directory (holding ``raw/vn_provinces_*.topojson``).

    Raises
    ------
    MissingDataFileError
        If a TopoJSON file is missing.
    InvalidInputError
        If a 2021 province name in the file is not in :data:`PROVINCES_2021`, a 2025 name is not in
        :data:`UNITS_2025_CODES`, or a province overlaps no 2025 unit.
    """
    from shapely import STRtree

    old = _read_topojson(data_dir / TOPOJSON_63)
    new = _read_topojson(data_dir / TOPOJSON_34)
    code_by_topo_name = {_key(topo): code for code, _, topo in PROVINCES_2021}
    codes_2025 = {_key(name): code for name, code in UNITS_2025_CODES.items()}
    tree = STRtree([geometry for _, geometry in new])
    problems: list[str] = []
    mappings = []
    for properties, geometry in old:
        name = str(properties.get("ten_tinh", ""))
        code = code_by_topo_name.get(_key(name))
        if code is None:
            problems.append(f"{TOPOJSON_63.name}: province {name!r} is not a known 2021 unit")
            continue
        shares = [
            (geometry.intersection(new[j][1]).area / geometry.area, int(j))
            for j in tree.query(geometry)
        ]
        if not shares:
            problems.append(f"{TOPOJSON_63.name}: province {name!r} overlaps no 2025 unit")
            continue
        share, best = max(shares)
        new_name = str(new[best][0].get("ten_tinh", ""))
        new_code = codes_2025.get(_key(new_name))
        if new_code is None:
            problems.append(f"{TOPOJSON_34.name}: unit {new_name!r} has no known 2025 code")
            continue
        mappings.append(ProvinceMapping(code, new_code, new_name, round(share, 6)))
    if problems:
        raise InvalidInputError.from_problems("province shapes", problems)
    return sorted(mappings, key=lambda m: m.province_code)


def provinces_with_2025_units(data_dir: Path) -> list[Province]:
    """Return the 63 provinces of 2021, each with the 2025 unit it became part of.

    Raises
    ------
    MissingDataFileError, InvalidInputError
        As :func:`map_provinces_to_2025`; also if a 2021 province has no polygon.
    """
    by_code = {m.province_code: m for m in map_provinces_to_2025(data_dir)}
    missing = [name for code, name, _ in PROVINCES_2021 if code not in by_code]
    if missing:
        raise InvalidInputError.from_problems(
            "province shapes", [f"{TOPOJSON_63.name}: no polygon for {name}" for name in missing]
        )
    return [
        Province(
            province_code=p.province_code,
            name=p.name,
            unit_2025_code=by_code[p.province_code].unit_2025_code,
            unit_2025_name=by_code[p.province_code].unit_2025_name,
        )
        for p in provinces_2021()
    ]


def province_shapes_2021(data_dir: Path, cache_dir: Path | None = None) -> list[tuple[str, Any]]:
    """Return (2021 province code, shapely geometry) for the 63 provinces of 2021.

    With ``cache_dir`` the shapes are kept there (:func:`data.shape_cache.cached_shapes`).

    Raises
    ------
    MissingDataFileError
        If the 63-unit TopoJSON is missing.
    InvalidInputError
        If a province name in it is not in :data:`PROVINCES_2021`.
    """
    from data.shape_cache import cached_shapes

    source = data_dir / TOPOJSON_63
    return cached_shapes(source, cache_dir, "provinces-2021", lambda: _province_shapes(source))


def _province_shapes(source: Path) -> list[tuple[str, Any]]:
    code_by_topo_name = {_key(topo): code for code, _, topo in PROVINCES_2021}
    shapes, unknown = [], []
    for properties, geometry in _read_topojson(source):
        name = str(properties.get("ten_tinh", ""))
        code = code_by_topo_name.get(_key(name))
        if code is None:
            unknown.append(f"{TOPOJSON_63.name}: province {name!r} is not a known 2021 unit")
        else:
            shapes.append((code, geometry))
    if unknown:
        raise InvalidInputError.from_problems("province shapes", unknown)
    return shapes


def province_for_point(lon: float, lat: float, shapes: Sequence[tuple[str, Any]]) -> str | None:
    """Return the code of the province whose shape covers a WGS84 point, else None (pure).

    ``shapes`` are (code, shapely geometry) pairs, as :func:`province_shapes_2021` returns. A
    point on a shared border goes to the first shape that covers it; a point outside every shape
    (offshore, or past the coarse outline of a coast) gives None, so that the caller keeps the
    declared province and flags it.
    """
    from shapely import Point

    point = Point(lon, lat)
    return next((code for code, shape in shapes if shape.covers(point)), None)
