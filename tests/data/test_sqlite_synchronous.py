"""The ``synchronous`` parameter of a SQLite URL: FULL by default, NORMAL on request (issue 16).

NORMAL skips the fsync of each COMMIT; SQLite documents it as durable across a crash of the
application in WAL mode, which is what is checked here: a process that commits and is killed
with SIGKILL right after loses nothing. (A power cut can lose the last commits: documented.)
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from data.db.engine import create_db_engine, write_lock_path, write_transaction
from data.db.migrate import upgrade_database
from data.db.models import audit_events
from data.errors import InvalidInputError

_CONTEXT = multiprocessing.get_context("spawn")


def _synchronous(url: str) -> int:
    with create_db_engine(url).connect() as connection:
        return int(connection.execute(text("PRAGMA synchronous")).scalar_one())


def _commit_then_hang(url: str, count: int, done: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    engine = create_db_engine(url)
    for n in range(count):
        with write_transaction(engine) as connection:
            connection.execute(
                insert(audit_events).values(
                    at=dt.datetime.now(dt.UTC),
                    actor="normal",
                    action="test",
                    entity="sync",
                    entity_id=str(n),
                )
            )
    done.set()
    signal.pause()  # killed here, with every transaction acknowledged


def test_full_by_default_and_normal_on_request(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    assert _synchronous(f"sqlite:///{path}") == 2  # FULL
    assert _synchronous(f"sqlite:///{path}?synchronous=full") == 2
    assert _synchronous(f"sqlite:///{path}?synchronous=NORMAL") == 1
    engine = create_db_engine(f"sqlite:///{path}?synchronous=normal")
    assert engine.url.database == str(path)  # the parameter is ours, not the driver's
    assert write_lock_path(engine) == Path(f"{path}-write.lock")


@pytest.mark.parametrize("value", ["off", "extra", "2"])
def test_another_value_is_refused_naming_the_parameter(tmp_path: Path, value: str) -> None:
    with pytest.raises(InvalidInputError, match=r"synchronous=.* must be one of full, normal"):
        create_db_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}?synchronous={value}")


def test_normal_keeps_every_commit_of_a_killed_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}?synchronous=normal"
    upgrade_database(create_db_engine(url))
    done = _CONTEXT.Event()
    writer = _CONTEXT.Process(target=_commit_then_hang, args=(url, 50, done))
    writer.start()
    try:
        assert done.wait(120), "the writer never finished its commits"
    finally:
        os.kill(writer.pid or 0, signal.SIGKILL)
        writer.join(30)
    with create_db_engine(url).connect() as connection:
        stored = connection.execute(
            select(func.count()).where(audit_events.c.actor == "normal")
        ).scalar_one()
    assert stored == 50
