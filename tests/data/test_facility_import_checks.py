"""Facility imports: province from the point, duplicates refused; the audited merge command.

Points near the Hồ Chí Minh City (79) / Bình Dương (74) border, measured on the shared 2021
shapes: (106.775, 10.89) lies in 74, 235 m from 79's outline (within the 500 m tolerance);
(106.766, 10.9035) lies in 74, 940 m from it; (106.8235, 10.9437) lies in Đồng Nai (75), 4.7 km
from it. The stored world (tests/registry_world.py) holds Chợ Rẫy (79-A, 106.6597 10.7578),
Gia Định (79-B) and Bạch Mai (01-C).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from data.access import Principal
from data.errors import (
    ConflictError,
    ImportRejectedError,
    InvalidInputError,
    RecordNotFoundError,
)
from data.exchange.facility_checks import BORDER_TOLERANCE_M, distance_to_shape_m
from data.exchange.importers import import_file
from data.schema.registry import DailyReport, Role

ADMIN = Principal(user_id=1, username="admin", role=Role.ADMIN)
HEADER = "facility_id,name,province_code,lon,lat,tier\n"


@pytest.fixture(scope="module")
def shapes(data_dir: Path) -> list[tuple[str, Any]]:
    from data.provinces import province_shapes_2021

    return province_shapes_2021(data_dir)


def _import(store: Any, text: str, **options: Any) -> dict[str, Any]:
    return import_file(
        store,
        "facilities",
        text.encode(),
        file_format="csv",
        principal=ADMIN,
        **({"locale": "en"} | options),
    )


def _problems(error: pytest.ExceptionInfo[ImportRejectedError]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in error.value.row_problems]


# ------------------------------------------------------------------ province from the point


def test_distances_to_the_border_are_measured_in_metres(shapes: Any) -> None:
    hcmc = dict(shapes)["79"]
    assert distance_to_shape_m(106.6597, 10.7578, hcmc) == 0.0  # Chợ Rẫy, inside
    assert 200 < distance_to_shape_m(106.775, 10.89, hcmc) < 270
    assert 900 < distance_to_shape_m(106.766, 10.9035, hcmc) < 1_000
    assert distance_to_shape_m(106.8235, 10.9437, hcmc) > 4_000


def test_province_disagreeing_with_the_point_is_refused(store: Any, shapes: Any) -> None:
    text = (
        HEADER + "79-DIAN,BV Đa khoa Dĩ An,79,106.766,10.9035,2\n"
        "79-NT,BV Nhơn Trạch,79,106.8235,10.9437,2\n"
        "79-OK,BV Quận Mười Hai,79,106.6597,10.8578,2\n"
    )
    with pytest.raises(ImportRejectedError) as error:
        _import(store, text, province_shapes=shapes)
    problems = _problems(error)
    assert [(row, column) for row, column, _ in problems] == [
        (2, "province_code"),
        (3, "province_code"),
    ]
    reason = problems[0][2]
    assert (
        "declared 79 (Thành phố Hồ Chí Minh) but the point lies in 74 (Tỉnh Bình Dương)" in reason
    )
    assert "khai tỉnh 79 (Thành phố Hồ Chí Minh) nhưng tọa độ nằm trong tỉnh 74" in reason
    assert "75 (Tỉnh Đồng Nai)" in problems[1][2]
    assert {f.facility_id for f in store.list_facilities()} == {"79-A", "79-B", "01-C"}


def test_right_province_is_accepted_and_a_border_point_warned(store: Any, shapes: Any) -> None:
    text = (
        HEADER + "74-DIAN,BV Đa khoa Dĩ An,74,106.766,10.9035,2\n"
        "79-BORDER,BV Biên Giới Thử,79,106.775,10.89,2\n"
    )
    summary = _import(store, text, province_shapes=shapes)
    assert summary["imported"] == 2
    [warning] = summary["warnings"]
    assert warning["row"] == 3 and warning["facility_id"] == "79-BORDER"
    assert (warning["declared"], warning["found"]) == ("79", "74")
    assert 200 < warning["distance_to_declared_m"] < BORDER_TOLERANCE_M
    assert "within 500 m" in warning["message_en"] and "ranh giới" in warning["message_vi"]
    assert store.get_record("facilities", "79-BORDER").province_code == "79"


def test_a_point_in_no_province_keeps_the_declared_one_with_a_warning(
    store: Any, shapes: Any
) -> None:
    # In the South China Sea, 60 km off Vũng Tàu.
    summary = _import(
        store, HEADER + "79-SEA,Tàu bệnh viện,79,107.6,10.0,1\n", province_shapes=shapes
    )
    assert summary["imported"] == 1
    assert "no province shape" in summary["warnings"][0]["message_en"]


def test_without_shapes_the_province_is_not_checked(store: Any) -> None:
    summary = _import(store, HEADER + "79-DIAN,BV Đa khoa Dĩ An,79,106.766,10.9035,2\n")
    assert summary["imported"] == 1 and summary["warnings"] == []


# ------------------------------------------------------------------ duplicates


@pytest.mark.parametrize(
    ("row", "column", "expected"),
    [
        # Same name as stored 79-A once normalised (no diacritics, "BV" = "bệnh viện"), 111 m.
        ("79-CR2,BV Cho Ray,79,106.6597,10.7588,3", "name", "stored facility 79-A"),
        # One name inside the other, 0 m: "Gia Định" in "Bệnh viện Nhân dân Gia Định".
        ("79-GD2,BV Gia Định,79,106.6940,10.8043,3", "name", "one name inside the other"),
    ],
)
def test_a_duplicate_of_a_stored_facility_is_refused(
    store: Any, row: str, column: str, expected: str
) -> None:
    with pytest.raises(ImportRejectedError) as error:
        _import(store, HEADER + row + "\n")
    [(number, found_column, reason)] = _problems(error)
    assert (number, found_column) == (2, column)
    assert expected in reason and "trùng với" in reason
    assert len(store.list_facilities()) == 3


def test_duplicates_within_the_file_and_by_osm_id(store: Any) -> None:
    text = (
        "facility_id,name,province_code,lon,lat,tier,osm_id\n"
        "osm-way-1001,Bệnh viện Quận Tám,79,106.6300,10.7400,2,\n"
        "79-Q8,BV Quan Tam,79,106.6310,10.7400,2,\n"  # same name as row 2, 110 m
        "79-ELSE,Trạm y tế khác tên,79,106.7000,10.7000,1,way/1001\n"  # row 2's OSM id
    )
    with pytest.raises(ImportRejectedError) as error:
        _import(store, text)
    problems = _problems(error)
    assert [(row, column) for row, column, _ in problems] == [(3, "name"), (4, "osm_id")]
    assert "row 2 osm-way-1001 'Bệnh viện Quận Tám'" in problems[0][2]
    assert "same OSM id" in problems[1][2] and "cùng mã OSM" in problems[1][2]


def test_near_misses_are_not_duplicates(store: Any) -> None:
    text = (
        HEADER
        # Same name as Chợ Rẫy but 6.1 km away (beyond the 5 km of the same-name rule).
        + "79-CR-FAR,Bệnh viện Chợ Rẫy,79,106.7150,10.7578,3\n"
        # Beside Chợ Rẫy (20 m) with another name.
        + "79-UB,Bệnh viện Ung Bướu,79,106.6599,10.7578,3\n"
        # A name inside Gia Định's but 450 m away (beyond 300 m).
        + "79-GD-FAR,BV Gia Định,79,106.6981,10.8043,3\n"
        # Numbers differ: Nhi Đồng 1 and Nhi Đồng 2 side by side.
        + "79-ND1,Bệnh viện Nhi Đồng 1,79,106.6700,10.7700,3\n"
        + "79-ND2,Bệnh viện Nhi Đồng 2,79,106.6702,10.7700,3\n"
    )
    assert _import(store, text)["imported"] == 5


def test_a_row_with_a_stored_id_is_that_record_not_its_duplicate(store: Any) -> None:
    from data.exchange.facility_checks import duplicate_checks

    stored = store.list_facilities()
    same = store.get_record("facilities", "79-A")
    assert duplicate_checks([(2, same)], stored).problems == []
    renamed = dataclasses.replace(same, facility_id="79-A2")
    assert [p.column for p in duplicate_checks([(2, renamed)], stored).problems] == ["name"]


# ------------------------------------------------------------------ merging duplicates


def _report(facility_id: str, day: int, used_m3: float) -> DailyReport:
    return DailyReport(
        facility_id=facility_id, report_date=dt.date(2021, 8, day), oxygen_used_24h_m3=used_m3
    )


@pytest.fixture
def twin(store: Any) -> Any:
    """Chợ Rẫy's duplicate 79-A2 with two reports (8-15 corrected once); 79-A reported 8-17."""
    a = store.get_record("facilities", "79-A")
    store.create_record(
        dataclasses.replace(a, facility_id="79-A2", name="BV Cho Ray"),
        actor="test",
    )
    store.submit_report(_report("79-A2", 15, 900.0), submitted_by="repA2")
    store.submit_report(_report("79-A2", 15, 950.0), submitted_by="repA2")
    store.submit_report(_report("79-A2", 16, 940.0), submitted_by="repA2")
    store.submit_report(_report("79-A", 17, 960.0), submitted_by="repA")
    return store


def test_merge_moves_reports_with_their_history_and_audits(twin: Any) -> None:
    before = twin.report_history("79-A2", dt.date(2021, 8, 15))
    merge = twin.merge_facilities("79-A", "79-A2", actor="coord", reason="OSM twin")
    assert merge.days == (dt.date(2021, 8, 15), dt.date(2021, 8, 16))
    assert len(merge.revisions) == 3
    moved = twin.report_history("79-A", dt.date(2021, 8, 15))
    assert [r.revision for r in moved] == [1, 2]
    assert [r.report.oxygen_used_24h_m3 for r in moved] == [900.0, 950.0]
    assert [(r.submitted_by, r.submitted_at) for r in moved] == [
        (r.submitted_by, r.submitted_at) for r in before
    ]
    assert all("merged from 79-A2 revision_id" in (r.source or "") for r in moved)
    # The duplicate's own history is untouched; its reporting ends the day before the merge.
    assert twin.report_history("79-A2", dt.date(2021, 8, 15)) == before
    duplicate = twin.get_record("facilities", "79-A2")
    assert duplicate.reporting_until == dt.date(2021, 8, 19)
    assert duplicate.source.startswith("merged into 79-A")
    [event] = twin.audit_trail(entity="facilities", entity_id="79-A2")[-1:]
    assert event.action == "merge" and event.actor == "coord"
    assert event.detail["reason"] == "OSM twin"
    assert event.detail["days"] == ["2021-08-15", "2021-08-16"]
    assert [pair[0] for pair in event.detail["revisions"]] == [r[0] for r in merge.revisions]


def test_merge_refuses_a_day_both_reported(twin: Any) -> None:
    twin.submit_report(_report("79-A", 16, 100.0), submitted_by="repA")
    count = twin.count_report_revisions()
    with pytest.raises(ConflictError, match="both reported on 2021-08-16"):
        twin.merge_facilities("79-A", "79-A2", actor="coord")
    assert twin.count_report_revisions() == count
    assert twin.get_record("facilities", "79-A2").reporting_until is None


@pytest.mark.parametrize(
    ("keep", "duplicate", "error", "message"),
    [
        ("79-A", "79-A", InvalidInputError, "into itself"),  # the same facility
        ("79-A", "79-NONE", RecordNotFoundError, "duplicate_id: no facility"),  # unknown
        ("79-NONE", "79-A", RecordNotFoundError, "keep_id: no facility"),  # unknown
        ("01-C", "79-A", InvalidInputError, "province 79"),  # two provinces
    ],
)
def test_merge_refusals(
    store: Any, keep: str, duplicate: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        store.merge_facilities(keep, duplicate, actor="coord")
    assert all(e.action != "merge" for e in store.audit_trail(entity="facilities"))


def test_merge_command(db_url: str, twin: Any) -> None:
    from cli import main

    runner = CliRunner()
    args = ["db", "merge-facilities", "79-A", "79-A2", "--reason", "trùng OSM"]
    result = runner.invoke(main, [*args, "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "3 report revision(s) over 2 day(s) (2021-08-15 to 2021-08-16)" in result.output
    again = runner.invoke(
        main, ["db", "merge-facilities", "79-A", "79-A", "--database-url", db_url]
    )
    assert again.exit_code == 2 and "into itself" in again.output
