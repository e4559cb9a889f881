"""Group commit: report submissions of several threads share one write transaction.

The leader's write transaction is held back until the other threads' submissions wait in the
queue, so that the grouping is certain, not left to timing (issue 16, item 7). The leader takes the
waiting works once its transaction is open, so every work that queued while it waited for the
write lock (another process's writer, here the held transaction) shares its COMMIT.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, insert, select

from data.db.engine import write_lock_path
from data.db.models import audit_events
from data.errors import IdempotencyKeyReusedError
from data.schema.registry import DailyReport
from data.store import Store

DAY = dt.date(2021, 8, 20)


def hold_first_write(store: Store, waiting: int) -> list[int]:
    """Hold ``store``'s first write transaction until ``waiting`` works queue behind the leader's.

    Returns the list of write transactions opened (one entry each), for the test to count.
    """
    opened: list[int] = []
    write = store._write

    @contextmanager
    def held_write() -> Iterator[Connection]:
        if not opened:
            deadline = time.monotonic() + 30
            # The leader's own work is still queued: it is taken with the others once open.
            while len(store._write_queue.pending) < waiting + 1:
                assert time.monotonic() < deadline, "the other submissions never queued"
                time.sleep(0.005)
        opened.append(1)
        with write() as connection:
            yield connection

    store._write = held_write  # type: ignore[method-assign]
    return opened


def run_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread; return each one's result or exception, in order."""
    outcomes: list[Any] = [None] * len(calls)

    def run(position: int) -> None:
        try:
            outcomes[position] = calls[position]()
        except Exception as error:
            outcomes[position] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # the first one leads
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def report(facility_id: str, used_m3: float, day: dt.date = DAY) -> DailyReport:
    """Return a plausible report with a use of ``used_m3``."""
    return DailyReport(
        facility_id=facility_id,
        report_date=day,
        oxygen_used_24h_m3=used_m3,
        patients_cannula_mask=40,
        note=f"ca {used_m3:g} m³, Bệnh viện",
    )


def test_eight_submissions_share_one_write_transaction(store: Store) -> None:
    opened = hold_first_write(store, waiting=7)
    calls = [
        (
            lambda n=n: store.submit_report(
                report("79-A" if n % 2 else "79-B", 600.0 + n), submitted_by=f"u{n}"
            )
        )
        for n in range(8)
    ]
    outcomes = run_threads(calls)
    assert all(outcome.created for outcome in outcomes), outcomes
    assert len(opened) == 1  # the leader's own and the seven that waited meanwhile: one COMMIT
    for facility_id in ("79-A", "79-B"):
        history = store.report_history(facility_id, DAY)
        assert [r.revision for r in history] == [1, 2, 3, 4]  # dense, none twice
        times = [r.submitted_at for r in history]
        assert times == sorted(times)
    assert store.count_report_revisions() == 8


def test_a_refused_work_leaves_the_others_of_its_transaction(store: Store) -> None:
    opened = hold_first_write(store, waiting=3)
    key = {"user_id": 3, "idempotency_key": "k-1"}
    calls = [
        lambda: store.submit_report(report("01-C", 500.0), submitted_by="repC"),
        lambda: store.submit_report(
            report("79-A", 600.0), submitted_by="repA", request_hash="h1", **key
        ),
        lambda: store.submit_report(report("79-B", 700.0), submitted_by="repB"),
        # the same key with another request, queued with the first: refused in the write phase
        lambda: store.submit_report(
            report("79-A", 610.0), submitted_by="repA", request_hash="h2", **key
        ),
    ]
    outcomes = run_threads(calls)
    assert len(opened) == 1
    assert isinstance(outcomes[3], IdempotencyKeyReusedError)
    assert [o.created for o in outcomes[:3]] == [True, True, True]
    assert [r.report.oxygen_used_24h_m3 for r in store.report_history("79-A", DAY)] == [600.0]
    assert store.count_report_revisions() == 3


def test_a_work_that_fails_after_writing_is_rolled_back_alone(store: Store) -> None:
    opened = hold_first_write(store, waiting=2)

    def audit(action: str, *, fail: bool = False) -> Callable[[], str]:
        def work(connection: Connection) -> str:
            connection.execute(
                insert(audit_events).values(
                    at=store.clock(), actor="t", action=action, entity="e", entity_id="1"
                )
            )
            if fail:
                raise ValueError(f"{action} failed after its insert")
            return action

        return lambda: store._write_together(work)

    outcomes = run_threads([audit("first"), audit("second", fail=True), audit("third")])
    assert len(opened) == 1
    assert outcomes[0] == "first" and outcomes[2] == "third"
    assert isinstance(outcomes[1], ValueError)
    with store.engine.connect() as connection:
        actions = connection.execute(
            select(audit_events.c.action).where(audit_events.c.actor == "t")
        ).scalars()
        assert sorted(actions) == ["first", "third"]


def test_a_failed_commit_fails_every_work_and_stores_none(store: Store) -> None:
    write = store._write
    gate = threading.Event()

    @contextmanager
    def failing_write() -> Iterator[Connection]:
        gate.wait(timeout=30)
        with write() as connection:
            yield connection
            raise OSError("disk I/O error (simulated at COMMIT)")

    store._write = failing_write  # type: ignore[method-assign]

    def release_when_queued() -> None:
        deadline = time.monotonic() + 30
        while len(store._write_queue.pending) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        gate.set()

    threading.Thread(target=release_when_queued).start()
    outcomes = run_threads(
        [
            lambda n=n: store.submit_report(report("79-A", 600.0 + n), submitted_by="repA")
            for n in range(3)
        ]
    )
    assert [type(o) for o in outcomes] == [OSError] * 3
    assert store.count_report_revisions() == 0
    store._write = write  # type: ignore[method-assign]
    # the queue is free again: the next submission leads and is stored
    assert store.submit_report(report("79-A", 650.0), submitted_by="repA").created


def test_many_threads_many_reports_dense_and_complete(store: Store) -> None:
    threads = 8
    keys = [(f, DAY - dt.timedelta(days=d)) for f in ("79-A", "79-B") for d in range(5)]

    def work(worker: int) -> None:
        for i in range(worker, 200, threads):
            facility_id, day = keys[i % len(keys)]
            store.submit_report(report(facility_id, 100.0 + i, day), submitted_by=f"w{worker}")

    run_threads([lambda w=w: work(w) for w in range(threads)])
    assert store.count_report_revisions() == 200
    with store.engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(audit_events)).scalar_one() >= 200
        )
    for facility_id, day in keys:
        assert [r.revision for r in store.report_history(facility_id, day)] == list(range(1, 21))


def test_works_queued_while_another_process_writes_share_the_next_commit(store: Store) -> None:
    """The lock file held (as another process's writer would): the leader waits, the others queue."""
    path = write_lock_path(store.engine)
    assert path is not None
    opened: list[int] = []
    write = store._write

    @contextmanager
    def counted_write() -> Iterator[Connection]:
        with write() as connection:
            opened.append(1)
            yield connection

    store._write = counted_write  # type: ignore[method-assign]
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)  # another open file: it excludes this process too

    def release_when_queued() -> None:
        deadline = time.monotonic() + 30
        while len(store._write_queue.pending) < 6 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.close(descriptor)

    threading.Thread(target=release_when_queued).start()
    outcomes = run_threads(
        [
            lambda n=n: store.submit_report(report("79-B", 500.0 + n), submitted_by=f"u{n}")
            for n in range(6)
        ]
    )
    assert all(outcome.created for outcome in outcomes), outcomes
    assert len(opened) == 1
    assert [r.revision for r in store.report_history("79-B", DAY)] == list(range(1, 7))
