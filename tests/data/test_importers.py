"""CSV and XLSX import and export: row errors, all-or-nothing, diacritics, hostile files, HCMC seed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from data.access import Principal
from data.errors import ImportRejectedError
from data.exchange.exporters import export_file, to_xlsx
from data.exchange.importers import (
    hcmc_facilities,
    hcmc_tier,
    import_file,
    parse_records,
    read_csv_rows,
    read_xlsx_rows,
)
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
