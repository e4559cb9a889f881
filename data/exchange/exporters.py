"""Export registry records and daily reports as CSV (UTF-8 with BOM) or XLSX.

The XLSX layout follows what health officers know (DHIS2 community templates, WHO ESFT): an
instructions sheet "Hướng dẫn", one data sheet "Nhập liệu" (one row per record or facility-day,
header frozen, no merged cells, ids and codes stored as text, dates as real date cells) and a code
sheet "Danh mục" listing province codes and cylinder sizes. An exported file imports back
unchanged (see :mod:`data.exchange.importers`).

Numbers (issue 13): XLSX numbers are number cells, and the instructions sheet's first row declares
the locale of numbers typed as text, ``vi`` (``5.200,5``), the convention of the officers who fill
the template in; so a number an officer types as text in a copy of the template reads back as
meant. CSV numbers are written with a dot decimal and no grouping in a form no locale reads
differently (``5.1250``, never the ambiguous ``5.125``), so a CSV export imports back unchanged
with no locale declared (or with ``locale=en``).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from data.exchange.importers import DATA_SHEET, GUIDE_SHEET, IMPORT_TYPES, LOCALE_LABEL
from data.schema.number_text import NumberLocale, unambiguous_number_text
from data.schema.registry import CYLINDER_SIZES, RegistryRecord, ReportRevision

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_EXTRA_COLUMNS = (
    "revision",
    "submitted_at",
    "submitted_by",
    "content_hash",
    "generated",
    "source",
)
"""Columns reports carry besides their content; ``generated``/``source`` label seed data."""
TEMPLATE_LOCALE = NumberLocale.VI
"""Locale the XLSX templates declare for numbers typed as text (a Vietnamese officer's)."""


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, tuple | list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return unambiguous_number_text(value)
    return str(getattr(value, "value", value))


def _rows(kind: str, items: list[Any]) -> tuple[list[str], list[list[Any]]]:
    record_type = IMPORT_TYPES[kind]
    # Every registry record type is a dataclass; the RegistryRecord mix-in cannot say so to mypy.
    columns = [f.name for f in dataclasses.fields(record_type)]  # type: ignore[arg-type]
    rows = []
    if kind == "reports":
        for revision in items:
            assert isinstance(revision, ReportRevision)
            rows.append(
                [getattr(revision.report, c) for c in columns]
                + [
                    revision.revision,
                    revision.submitted_at.astimezone(dt.UTC).isoformat(),
                    revision.submitted_by,
                    revision.content_hash,
                    revision.generated,
                    revision.source,
                ]
            )
        return columns + list(REPORT_EXTRA_COLUMNS), rows
    for record in items:
        assert isinstance(record, RegistryRecord)
        rows.append([getattr(record, c) for c in columns])
    return columns, rows


def to_csv(columns: list[str], rows: list[list[Any]]) -> bytes:
    """Write rows as CSV in UTF-8 with a byte-order mark (so Excel shows Vietnamese correctly)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell_text(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(columns: list[str], rows: list[list[Any]], *, province_codes: list[str]) -> bytes:
    """Write rows as an XLSX workbook (sheets "Hướng dẫn", "Nhập liệu", "Danh mục")."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.Workbook()
    guide = workbook.active
    guide.title = GUIDE_SHEET
    _add_locale_row(guide)
    for line in (
        (
            'Nhập một dòng cho mỗi cơ sở/ngày trên trang "Nhập liệu". '
            "(One row per record or facility-day.)"
        ),
        (
            "Mã cơ sở và mã tỉnh là văn bản; ngày theo dạng ngày. "
            "(Ids and codes are text; dates are dates.)"
        ),
        "Thể tích khí tính bằng m³ (cột _m3); oxy lỏng bằng lít (_l) hoặc kg (_kg).",
        'Bình theo cỡ: 40L=12; 10L=3. Mã tỉnh và cỡ bình: xem trang "Danh mục".',
        "Generated or assumed values are labelled in the 'source' column.",
    ):
        guide.append([line])
    sheet = workbook.create_sheet(DATA_SHEET)
    sheet.append(columns)
    header_fill = PatternFill("solid", fgColor="DDDDDD")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    sheet.freeze_panes = "A2"
    for row in rows:
        values: list[dt.date | int | float | str | None] = []
        for value in row:
            if isinstance(value, dt.date | int | float) and not isinstance(
                value, bool | dt.datetime
            ):
                values.append(value)
            else:
                values.append(_cell_text(value) if value is not None else None)
        sheet.append(values)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, str):
                # Text stays text: an id "0079" keeps its zeros and "=..." is never a formula.
                cell.data_type = "s"
                cell.number_format = "@"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    codes = workbook.create_sheet("Danh mục")
    codes.append(["province_code", "cylinder_size"])
    sizes = sorted(CYLINDER_SIZES)
    for i in range(max(len(province_codes), len(sizes))):
        codes.append(
            [
                province_codes[i] if i < len(province_codes) else None,
                sizes[i] if i < len(sizes) else None,
            ]
        )
    for row_cells in codes.iter_rows(min_row=2):
        for cell in row_cells:
            cell.number_format = "@"
    codes.protection.sheet = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _add_locale_row(guide: Any) -> None:
    """Declare :data:`TEMPLATE_LOCALE` in row 1 of "Hướng dẫn" (label, value, explanation).

    The importer reads column B of the row labelled :data:`data.exchange.importers.LOCALE_LABEL`;
    a list validation keeps the cell to ``vi`` or ``en``.
    """
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    guide.append(
        [
            LOCALE_LABEL,
            TEMPLATE_LOCALE.value,
            "Số gõ dạng văn bản: vi = 5.200,5 (dấu . ngăn hàng nghìn, dấu , thập phân); "
            "en = 5,200.5. Ô kiểu số được giữ nguyên. (Numbers typed as text are read this "
            "way: vi = 5.200,5, en = 5,200.5; number cells are read as they are.)",
        ]
    )
    guide["A1"].font = Font(bold=True)
    guide["B1"].font = Font(bold=True)
    guide["B1"].number_format = "@"
    choice = DataValidation(type="list", formula1='"vi,en"', allow_blank=True)
    choice.error = "vi hoặc en (vi or en)"
    choice.showErrorMessage = True
    guide.add_data_validation(choice)
    choice.add("B1")


def export_file(
    store: Any,
    kind: str,
    ext: str,
    *,
    province_code: str | None,
    date_from: dt.date,
    date_to: dt.date,
) -> tuple[bytes, str]:
    """Export ``kind`` (``facilities``, ``suppliers``, ``vehicles``, ``reports``) as ``ext``.

    Reports export the latest revision of each facility-day in the period, with its revision
    number, submission time (UTC) and submitter. ``province_code`` limits facilities and reports.

    Returns
    -------
    tuple of bytes and str
        The file and its media type.
    """
    if kind == "reports":
        items: list[Any] = store.latest_reports(
            date_from=date_from, date_to=date_to, province_code=province_code
        )
    else:
        items = store.list_records(kind, province_code=province_code, limit=None)
    columns, rows = _rows(kind, items)
    if ext == "csv":
        return to_csv(columns, rows), CSV_MIMETYPE
    province_codes = [p.province_code for p in store.list_provinces()]
    return to_xlsx(columns, rows, province_codes=province_codes), XLSX_MIMETYPE
