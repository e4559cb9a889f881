"""A facility officer's own Excel file (issue 13, item 6): template, round trip, scope, warnings.

The officer of 79-A (Bệnh viện Chợ Rẫy; the clock is 20 August 2021, 09:00 local) downloads its
template for 18-20 August, fills in 20 August and uploads it: stored, with the plausibility
warning its numbers earn. The officers of 79-B and 01-C sending the same file get 403 and nothing
is stored.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.web.conftest import expect_error

PERIOD = "date_from=2021-08-18&date_to=2021-08-20"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def _workbook(content: bytes) -> Any:
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(content))


def _store(app: Any) -> Any:
    return app.extensions["oxyroute"].store


def test_the_template_is_prefilled_for_the_officers_facility(as_user: Any) -> None:
    response = _ok(as_user("repA").get(f"/exports/reports.xlsx?{PERIOD}"))
    assert response.mimetype == XLSX
    assert 'filename="reports-79-A.xlsx"' in response.headers["Content-Disposition"]
    book = _workbook(response.data)
    guide = [row for row in book["Hướng dẫn"].iter_rows(values_only=True)]
    assert guide[0][:2] == ("Định dạng số / Number format (locale)", "vi")  # locale row kept
    assert any("79-A — Bệnh viện Chợ Rẫy" in str(row[0]) for row in guide)
    sheet = book["Nhập liệu"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == [
        "Mã cơ sở / facility_id",
        "Tên cơ sở / facility_name",
        "Ngày báo cáo / report_date",
        "Oxy đã dùng 24 giờ (m³) / oxygen_used_24h_m3",
    ]
    rows = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    # One blank row per unreported day of the period, with the facility's id and name.
    assert [(r[0], r[1], r[2].date().isoformat()) for r in rows] == [
        ("79-A", "Bệnh viện Chợ Rẫy", f"2021-08-{day}") for day in (18, 19, 20)
    ]
    assert all(value is None for row in rows for value in row[3:])
    rules = {
        (dv.type, str(dv.sqref).split(":")[0][:-1] if dv.sqref else "")
        for dv in sheet.data_validations.dataValidation
    }
    column = {str(c.value).rpartition(" / ")[2]: c.column_letter for c in sheet[1]}
    assert ("list", column["facility_id"]) in rules
    assert ("date", column["report_date"]) in rules
    assert ("whole", column["patients_high_flow"]) in rules  # counts: whole numbers >= 0
    assert ("decimal", column["oxygen_used_24h_m3"]) in rules  # quantities: decimals >= 0
    assert ("decimal", column["liquid_stock_l"]) in rules
    pick = next(dv for dv in sheet.data_validations.dataValidation if dv.type == "list")
    assert pick.formula1 == '"79-A"'
    decimal = next(dv for dv in sheet.data_validations.dataValidation if dv.type == "decimal")
    assert (decimal.operator, decimal.formula1) == ("greaterThanOrEqual", "0")


def _filled(content: bytes) -> bytes:
    """Fill in 20 August the Vietnamese way (text 5.200 = 5,200 m³); leave 18-19 blank."""
    book = _workbook(content)
    sheet = book["Nhập liệu"]
    column = {str(c.value).rpartition(" / ")[2]: c.column for c in sheet[1]}
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 3).value.day == 20)
    sheet.cell(row, column["oxygen_used_24h_m3"]).value = "5.200"
    sheet.cell(row, column["patients_high_flow"]).value = 3
    sheet.cell(row, column["cylinders_full"]).value = "40L=12"
    sheet.cell(row, column["note"]).value = "Thiếu bình 40 lít"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_round_trip_in_scope_and_403_outside_it(app: Any, as_user: Any) -> None:
    template = _ok(as_user("repA").get(f"/exports/reports.xlsx?{PERIOD}")).data
    filled = _filled(template)
    store = _store(app)
    for intruder in ("repB", "repC"):
        error = expect_error(
            as_user(intruder).post("/imports/reports?format=xlsx", data=filled, content_type=XLSX),
            403,
        )
        assert "79-A" in error["message"] and "row 4" in error["message"]
        assert store.count_report_revisions() == 0  # nothing stored
    dry = _ok(
        as_user("repA").post(
            "/imports/reports?format=xlsx&dry_run=true", data=filled, content_type=XLSX
        )
    ).get_json()
    assert (dry["rows"], dry["skipped_rows"], store.count_report_revisions()) == (1, [2, 3], 0)
    summary = _ok(
        as_user("repA").post("/imports/reports?format=xlsx", data=filled, content_type=XLSX)
    ).get_json()
    assert (summary["imported"], summary["rows"], summary["skipped_rows"]) == (1, 1, [2, 3])
    # 5,200 m³ for 3 patients on high flow is far above 3 x 3 x 30 L/min x 1.44: flagged.
    assert [(w["row"], w["rule_id"]) for w in summary["warnings"]] == [
        (4, "use.above_patient_flows")
    ]
    assert summary["warnings"][0]["message_vi"] and summary["warnings"][0]["message_en"]
    stored = _ok(as_user("repA").get("/facilities/79-A/reports/2021-08-20")).get_json()
    assert stored["oxygen_used_24h_m3"] == 5200  # never 5.2
    assert stored["cylinders_full"] == {"40L": 12} and stored["note"] == "Thiếu bình 40 lít"
    assert [f["rule_id"] for f in stored["flags"]] == ["use.above_patient_flows"]
    # The officer's next download shows the report beside the still blank days.
    again = _workbook(_ok(as_user("repA").get(f"/exports/reports.xlsx?{PERIOD}")).data)
    values = [r[3] for r in again["Nhập liệu"].iter_rows(min_row=2, values_only=True)]
    assert values == [None, None, 5200]


def test_a_row_of_another_facility_refuses_the_whole_file(app: Any, as_user: Any) -> None:
    text = (
        "facility_id,report_date,oxygen_used_24h_m3\n"
        "79-A,2021-08-20,120\n"
        "79-B,2021-08-20,80\n"  # row 3: the neighbour's
    )
    error = expect_error(
        as_user("repA").post(
            "/imports/reports?format=csv", data=text.encode(), content_type="text/csv"
        ),
        403,
    )
    assert "row 3: '79-B'" in error["message"]
    assert _store(app).count_report_revisions() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/exports/reports.csv?province_code=79",  # a reporter's scope is its facility
        "/exports/facilities.csv",
        "/exports/suppliers.xlsx",
    ],
)
def test_a_reporter_exports_nothing_else(as_user: Any, path: str) -> None:
    expect_error(as_user("repA").get(path), 403)


@pytest.mark.parametrize("kind", ["facilities", "suppliers", "vehicles"])
def test_a_reporter_imports_no_registry_records(app: Any, as_user: Any, kind: str) -> None:
    expect_error(
        as_user("repA").post(
            f"/imports/{kind}?format=csv", data=b"facility_id\n79-A\n", content_type="text/csv"
        ),
        403,
    )


def test_csv_exports_show_the_facility_name_beside_its_id(as_user: Any) -> None:
    _ok(
        as_user("repA").post(
            "/facilities/79-A/reports",
            json={
                "report_date": "2021-08-19",
                "oxygen_used_24h_m3": 120.5,
                "patients_high_flow": 3,
            },
        ),
        201,
    )
    for user in ("repA", "coord79"):
        text = _ok(as_user(user).get(f"/exports/reports.csv?{PERIOD}")).data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert list(rows[0])[:3] == ["facility_id", "facility_name", "report_date"]
        assert [(r["facility_id"], r["facility_name"]) for r in rows] == [
            ("79-A", "Bệnh viện Chợ Rẫy")
        ]
    # The export imports back unchanged (the name column is ignored), as the officer's own.
    summary = _ok(
        as_user("repA").post(
            "/imports/reports?format=csv",
            data=_ok(as_user("repA").get(f"/exports/reports.csv?{PERIOD}")).data,
            content_type="text/csv",
        )
    ).get_json()
    assert (summary["ignored"], summary["warnings"]) == (1, [])


def test_the_locale_query_parameter_reads_text_numbers(as_user: Any) -> None:
    text = "facility_id,report_date,oxygen_used_24h_m3\n79-A,2021-08-20,5.200\n"
    ambiguous = expect_error(
        as_user("repA").post(
            "/imports/reports?format=csv", data=text.encode(), content_type="text/csv"
        ),
        422,
    )
    assert ambiguous["details"][0]["field"] == "oxygen_used_24h_m3"
    _ok(
        as_user("repA").post(
            "/imports/reports?format=csv&locale=vi", data=text.encode(), content_type="text/csv"
        )
    )
    stored = as_user("repA").get("/facilities/79-A/reports/2021-08-20").get_json()
    assert stored["oxygen_used_24h_m3"] == 5200  # 5.200 in Vietnamese, never 5.2
    expect_error(
        as_user("repA").post(
            "/imports/reports?format=csv&locale=fr", data=text.encode(), content_type="text/csv"
        ),
        400,
    )


def test_dhis2_imports_list_the_flags_as_warnings(app: Any, as_user: Any) -> None:
    values = [
        {"dataElement": "O2_USED_24H_M3", "period": "20210820", "orgUnit": "79-A", "value": "40"},
        {"dataElement": "PAT_O2_HFNC", "period": "20210820", "orgUnit": "79-A", "value": "0"},
        {"dataElement": "O2_USED_24H_M3", "period": "20210820", "orgUnit": "79-B", "value": "5"},
    ]
    summary = _ok(
        as_user("coord79").post("/dhis2/dataValueSets", json={"dataValues": values})
    ).get_json()
    # Stored (the counts say so), and flagged: 40 m³ with no patient on oxygen (79-B's 5 m³ is
    # within one cylinder's 6 m³, so not).
    assert summary["status"] == "WARNING"
    assert summary["importCount"]["imported"] == 3
    (warning,) = summary["conflicts"]
    assert (warning["object"], warning["property"], warning["indexes"]) == (
        "79-A",
        "oxygen_used_24h_m3",
        [0, 1],
    )
    assert warning["errorCode"] == "WARNING"
    assert warning["warning"]["rule_id"] == "use.without_patients"
    assert "2021-08-20" not in warning["value"] and warning["value"].startswith("20210820: ")
    assert "patient" in warning["value"] and "bệnh nhân" in warning["value"]
    stored = _ok(as_user("repA").get("/facilities/79-A/reports/2021-08-20")).get_json()
    assert [f["rule_id"] for f in stored["flags"]] == ["use.without_patients"]
    clean = _ok(
        as_user("coord79").post("/dhis2/dataValueSets", json={"dataValues": values[2:]})
    ).get_json()
    assert (clean["status"], clean["conflicts"]) == ("SUCCESS", [])  # unchanged: no new revision
