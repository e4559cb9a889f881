"""A report submission raced between its read phase and its write transaction (issue 16, item 7).

A submission reads and checks in a read transaction, then takes the write lock only to re-read a
snapshot and insert. These tests make another writer commit exactly in that gap (through a second
store on the same database, when the first enters its write transaction) and check what the first
one stores: dense revision numbers, no duplicate, the plausibility check run against what was
stored when it wrote, a lock taken in the gap honoured, ``submitted_at`` in revision order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection

from data.db import create_db_engine
from data.errors import InvalidInputError, LockedError
from data.schema.registry import DailyReport
from data.store import Store
from tests.registry_world import Clock

DAY = dt.date(2021, 8, 20)
REPORT = DailyReport(
    facility_id="79-A",
    report_date=DAY,
    oxygen_used_24h_m3=650.0,
    patients_cannula_mask=40,
    note="Bệnh viện Chợ Rẫy, ca chiều",
)


class TickingClock(Clock):
    """A clock that moves one second forward at every reading."""

    def __call__(self) -> dt.datetime:
        """Return the current time, then advance it by one second."""
        now = self.now
        self.now = now + dt.timedelta(seconds=1)
        return now


@pytest.fixture
def stores(db_url: str) -> Iterator[tuple[Store, Store]]:
    """Yield two stores on one fresh database, with one ticking clock: a racer and an interloper."""
    clock = TickingClock()
    engines = [create_db_engine(db_url), create_db_engine(db_url)]
    yield Store(engines[0], clock=clock), Store(engines[1], clock=clock)
    for engine in engines:
        engine.dispose()


def interrupt_first_write(store: Store, interloper: Callable[[], Any]) -> list[str]:
    """Make ``interloper`` run (and commit) when ``store`` next opens a write transaction.

    Returns a log that records ``"interloper"`` when it ran, so that a test can tell the race
    happened; later write transactions of ``store`` run undisturbed.
    """
    log: list[str] = []
    write = store._write

    @contextmanager
    def racing_write() -> Iterator[Connection]:
        if not log:
            log.append("interloper")
            interloper()
        with write() as connection:
            yield connection

    store._write = racing_write  # type: ignore[method-assign]
    return log


def test_a_correction_in_the_gap_keeps_revisions_dense(stores: tuple[Store, Store]) -> None:
    racer, other = stores
    racer.submit_report(REPORT, submitted_by="repA")
    theirs = dataclasses.replace(REPORT, oxygen_used_24h_m3=660.0, note="sửa bởi điều phối")
    log = interrupt_first_write(racer, lambda: other.submit_report(theirs, submitted_by="coord79"))
    mine = dataclasses.replace(REPORT, oxygen_used_24h_m3=670.0)
    result = racer.submit_report(mine, submitted_by="repA")
    assert log == ["interloper"]
    assert result.created and result.revision.revision == 3  # not a second revision 2
    history = racer.report_history("79-A", DAY)
    assert [r.revision for r in history] == [1, 2, 3]
    assert [r.report.oxygen_used_24h_m3 for r in history] == [650.0, 660.0, 670.0]
    assert history[1].report.note == "sửa bởi điều phối"
    times = [r.submitted_at for r in history]
    # submitted_at is read under the write lock: the racer read its clock before the
    # interloper, yet its revision, stored after, carries the later instant
    assert times == sorted(times) and len(set(times)) == 3


def test_the_same_content_in_the_gap_is_not_stored_twice(stores: tuple[Store, Store]) -> None:
    racer, other = stores
    log = interrupt_first_write(racer, lambda: other.submit_report(REPORT, submitted_by="repB"))
    result = racer.submit_report(REPORT, submitted_by="repA")
    assert log == ["interloper"]
    assert not result.created and result.revision.revision == 1
    assert racer.count_report_revisions() == 1


def test_the_same_key_in_the_gap_replays_the_first_answer(stores: tuple[Store, Store]) -> None:
    racer, other = stores
    key = {"user_id": 7, "idempotency_key": "k-1", "request_hash": "h-1"}
    first: list[Any] = []
    log = interrupt_first_write(
        racer, lambda: first.append(other.submit_report(REPORT, submitted_by="repA", **key))
    )
    result = racer.submit_report(REPORT, submitted_by="repA", **key)
    assert log == ["interloper"]
    assert result.replayed and result.created
    assert result.revision.revision == first[0].revision.revision == 1
    assert racer.count_report_revisions() == 1


def test_the_check_uses_the_history_stored_in_the_gap(stores: tuple[Store, Store]) -> None:
    racer, other = stores
    yesterday = DAY - dt.timedelta(days=1)
    racer.submit_report(dataclasses.replace(REPORT, report_date=yesterday), submitted_by="repA")
    # Checked in the read phase against yesterday's 650 m³, 660 m³ is steady; a correction of
    # yesterday to 65 m³ (a digit too few) committed in the gap makes it 10x the median
    corrected = dataclasses.replace(REPORT, report_date=yesterday, oxygen_used_24h_m3=65.0)
    log = interrupt_first_write(racer, lambda: other.submit_report(corrected, submitted_by="x"))
    result = racer.submit_report(
        dataclasses.replace(REPORT, oxygen_used_24h_m3=660.0), submitted_by="repA"
    )
    assert log == ["interloper"]
    assert [f.rule_id for f in result.flags] == ["history.use_jump"]
    assert result.flags[0].limit == pytest.approx(65.0 * 3)
    # ... and the flag is stored with the revision, for the province officer's review
    stored = racer.report_history("79-A", DAY)
    assert [r.revision for r in stored] == [1]


def test_a_steady_report_is_not_flagged_without_the_race(stores: tuple[Store, Store]) -> None:
    # The control of the test above: the same reports, no interloper, no flag.
    racer, _ = stores
    yesterday = DAY - dt.timedelta(days=1)
    racer.submit_report(dataclasses.replace(REPORT, report_date=yesterday), submitted_by="repA")
    result = racer.submit_report(
        dataclasses.replace(REPORT, oxygen_used_24h_m3=660.0), submitted_by="repA"
    )
    assert result.created and result.flags == ()


def test_a_day_locked_in_the_gap_refuses_and_stores_nothing(stores: tuple[Store, Store]) -> None:
    racer, other = stores
    log = interrupt_first_write(racer, lambda: other.approve_day("79", DAY, actor="coord79"))
    with pytest.raises(LockedError, match="report_date: province 79 approved 2021-08-20"):
        racer.submit_report(REPORT, submitted_by="repA")
    assert log == ["interloper"]
    assert racer.count_report_revisions() == 0


def test_a_tank_declared_in_the_gap_is_checked_against(stores: tuple[Store, Store]) -> None:
    racer, other = stores
    facility = racer.get_record("facilities", "79-A")
    smaller = dataclasses.replace(facility, liquid_tank_capacity_l=5_000.0)
    # 6,000 L of liquid with no tank declared is a flag; a 5,000 L tank declared in the gap
    # makes it a refusal (above the tank), and nothing is stored
    log = interrupt_first_write(racer, lambda: other.replace_record(smaller, actor="coord79"))
    with pytest.raises(InvalidInputError, match=r"liquid_stock_l.*5,000"):
        racer.submit_report(dataclasses.replace(REPORT, liquid_stock_l=6_000.0), submitted_by="x")
    assert log == ["interloper"]
    assert racer.count_report_revisions() == 0
