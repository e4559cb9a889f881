"""What the parts of the store share: the engine, the clock, write transactions, audit rows."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, insert

from data.db.engine import write_transaction
from data.db.models import audit_events

MAX_PAGE = 1000
T = TypeVar("T")


@dataclass(eq=False, slots=True)
class _PendingWrite(Generic[T]):
    """One thread's work waiting for a shared write transaction, then its outcome."""

    work: Callable[[Connection], T]
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: T | None = None
    error: BaseException | None = None

    def outcome(self) -> T:
        """Return the work's result, or raise its error (or the transaction's)."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


@dataclass(eq=False, slots=True)
class _WriteQueue:
    """The works waiting for the next shared write transaction, and whether one is running."""

    mutex: threading.Lock = field(default_factory=threading.Lock)
    pending: list[_PendingWrite[Any]] = field(default_factory=list)
    leading: bool = False


def utc_now() -> dt.datetime:
    """Return the present instant in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class StoreBase:
    """The database and clock behind every part of :class:`data.store.Store`.

    Parameters
    ----------
    engine
        From :func:`data.db.create_db_engine`, with the schema upgraded.
    clock
        Returns the present instant (aware); injected so that tests control "now".
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self._write_queue = _WriteQueue()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """Open one write transaction (``BEGIN IMMEDIATE`` on SQLite; see ``write_transaction``)."""
        with write_transaction(self.engine) as connection:
            yield connection

    def _write_together(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a write transaction shared with the other threads' works (group commit).

        A write transaction on SQLite holds the database's one write lock until its COMMIT has
        been written and synced (``synchronous=FULL``: one fsync, most of the time a short write
        holds the lock). Works that arrive while a transaction runs wait and then go in the next
        one together, each in its own savepoint, with one COMMIT for all: a work that raises rolls
        back its savepoint only, and gets its exception back; if the transaction itself fails
        (BEGIN or COMMIT), every work of it gets that error and nothing of it is stored. No work
        returns before the COMMIT that stores it. The thread that finds no transaction running
        leads: it opens the transaction (waiting, with several processes, for the other processes'
        writers: see :func:`data.db.engine.write_transaction`), then takes every work waiting by
        then (its own first), so the works that queued while it waited share its COMMIT; then it
        hands the lead to the first work that arrived meanwhile. Works run one after the other, in
        arrival order.

        ``work`` must do only database work on ``connection`` (it runs in the leader's thread).
        """
        queue = self._write_queue
        mine = _PendingWrite(work)
        with queue.mutex:
            queue.pending.append(mine)
            lead = not queue.leading
            queue.leading = True
        if not lead:
            mine.wake.wait()
            if not mine.lead:
                return mine.outcome()
        try:
            self._run_together(queue)
        finally:
            with queue.mutex:
                if queue.pending:
                    queue.pending[0].lead = True
                    queue.pending[0].wake.set()
                else:
                    queue.leading = False
        return mine.outcome()

    @staticmethod
    def _take(queue: _WriteQueue) -> list[_PendingWrite[Any]]:
        with queue.mutex:
            batch, queue.pending = queue.pending, []
        return batch

    def _run_together(self, queue: _WriteQueue) -> None:
        """Open one write transaction, then run the works waiting by then, each in a savepoint.

        Every work taken gets its result or error and its thread is woken. When the transaction
        cannot be opened, the works waiting then get that error.
        """
        batch: list[_PendingWrite[Any]] = []
        try:
            with self._write() as connection:
                batch = self._take(queue)
                for pending in batch:
                    try:
                        with connection.begin_nested():
                            pending.result = pending.work(connection)
                    except Exception as error:  # handed back to its own thread, raised there
                        pending.error = error
        except BaseException as error:
            batch = batch or self._take(queue)  # BEGIN failed: the waiting works get its error
            for pending in batch:
                pending.result, pending.error = None, pending.error or error
            if not isinstance(error, Exception):
                raise
        finally:
            for pending in batch:
                pending.wake.set()

    def _audit(
        self,
        connection: Connection,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        detail: Any = None,
    ) -> None:
        """Add one audit row in the transaction of ``connection``."""
        connection.execute(
            insert(audit_events).values(
                at=self.clock(),
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                detail=detail,
            )
        )
