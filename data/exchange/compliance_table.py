"""Write a table a person reads (the monthly compliance table) as CSV or XLSX, safe for Excel.

Unlike the registry exports (:mod:`data.exchange.exporters`), these tables are not read back:
their headers are Vietnamese with English beside, and text cells are guarded against formula
injection. A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would
run as a formula when the file is opened in Excel or LibreOffice (OWASP "CSV injection"), so:

- in CSV such a cell gets a leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets show as
  text and hide; numbers are written as numbers and never prefixed;
- in XLSX every text cell is stored with the string type (``t="s"``), which no spreadsheet
  evaluates, and is prefixed the same way, so that a copy saved again as CSV stays harmless.

Numbers stay numbers (a count is summable in Excel), ``None`` is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from data.schema.spreadsheet_text import FORMULA_PREFIXES, safe_text

__all__ = ["CSV_MIMETYPE", "FORMULA_PREFIXES", "XLSX_MIMETYPE", "safe_text"]

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError("write booleans as words a person reads (Có/Yes), not True/False")
    if value is None or isinstance(value, int | float):
        return value
    return safe_text(str(value))


def table_to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """Return the table as CSV in UTF-8 with a byte-order mark (Excel then reads Vietnamese).

    Parameters
    ----------
    headers
        Column titles (one row).
    rows
        Cells: text, int, float or None (empty). Text is guarded against formula injection.

    Raises
    ------
    TypeError
        On a boolean cell (give the words a person reads instead).
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in headers])
    for row in rows:
        writer.writerow(["" if (cell := _cell(v)) is None else cell for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def table_to_xlsx(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    sheet_title: str,
    notes: Sequence[str] = (),
) -> bytes:
    """Return the table as an XLSX workbook: the table on ``sheet_title``, ``notes`` on "Ghi chú".

    Text cells have the string type (never a formula); the header row is bold and frozen.

    Raises
    ------
    TypeError
        On a boolean cell.
    """
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]  # Excel's limit on sheet names
    for values in [headers, *rows]:
        sheet.append([_cell(v) for v in values])
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
                cell.number_format = "@"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column_cells in sheet.columns:
        width = max(len(str(c.value or "")) for c in column_cells)
        sheet.column_dimensions[column_cells[0].column_letter].width = min(60, width + 2)
    if notes:
        note_sheet = workbook.create_sheet("Ghi chú")
        for line in notes:
            note_sheet.append([_cell(line)])
            note_sheet.cell(note_sheet.max_row, 1).data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
