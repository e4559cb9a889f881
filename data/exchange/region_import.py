"""Fill the registry of a region from files, all of them in one transaction (``db import``).

Issue 16: a new region's registry could only be filled through the HTTP imports of a running
server. :func:`import_registry_files` takes the same files (CSV, XLSX, and GeoJSON for the kinds
with coordinates), runs every file through :func:`data.exchange.importers.import_file` (the
checks of the HTTP imports: columns, values, provinces against points, duplicates, report
plausibility), and stores all rows of all files, or none: the files share one database
transaction, each file in its own savepoint, and the first refusal rolls everything back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from data.access import Principal
from data.db.engine import write_transaction
from data.errors import ImportRejectedError, InvalidInputError, OxyrouteError, RowProblem
from data.schema.registry import Role, TransportOperator

#: The order files are imported in: what a later kind refers to comes first.
IMPORT_ORDER = ("facilities", "suppliers", "operators", "vehicles", "reports")
#: The principal of the command line: an administrator named for the audit rows.
CLI_PRINCIPAL = Principal(user_id=0, username="cli:import", role=Role.ADMIN)


def geojson_to_csv(content: bytes, *, name: str) -> bytes:
    """Return a GeoJSON FeatureCollection of Points as CSV: its properties, then ``lon``, ``lat``.

    Property values that are objects or arrays are written as JSON text; a feature's ``id``
    fills an empty ``id`` property.

    Raises
    ------
    InvalidInputError
        If the file is not UTF-8 JSON, not a FeatureCollection, or a feature has no Point
        geometry (its number is named).
    """
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"{name}: not a UTF-8 GeoJSON file ({exc})") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise InvalidInputError(f"{name}: expected a GeoJSON FeatureCollection")
    rows: list[dict[str, Any]] = []
    problems = []
    for number, feature in enumerate(features, start=1):
        feature = feature if isinstance(feature, dict) else {}
        geometry = feature.get("geometry")
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(geometry, dict)
            or geometry.get("type") != "Point"
            or not isinstance(coordinates, list)
            or len(coordinates) < 2
        ):
            problems.append(f"features[{number - 1}].geometry: must be a Point with [lon, lat]")
            continue
        properties = feature.get("properties")
        row = dict(properties) if isinstance(properties, dict) else {}
        row["lon"], row["lat"] = coordinates[0], coordinates[1]
        rows.append(row)
    if problems:
        raise InvalidInputError.from_problems(name, problems)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_import_file(path: Path) -> tuple[bytes, str]:
    """Return a file's content and its format for ``import_file`` (``csv`` or ``xlsx``).

    GeoJSON (``.geojson``, ``.json``) becomes CSV (:func:`geojson_to_csv`).

    Raises
    ------
    InvalidInputError
        If the file cannot be read or its extension is none of ``.csv``, ``.xlsx``,
        ``.geojson``, ``.json``.
    """
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read it ({exc.strerror})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return content, "csv"
    if suffix == ".xlsx":
        return content, "xlsx"
    if suffix in (".geojson", ".json"):
        return geojson_to_csv(content, name=path.name), "csv"
    raise InvalidInputError(f"{path.name}: unknown type {suffix!r}; use .csv, .xlsx or .geojson")


#: Each kind's collection and id column, for the check that no id is in the registry already.
_IDS = {
    "facilities": ("facilities", "facility_id"),
    "suppliers": ("suppliers", "supplier_id"),
    "operators": ("transport-operators", "operator_id"),
    "vehicles": ("vehicles", "vehicle_id"),
}


def _refuse_existing_ids(store: Any, kind: str, content: bytes, file_format: str) -> None:
    """Refuse rows whose id the registry holds already, naming them.

    The database alone says only "UNIQUE constraint failed", without the id.

    Raises
    ------
    ImportRejectedError
        Listing each such row and id; the first file to repeat an id stops the import.
    """
    from data.exchange.importers import read_csv_file, read_xlsx_file

    if kind not in _IDS:
        return
    collection, column = _IDS[kind]
    try:
        _, rows = read_csv_file(content) if file_format == "csv" else read_xlsx_file(content)
        wanted = {n: str(r.get(column) or "").strip() for n, r in rows}
    except InvalidInputError:
        return  # the import itself reports an unreadable file
    stored = {getattr(r, column) for r in store.list_records(collection, limit=None)}
    problems = [
        RowProblem(n, column, f"{value!r} is already in the registry; leave the row out")
        for n, value in wanted.items()
        if value in stored
    ]
    if problems:
        raise ImportRejectedError(problems)


class _OneTransaction:
    """An engine stand-in that runs every store call in one open transaction.

    Each write of the store becomes a savepoint of the outer transaction and each read sees
    the rows written before it, so that reports may name facilities of the same import.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execution_options(self, **_options: Any) -> _OneTransaction:
        return self

    @contextmanager
    def connect(self) -> Iterator[Any]:
        yield self._connection

    @contextmanager
    def begin(self) -> Iterator[Any]:
        with self._connection.begin_nested():
            yield self._connection


def _import_operators(store: Any, content: bytes, file_format: str, actor: str) -> dict[str, Any]:
    """Store transport operators (``operator_id``, ``name``, ``province_code``, ``source``)."""
    from data.exchange.importers import read_csv_file, read_xlsx_file

    _, rows = read_csv_file(content) if file_format == "csv" else read_xlsx_file(content)
    records: list[Any] = []
    problems = []
    for number, row in rows:
        try:
            records.append(TransportOperator.from_mapping(row, text=True))
        except InvalidInputError as error:
            for problem in error.problems:
                column, _, reason = problem.partition(": ")
                problems.append(RowProblem(number, column, reason or problem))
    if problems:
        raise ImportRejectedError(problems)
    imported = store.create_records(records, actor=actor)
    return {"kind": "operators", "rows": len(records), "imported": imported}


def import_registry_files(
    store: Any,
    files: Mapping[str, Path],
    *,
    province_shapes: Sequence[tuple[str, Any]] | None = None,
    district_shapes: Sequence[tuple[str, Any]] | None = None,
    principal: Principal = CLI_PRINCIPAL,
    before_each: Callable[[str, Path], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Import the files of a region into the registry: all rows of all files, or none.

    Parameters
    ----------
    store
        A :class:`data.store.Store`.
    files
        Kind -> file, kinds among :data:`IMPORT_ORDER` (``facilities``, ``suppliers``,
        ``operators``, ``vehicles``, ``reports``); imported in that order, so that vehicles
        may name the operators and depots, and reports the facilities, of the same import.
    province_shapes, district_shapes
        The facility checks of the HTTP import (:func:`data.exchange.importers.import_file`).
    before_each
        Called with each kind and file before it is read (progress).

    Returns
    -------
    dict
        Each kind's import summary (as ``import_file`` returns it).

    Raises
    ------
    ImportRejectedError, InvalidInputError, ConflictError, PermissionDeniedError
        As :func:`data.exchange.importers.import_file`, for the first file refused; the message
        names the file's kind. Nothing of any file is stored then.
    """
    from data.exchange.importers import import_file
    from data.store import Store

    unknown = sorted(set(files) - set(IMPORT_ORDER))
    if unknown:
        raise InvalidInputError(f"kinds: cannot import {unknown}; use {list(IMPORT_ORDER)}")
    summaries: dict[str, dict[str, Any]] = {}
    with write_transaction(store.engine) as connection:
        shared = Store(cast(Any, _OneTransaction(connection)), clock=store.clock)
        for kind in (k for k in IMPORT_ORDER if k in files):
            path = files[kind]
            if before_each is not None:
                before_each(kind, path)
            content, file_format = read_import_file(path)
            try:
                _refuse_existing_ids(shared, kind, content, file_format)
                if kind == "operators":
                    summaries[kind] = _import_operators(
                        shared, content, file_format, principal.username
                    )
                    continue
                summaries[kind] = import_file(
                    shared,
                    kind,
                    content,
                    file_format=file_format,
                    principal=principal,
                    province_shapes=province_shapes if kind == "facilities" else None,
                    district_shapes=district_shapes if kind == "facilities" else None,
                )
            except ImportRejectedError as error:
                where = f"{kind} file {path.name}"
                raise ImportRejectedError(
                    [
                        RowProblem(p.row, f"{p.column} ({where})", p.reason)
                        for p in error.row_problems
                    ]
                ) from None
            except (OxyrouteError, ValueError) as error:
                error.add_note(f"(while importing the {kind} file {path})")
                raise
    return summaries
