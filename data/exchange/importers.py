"""Import registry records and daily reports from CSV or XLSX files, all rows or none.

Each row becomes a record through ``from_mapping(..., text=True)``; every problem of every row is
collected with its row number (the spreadsheet's: the header is row 1, or row 2 below a CSV's
locale row), column and reason, and if there is any, nothing is stored
(:class:`ImportRejectedError`). XLSX files are checked before parsing (entry count, total
uncompressed size, compression ratio) so that a zip bomb is refused unparsed; openpyxl parses the
XML through defusedxml, which refuses external entities.

Numbers as people type them (issue 13): a number cell of a workbook is taken as it is; a number
written as text (every CSV cell, XLSX text cells) is read by the locale the file declares
(:mod:`data.schema.number_text`: ``vi`` reads ``5.200`` as 5,200 and ``5.200,5`` as 5,200.5, ``en``
reads ``5,200.5``). A CSV declares it by the import's ``locale`` argument (``?locale=vi`` over
HTTP) and/or a first row ``locale=vi``; an XLSX by the cell beside ``locale`` on its sheet
"Hướng dẫn" (our templates say ``vi``). With no declaration, only text that every locale reads
the same way is accepted: ``5.200`` is refused as ambiguous with its row and column, never read
as 5.2.

Headers are field names, or "<Vietnamese label> / <field>" as in a facility's template
(:func:`column_field`). A report row holding only its facility and date is a day the officer left
blank and is skipped; the summary of a reports import lists the rows skipped and the plausibility
warnings of the reports stored, by row.

Also here: :func:`seed_hcmc_facilities`, which loads the curated Hồ Chí Minh City hospitals.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from data.access import Principal, authorize
from data.errors import (
    ImportRejectedError,
    InvalidInputError,
    MalformedInputError,
    MissingDataFileError,
    PermissionDeniedError,
    RowProblem,
)
from data.exchange.facility_checks import check_facility_rows
from data.reporting import local_date
from data.schema.number_text import NumberLocale, number_locale, read_number_text
from data.schema.registry import DailyReport, Facility, RegistryRecord, Role, Supplier, Vehicle
from data.seed_roles import specialty_of

IMPORT_TYPES: dict[str, type[RegistryRecord]] = {
    "facilities": Facility,
    "suppliers": Supplier,
    "vehicles": Vehicle,
    "reports": DailyReport,
}
EXPORT_ONLY_COLUMNS = frozenset(
    {
        "revision",
        "submitted_at",
        "submitted_at_local",
        "submitted_by",
        "content_hash",
        "on_time",
        "stock_on_hand_m3",
        "generated",
        "source",
        "facility_name",
    }
)
"""Columns our exports add to reports (``facility_name``: the name beside the id); an import of
an export ignores them (so a generated report imported into another database is no longer
labelled: import seed data with ``oxyroute db seed`` instead)."""
DATA_SHEET = "Nhập liệu"
GUIDE_SHEET = "Hướng dẫn"
"""The instructions sheet of our XLSX templates; it holds the file's locale cell."""
LOCALE_LABEL = "Định dạng số / Number format (locale)"
"""Column A of the locale row on sheet "Hướng dẫn" (a cell that says just ``locale`` also
counts); column B holds ``vi`` or ``en``."""
GUIDE_ROWS_SEARCHED = 200
"""Rows of "Hướng dẫn" searched for the locale row."""
CSV_LOCALE_MARKER = re.compile(r"\s*locale\s*=\s*(?P<locale>.*)", re.IGNORECASE)
"""A CSV's optional first row declaring its locale: first cell ``locale=vi`` or ``locale=en``
(the other cells empty); the header then is row 2."""
BILINGUAL_HEADER = re.compile(r"(?s).*\S\s+/\s+(?P<field>[a-z][a-z0-9_]*)\s*")
"""A header written "<Vietnamese label> / <field>" (our one-facility template's, e.g. "Oxy đã
dùng 24 giờ (m³) / oxygen_used_24h_m3"): the column is the field after the last " / "."""
PREFILLED_REPORT_COLUMNS = frozenset({"facility_id", "report_date"})
"""Columns a report template fills in for the officer; a row with nothing else is not a report."""
MAX_ROWS = 50_000
MAX_COMPRESSION_RATIO = 100

Rows = Iterator[tuple[int, dict[str, Any]]]
"""(row number in the file, column -> cell value) for each data row."""


def _decode_csv(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRejectedError(
            [
                RowProblem(
                    0,
                    "file",
                    f"not UTF-8 text ({error.reason} at byte {error.start}); save as CSV UTF-8",
                )
            ]
        ) from None


def read_csv_rows(content: bytes) -> Rows:
    """Yield (row number, column -> text) for each data row of a UTF-8 CSV (BOM optional).

    The first row is the header (a locale row is not recognised here: see
    :func:`read_csv_file`).

    Raises
    ------
    ImportRejectedError
        If the file is not UTF-8, has no header, repeats a column, or a row has more cells than
        the header.
    """
    reader = csv.reader(io.StringIO(_decode_csv(content), newline=""))
    yield from _csv_data_rows(reader, next(reader, None), header_row=1)


def read_csv_file(content: bytes) -> tuple[NumberLocale | None, Rows]:
    """Return the locale a UTF-8 CSV declares in its first row (None: none) and its data rows.

    A first row whose first cell is ``locale=vi`` or ``locale=en`` declares how the file writes
    numbers as text (:mod:`data.schema.number_text`); the header then is row 2 and row numbers
    stay those of the file. Without it the file is read as by :func:`read_csv_rows`.

    Raises
    ------
    ImportRejectedError
        As :func:`read_csv_rows`, or if the locale row names another locale (row 1, ``locale``).
    """
    reader = csv.reader(io.StringIO(_decode_csv(content), newline=""))
    first = next(reader, None)
    marker = CSV_LOCALE_MARKER.fullmatch(first[0]) if first else None
    if marker is None:
        return None, _csv_data_rows(reader, first, header_row=1)
    assert first is not None
    if any(cell.strip() for cell in first[1:]):
        raise ImportRejectedError(
            [RowProblem(1, "locale", "the locale row holds one cell, locale=vi or locale=en")]
        )
    locale = _declared_locale(marker["locale"], row=1, where="row 1 / dòng 1")
    return locale, _csv_data_rows(reader, next(reader, None), header_row=2)


def _declared_locale(value: Any, *, row: int, where: str) -> NumberLocale | None:
    """Read a file's declared locale; refuse anything but vi, en or blank (at ``row``)."""
    try:
        return number_locale(None if value is None else str(value))
    except MalformedInputError as error:
        reason = error.problems[0].partition(": ")[2]
        raise ImportRejectedError([RowProblem(row, "locale", f"{reason} ({where})")]) from None


def _csv_data_rows(
    reader: Iterator[list[str]], header: list[str] | None, *, header_row: int
) -> Rows:
    if not header:
        raise ImportRejectedError([RowProblem(header_row, "header", "the file is empty")])
    header = [column_field(h.strip()) for h in header]
    _check_header(header, row=header_row)
    for number, cells in enumerate(reader, start=header_row + 1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise ImportRejectedError(
                [RowProblem(number, "row", f"{len(cells)} cells but {len(header)} columns")]
            )
        yield number, dict(zip(header, cells, strict=False))


def column_field(header_cell: str) -> str:
    """Return the column a header cell names: the field of "<label> / <field>", else the cell.

    Both the plain ``oxygen_used_24h_m3`` and the template's bilingual "Oxy đã dùng 24 giờ (m³) /
    oxygen_used_24h_m3" name the field ``oxygen_used_24h_m3``.
    """
    match = BILINGUAL_HEADER.fullmatch(header_cell)
    return header_cell if match is None else match["field"]


def _check_header(header: list[str], *, row: int = 1) -> None:
    seen = set()
    for name in header:
        if not name:
            raise ImportRejectedError([RowProblem(row, "header", "a column has no name")])
        if name in seen:
            raise ImportRejectedError([RowProblem(row, name, "the column appears twice")])
        seen.add(name)


def check_xlsx_archive(content: bytes, *, max_uncompressed_bytes: int, max_entries: int) -> None:
    """Refuse an XLSX file before parsing if it could exhaust memory (zip bomb).

    Raises
    ------
    ImportRejectedError
        If it is not a zip archive, has more than ``max_entries`` entries, would expand beyond
        ``max_uncompressed_bytes``, or an entry is compressed more than 100:1.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ImportRejectedError(
            [RowProblem(0, "file", "not an XLSX file (not a zip archive)")]
        ) from None
    entries = archive.infolist()
    if len(entries) > max_entries:
        raise ImportRejectedError(
            [
                RowProblem(
                    0, "file", f"{len(entries)} archive entries; at most {max_entries} accepted"
                )
            ]
        )
    total = sum(e.file_size for e in entries)
    if total > max_uncompressed_bytes:
        raise ImportRejectedError(
            [
                RowProblem(
                    0,
                    "file",
                    f"expands to {total} bytes; at most {max_uncompressed_bytes} accepted",
                )
            ]
        )
    for entry in entries:
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_COMPRESSION_RATIO:
            raise ImportRejectedError(
                [
                    RowProblem(
                        0,
                        "file",
                        f"entry {entry.filename!r} is compressed suspiciously well (zip bomb?)",
                    )
                ]
            )


def read_xlsx_rows(
    content: bytes, *, max_uncompressed_bytes: int = 50 * 1024 * 1024, max_entries: int = 100
) -> Rows:
    """Yield (row number, column -> cell value) from the sheet "Nhập liệu" (else the first one).

    Number cells are numbers (int or float), text cells text; the declared locale is not read
    here (see :func:`read_xlsx_file`).

    Raises
    ------
    ImportRejectedError
        As :func:`check_xlsx_archive`, or if the workbook cannot be read.
    """
    _, rows = read_xlsx_file(
        content, max_uncompressed_bytes=max_uncompressed_bytes, max_entries=max_entries
    )
    yield from rows


def read_xlsx_file(
    content: bytes, *, max_uncompressed_bytes: int = 50 * 1024 * 1024, max_entries: int = 100
) -> tuple[NumberLocale | None, Rows]:
    """Return the locale an XLSX declares (None: none) and the rows of :func:`read_xlsx_rows`.

    The locale is in column B of the row of sheet "Hướng dẫn" whose column A is
    :data:`LOCALE_LABEL` (or just ``locale``): ``vi``, ``en``, or blank for none.

    Raises
    ------
    ImportRejectedError
        As :func:`read_xlsx_rows`, or if the locale cell holds another value (``locale``).
    """
    import openpyxl

    check_xlsx_archive(
        content, max_uncompressed_bytes=max_uncompressed_bytes, max_entries=max_entries
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise ImportRejectedError(
            [RowProblem(0, "file", f"unreadable XLSX ({type(error).__name__})")]
        ) from None
    try:
        locale = _xlsx_locale(workbook)
    except BaseException:
        workbook.close()
        raise
    return locale, _xlsx_data_rows(workbook)


def _is_locale_label(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    label = unicodedata.normalize("NFC", value).strip().casefold()
    return label in ("locale", LOCALE_LABEL.casefold()) or label.endswith("(locale)")


def _xlsx_locale(workbook: Any) -> NumberLocale | None:
    """Return the locale declared on sheet "Hướng dẫn" (None if it has no locale row)."""
    if GUIDE_SHEET not in workbook.sheetnames:
        return None
    rows = _whole_sheet(workbook[GUIDE_SHEET]).iter_rows(
        max_row=GUIDE_ROWS_SEARCHED, max_col=2, values_only=True
    )
    for number, cells in enumerate(rows, start=1):
        if cells and _is_locale_label(cells[0]):
            value = cells[1] if len(cells) > 1 else None
            return _declared_locale(
                value,
                row=number,
                where=f'sheet "{GUIDE_SHEET}" cell B{number} / trang "{GUIDE_SHEET}" ô B{number}',
            )
    return None


def _whole_sheet(sheet: Any) -> Any:
    """Return a read-only sheet that reads every row, whatever its ``<dimension>`` claims.

    Read-only openpyxl stops at the sheet's stored dimension: a file whose dimension said A1:S3
    but held 10 rows imported 2 and answered 200 (issue 16). The rows are counted, not trusted.
    """
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    return sheet


def _xlsx_data_rows(workbook: Any) -> Rows:
    try:
        sheet = _whole_sheet(
            workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        )
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if not header_cells:
            raise ImportRejectedError([RowProblem(1, "header", "the sheet is empty")])
        header = ["" if c is None else column_field(str(c).strip()) for c in header_cells]
        while header and not header[-1]:
            header.pop()
        _check_header(header)
        for number, cells in enumerate(rows, start=2):
            if cells is None or all(
                c is None or (isinstance(c, str) and not c.strip()) for c in cells
            ):
                continue
            extra = [c for c in cells[len(header) :] if c not in (None, "")]
            if extra:
                raise ImportRejectedError(
                    [RowProblem(number, "row", "cells beyond the last column")]
                )
            yield (
                number,
                {
                    name: ("" if value is None else value)
                    for name, value in zip(header, cells, strict=False)
                },
            )
    finally:
        workbook.close()


def parse_records(
    kind: str, rows: Rows, *, locale: NumberLocale | None = None
) -> tuple[list[tuple[int, RegistryRecord]], list[RowProblem]]:
    """Turn rows into records of ``kind``; return the records and every problem found.

    ``locale`` is how the file writes numbers as text (None: declared nowhere, so ambiguous text
    such as ``5.200`` is a problem of its row and column); number cells are taken as they are.

    Raises
    ------
    ImportRejectedError
        On an unknown ``kind`` or more than 50,000 rows.
    """
    record_type = IMPORT_TYPES.get(kind)
    if record_type is None:
        raise ImportRejectedError([RowProblem(0, "kind", f"cannot import {kind!r}")])
    records: list[tuple[int, RegistryRecord]] = []
    problems: list[RowProblem] = []
    for number, row in rows:
        if number > MAX_ROWS + 1:
            raise ImportRejectedError([RowProblem(number, "row", f"more than {MAX_ROWS} rows")])
        # Registry records have their own "source" field; only reports drop the export columns.
        data = {k: v for k, v in row.items() if kind != "reports" or k not in EXPORT_ONLY_COLUMNS}
        try:
            record = record_type.from_mapping(data, text=True, number_locale=locale)
            records.append((number, record))
        except InvalidInputError as error:
            for problem in error.problems:
                column, _, reason = problem.partition(": ")
                problems.append(RowProblem(number, column.split("[")[0], reason or problem))
    return records, problems


GEOREFERENCED_KINDS = ("facilities", "suppliers")


def wgs84_transformer(crs: str) -> Any:
    """Return a pyproj transformer from ``crs`` (e.g. VN-2000 ``EPSG:3405``) to WGS84.

    Raises
    ------
    InvalidInputError
        If pyproj does not know the CRS.
    """
    import pyproj

    try:
        source = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise InvalidInputError(
            f"crs: unknown coordinate reference system {crs!r}; give an EPSG code such as "
            "EPSG:3405 (VN-2000 / UTM zone 48N) or EPSG:4756 (VN-2000 geographic)"
        ) from None
    return pyproj.Transformer.from_crs(source, 4326, always_xy=True)


def _coordinate(value: Any, locale: NumberLocale | None) -> float:
    """Return a coordinate cell as a float: a number cell as it is, text read by ``locale``.

    Raises
    ------
    ValueError
        If it is neither (the record's own validation then names the column and the reason).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return float(read_number_text(value, locale))
    raise ValueError(value)


def _to_wgs84(rows: Rows, transformer: Any, *, locale: NumberLocale | None = None) -> Rows:
    """Rewrite each row's ``x``/``y`` (or ``lon``/``lat``) in the source CRS as WGS84 lon/lat.

    Text coordinates are read by the file's ``locale`` (``601.234,5`` in ``vi``). A row whose
    coordinates are not numbers, or do not transform to finite WGS84 values, keeps its text so
    that the record's own validation names the column.
    """
    for number, row in rows:
        names = ("x", "y") if row.get("x") not in (None, "") else ("lon", "lat")
        x_text, y_text = row.get(names[0], ""), row.get(names[1], "")
        out = {k: v for k, v in row.items() if k not in ("x", "y")}
        try:
            x, y = _coordinate(x_text, locale), _coordinate(y_text, locale)
            lon, lat = transformer.transform(x, y)
        except (TypeError, ValueError):  # NumberTextError is a ValueError
            out["lon"], out["lat"] = x_text, y_text
        else:
            finite = math.isfinite(lon) and math.isfinite(lat)
            out["lon"], out["lat"] = (round(lon, 7), round(lat, 7)) if finite else ("nan", "nan")
        yield number, out


def import_file(
    store: Any,
    kind: str,
    content: bytes,
    *,
    file_format: str,
    principal: Principal,
    dry_run: bool = False,
    max_xlsx_uncompressed_bytes: int = 50 * 1024 * 1024,
    max_xlsx_entries: int = 100,
    crs: str | None = None,
    locale: str | NumberLocale | None = None,
    province_shapes: Sequence[tuple[str, Any]] | None = None,
    district_shapes: Sequence[tuple[str, Any]] | None = None,
) -> dict[str, Any]:
    """Validate a file and, unless ``dry_run``, store all of its rows in one transaction.

    Parameters
    ----------
    store
        A :class:`data.store.Store`.
    kind
        ``facilities``, ``suppliers``, ``vehicles`` or ``reports``.
    content, file_format
        The file and ``"csv"`` or ``"xlsx"``.
    principal
        Who imports: every row must be within its role and scope (a province coordinator imports
        only its province's facilities and their reports; a facility reporter only reports of
        its own facility).
    dry_run
        Validate only.
    crs
        For facilities and suppliers: the coordinate reference system of the file's coordinates
        (columns ``x``/``y``, or ``lon``/``lat``), e.g. VN-2000 (``EPSG:4756``, or a projected
        zone such as ``EPSG:3405``); they are stored converted to WGS84 lon/lat. ``None``: the
        file is in WGS84 already.
    locale
        How the file writes numbers as text: ``"vi"`` (``5.200,5``: ``.`` groups thousands,
        ``,`` is the decimal mark) or ``"en"`` (``5,200.5``); number cells of an XLSX are taken
        as they are. Default None: the request declares nothing and the file's own declaration
        holds (a CSV's first row ``locale=vi``, an XLSX's locale cell on "Hướng dẫn", which our
        templates set to ``vi``); a file declaring nothing either is read strictly, accepting
        only text that every locale reads the same way (``650``, ``650.5``, ``12,5``) and
        refusing ambiguous text (``5.200``) with its row and column. A request and a file that
        declare different locales are refused.
    province_shapes, district_shapes
        For facilities: the 2021 province shapes and district polygons (checks in
        :mod:`data.exchange.facility_checks`, which also refuses duplicates): a row's province
        is checked against its point, a missing district set from it, another one flagged.

    Returns
    -------
    dict
        DHIS2-style summary: ``rows``, ``imported``, ``updated`` (report corrections),
        ``ignored`` (reports identical to the stored one), ``deleted`` (always 0), ``dry_run``.
        Reports add ``warnings`` (the plausibility flags of each stored report, with its
        ``row``, ``facility_id`` and ``report_date``; empty in a dry run) and ``skipped_rows``
        (rows holding only the facility and the date, as a template's unreported days).
        Facilities add ``warnings`` (a point near its province's border or in none, a district
        that differs) and ``districts_from_points`` (``row``, ``facility_id``, ``district``).

    Raises
    ------
    ImportRejectedError
        Listing every bad row (physically impossible report values included); nothing is
        stored.
    MalformedInputError
        If ``locale`` is neither ``vi`` nor ``en`` (field ``locale``).
    PermissionDeniedError
        If the principal may not write this kind at all, or a facility reporter's file has a
        row of another facility (nothing is stored).
    ConflictError
        If an id already exists (nothing is stored).
    """
    _authorize_kind(principal, kind)
    requested = number_locale(locale)
    declared, rows = _read_file(
        content,
        file_format,
        max_uncompressed_bytes=max_xlsx_uncompressed_bytes,
        max_entries=max_xlsx_entries,
    )
    file_locale = _agreed_locale(requested, declared)
    if crs is not None:
        rows = _in_wgs84(rows, kind, crs, file_locale)
    skipped: list[int] = []  # report rows left blank
    other_facilities: list[tuple[int, str]] = []  # a reporter's rows of another facility
    if kind == "reports":
        rows = _filled_reports(rows, skipped)
        if principal.role == Role.FACILITY_REPORTER:
            rows = _watch_facilities(rows, principal, other_facilities)
    osm_ids: dict[int, str] = {}
    rows = _take_osm_ids(rows, osm_ids) if kind == "facilities" else rows
    records, problems = parse_records(kind, rows, locale=file_locale)
    _refuse_other_facilities(principal, other_facilities)
    _refuse_empty(records, problems, skipped)
    problems.extend(_scope_problems(store, kind, records, principal))
    facility_checks = _facility_checks(
        store, kind, records, problems, (province_shapes, district_shapes), osm_ids
    )
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: (p.row, p.column)))
    summary: dict[str, Any] = {"kind": kind, "rows": len(records), "dry_run": dry_run}
    summary |= {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0, "conflicts": []}
    summary |= {"skipped_rows": skipped, "warnings": []} if kind == "reports" else {}
    summary |= facility_checks
    if kind == "reports":  # a dry run checks too (plausibility), then stores nothing
        checked = _store_reports(store, records, principal, dry_run=dry_run)
        summary |= {"warnings": checked["warnings"]} if dry_run else checked
    elif not dry_run:
        summary["imported"] = store.create_records(
            [r for _, r in records], actor=principal.username
        )
    return summary


def _in_wgs84(rows: Rows, kind: str, crs: str, file_locale: NumberLocale | None) -> Rows:
    """Return the rows with their coordinates converted from ``crs`` to WGS84 lon/lat.

    Raises
    ------
    InvalidInputError
        If ``kind`` carries no coordinates.
    """
    if kind not in GEOREFERENCED_KINDS:
        raise InvalidInputError(
            f"crs: only {' and '.join(GEOREFERENCED_KINDS)} carry coordinates, not {kind}"
        )
    return _to_wgs84(rows, wgs84_transformer(crs), locale=file_locale)


def _refuse_empty(records: list[Any], problems: list[RowProblem], skipped: list[int]) -> None:
    """Refuse a file with no row to import (a header only, or only unreported template days).

    Raises
    ------
    ImportRejectedError
        If there is neither a record nor a problem.
    """
    if not records and not problems:
        reason = (
            f"no row is filled in ({len(skipped)} row(s) hold only the facility and the date)"
            if skipped
            else "the file has a header but no rows"
        )
        raise ImportRejectedError([RowProblem(2, "row", reason)])


def _read_file(
    content: bytes, file_format: str, *, max_uncompressed_bytes: int, max_entries: int
) -> tuple[NumberLocale | None, Rows]:
    """Return the locale a CSV or XLSX file declares and its rows."""
    if file_format == "csv":
        return read_csv_file(content)
    return read_xlsx_file(
        content, max_uncompressed_bytes=max_uncompressed_bytes, max_entries=max_entries
    )


def _authorize_kind(principal: Principal, kind: str) -> None:
    """Refuse a principal that may not write ``kind`` at all (rows are checked later).

    Raises
    ------
    PermissionDeniedError
        If the role lacks ``<kind>:write``, or (suppliers, vehicles: unscoped registries) a
        scoped role may not write them.
    """
    permission = f"{kind}:write"
    if principal.role == Role.PROVINCE_COORDINATOR and kind in ("suppliers", "vehicles"):
        authorize(principal, permission)
    elif kind in ("facilities", "reports"):
        if permission not in _permissions(principal):
            raise PermissionDeniedError(f"role {principal.role.value!r} may not use {permission!r}")
    else:
        authorize(principal, permission)


def _facility_checks(
    store: Any,
    kind: str,
    records: list[tuple[int, RegistryRecord]],
    problems: list[RowProblem],
    shapes: tuple[Sequence[tuple[str, Any]] | None, Sequence[tuple[str, Any]] | None],
    osm_ids: dict[int, str],
) -> dict[str, Any]:
    """Check facility rows (province, district, duplicates): the summary's facility entries.

    Adds the refusals to ``problems`` and sets, in ``records``, the district found from the
    point of each row that declares none; returns ``warnings`` and ``districts_from_points``.
    """
    if kind != "facilities":
        return {}
    province_shapes, district_shapes = shapes
    checks = check_facility_rows(
        records,
        store.list_facilities(),
        province_shapes=province_shapes,
        osm_ids=osm_ids,
        district_shapes=district_shapes,
    )
    problems.extend(checks.problems)
    found = []
    for index, (number, record) in enumerate(records):
        if number in checks.districts and isinstance(record, Facility):
            district = checks.districts[number]
            records[index] = (number, dataclasses.replace(record, district=district))
            found.append({"row": number, "facility_id": record.facility_id, "district": district})
    return {"warnings": checks.warnings, "districts_from_points": found}


def _take_osm_ids(rows: Rows, osm_ids: dict[int, str]) -> Rows:
    """Pass facility rows on without their ``osm_id`` column; note its values by row number."""
    for number, row in rows:
        value = row.pop("osm_id", None)
        if not _is_blank(value):
            osm_ids[number] = str(value).strip()
        yield number, row


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _filled_reports(rows: Rows, skipped: list[int]) -> Rows:
    """Pass on the report rows an officer filled in; add the others' numbers to ``skipped``.

    A row of a prefilled template that holds nothing but its facility, date and the columns our
    exports add (the facility's name) is a day the officer did not report on, not a report.
    """
    ignored = PREFILLED_REPORT_COLUMNS | EXPORT_ONLY_COLUMNS
    for number, row in rows:
        if all(_is_blank(v) for k, v in row.items() if k not in ignored):
            skipped.append(number)
            continue
        yield number, row


def _watch_facilities(rows: Rows, principal: Principal, other: list[tuple[int, str]]) -> Rows:
    """Pass rows on; note those whose ``facility_id`` is not the reporter's own facility."""
    for number, row in rows:
        facility_id = str(row.get("facility_id", "")).strip()
        if facility_id != principal.facility_id:
            other.append((number, facility_id))
        yield number, row


def _refuse_other_facilities(principal: Principal, other: list[tuple[int, str]]) -> None:
    """Refuse (403) a facility reporter's file with rows of another facility; nothing is stored.

    Raises
    ------
    PermissionDeniedError
        Naming the first rows and the facilities they touch.
    """
    if not other:
        return
    listed = ", ".join(
        f"row {number}: {facility_id or '(empty)'!r}" for number, facility_id in other[:5]
    )
    more = f" and {len(other) - 5} more" if len(other) > 5 else ""
    raise PermissionDeniedError(
        f"a facility reporter imports only its own facility {principal.facility_id!r}; "
        f"facility_id of {listed}{more} / cán bộ cơ sở chỉ nhập báo cáo của cơ sở mình "
        f"({principal.facility_id}); nothing was imported / không có dòng nào được nhập"
    )


def _store_reports(
    store: Any, records: list[tuple[int, RegistryRecord]], principal: Principal, *, dry_run: bool
) -> dict[str, Any]:
    """Submit the reports in one transaction; return the counts and the warnings by row.

    With ``dry_run`` the store checks them the same way and stores nothing.

    Raises
    ------
    ImportRejectedError
        If a report breaks a refusal rule of :mod:`data.plausibility` (each problem with its
        row); nothing is stored.
    """
    reports = [r for _, r in records]
    try:
        results = store.submit_reports(reports, submitted_by=principal.username, dry_run=dry_run)
    except ImportRejectedError:
        raise
    except InvalidInputError as error:
        raise ImportRejectedError(_refusal_problems(error, records)) from None
    warnings = [
        {
            "row": number,
            "facility_id": result.revision.report.facility_id,
            "report_date": result.revision.report.report_date.isoformat(),
            **finding.to_dict(),
        }
        for (number, _), result in zip(records, results, strict=True)
        for finding in result.flags
    ]
    return {
        "imported": sum(1 for r in results if r.created and r.revision.revision == 1),
        "updated": sum(1 for r in results if r.created and r.revision.revision > 1),
        "ignored": sum(1 for r in results if not r.created),
        "warnings": warnings,
    }


_BATCH_PROBLEM = re.compile(
    r"reports\[(?P<position>[0-9]+)\]\.(?P<field>[^:]+): (?P<reason>.*)", re.S
)


def _refusal_problems(
    error: InvalidInputError, records: list[tuple[int, RegistryRecord]]
) -> list[RowProblem]:
    """Turn the store's ``reports[<position>].<field>: reason`` problems into row problems."""
    problems = []
    for problem in error.problems:
        match = _BATCH_PROBLEM.fullmatch(problem)
        if match is None:
            column, _, reason = problem.partition(": ")
            problems.append(RowProblem(0, column, reason or problem))
            continue
        number = records[int(match["position"]) - 1][0]
        problems.append(RowProblem(number, match["field"].split("[")[0], match["reason"]))
    return problems


def _agreed_locale(
    requested: NumberLocale | None, declared: NumberLocale | None
) -> NumberLocale | None:
    """Return the file's locale: the request's or the file's; refuse two that differ."""
    if requested is not None and declared is not None and requested != declared:
        raise ImportRejectedError(
            [
                RowProblem(
                    0,
                    "locale",
                    f"the request says locale={requested.value} but the file declares "
                    f"locale={declared.value}; make them agree (or leave one out) and send again"
                    f" / yêu cầu ghi locale={requested.value} nhưng tệp khai báo "
                    f"locale={declared.value}; hãy sửa cho khớp (hoặc bỏ một bên) rồi gửi lại",
                )
            ]
        )
    return requested if requested is not None else declared


def _permissions(principal: Principal) -> frozenset[str]:
    from data.access import ROLE_PERMISSIONS

    return ROLE_PERMISSIONS[principal.role]


def _scope_problems(
    store: Any, kind: str, records: list[tuple[int, RegistryRecord]], principal: Principal
) -> list[RowProblem]:
    problems = []
    if kind == "facilities":
        for number, record in records:
            assert isinstance(record, Facility)
            try:
                authorize(
                    principal,
                    "facilities:write",
                    facility_id=record.facility_id,
                    province_code=record.province_code,
                )
            except PermissionDeniedError as error:
                problems.append(RowProblem(number, "province_code", str(error)))
    if kind == "reports":
        facilities = {f.facility_id: f for f in store.list_facilities()}
        tomorrow = local_date(store.clock()) + dt.timedelta(days=1)
        seen: dict[tuple[str, dt.date], int] = {}
        for number, record in records:
            assert isinstance(record, DailyReport)
            facility = facilities.get(record.facility_id)
            if facility is None:
                problems.append(
                    RowProblem(number, "facility_id", f"no facility {record.facility_id!r}")
                )
                continue
            try:
                authorize(
                    principal,
                    "reports:write",
                    facility_id=facility.facility_id,
                    province_code=facility.province_code,
                )
            except PermissionDeniedError as error:
                problems.append(RowProblem(number, "facility_id", str(error)))
            if record.report_date > tomorrow:
                problems.append(
                    RowProblem(
                        number,
                        "report_date",
                        f"must not be after tomorrow ({tomorrow}), got {record.report_date}",
                    )
                )
            key = (record.facility_id, record.report_date)
            if key in seen:
                problems.append(
                    RowProblem(
                        number,
                        "report_date",
                        f"same facility and day as row {seen[key]}; send one row per facility-day",
                    )
                )
            seen.setdefault(key, number)
    return problems


# --------------------------------------------------------------------------- HCMC seed

HCMC_HOSPITALS_CSV = Path("derived") / "hcmc_2018_hospitals_curated.csv"
HCMC_PROVINCE_CODE = "79"
HCMC_SOURCE = "OpenStreetMap 2018-01-01 (© OpenStreetMap contributors, ODbL), curated; tier by rule"
_TIER_2_MARKERS = (
    "quận",
    "huyện",
    "trung tâm y tế",
    "thủ đức",
    "củ chi",
    "hóc môn",
    "hoc mon",
    "bình chánh",
    "nhà bè",
    "cần giờ",
    "district",
)


def hcmc_tier(name: str) -> int:
    """Assign a COVID treatment tier to a curated HCMC hospital from its name alone.

    Rule (an assumption, not a sourced fact, and labelled so in ``source``): district-level
    hospitals and district health centres (name contains "Quận", "Huyện", "Trung tâm Y tế" or the
    name of a suburban district) and hospitals of a low-COVID specialty (eye, maternity, dental,
    dermatology, psychiatry, ...: :func:`data.seed_roles.specialty_of`; they screen, hold patients
    on masks and high-flow cannulas and transfer the severe ones, QĐ 4111's tier 2) are tier 2;
    every other hospital (city, central, military, university and private general hospitals, and
    children's, heart and oncology hospitals) is tier 3 (intensive care). No OSM hospital is tier
    1: tier-1 sites of 2021 were field and community facilities that are not in the 2018 map.
    """
    lowered = name.casefold()
    if any(marker in lowered for marker in _TIER_2_MARKERS) or specialty_of(name) is not None:
        return 2
    return 3


def hcmc_facilities(
    data_dir: Path, *, reporting_from: dt.date = dt.date(2021, 7, 1)
) -> list[Facility]:
    """Read the curated HCMC hospitals (from the data directory, never copied) as facilities.

    Ids are ``osm-<type>-<id>`` (stable OSM ids). Exact duplicates of name are kept once (the
    first), since the curated file still has a few (for example "Bệnh viện Quận 10" twice).

    Raises
    ------
    MissingDataFileError
        If the file is not in ``data_dir``.
    ImportRejectedError
        If a row cannot be read.
    """
    path = data_dir / HCMC_HOSPITALS_CSV
    if not path.is_file():
        raise MissingDataFileError(
            f"{str(path)!r} not found; point OXYROUTE_DATA_DIR at the shared data"
        )
    facilities: list[Facility] = []
    problems: list[RowProblem] = []
    names: set[str] = set()
    for number, row in read_csv_rows(path.read_bytes()):
        name = row["name"].strip()
        if name.casefold() in names:
            continue
        names.add(name.casefold())
        data: Mapping[str, Any] = {
            "facility_id": f"osm-{row['osm_type']}-{row['osm_id']}",
            "name": name,
            "province_code": HCMC_PROVINCE_CODE,
            "lon": row["lon"],
            "lat": row["lat"],
            "tier": str(hcmc_tier(name)),
            "address": row.get("addr_street") or None,
            "beds_oxygen": None,
            "reporting_from": reporting_from.isoformat(),
            "source": HCMC_SOURCE,
        }
        try:
            # The curated file is written by a program: dot decimals (106.6939982).
            facilities.append(Facility.from_mapping(data, text=True, number_locale=NumberLocale.EN))
        except (InvalidInputError, MalformedInputError) as error:
            problems.extend(
                RowProblem(number, p.partition(": ")[0], p.partition(": ")[2])
                for p in error.problems
            )
    if problems:
        raise ImportRejectedError(problems)
    return facilities
