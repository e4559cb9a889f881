"""An XLSX whose ``<dimension>`` under-states its rows is read whole (issue 16, item 3)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl

from data.exchange.importers import read_xlsx_file

HEADER = ["facility_id", "report_date", "oxygen_used_24h_m3", "note"]


def _lying_workbook(rows: int, dimension: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append(["79-A", f"2021-08-{i + 1:02d}", 100 + i, f"Ngày {i + 1}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data, count = re.subn(
                    rb'<dimension ref="[^"]+"\s*/>',
                    f'<dimension ref="{dimension}"/>'.encode(),
                    data,
                )
                assert count == 1
            target.writestr(item, data)
    return out.getvalue()


def test_every_row_is_read_whatever_the_dimension_says() -> None:
    content = _lying_workbook(10, "A1:S3")
    # openpyxl itself trusts the dimension: the reproducer is real
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    assert len(list(sheet.iter_rows(values_only=True))) == 3
    _, rows = read_xlsx_file(content)
    read = list(rows)
    assert [number for number, _ in read] == list(range(2, 12))
    assert read[-1][1]["note"] == "Ngày 10"
