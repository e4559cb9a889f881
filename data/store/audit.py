"""The audit trail in the store: one append-only row per change, read back oldest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from data.db.models import audit_events
from data.store.base import MAX_PAGE, StoreBase
from data.store.rows import aware_utc


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit row: who did what to which record, when."""

    event_id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: Any


class AuditStore(StoreBase):
    """Read the audit trail (rows are written by each change, in its own transaction)."""

    def audit_trail(
        self, *, entity: str | None = None, entity_id: str | None = None, limit: int = MAX_PAGE
    ) -> list[AuditEvent]:
        """Return audit rows, oldest first, optionally for one entity (and id)."""
        query = select(audit_events).order_by(audit_events.c.event_id).limit(min(limit, MAX_PAGE))
        if entity is not None:
            query = query.where(audit_events.c.entity == entity)
        if entity_id is not None:
            query = query.where(audit_events.c.entity_id == entity_id)
        with self.engine.connect() as connection:
            return [
                AuditEvent(
                    r.event_id, aware_utc(r.at), r.actor, r.action, r.entity, r.entity_id, r.detail
                )
                for r in connection.execute(query)
            ]
