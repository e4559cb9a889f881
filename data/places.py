"""Read places (facilities, suppliers) from CSV or GeoJSON, reporting every bad row at once."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from data.errors import InvalidInputError, MissingDataFileError
from data.schema.network import Place, coordinate_problems


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value


def read_places(
    path: Path,
    *,
    id_column: str = "id",
    name_column: str = "name",
    lon_column: str = "lon",
    lat_column: str = "lat",
    setting: str | None = None,
) -> list[Place]:
    """Read places from a CSV (UTF-8, optional BOM) or GeoJSON (Point features) file.

    CSV needs the id, name, lon and lat columns (their names are settings); GeoJSON takes the id
    from ``properties[id_column]`` or the feature's ``id``, and the position from the Point
    geometry. Every other column or property is kept in :attr:`Place.properties`.

    ``setting`` names where the column names were chosen: a region's TOML table such as
    ``"[facilities]"`` (keys ``id_column``, ...), or ``"options"`` for a command's
    ``--id-column``, ... options; a missing column is then reported with the key that chose it,
    so that the fix is clear (issue 16).

    Raises
    ------
    MissingDataFileError
        If the file does not exist.
    InvalidInputError
        Listing every bad row (row number, column, reason): missing columns, empty ids, duplicate
        ids, coordinates that are not numbers or out of range; or an unknown file type.
    """
    if not path.is_file():
        raise MissingDataFileError(
            f"places file {str(path)!r} not found; "
            "set OXYROUTE_DATA_DIR (or --data-dir) or fix the path"
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        keys = {id_column: "id_column", lon_column: "lon_column", lat_column: "lat_column"}
        rows = _csv_rows(path, keys, setting)
    elif suffix in (".geojson", ".json"):
        rows = _geojson_rows(path, id_column, lon_column, lat_column)
    else:
        raise InvalidInputError(
            f"places file {str(path)!r}: unknown type {suffix!r}; use .csv or .geojson"
        )
    places: list[Place] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row_number, row in rows:
        raw_id = row.get(id_column)
        place_id = "" if raw_id is None else str(raw_id).strip()  # a GeoJSON id may be 0
        lon, lat = _number(row.get(lon_column)), _number(row.get(lat_column))
        row_problems = coordinate_problems(f"row {row_number}", lon, lat)
        if not place_id:
            row_problems.append(f"row {row_number}.{id_column}: empty id")
        elif place_id in seen:
            row_problems.append(
                f"row {row_number}.{id_column}: id {place_id!r} "
                f"already used in row {seen[place_id]}"
            )
        if row_problems:
            problems.extend(row_problems)
            continue
        seen[place_id] = row_number
        properties = {
            k: "" if v is None else str(v)
            for k, v in row.items()
            if k not in (id_column, lon_column, lat_column, name_column)
        }
        places.append(
            Place(place_id, float(lon), float(lat), str(row.get(name_column) or ""), properties)
        )
    if problems:
        raise InvalidInputError.from_problems(f"places file {path.name}", problems)
    return places


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> InvalidInputError:
    return InvalidInputError(
        f"places file {path.name}: not UTF-8 text (it has byte {exc.object[exc.start]:#04x}); "
        "save it as UTF-8 (in Excel: 'CSV UTF-8')"
    )


def _missing_columns(
    path: Path, missing: list[str], keys: dict[str, str], setting: str | None, found: list[str]
) -> str:
    """Return the message for missing columns, naming the setting that chose each one."""
    if setting is None:
        return f"places file {path.name}: missing column(s) {missing}; found {found}"

    def key(column: str) -> str:
        if setting == "options":
            return "--" + keys[column].replace("_", "-")
        return f"{setting} {keys[column]}"

    named = ", ".join(
        f"{column!r} (chosen by {key(column)}"
        f"{', its default' if column == keys[column].removesuffix('_column') else ''})"
        for column in missing
    )
    keys_to_set = ", ".join(key(c) for c in missing)
    if setting != "options":
        keys_to_set = f"{setting} " + ", ".join(keys[c] for c in missing)
    return (
        f"places file {path.name}: no column {named}; columns found: {found}; set "
        f"{keys_to_set} to the file's column"
    )


def _csv_rows(
    path: Path, keys: dict[str, str], setting: str | None
) -> list[tuple[int, dict[str, Any]]]:
    required = list(keys)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fieldnames = reader.fieldnames or []
            missing = [c for c in required if c not in fieldnames]
            if missing:
                separator = next(
                    (s for s in (";", "\t") if len(fieldnames) == 1 and s in fieldnames[0]), None
                )
                hint = (
                    f"; the header is separated by {separator!r}: use commas" if separator else ""
                )
                raise InvalidInputError(
                    _missing_columns(path, missing, keys, setting, list(fieldnames)) + hint
                )
            repeated = sorted({c for c in required if fieldnames.count(c) > 1})
            if repeated:
                raise InvalidInputError(
                    f"places file {path.name}: column(s) {repeated} appear more than once in the "
                    "header; keep one of each"
                )
            # Row 1 is the header, so data rows are numbered as a spreadsheet shows them.
            return [(i + 2, row) for i, row in enumerate(reader)]
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None


def _geojson_rows(
    path: Path,
    id_column: str,
    lon_column: str,
    lat_column: str,
) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise InvalidInputError(f"places file {path.name}: not valid JSON ({exc})") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise InvalidInputError(f"places file {path.name}: expected a GeoJSON FeatureCollection")
    rows = []
    for i, feature in enumerate(features, start=1):
        raw = feature.get("properties") if isinstance(feature, dict) else None
        properties = dict(raw) if isinstance(raw, dict) else {}
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            coordinates = geometry.get("coordinates")
            if not isinstance(coordinates, list):  # a number, text or object: name it as the value
                coordinates = [f"coordinates {coordinates!r}", f"coordinates {coordinates!r}"]
            properties[lon_column], properties[lat_column] = [*coordinates, None, None][:2]
        else:
            properties.setdefault(lon_column, "no Point geometry")
            properties.setdefault(lat_column, "no Point geometry")
        if properties.get(id_column) in (None, "") and isinstance(feature, dict):
            properties[id_column] = feature.get("id")
        rows.append((i, properties))
    return rows
