"""What the parts of the store share: the engine, the clock, write transactions, audit rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, insert

from data.db.engine import WRITE_OPTIONS
from data.db.models import audit_events

MAX_PAGE = 1000


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

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """Open one write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with self.engine.execution_options(**WRITE_OPTIONS).begin() as connection:
            yield connection

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
