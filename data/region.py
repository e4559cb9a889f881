"""Regions: a small TOML file naming a road network, facilities, suppliers and gateways.

See the README section "Region format" for every key. Relative file paths are looked up beside the
region file first, then in the data directory (``OXYROUTE_DATA_DIR`` / ``--data-dir``).
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from data.errors import InvalidInputError, MissingDataFileError
from data.places import read_places
from data.schema.live import StatusThresholds
from data.schema.network import Gateway, GatewayLink, Place
from data.settings import BUNDLED_REGIONS_DIR, DATA_DIR_ENV, resolve_data_dir

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_MAX_SNAP_M = 2000.0

_TOP_KEYS = {
    "name",
    "timezone",
    "description",
    "province_code",
    "roads",
    "facilities",
    "suppliers",
    "gateways",
    "speeds_kph",
    "status",
    "districts",
}
_DISTRICT_KEYS = {"file", "name_property"}
_STATUS_KEYS = {"critical_hours", "warning_hours"}
_ROAD_KEYS = {"file", "network_type", "overpass_query", "max_snap_m"}
_PLACE_COLUMNS = ("id_column", "name_column", "lon_column", "lat_column")
_PLACE_KEYS = {"file", *_PLACE_COLUMNS}
_GATEWAY_KEYS = {"id", "name", "lon", "lat", "links"}
_LINK_KEYS = {"extra_min", "extra_km"}


@dataclass(frozen=True, slots=True)
class PlacesSource:
    """Where a region's places come from: a file and the names of its columns."""

    path: Path
    id_column: str = "id"
    name_column: str = "name"
    lon_column: str = "lon"
    lat_column: str = "lat"
    #: The region file's table that chose the columns (``"[facilities]"``), named in errors.
    setting: str | None = None

    def read(self) -> list[Place]:
        """Read the places (see :func:`data.places.read_places`)."""
        return read_places(
            self.path,
            id_column=self.id_column,
            name_column=self.name_column,
            lon_column=self.lon_column,
            lat_column=self.lat_column,
            setting=self.setting,
        )


@dataclass(frozen=True, slots=True)
class Region:
    """A region: its road network file and settings, facilities, suppliers and gateways."""

    region_id: str
    name: str
    timezone: str
    road_file: Path | None
    network_type: str
    overpass_query: str | None
    max_snap_m: float
    facilities: PlacesSource | None
    suppliers: PlacesSource | None
    gateways: tuple[Gateway, ...]
    speeds_kph: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    source_file: Path | None = None
    province_code: str | None = None
    #: Hours to empty below which a facility is critical or warning (``[status]``, issue 14).
    status: StatusThresholds = field(default_factory=StatusThresholds)
    #: District outlines (``[districts] file``: GeoJSON polygons), and the property naming each.
    districts_file: Path | None = None
    districts_name_property: str = "name"

    @property
    def reference(self) -> str:
        """How to load this region again: its bundled name, else its file's absolute path.

        A plan keeps it (``region_file``), so that a region given by path is found again by
        ``dispatch`` and scenario plan folders (issue 16).
        """
        if self.source_file is None:
            return self.region_id
        source = self.source_file.resolve()
        if source == (BUNDLED_REGIONS_DIR / f"{self.region_id}.toml").resolve():
            return self.region_id
        return str(source)


def region_file(region: str) -> Path:
    """Return the TOML file of a region given by bundled name (``hcmc``) or by path.

    Raises
    ------
    MissingDataFileError
        If no bundled region has that name and no such file exists; the message lists the
        bundled ones.
    """
    candidate = Path(region)
    if candidate.suffix == ".toml" or os.sep in region:
        if candidate.is_file():
            return candidate
        raise MissingDataFileError(f"region file {region!r} not found")
    bundled = BUNDLED_REGIONS_DIR / f"{region}.toml"
    if bundled.is_file():
        return bundled
    known = sorted(p.stem for p in BUNDLED_REGIONS_DIR.glob("*.toml"))
    raise MissingDataFileError(
        f"region {region!r}: no bundled region of that name (known: {', '.join(known)}) "
        "and no file; pass a path to a region .toml file"
    )


def _resolve(value: str, base: Path, data_dir: Path | None, key: str) -> Path:
    path = Path(value)
    if path.is_absolute():
        if path.exists():
            return path
        raise MissingDataFileError(f"{key}: file {value!r} not found")
    candidates = [base / path]
    if data_dir is not None:
        candidates.append(data_dir / path)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    where = " or ".join(str(c) for c in candidates)
    hint = (
        f"set {DATA_DIR_ENV} (or --data-dir) to the folder that holds it"
        if data_dir is not None
        else f"the data directory is not set: set {DATA_DIR_ENV} or pass --data-dir"
    )
    raise MissingDataFileError(f"{key}: file {value!r} not found (looked in {where}); {hint}")


def _check_keys(table: Any, allowed: set[str], where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        problems.append(f"{where}: must be a table, got {type(table).__name__}")
        return {}
    for key in sorted(set(table) - allowed):
        problems.append(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
    return table


def _string(
    table: Mapping[str, Any], key: str, where: str, problems: list[str], default: str | None = None
) -> str | None:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problems.append(f"{where}.{key}: must be a non-empty string, got {value!r}")
        return default
    return value


def _number(value: Any, where: str, problems: list[str], *, positive: bool = False) -> float | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        problems.append(
            f"{where}: must be a {'positive' if positive else 'non-negative'} number, got {value!r}"
        )
        return None
    return float(value)


def _parse_gateways(raw: Any, problems: list[str]) -> list[Gateway]:
    if not isinstance(raw, list):
        problems.append("gateways: must be an array of tables ([[gateways]])")
        return []
    gateways = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        where = f"gateways[{i}]"
        table = _check_keys(item, _GATEWAY_KEYS, where, problems)
        gateway_id = _string(table, "id", where, problems)
        gateway_name = _string(table, "name", where, problems, gateway_id)
        if gateway_id is None or "lon" not in table or "lat" not in table:
            problems.append(f"{where}: needs id, lon and lat")
            continue
        if gateway_id in seen:
            problems.append(
                f"{where}.id: {gateway_id!r} already used by gateways[{seen[gateway_id]}]; "
                "give every gateway its own id"
            )
        seen.setdefault(gateway_id, i)
        links: dict[str, GatewayLink] = {}
        raw_links = table.get("links")
        if not isinstance(raw_links, dict) or not raw_links:
            problems.append(f"{where}.links: give at least one place id = {{ extra_min = ... }}")
            continue
        for place_id, link in raw_links.items():
            link_where = f"{where}.links.{place_id}"
            link_table = _check_keys(link, _LINK_KEYS, link_where, problems)
            if "extra_min" not in link_table:
                problems.append(f"{link_where}.extra_min: missing (minutes from the gateway)")
                continue
            extra_min = _number(link_table["extra_min"], f"{link_where}.extra_min", problems)
            extra_km = (
                _number(link_table["extra_km"], f"{link_where}.extra_km", problems)
                if "extra_km" in link_table
                else None
            )
            if extra_min is not None:
                links[str(place_id)] = GatewayLink(
                    extra_min * 60.0, None if extra_km is None else extra_km * 1000.0
                )
        try:
            gateways.append(
                Gateway(
                    gateway_id,
                    gateway_name or gateway_id,
                    table["lon"],
                    table["lat"],
                    links,
                )
            )
        except InvalidInputError as exc:
            problems.extend(exc.problems)
    return gateways


def gateway_link_problems(
    gateways: Sequence[Gateway], sources: Iterable[PlacesSource]
) -> list[str]:
    """Return a problem for each gateway link to a place id none of the region's files holds.

    A mistyped id was accepted and the supplier then routed as if on the map (issue 16). The
    check needs the places: with no facilities or suppliers file (the registry's suppliers are
    linked by id), or a file that cannot be read (that error comes when it is read), nothing is
    checked here.
    """
    known: set[str] = set()
    read_any = False
    for source in sources:
        try:
            known.update(p.place_id for p in source.read())
        except (InvalidInputError, MissingDataFileError):
            return []
        read_any = True
    if not read_any:
        return []
    problems = []
    for i, gateway in enumerate(gateways):
        for place_id in gateway.links:
            if place_id not in known:
                close = difflib.get_close_matches(place_id, sorted(known), n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                problems.append(
                    f"gateways[{i}].links.{place_id}: gateway {gateway.gateway_id!r} links to "
                    f"place id {place_id!r}, which is in neither the region's facilities nor "
                    f"its suppliers file{hint}"
                )
    return problems


class _RoadSettings(NamedTuple):
    """The ``[roads]`` table, checked (the file is resolved later)."""

    file: str | None
    overpass_query: str | None
    network_type: str
    max_snap_m: float


def load_region(region: str, *, data_dir: str | os.PathLike[str] | None = None) -> Region:
    """Load and validate a region by bundled name or TOML path.

    Parameters
    ----------
    region
        A bundled region name (``"hcmc"``, ``"hcmc_d5"``) or the path of a region ``.toml`` file.
    data_dir
        The data directory (default: ``$OXYROUTE_DATA_DIR``, else ``../shared/data``).

    Raises
    ------
    MissingDataFileError
        If the region file or a file it names is missing (the message names the setting to fix).
    InvalidInputError
        If the TOML is malformed or breaks the format (every problem is listed).
    """
    path = region_file(region)
    problems: list[str] = []
    document = _check_keys(_read_toml(path), _TOP_KEYS, path.stem, problems)
    name, timezone, province_code = _parse_header(document, problems)
    roads = _parse_roads(document.get("roads", {}), problems)
    speeds = _parse_speeds(document.get("speeds_kph", {}), problems)
    gateways = _parse_gateways(document.get("gateways", []), problems)
    place_tables = _parse_place_tables(document, problems)
    status = parse_status_table(document.get("status", {}), problems)
    districts = _check_keys(document.get("districts", {}), _DISTRICT_KEYS, "districts", problems)
    districts_value = _string(districts, "file", "districts", problems)
    name_property = _string(districts, "name_property", "districts", problems, "name") or "name"
    if districts and districts_value is None:
        problems.append("districts.file: missing (a GeoJSON file of district polygons)")
    if problems:
        raise InvalidInputError.from_problems(f"region file {path.name}", problems)

    resolved_data_dir: Path | None
    try:
        resolved_data_dir = resolve_data_dir(data_dir)
    except MissingDataFileError:
        if data_dir is not None:
            raise
        resolved_data_dir = None
    base = path.parent
    road_file = None
    if roads.file is not None:
        try:
            road_file = _resolve(roads.file, base, resolved_data_dir, "roads.file")
        except MissingDataFileError:
            if roads.overpass_query is None:
                raise
    sources = {
        key: PlacesSource(
            _resolve(table["file"], base, resolved_data_dir, f"{key}.file"),
            **{c: table[c] for c in _PLACE_COLUMNS if c in table},
            setting=f"[{key}]",
        )
        for key, table in place_tables.items()
    }
    districts_file = (
        None
        if districts_value is None
        else _resolve(districts_value, base, resolved_data_dir, "districts.file")
    )
    link_problems = gateway_link_problems(gateways, sources.values())
    if link_problems:
        raise InvalidInputError.from_problems(f"region file {path.name}", link_problems)
    return Region(
        region_id=path.stem,
        name=str(name),
        timezone=timezone,
        road_file=road_file,
        network_type=roads.network_type,
        overpass_query=roads.overpass_query,
        max_snap_m=roads.max_snap_m,
        facilities=sources.get("facilities"),
        suppliers=sources.get("suppliers"),
        gateways=tuple(gateways),
        speeds_kph=MappingProxyType(speeds),
        source_file=path,
        province_code=province_code,
        status=status,
        districts_file=districts_file,
        districts_name_property=name_property,
    )


def _read_toml(path: Path) -> Any:
    """Return the TOML document of a region file (UTF-8, with or without a byte-order mark)."""
    try:
        # utf-8-sig: editors on Windows save a byte-order mark, which TOML itself does not allow.
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"region file {path.name}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
            f"offset {exc.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"region file {path.name}: malformed TOML ({exc})") from None


def _parse_header(
    document: Mapping[str, Any], problems: list[str]
) -> tuple[str | None, str, str | None]:
    """Check the top-level keys; return the name, time zone and province code."""
    name = _string(document, "name", "region", problems)
    if name is None:
        problems.append("region.name: missing")
    timezone = (
        _string(document, "timezone", "region", problems, DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE
    )
    province_code = _string(document, "province_code", "region", problems)
    _check_province_code(province_code, problems)
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"region.description: must be a string, got {description!r}")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder: OSError
        problems.append(
            f"region.timezone: unknown time zone {timezone!r} (e.g. 'Asia/Ho_Chi_Minh')"
        )
    else:
        if timezone != DEFAULT_TIMEZONE:
            # The registry's local times (the 16:00 reporting day, delivery days, shift starts on
            # route sheets) are Vietnam's, shared by every region (issue 16): a region in another
            # zone would be read an hour off without a word.
            problems.append(
                f"region.timezone: {timezone!r} is not supported; oxyroute makes every local "
                f"time (reporting day, deliveries, route sheets) in {DEFAULT_TIMEZONE}, Vietnam's "
                "one time zone: leave the key out or set it to that"
            )
    return name, timezone, province_code


def _check_province_code(province_code: str | None, problems: list[str]) -> None:
    """Refuse a ``province_code`` that is not one of the 63 GSO codes of 2021 (issue 16)."""
    from data.provinces import PROVINCES_2021

    codes = {code: name for code, name, _ in PROVINCES_2021}
    if province_code is not None and province_code not in codes:
        problems.append(
            f"region.province_code: {province_code!r} is not a 2021 province code (GSO, two "
            f"digits, e.g. '79' for {codes['79']}, '01' for {codes['01']}); "
            "see data/provinces.py for the 63 codes"
        )


def _parse_roads(raw: Any, problems: list[str]) -> _RoadSettings:
    """Check the ``[roads]`` table: a file or an Overpass query, network type, snap limit."""
    roads = _check_keys(raw, _ROAD_KEYS, "roads", problems)
    road_value = _string(roads, "file", "roads", problems)
    overpass = _string(roads, "overpass_query", "roads", problems)
    if road_value is None and overpass is None:
        problems.append("roads.file: missing (an OSM .osm, .osm.gz or .osm.pbf file)")
    network_type = _string(roads, "network_type", "roads", problems, "drive") or "drive"
    if network_type not in ("drive", "drive_service"):
        problems.append(f"roads.network_type: {network_type!r} is not 'drive' or 'drive_service'")
    max_snap_m = DEFAULT_MAX_SNAP_M
    if "max_snap_m" in roads:
        max_snap_m = (
            _number(roads["max_snap_m"], "roads.max_snap_m", problems, positive=True)
            or DEFAULT_MAX_SNAP_M
        )
    return _RoadSettings(road_value, overpass, network_type, max_snap_m)


def _parse_speeds(raw: Any, problems: list[str]) -> dict[str, float]:
    """Check the ``[speeds_kph]`` table of road class = positive km/h."""
    if not isinstance(raw, dict):
        problems.append("speeds_kph: must be a table of road class = km/h")
        return {}
    speeds: dict[str, float] = {}
    for road_class, speed in raw.items():
        value = _number(speed, f"speeds_kph.{road_class}", problems, positive=True)
        if value is not None:
            speeds[str(road_class)] = value
    return speeds


def _parse_place_tables(
    document: Mapping[str, Any], problems: list[str]
) -> dict[str, dict[str, Any]]:
    """Check the ``[facilities]`` and ``[suppliers]`` tables present; return them by key."""
    place_tables = {}
    for key in ("facilities", "suppliers"):
        if key in document:
            table = _check_keys(document[key], _PLACE_KEYS, key, problems)
            if _string(table, "file", key, problems) is None:
                problems.append(f"{key}.file: missing")
            for column in _PLACE_COLUMNS:
                _string(table, column, key, problems)
            place_tables[key] = table
    return place_tables


def parse_status_table(raw: Any, problems: list[str]) -> StatusThresholds:
    """Check the optional ``[status]`` table: ``critical_hours`` and ``warning_hours`` (issue 14).

    Each is a positive number of hours to empty (defaults from
    :class:`data.schema.live.StatusThresholds`: 8 and 24), and critical must be below warning.
    Problems name the key and the value; the defaults are returned with them.
    """
    table = _check_keys(raw, _STATUS_KEYS, "status", problems)
    defaults = StatusThresholds()
    values = {}
    for key in sorted(_STATUS_KEYS):
        if key in table:
            value = _number(table[key], f"status.{key}", problems, positive=True)
            values[key] = getattr(defaults, key) if value is None else value
        else:
            values[key] = getattr(defaults, key)
    if values["critical_hours"] >= values["warning_hours"]:
        problems.append(
            f"status.critical_hours: must be below status.warning_hours "
            f"({values['warning_hours']:g} h), got {values['critical_hours']:g}"
        )
        return defaults
    return StatusThresholds(values["critical_hours"], values["warning_hours"])


@dataclass(frozen=True, slots=True)
class RegionStatusSettings:
    """What the live status needs of a region: its province and its status thresholds."""

    region_id: str
    province_code: str | None
    thresholds: StatusThresholds


def region_status_settings(region: str) -> RegionStatusSettings:
    """Read a region's province code and ``[status]`` thresholds without resolving its files.

    Cheap (one small TOML file), for the status endpoint and command, which need no road
    network.

    Raises
    ------
    MissingDataFileError
        If the region file is missing.
    InvalidInputError
        If the TOML is malformed, ``province_code`` is not a string, or ``[status]`` is bad.
    """
    path = region_file(region)
    document = _read_toml(path)
    problems: list[str] = []
    if not isinstance(document, dict):  # pragma: no cover - tomllib always returns a table
        document = {}
    province_code = _string(document, "province_code", "region", problems)
    thresholds = parse_status_table(document.get("status", {}), problems)
    if problems:
        raise InvalidInputError.from_problems(f"region file {path.name}", problems)
    return RegionStatusSettings(path.stem, province_code, thresholds)
