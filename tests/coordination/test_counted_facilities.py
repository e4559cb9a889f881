"""Facilities counted on a day: closed ones and merged duplicates are left out."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from coordination.counted_facilities import facilities_counted_on
from data.dedupe import merged_into
from tests.registry_world import FACILITY_A, FACILITY_B

TWIN = dataclasses.replace(
    FACILITY_A,
    facility_id="79-A2",
    name="BV Cho Ray",
    reporting_until=dt.date(2021, 8, 19),
    source="merged into 79-A; OSM 2021",
)
CLOSED = dataclasses.replace(FACILITY_B, reporting_until=dt.date(2021, 8, 10))


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("merged into 79-A; OSM 2021", "79-A"),
        ("merged into 79-A", "79-A"),
        ("OSM 2021; merged into 79-A", None),  # only a source that starts with it
        ("merged into ", None),  # no id
        (None, None),
    ],
)
def test_merged_into_reads_the_merge_note(source: str | None, kept: str | None) -> None:
    assert merged_into(dataclasses.replace(FACILITY_A, source=source)) == kept


@pytest.mark.parametrize(
    ("day", "counted"),
    [
        # inside the twin's period: still left out, its reports are copied under 79-A
        (dt.date(2021, 8, 10), ["79-A", "79-B"]),
        (dt.date(2021, 8, 11), ["79-A"]),  # 79-B closed on the 10th
        (dt.date(2021, 8, 20), ["79-A"]),
    ],
)
def test_closed_facilities_and_merged_duplicates_are_left_out(
    day: dt.date, counted: list[str]
) -> None:
    facilities = [FACILITY_A, TWIN, CLOSED]
    assert [f.facility_id for f in facilities_counted_on(facilities, day)] == counted


def test_a_duplicate_counts_alone_without_the_facility_kept() -> None:
    assert facilities_counted_on([TWIN, CLOSED], dt.date(2021, 8, 19)) == [TWIN]
    assert facilities_counted_on([TWIN], dt.date(2021, 8, 20)) == []  # its period ended
