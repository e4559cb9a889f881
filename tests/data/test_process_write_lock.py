"""Writers of several processes take turns on a lock file beside the SQLite database (issue 16).

SQLite makes a writer that finds the database locked by another process retry on a timer, so two
worker processes' writers waited far longer than the lock was held. A write transaction now holds
an exclusive ``flock`` on ``<database>-write.lock`` from before BEGIN to after COMMIT: these tests
check, from other processes, that the lock is held exactly then, that a killed writer releases it,
and that the writes of two processes all land.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import multiprocessing
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from data.db.engine import create_db_engine, write_lock_path, write_transaction
from data.db.migrate import upgrade_database
from data.db.models import audit_events

_CONTEXT = multiprocessing.get_context("spawn")  # no inherited engine or lock descriptor


def _lock_is_free(path: Path) -> bool:
    """Return whether another process could take the write lock now (tried without waiting)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


def _probe(path: str, answers: multiprocessing.Queue[bool]) -> None:
    answers.put(_lock_is_free(Path(path)))


def _free_from_another_process(path: Path) -> bool:
    answers: multiprocessing.Queue[bool] = _CONTEXT.Queue()
    process = _CONTEXT.Process(target=_probe, args=(str(path), answers))
    process.start()
    process.join(60)
    return answers.get(timeout=5)


def _hold_and_hang(url: str, started: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    engine = create_db_engine(url)
    with write_transaction(engine) as connection:
        connection.execute(text("SELECT 1"))
        started.set()
        signal.pause()  # killed here, inside the transaction


def _audit_rows(url: str, actor: str, count: int) -> None:
    engine = create_db_engine(url)
    for n in range(count):
        with write_transaction(engine) as connection:
            connection.execute(
                insert(audit_events).values(
                    at=dt_now(), actor=actor, action="test", entity="lock", entity_id=str(n)
                )
            )


def dt_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    upgrade_database(create_db_engine(url))
    return url


def test_the_lock_file_sits_beside_a_sqlite_file_and_nowhere_else(tmp_path: Path) -> None:
    on_file = create_db_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    assert write_lock_path(on_file) == Path(f"{tmp_path / 'a.sqlite3'}-write.lock")
    assert write_lock_path(create_db_engine("sqlite://")) is None
    assert write_lock_path(create_db_engine("sqlite:///:memory:")) is None


def test_the_lock_is_held_from_begin_to_commit_as_seen_by_another_process(database: str) -> None:
    engine = create_db_engine(database)
    path = write_lock_path(engine)
    assert path is not None
    with write_transaction(engine) as connection:
        connection.execute(text("SELECT 1"))
        assert not _free_from_another_process(path)
    assert _free_from_another_process(path)
    with pytest.raises(RuntimeError), write_transaction(engine):
        raise RuntimeError("rolled back")
    assert _free_from_another_process(path)  # released after a rollback too


def test_a_writer_killed_inside_its_transaction_releases_the_lock(database: str) -> None:
    started = _CONTEXT.Event()
    writer = _CONTEXT.Process(target=_hold_and_hang, args=(database, started))
    writer.start()
    try:
        assert started.wait(60), "the writer never opened its transaction"
        path = write_lock_path(create_db_engine(database))
        assert path is not None
        assert not _free_from_another_process(path)
    finally:
        os.kill(writer.pid or 0, signal.SIGKILL)
        writer.join(30)
    engine = create_db_engine(database)
    with write_transaction(engine) as connection:  # would wait forever if the lock stayed
        connection.execute(
            insert(audit_events).values(
                at=dt_now(), actor="after", action="test", entity="lock", entity_id="0"
            )
        )
    with engine.connect() as connection:
        rows = connection.execute(
            select(func.count()).where(audit_events.c.actor == "after")
        ).scalar_one()
    assert rows == 1


def test_two_processes_writing_at_once_store_every_row(database: str) -> None:
    writers = [
        _CONTEXT.Process(target=_audit_rows, args=(database, f"writer-{n}", 40)) for n in range(2)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    with create_db_engine(database).connect() as connection:
        counts = dict(
            connection.execute(
                select(audit_events.c.actor, func.count())
                .where(audit_events.c.action == "test")
                .group_by(audit_events.c.actor)
            ).all()
        )
    assert counts == {"writer-0": 40, "writer-1": 40}


def test_a_lock_file_this_user_may_not_open_leaves_sqlite_to_order_writers(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's registry (its lock file not ours to open): writes still go through."""
    from data.db import engine as engine_module

    real_open = os.open

    def refused(path: object, flags: int, *args: object) -> int:
        if str(path).endswith("-write.lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module.os, "open", refused)
    engine = create_db_engine(database)
    with write_transaction(engine) as connection:
        connection.execute(
            insert(audit_events).values(
                at=dt_now(), actor="refused", action="test", entity="lock", entity_id="0"
            )
        )
    with engine.connect() as connection:
        rows = connection.execute(
            select(func.count()).where(audit_events.c.actor == "refused")
        ).scalar_one()
    assert rows == 1
