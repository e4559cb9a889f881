"""CSV and XLSX import and export: row errors, all-or-nothing, diacritics, hostile files, HCMC seed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from data.access import Principal
from data.errors import ImportRejectedError, MalformedInputError, PermissionDeniedError
from data.exchange.exporters import export_file, to_xlsx
from data.exchange.importers import (
    hcmc_facilities,
    hcmc_tier,
    import_file,
    parse_records,
    read_csv_rows,
    read_xlsx_file,
    read_xlsx_rows,
)
from data.schema.number_text import NumberLocale
from data.schema.registry import DailyReport, Role
from data.store import Store

ADMIN = Principal(user_id=1, username="admin", role=Role.ADMIN)
COORD_01 = Principal(
    user_id=6, username="coord01", role=Role.PROVINCE_COORDINATOR, province_code="01"
)

GOOD_CSV = (
    "facility_id,report_date,oxygen_used_24h_m3,cylinders_full,note\n"
    "79-A,2021-08-19,120.5,40L=10,Thiếu bình 40 lít\n"
    "79-B,2021-08-19,80,,\n"
).encode()


def test_csv_import_stores_all_rows(store: Store) -> None:
    summary = import_file(store, "reports", GOOD_CSV, file_format="csv", principal=ADMIN)
    assert (summary["rows"], summary["imported"], summary["updated"], summary["ignored"]) == (
        2,
        2,
        0,
        0,
    )
    again = import_file(store, "reports", GOOD_CSV, file_format="csv", principal=ADMIN)
    assert again["ignored"] == 2  # re-sending is an upsert: no duplicates
    assert store.report_history("79-A", dt.date(2021, 8, 19))[0].report.note == "Thiếu bình 40 lít"


def test_every_bad_row_is_reported_and_nothing_is_imported(store: Store) -> None:
    bad = GOOD_CSV + (
        b"79-A,2021-08-20,-3,,\n"  # row 4: negative use
        b"nope,2021-08-20,5,,\n"  # row 5: unknown facility
        b"79-B,20/08/2021,five,,\n"  # row 6: bad date and bad number
        b"79-B,2021-08-30,5,,\n"  # row 7: after tomorrow (clock: 20 Aug)
    )
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", bad, file_format="csv", principal=ADMIN)
    found = [(p.row, p.column) for p in error.value.row_problems]
    assert found == [
        (4, "oxygen_used_24h_m3"),
        (5, "facility_id"),
        (6, "oxygen_used_24h_m3"),
        (6, "report_date"),
        (7, "report_date"),
    ]
    assert store.count_report_revisions() == 0


def test_coordinator_imports_only_its_province(store: Store) -> None:
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", GOOD_CSV, file_format="csv", principal=COORD_01)
    assert {p.row for p in error.value.row_problems} == {2, 3}
    assert store.count_report_revisions() == 0


def test_dry_run_stores_nothing(store: Store) -> None:
    summary = import_file(
        store, "reports", GOOD_CSV, file_format="csv", principal=ADMIN, dry_run=True
    )
    assert summary["dry_run"] and summary["rows"] == 2
    assert store.count_report_revisions() == 0


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_exports_import_back_with_diacritics(store: Store, ext: str) -> None:
    day = dt.date(2021, 8, 19)
    report = DailyReport(
        facility_id="79-A",
        report_date=day,
        oxygen_used_24h_m3=12.5,
        cylinders_full={"40L": 3, "10L": 1},
        note="Đã nhận 2 tấn oxy lỏng; cần thêm bình",
        liquid_stock_l=850.0,
    )
    store.submit_report(report, submitted_by="repA")
    content, _ = export_file(store, "reports", ext, province_code=None, date_from=day, date_to=day)
    if ext == "csv":
        assert content.startswith(b"\xef\xbb\xbf")  # BOM for Excel
        rows = read_csv_rows(content)
    else:
        rows = read_xlsx_rows(content)
    records, problems = parse_records("reports", rows)
    assert problems == []
    assert [r for _, r in records] == [report]
    facilities, _ = export_file(
        store, "facilities", ext, province_code="79", date_from=day, date_to=day
    )
    parsed, problems = parse_records(
        "facilities", read_csv_rows(facilities) if ext == "csv" else read_xlsx_rows(facilities)
    )
    assert problems == []
    assert [f.name for _, f in parsed] == ["Bệnh viện Chợ Rẫy", "Bệnh viện Nhân dân Gia Định"]
    assert parsed[0][1] == store.get_record("facilities", "79-A")


def test_xlsx_keeps_codes_as_text_and_formulas_out() -> None:
    content = to_xlsx(["facility_id", "note"], [["0079", "=1+1"]], province_codes=["01"])
    rows = list(read_xlsx_rows(content))
    assert rows == [(2, {"facility_id": "0079", "note": "=1+1"})]


def test_zip_bomb_is_refused_unparsed() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(ImportRejectedError, match="file") as error:
        list(read_xlsx_rows(buffer.getvalue(), max_uncompressed_bytes=10 * 1024 * 1024))
    assert "expands to" in error.value.row_problems[0].reason


def test_xml_external_entities_are_refused(tmp_path: Path) -> None:
    content = to_xlsx(["facility_id"], [["79-A"]], province_codes=[])
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                # An external entity pulled into a cell: defusedxml must refuse the file.
                data = (
                    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM '
                    b'"file:///etc/passwd">]>' + data.replace(b"79-A", b"&x;")
                )
            target.writestr(item, data)
    with pytest.raises(ImportRejectedError, match="file") as error:
        list(read_xlsx_rows(buffer.getvalue()))
    assert "unreadable XLSX" in error.value.row_problems[0].reason


def test_malformed_csv_is_refused() -> None:
    with pytest.raises(ImportRejectedError) as error:
        list(read_csv_rows(b"facility_id,report_date\n79-A,2021-08-19,extra\n"))
    assert (error.value.row_problems[0].row, error.value.row_problems[0].column) == (2, "row")
    with pytest.raises(ImportRejectedError, match="file"):
        list(read_csv_rows(b"facility_id\n\xff\xfe\n"))


def test_hcmc_seed_reads_the_curated_hospitals(data_dir: Path) -> None:
    facilities = hcmc_facilities(data_dir)
    assert (
        len(facilities) == len({f.facility_id for f in facilities}) == 91
    )  # 95 rows, 4 duplicate names
    assert {f.tier for f in facilities} == {2, 3}
    assert all(f.province_code == "79" and 10.3 < f.lat < 11.2 for f in facilities)
    assert all("tier by rule" in (f.source or "") for f in facilities)
    assert hcmc_tier("Bệnh viện Quận 10") == 2
    assert hcmc_tier("Trung tâm Y tế huyện Cần Giờ") == 2
    assert hcmc_tier("Bệnh viện Nhân dân Gia Định") == 3
    assert dataclasses.replace(facilities[0]) == facilities[0]


# --------------------------------------------------------------------------- numbers as typed

DAY = dt.date(2021, 8, 19)
VI_CSV = (
    "facility_id,report_date,oxygen_used_24h_m3,liquid_stock_l,deliveries_expected_m3,note\n"
    "79-A,2021-08-19,5.200,6.500,,Đã nhận oxy lỏng\n"  # 5,200 m³ and 6,500 L, as typed in Vietnam
    '79-B,2021-08-19,"1.250,5",,"2,5",\n'  # only the Vietnamese way reads these
).encode()


def _latest(store: Store) -> dict[str, DailyReport]:
    revisions = store.latest_reports(date_from=DAY, date_to=DAY)
    return {r.report.facility_id: r.report for r in revisions}


def test_csv_without_a_locale_refuses_ambiguous_numbers(store: Store) -> None:
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", VI_CSV, file_format="csv", principal=ADMIN)
    problems = error.value.row_problems
    assert [(p.row, p.column) for p in problems] == [
        (2, "liquid_stock_l"),
        (2, "oxygen_used_24h_m3"),
    ]
    assert "'5.200' is ambiguous: 5200 written the Vietnamese way, 5.2 the English way" in (
        problems[1].reason
    )
    assert "không rõ nghĩa" in problems[1].reason and "?locale=vi" in problems[1].reason
    assert store.count_report_revisions() == 0


def test_csv_with_a_vietnamese_locale_reads_thousands(store: Store) -> None:
    summary = import_file(store, "reports", VI_CSV, file_format="csv", principal=ADMIN, locale="vi")
    assert summary["imported"] == 2
    reports = _latest(store)
    assert (reports["79-A"].oxygen_used_24h_m3, reports["79-A"].liquid_stock_l) == (5200, 6500)
    assert reports["79-A"].note == "Đã nhận oxy lỏng"
    assert (reports["79-B"].oxygen_used_24h_m3, reports["79-B"].deliveries_expected_m3) == (
        1250.5,
        2.5,
    )


def test_csv_first_row_declares_the_locale(store: Store) -> None:
    import_file(store, "reports", b"locale=vi\n" + VI_CSV, file_format="csv", principal=ADMIN)
    assert _latest(store)["79-A"].oxygen_used_24h_m3 == 5200
    # Row numbers stay the file's: the locale row is 1, the header 2.
    bad = b'locale=vi\nfacility_id,report_date,oxygen_used_24h_m3\n79-A,2021-08-18,"5,200.5"\n'
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", bad, file_format="csv", principal=ADMIN)
    (problem,) = error.value.row_problems
    assert (problem.row, problem.column) == (3, "oxygen_used_24h_m3")
    assert "if you meant 5200.5, type 5.200,5" in problem.reason
    assert store.count_report_revisions() == 2


def test_csv_in_english(store: Store) -> None:
    content = (
        b"facility_id,report_date,oxygen_used_24h_m3,liquid_stock_l\n"
        b'79-A,2021-08-19,"5,200.5",5.200\n'
    )
    import_file(store, "reports", content, file_format="csv", principal=ADMIN, locale="en")
    report = _latest(store)["79-A"]
    assert (report.oxygen_used_24h_m3, report.liquid_stock_l) == (5200.5, 5.2)


@pytest.mark.parametrize(
    ("content", "locale", "row"),
    [
        (b"locale=vi\n" + VI_CSV, "en", 0),  # the request and the file disagree
        (b"locale=fr\n" + VI_CSV, None, 1),  # a locale nobody reads
        (b"locale=vi,x\n" + VI_CSV, None, 1),  # the locale row holds one cell
    ],
)
def test_csv_locale_declarations_that_cannot_hold_are_refused(
    store: Store, content: bytes, locale: str | None, row: int
) -> None:
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", content, file_format="csv", principal=ADMIN, locale=locale)
    assert [(p.row, p.column) for p in error.value.row_problems] == [(row, "locale")]
    assert store.count_report_revisions() == 0


def test_an_unknown_requested_locale_is_malformed(store: Store) -> None:
    with pytest.raises(MalformedInputError, match="locale: must be vi"):
        import_file(store, "reports", VI_CSV, file_format="csv", principal=ADMIN, locale="fr")


def test_xlsx_template_round_trip_reads_what_the_officer_typed(store: Store) -> None:
    import openpyxl

    store.submit_report(
        DailyReport(facility_id="79-A", report_date=DAY, oxygen_used_24h_m3=12.5),
        submitted_by="repA",
    )
    content, _ = export_file(
        store, "reports", "xlsx", province_code=None, date_from=DAY, date_to=DAY
    )
    assert read_xlsx_file(content)[0] == NumberLocale.VI  # the template declares Vietnamese
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Nhập liệu"]
    column = {cell.value: cell.column for cell in sheet[1]}
    # The officer types over the exported row as text, the Vietnamese way...
    sheet.cell(2, column["oxygen_used_24h_m3"]).value = "5.200"
    sheet.cell(2, column["liquid_stock_l"]).value = "6.500"
    sheet.cell(2, column["note"]).value = "Bệnh viện Chợ Rẫy: còn 6.500 lít"
    # ...and adds a row for another facility with number cells and one text decimal.
    sheet.cell(3, column["facility_id"]).value = "79-B"
    sheet.cell(3, column["report_date"]).value = DAY
    sheet.cell(3, column["oxygen_used_24h_m3"]).value = 5.2  # a number cell stays 5.2
    sheet.cell(3, column["patients_niv"]).value = 4
    sheet.cell(3, column["deliveries_expected_m3"]).value = "1.250,5"
    edited = io.BytesIO()
    book.save(edited)
    summary = import_file(store, "reports", edited.getvalue(), file_format="xlsx", principal=ADMIN)
    assert (summary["imported"], summary["updated"]) == (1, 1)
    reports = _latest(store)
    assert (reports["79-A"].oxygen_used_24h_m3, reports["79-A"].liquid_stock_l) == (5200, 6500)
    assert reports["79-A"].note == "Bệnh viện Chợ Rẫy: còn 6.500 lít"
    assert (reports["79-B"].oxygen_used_24h_m3, reports["79-B"].patients_niv) == (5.2, 4)
    assert reports["79-B"].deliveries_expected_m3 == 1250.5
    # Facilities: Vietnamese names and coordinates survive the template both ways.
    facilities, _ = export_file(
        store, "facilities", "xlsx", province_code="79", date_from=DAY, date_to=DAY
    )
    locale, rows = read_xlsx_file(facilities)
    parsed, problems = parse_records("facilities", rows, locale=locale)
    assert problems == []
    assert [f for _, f in parsed] == [store.get_record("facilities", f"79-{c}") for c in "AB"]


def _plain_workbook(cells: list[list[object]], guide: list[list[object]] | None = None) -> bytes:
    """Return an XLSX that is not our template: one data sheet, and a guide sheet if given."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Nhập liệu"
    for row in cells:
        sheet.append(row)
    if guide is not None:
        notes = book.create_sheet("Hướng dẫn", 0)
        for row in guide:
            notes.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX_ROWS: list[list[object]] = [
    ["facility_id", "report_date", "oxygen_used_24h_m3", "liquid_stock_l"],
    ["79-A", DAY, "5.200", 5.2],  # text typed the Vietnamese way; a number cell
]


def test_xlsx_without_a_declaration_refuses_ambiguous_text(store: Store) -> None:
    content = _plain_workbook(XLSX_ROWS)
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", content, file_format="xlsx", principal=ADMIN)
    assert [(p.row, p.column) for p in error.value.row_problems] == [(2, "oxygen_used_24h_m3")]
    assert store.count_report_revisions() == 0
    import_file(store, "reports", content, file_format="xlsx", principal=ADMIN, locale="vi")
    report = _latest(store)["79-A"]
    assert (report.oxygen_used_24h_m3, report.liquid_stock_l) == (5200, 5.2)


@pytest.mark.parametrize(
    ("guide", "expected"),
    [
        ([["Ghi chú"], ["locale", "en"]], 5.2),  # a plain "locale" label, row 2
        ([["Định dạng số / Number format (locale)", " VI "]], 5200),  # our label, any case
    ],
)
def test_xlsx_guide_sheet_declares_the_locale(
    store: Store, guide: list[list[object]], expected: float
) -> None:
    content = _plain_workbook(XLSX_ROWS, guide)
    import_file(store, "reports", content, file_format="xlsx", principal=ADMIN)
    assert _latest(store)["79-A"].oxygen_used_24h_m3 == expected


def test_xlsx_locale_cell_with_another_value_is_refused(store: Store) -> None:
    content = _plain_workbook(XLSX_ROWS, [["Ghi chú"], ["locale", "fr"]])
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", content, file_format="xlsx", principal=ADMIN)
    (problem,) = error.value.row_problems
    assert (problem.row, problem.column) == (2, "locale") and "cell B2" in problem.reason
    assert store.count_report_revisions() == 0


def test_projected_coordinates_are_read_by_the_locale(store: Store) -> None:
    # A VN-2000 / UTM 48N file (metres) typed the Vietnamese way: 685.123,4 is 685,123.4 m.
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 3405, always_xy=True).transform(106.66, 10.757)
    row = f'79-X,Bệnh viện Dã chiến,79,"{x:_.1f}","{y:_.1f}",3\n'.replace(".", ",")
    content = ("facility_id,name,province_code,x,y,tier\n" + row.replace("_", ".")).encode()
    summary = import_file(
        store,
        "facilities",
        content,
        file_format="csv",
        principal=ADMIN,
        crs="EPSG:3405",
        locale="vi",
    )
    assert summary["imported"] == 1
    stored = store.get_record("facilities", "79-X")
    assert abs(stored.lon - 106.66) < 1e-5 and abs(stored.lat - 10.757) < 1e-5


# ------------------------------------------------------------- facility officers' files (issue 13)

REP_A = Principal(user_id=7, username="repA", role=Role.FACILITY_REPORTER, facility_id="79-A")


def test_bilingual_headers_name_their_fields(store: Store) -> None:
    content = (
        "Mã cơ sở / facility_id,Tên cơ sở / facility_name,Ngày báo cáo / report_date,"
        "Oxy đã dùng 24 giờ (m³) / oxygen_used_24h_m3,"
        "Người bệnh thở oxy dòng cao (HFNC) / patients_high_flow\n"
        "79-A,Bệnh viện Chợ Rẫy,2021-08-19,120,3\n"
    ).encode()
    summary = import_file(store, "reports", content, file_format="csv", principal=REP_A)
    assert summary["imported"] == 1
    report = _latest(store)["79-A"]
    assert (report.oxygen_used_24h_m3, report.patients_high_flow) == (120, 3)
    twice = b"facility_id,report_date,Oxy / oxygen_used_24h_m3,oxygen_used_24h_m3\n"
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", twice + b"79-A,2021-08-19,1,1\n", **_CSV_AS_ADMIN)
    assert [(p.row, p.column) for p in error.value.row_problems] == [(1, "oxygen_used_24h_m3")]


_CSV_AS_ADMIN: dict[str, Any] = {"file_format": "csv", "principal": ADMIN}


def test_the_summary_lists_the_warnings_by_row(store: Store) -> None:
    content = (
        b"facility_id,report_date,oxygen_used_24h_m3,patients_high_flow\n"
        b"79-A,2021-08-19,40,0\n"  # row 2: oxygen used with no patient on oxygen: flagged
        b"79-B,2021-08-19,120,3\n"  # row 3: plausible
    )
    dry = import_file(store, "reports", content, dry_run=True, **_CSV_AS_ADMIN)
    # A dry run runs the same checks (in a transaction rolled back) and stores nothing.
    assert [(w["row"], w["rule_id"]) for w in dry["warnings"]] == [(2, "use.without_patients")]
    assert (dry["imported"], store.count_report_revisions()) == (0, 0)
    impossible = content.replace(b"79-B,2021-08-19,120,3", b"79-B,2021-08-19,1e9,3")
    with pytest.raises(ImportRejectedError) as refused:
        import_file(store, "reports", impossible, dry_run=True, **_CSV_AS_ADMIN)
    assert [(p.row, p.column) for p in refused.value.row_problems] == [(3, "oxygen_used_24h_m3")]
    summary = import_file(store, "reports", content, **_CSV_AS_ADMIN)
    assert [(w["row"], w["facility_id"], w["rule_id"]) for w in summary["warnings"]] == [
        (2, "79-A", "use.without_patients")
    ]
    warning = summary["warnings"][0]
    assert (warning["field"], warning["value"], warning["report_date"]) == (
        "oxygen_used_24h_m3",
        40.0,
        "2021-08-19",
    )
    assert "bệnh nhân" in warning["message_vi"] and "patient" in warning["message_en"]


def test_impossible_values_are_refused_with_their_row(store: Store) -> None:
    content = (
        b"facility_id,report_date,oxygen_used_24h_m3\n"
        b"79-A,2021-08-19,40\n"
        b"79-B,2021-08-19,2000000\n"  # row 3: above the country's daily liquid output
    )
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", content, **_CSV_AS_ADMIN)
    (problem,) = error.value.row_problems
    assert (problem.row, problem.column) == (3, "oxygen_used_24h_m3")
    assert "1,001,000" in problem.reason and "physical.oxygen_used_24h_m3" in problem.reason
    assert store.count_report_revisions() == 0  # the plausible row 2 is not stored either


def test_rows_left_blank_in_a_template_are_skipped(store: Store) -> None:
    content = (
        "facility_id,facility_name,report_date,oxygen_used_24h_m3,note\n"
        "79-A,Bệnh viện Chợ Rẫy,2021-08-18,,\n"  # row 2: the template's blank row
        "79-A,,2021-08-19,120,\n"
        "79-A,,2021-08-20,, \n"  # row 4: blank but for a space
    ).encode()
    summary = import_file(store, "reports", content, **_CSV_AS_ADMIN)
    assert (summary["rows"], summary["imported"], summary["skipped_rows"]) == (1, 1, [2, 4])
    only_blank = b"facility_id,report_date,oxygen_used_24h_m3\n79-A,2021-08-18,\n"
    with pytest.raises(ImportRejectedError, match="no row is filled in"):
        import_file(store, "reports", only_blank, **_CSV_AS_ADMIN)
    # A row with any value but the use is still a report missing its use, not a blank one.
    no_use = "facility_id,report_date,oxygen_used_24h_m3,note\n79-A,2021-08-18,,hết oxy\n"
    with pytest.raises(ImportRejectedError) as error:
        import_file(store, "reports", no_use.encode(), **_CSV_AS_ADMIN)
    assert [(p.row, p.column) for p in error.value.row_problems] == [(2, "oxygen_used_24h_m3")]


def test_a_reporter_imports_its_own_facility_only(store: Store) -> None:
    mixed = (
        b"facility_id,report_date,oxygen_used_24h_m3\n"
        b"79-A,2021-08-19,120\n"
        b"79-B,2021-08-19,oops\n"  # row 3: another facility (and a bad value): 403, not 422
        b"nope,2021-08-19,1\n"  # row 4: an id that does not exist is refused the same way
    )
    with pytest.raises(PermissionDeniedError, match=r"row 3: '79-B', row 4: 'nope'"):
        import_file(store, "reports", mixed, file_format="csv", principal=REP_A)
    assert store.count_report_revisions() == 0
    for kind in ("facilities", "suppliers", "vehicles"):
        with pytest.raises(PermissionDeniedError):
            import_file(store, kind, b"x\n1\n", file_format="csv", principal=REP_A)


def test_a_facility_export_is_its_template(store: Store) -> None:
    import openpyxl

    store.submit_report(
        DailyReport(
            facility_id="79-A", report_date=DAY, oxygen_used_24h_m3=120.0, patients_high_flow=3
        ),
        submitted_by="repA",
    )
    facility = store.get_record("facilities", "79-A")
    content, _ = export_file(
        store,
        "reports",
        "xlsx",
        province_code=None,
        facility=facility,
        date_from=dt.date(2021, 8, 17),
        date_to=dt.date(2021, 8, 31),  # the clock is 20 August: blank rows up to tomorrow only
    )
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Nhập liệu"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[2].day, r[3]) for r in rows] == [
        (17, None),
        (18, None),
        (19, 120),
        (20, None),
        (21, None),
    ]
    summary = import_file(store, "reports", content, file_format="xlsx", principal=REP_A)
    assert (summary["ignored"], summary["skipped_rows"]) == (1, [2, 3, 5, 6])  # as stored
