"""Tables a person reads, as CSV and XLSX: numbers stay numbers, formulas never run."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from data.exchange.compliance_table import safe_text, table_to_csv, table_to_xlsx

HEADERS = ["Tên (Name)", "Số (Number)"]
ROWS = [
    ["=1+1", -3],  # a formula; a negative number stays a number
    ["+84 28 3855 4137", 2.5],  # + would run as a formula too
    ["-1", None],  # text that looks negative is text: guarded
    ["@SUM(A1)", 0],
    ["\tTab", 1],
    ["Bệnh viện Chợ Rẫy", 7],  # plain text is left alone
]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Gia Định", "Gia Định"),
        ("1=1", "1=1"),  # only the first character matters
    ],
)
def test_safe_text(text: str, written: str) -> None:
    assert safe_text(text) == written


def test_csv_guards_text_and_keeps_numbers() -> None:
    content = table_to_csv(HEADERS, ROWS)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [
        HEADERS,
        ["'=1+1", "-3"],
        ["'+84 28 3855 4137", "2.5"],
        ["'-1", ""],
        ["'@SUM(A1)", "0"],
        ["'\tTab", "1"],
        ["Bệnh viện Chợ Rẫy", "7"],
    ]


def test_xlsx_text_cells_are_strings_and_numbers_numbers() -> None:
    content = table_to_xlsx(HEADERS, ROWS, sheet_title="Bảng", notes=["=ghi chú"])
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["Bảng"]
    assert [c.data_type for c in sheet[2]] == ["s", "n"]
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == [
        ("'=1+1", -3),
        ("'+84 28 3855 4137", 2.5),
        ("'-1", None),
        ("'@SUM(A1)", 0),
        ("'\tTab", 1),
        ("Bệnh viện Chợ Rẫy", 7),
    ]
    assert workbook["Ghi chú"]["A1"].value == "'=ghi chú"


def test_booleans_are_refused() -> None:
    with pytest.raises(TypeError, match="Có/Yes"):
        table_to_csv(HEADERS, [["x", True]])
