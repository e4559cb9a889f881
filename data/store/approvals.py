"""Approval and locking in the store: an approved day locks its reports until it is unlocked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from data.db.models import approvals, provinces
from data.errors import ConflictError, InvalidInputError, LockedError, RecordNotFoundError
from data.reporting import local_date
from data.store.base import StoreBase
from data.store.rows import aware_utc


@dataclass(frozen=True, slots=True)
class Approval:
    """The approval state of one province's day (DHIS2-style approval and locking).

    ``locked`` is True from an approval until an unlock; the last unlock (who, when, why) stays
    visible after a new approval. Every approval and unlock is also an audit row.
    """

    province_code: str
    report_date: dt.date
    locked: bool
    approved_by: str
    approved_at: dt.datetime
    unlocked_by: str | None = None
    unlocked_at: dt.datetime | None = None
    unlock_reason: str | None = None


MAX_REASON_CHARS = 1000


def refuse_if_locked(connection: Connection, province_code: str, report_date: dt.date) -> None:
    """Refuse a change to the reports of a province's day that is approved (locked).

    Raises
    ------
    LockedError
        If ``province_code`` approved ``report_date`` and has not unlocked it since.
    """
    row = connection.execute(
        select(approvals).where(
            and_(
                approvals.c.province_code == province_code,
                approvals.c.report_date == report_date,
                approvals.c.locked.is_(True),
            )
        )
    ).first()
    if row is not None:
        raise LockedError(
            f"report_date: province {province_code} approved {report_date} "
            f"({row.approved_by}, {aware_utc(row.approved_at).isoformat()}), which locks its "
            "reports; a coordinator or an admin must unlock the day with a reason first"
        )


def require_province(connection: Connection, province_code: str) -> None:
    """Refuse an unknown province.

    Raises
    ------
    RecordNotFoundError
        If there is no province ``province_code``.
    """
    found = connection.execute(
        select(provinces.c.province_code).where(provinces.c.province_code == province_code)
    ).first()
    if found is None:
        raise RecordNotFoundError(f"province_code: no province {province_code!r}")


def approval_from_row(row: Mapping[Any, Any]) -> Approval:
    """Build an :class:`Approval` from an ``approvals`` row."""
    return Approval(
        province_code=row["province_code"],
        report_date=row["report_date"],
        locked=bool(row["locked"]),
        approved_by=row["approved_by"],
        approved_at=aware_utc(row["approved_at"]),
        unlocked_by=row["unlocked_by"],
        unlocked_at=aware_utc(row["unlocked_at"]),
        unlock_reason=row["unlock_reason"],
    )


class ApprovalStore(StoreBase):
    """Approve and unlock provinces' days (DHIS2-style), and list their state."""

    def approve_day(self, province_code: str, report_date: dt.date, *, actor: str) -> Approval:
        """Approve a province's day, which locks the reports of that day (audited).

        Raises
        ------
        RecordNotFoundError
            If the province does not exist.
        InvalidInputError
            If ``report_date`` is after today (Asia/Ho_Chi_Minh): a day is approved once it has
            begun.
        ConflictError
            If the day is already approved (and not unlocked since).
        """
        now = self.clock()
        if report_date > local_date(now):
            raise InvalidInputError(
                f"report_date: a day can be approved from that day on; {report_date} is after "
                f"today ({local_date(now)}, Asia/Ho_Chi_Minh)"
            )
        with self._write() as connection:
            require_province(connection, province_code)
            key = and_(
                approvals.c.province_code == province_code,
                approvals.c.report_date == report_date,
            )
            row = connection.execute(select(approvals).where(key)).first()
            if row is not None and row.locked:
                raise ConflictError(
                    f"report_date: province {province_code} already approved {report_date} "
                    f"({row.approved_by}); unlock it first to approve it again"
                )
            values = {"locked": True, "approved_by": actor, "approved_at": now}
            if row is None:
                connection.execute(
                    insert(approvals).values(
                        province_code=province_code, report_date=report_date, **values
                    )
                )
            else:
                connection.execute(update(approvals).where(key).values(**values))
            self._audit(connection, actor, "approve", "approvals", f"{province_code}/{report_date}")
            row = connection.execute(select(approvals).where(key)).one()
        return approval_from_row(row._mapping)

    def unlock_day(
        self, province_code: str, report_date: dt.date, *, actor: str, reason: str
    ) -> Approval:
        """Unlock an approved day so that its reports can be corrected (audited with the reason).

        Raises
        ------
        InvalidInputError
            If ``reason`` is blank or longer than 1,000 characters.
        RecordNotFoundError
            If the province does not exist.
        ConflictError
            If the day is not locked.
        """
        if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS or not reason.strip():
            raise InvalidInputError(
                f"reason: say why the day is unlocked (1-{MAX_REASON_CHARS} characters)"
            )
        now = self.clock()
        with self._write() as connection:
            require_province(connection, province_code)
            key = and_(
                approvals.c.province_code == province_code,
                approvals.c.report_date == report_date,
            )
            row = connection.execute(select(approvals).where(key)).first()
            if row is None or not row.locked:
                raise ConflictError(
                    f"report_date: province {province_code} has not approved {report_date}; "
                    "there is nothing to unlock"
                )
            reason = reason.strip()
            connection.execute(
                update(approvals)
                .where(key)
                .values(locked=False, unlocked_by=actor, unlocked_at=now, unlock_reason=reason)
            )
            self._audit(
                connection,
                actor,
                "unlock",
                "approvals",
                f"{province_code}/{report_date}",
                {"reason": reason},
            )
            row = connection.execute(select(approvals).where(key)).one()
        return approval_from_row(row._mapping)

    def list_approvals(
        self,
        *,
        date_from: dt.date,
        date_to: dt.date,
        province_code: str | None = None,
    ) -> list[Approval]:
        """Return the approval state of every approved (or once approved) day in the period."""
        query = (
            select(approvals)
            .where(approvals.c.report_date.between(date_from, date_to))
            .order_by(approvals.c.province_code, approvals.c.report_date)
        )
        if province_code is not None:
            query = query.where(approvals.c.province_code == province_code)
        with self.engine.connect() as connection:
            return [approval_from_row(row._mapping) for row in connection.execute(query)]
