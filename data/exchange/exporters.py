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
import typing
from collections.abc import Mapping
from typing import Any

from data.exchange.importers import DATA_SHEET, GUIDE_SHEET, IMPORT_TYPES, LOCALE_LABEL
from data.reporting import local_date
from data.schema.number_text import NumberLocale, unambiguous_number_text
from data.schema.registry import (
    CYLINDER_SIZES,
    FIRST_REPORT_DATE,
    MAX_COUNT,
    DailyReport,
    Facility,
    RegistryRecord,
    ReportRevision,
)
from data.schema.spreadsheet_text import safe_text

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
FACILITY_NAME_COLUMN = "facility_name"
"""The facility's name, beside its id in report exports (an import ignores it)."""
REPORT_LABELS_VI = {
    "facility_id": "Mã cơ sở",
    FACILITY_NAME_COLUMN: "Tên cơ sở",
    "report_date": "Ngày báo cáo",
    "oxygen_used_24h_m3": "Oxy đã dùng 24 giờ (m³)",
    "patients_cannula_mask": "Người bệnh thở oxy qua gọng mũi/mặt nạ",
    "patients_high_flow": "Người bệnh thở oxy dòng cao (HFNC)",
    "patients_niv": "Người bệnh thở máy không xâm nhập (NIV)",
    "patients_invasive": "Người bệnh thở máy xâm nhập",
    "patients_ecmo": "Người bệnh ECMO",
    "liquid_stock_l": "Oxy lỏng tồn trong bồn (lít)",
    "cylinders_full": "Bình đầy theo cỡ (vd 40L=12; 10L=3)",
    "cylinders_empty": "Bình rỗng theo cỡ (vd 40L=5)",
    "deliveries_expected_m3": "Dự kiến nhận trong 24 giờ tới (m³)",
    "note": "Ghi chú",
}
"""Vietnamese labels of the report columns: the one-facility template's headers read
"<label> / <field>" (the importer takes the field after the last " / ")."""
TEMPLATE_BLANK_DAYS = 62
"""At most this many blank rows (the latest unreported days of the period) in a template."""
TEMPLATE_SPARE_ROWS = 50
"""Rows below the prefilled ones that keep the pick lists and validation for added rows."""
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


def _csv_cell(value: Any) -> str:
    """Return a CSV cell: text guarded (``=HYPERLINK(...)`` in a note is never run), numbers not."""
    text = _cell_text(value)
    if value is None or isinstance(value, bool | int | float | dt.date):
        return text
    return safe_text(text)


def _fields(kind: str) -> list[str]:
    # Every registry record type is a dataclass; the RegistryRecord mix-in cannot say so to mypy.
    return [f.name for f in dataclasses.fields(IMPORT_TYPES[kind])]  # type: ignore[arg-type]


def _report_columns() -> list[str]:
    """Return the report fields with :data:`FACILITY_NAME_COLUMN` beside ``facility_id``."""
    fields = _fields("reports")
    at = fields.index("facility_id") + 1
    return [*fields[:at], FACILITY_NAME_COLUMN, *fields[at:]]


def _report_values(report: DailyReport, names: Mapping[str, str]) -> list[Any]:
    return [
        names.get(report.facility_id, "") if c == FACILITY_NAME_COLUMN else getattr(report, c)
        for c in _report_columns()
    ]


def _rows(
    kind: str, items: list[Any], names: Mapping[str, str] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Return the header and rows of ``kind``; reports carry their facility's name (``names``)."""
    columns = _fields(kind)
    rows = []
    if kind == "reports":
        columns = _report_columns()
        for revision in items:
            assert isinstance(revision, ReportRevision)
            rows.append(
                [
                    *_report_values(revision.report, names or {}),
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
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(columns: list[str], rows: list[list[Any]], *, province_codes: list[str]) -> bytes:
    """Write rows as an XLSX workbook (sheets "Hướng dẫn", "Nhập liệu", "Danh mục")."""
    import openpyxl

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
    _add_data_sheet(workbook, columns, rows)
    _add_codes_sheet(workbook, province_codes)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _add_data_sheet(workbook: Any, headers: list[str], rows: list[list[Any]]) -> Any:
    """Add the sheet "Nhập liệu": a bold frozen header, text kept text, dates as date cells."""
    from openpyxl.styles import Font, PatternFill

    sheet = workbook.create_sheet(DATA_SHEET)
    sheet.append(headers)
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
    return sheet


def _add_codes_sheet(workbook: Any, province_codes: list[str]) -> None:
    """Add the protected sheet "Danh mục": province codes and cylinder sizes."""
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


def facility_template_rows(
    facility: Facility,
    revisions: list[ReportRevision],
    *,
    date_from: dt.date,
    date_to: dt.date,
    last_day: dt.date,
) -> list[list[Any]]:
    """Return the rows of a facility's template: its reports, then blank rows for unreported days.

    A blank row holds the facility's id and name and a day of the period without a report, from
    the facility's ``reporting_from`` to ``last_day`` (tomorrow, the last day a report may be
    for): at most :data:`TEMPLATE_BLANK_DAYS`, the latest ones. The importer skips a row left so.
    """
    names = {facility.facility_id: facility.name}
    reported = {r.report.report_date for r in revisions}
    first = max(date_from, facility.reporting_from or FIRST_REPORT_DATE)
    last = min(date_to, last_day)
    days = [
        first + dt.timedelta(days=n)
        for n in range(max((last - first).days + 1, 0))
        if first + dt.timedelta(days=n) not in reported
    ][-TEMPLATE_BLANK_DAYS:]
    rows = [_report_values(r.report, names) for r in revisions]
    columns = _report_columns()
    for day in days:
        blank: dict[str, Any] = {
            "facility_id": facility.facility_id,
            FACILITY_NAME_COLUMN: facility.name,
            "report_date": day,
        }
        rows.append([blank.get(c) for c in columns])
    return sorted(rows, key=lambda row: row[columns.index("report_date")])


def to_facility_template(
    facility: Facility, rows: list[list[Any]], *, province_codes: list[str]
) -> bytes:
    """Write one facility's reports template (XLSX) for its officer to fill in and import.

    Sheets as :func:`to_xlsx`; headers "<Vietnamese label> / <field>"; the facility's id and
    name on the instructions sheet and in every prefilled row; a pick list of the facility's id;
    Excel data validation: whole numbers >= 0 for patient counts, decimals >= 0 for quantities,
    dates from 2000-01-01 for ``report_date``; cylinder columns and the note are text.
    """
    import openpyxl

    columns = _report_columns()
    workbook = openpyxl.Workbook()
    guide = workbook.active
    guide.title = GUIDE_SHEET
    _add_locale_row(guide)
    for line in (
        f"Cơ sở / Facility: {facility.facility_id} — {facility.name}",
        (
            'Mỗi dòng trên trang "Nhập liệu" là báo cáo một ngày; dòng chỉ có mã cơ sở và ngày '
            "(chưa điền) được bỏ qua khi nhập. (One row per day; a row left with only the "
            "facility and the date is skipped on import.)"
        ),
        (
            "Số người bệnh là số nguyên >= 0; lượng oxy là số >= 0: m³ khí (_m3), lít oxy lỏng "
            "(_l). (Patients: whole numbers >= 0; quantities: numbers >= 0.)"
        ),
        'Bình theo cỡ: 40L=12; 10L=3. Cỡ bình: xem trang "Danh mục". (Cylinders by size.)',
        "Tiêu đề cột: tiếng Việt / tên trường (Headers: Vietnamese / field name).",
    ):
        guide.append([line])
    headers = [f"{REPORT_LABELS_VI.get(c, c)} / {c}" for c in columns]
    sheet = _add_data_sheet(workbook, headers, rows)
    _add_report_validation(sheet, columns, facility, last_row=len(rows) + 1 + TEMPLATE_SPARE_ROWS)
    _add_codes_sheet(workbook, province_codes)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number_kind(hint: Any) -> str:
    """Return ``int`` or ``float`` for a (possibly optional) number field, else ``""``."""
    types = typing.get_args(hint) or (hint,)
    if int in types:
        return "int"
    return "float" if float in types else ""


def _add_report_validation(
    sheet: Any, columns: list[str], facility: Facility, *, last_row: int
) -> None:
    """Add the pick list and the number and date validation of a report template's columns."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    hints = DailyReport.field_hints()
    # A list given inline holds at most 255 characters; an id is at most 64.
    rules = {
        "facility_id": DataValidation(type="list", formula1=f'"{facility.facility_id}"'),
        "report_date": DataValidation(
            type="date",
            operator="greaterThanOrEqual",
            formula1=f"DATE({FIRST_REPORT_DATE.year},{FIRST_REPORT_DATE.month},"
            f"{FIRST_REPORT_DATE.day})",
        ),
    }
    messages = {
        "facility_id": f"chọn mã cơ sở {facility.facility_id} (pick the facility id)",
        "report_date": "một ngày, vd 2021-08-20 (a date)",
        "int": f"số nguyên từ 0 đến {MAX_COUNT} (a whole number >= 0)",
        "float": "một số >= 0 (a number >= 0)",
    }
    for index, column in enumerate(columns, start=1):
        kind = column if column in rules else _number_kind(hints.get(column))
        if kind == "int":
            rule = DataValidation(
                type="whole", operator="between", formula1="0", formula2=str(MAX_COUNT)
            )
        elif kind == "float":
            rule = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        elif kind:
            rule = rules[kind]
        else:
            continue
        rule.allow_blank = True
        rule.showErrorMessage = True
        rule.error = messages[kind]
        rule.errorTitle = column
        sheet.add_data_validation(rule)
        letter = get_column_letter(index)
        rule.add(f"{letter}2:{letter}{last_row}")


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
    facility: Facility | None = None,
) -> tuple[bytes, str]:
    """Export ``kind`` (``facilities``, ``suppliers``, ``vehicles``, ``reports``) as ``ext``.

    Reports export the latest revision of each facility-day in the period, with the facility's
    name beside its id (``facility_name``), its revision number, submission time (UTC) and
    submitter. ``province_code`` limits facilities and reports. ``facility`` (reports only)
    limits them to one facility; its XLSX is then that facility's template
    (:func:`to_facility_template`: bilingual headers, blank rows for the unreported days up to
    tomorrow, pick list and data validation), its CSV the same rows as a province's.

    Returns
    -------
    tuple of bytes and str
        The file and its media type.
    """
    if kind == "reports":
        items: list[Any] = store.latest_reports(
            date_from=date_from,
            date_to=date_to,
            province_code=province_code,
            facility_id=None if facility is None else facility.facility_id,
        )
    else:
        items = store.list_records(kind, province_code=province_code, limit=None)
    province_codes = [p.province_code for p in store.list_provinces()] if ext == "xlsx" else []
    if kind == "reports" and facility is not None and ext == "xlsx":
        rows = facility_template_rows(
            facility,
            items,
            date_from=date_from,
            date_to=date_to,
            last_day=local_date(store.clock()) + dt.timedelta(days=1),
        )
        return to_facility_template(facility, rows, province_codes=province_codes), XLSX_MIMETYPE
    names = {f.facility_id: f.name for f in store.list_facilities()} if kind == "reports" else None
    columns, rows = _rows(kind, items, names)
    if ext == "csv":
        return to_csv(columns, rows), CSV_MIMETYPE
    return to_xlsx(columns, rows, province_codes=province_codes), XLSX_MIMETYPE
