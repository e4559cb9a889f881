"""Plausibility flags of stored reports and province officers' reviews of them.

A revision stored with flags (:mod:`data.plausibility`) waits in its province's review queue
until an officer accepts it, giving a reason, or asks the facility for a correction; a
correction is a new revision, checked again. Reviews are append-only rows (the latest decides)
and each leaves an audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, insert, select

from data.db.models import facilities, report_reviews, report_revisions
from data.errors import ConflictError, InvalidInputError, RecordNotFoundError
from data.plausibility import Finding, seriousness
from data.schema.registry import MAX_NOTE_CHARS, ReportRevision
from data.store.base import MAX_PAGE, StoreBase
from data.store.reports import flags_of_row
from data.store.rows import aware_utc, inserted_id, revision_from_row


class ReviewDecision(StrEnum):
    """A province officer's decision on a flagged report."""

    ACCEPTED = "accepted"
    CORRECTION_REQUESTED = "correction_requested"


class ReviewStatus(StrEnum):
    """Where a revision stands: not flagged, waiting for review, or reviewed."""

    UNFLAGGED = "unflagged"
    UNREVIEWED = "unreviewed"
    ACCEPTED = "accepted"
    CORRECTION_REQUESTED = "correction_requested"


@dataclass(frozen=True, slots=True)
class Review:
    """One decision on one revision."""

    review_id: int
    facility_id: str
    report_date: dt.date
    revision: int
    decision: ReviewDecision
    reason: str
    reviewed_by: str
    reviewed_at: dt.datetime


def review_from_row(row: Any) -> Review:
    """Return a review from a row with the review's columns and its revision's identity."""
    return Review(
        row.review_id,
        row.facility_id,
        row.report_date,
        row.revision,
        ReviewDecision(row.decision),
        row.reason,
        row.reviewed_by,
        aware_utc(row.reviewed_at),
    )


@dataclass(frozen=True, slots=True)
class ReportCheck:
    """The flags of one revision and its latest review (None: never reviewed)."""

    facility_id: str
    report_date: dt.date
    revision: int
    flags: tuple[Finding, ...]
    review: Review | None

    @property
    def status(self) -> ReviewStatus:
        """Return where the revision stands."""
        if self.review is not None:
            return ReviewStatus(self.review.decision.value)
        return ReviewStatus.UNREVIEWED if self.flags else ReviewStatus.UNFLAGGED


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A flagged report in the review queue, with its facility's name and province."""

    revision: ReportRevision
    facility_name: str
    province_code: str
    check: ReportCheck


_REVIEWABLE_ACTIONS = {
    ReviewDecision.ACCEPTED: "accept_flags",
    ReviewDecision.CORRECTION_REQUESTED: "request_correction",
}


class ReviewStore(StoreBase):
    """Read the flags of report revisions; list, accept and send back flagged reports."""

    def report_checks(
        self,
        *,
        date_from: dt.date,
        date_to: dt.date,
        facility_id: str | None = None,
        province_code: str | None = None,
    ) -> dict[tuple[str, dt.date, int], ReportCheck]:
        """Return the flags and latest review of every revision in the period.

        Keyed by (facility id, report date, revision number).
        """
        query = select(
            report_revisions.c.revision_id,
            report_revisions.c.facility_id,
            report_revisions.c.report_date,
            report_revisions.c.revision,
            report_revisions.c.flags,
        ).where(report_revisions.c.report_date.between(date_from, date_to))
        if facility_id is not None:
            query = query.where(report_revisions.c.facility_id == facility_id)
        if province_code is not None:
            query = query.join(
                facilities, facilities.c.facility_id == report_revisions.c.facility_id
            ).where(facilities.c.province_code == province_code)
        with self.engine.connect() as connection:
            rows = list(connection.execute(query))
            reviews = self._latest_reviews(connection, [row.revision_id for row in rows])
        return {
            (row.facility_id, row.report_date, row.revision): ReportCheck(
                row.facility_id,
                row.report_date,
                row.revision,
                flags_of_row(row._mapping),
                reviews.get(row.revision_id),
            )
            for row in rows
        }

    @staticmethod
    def _latest_reviews(connection: Any, revision_ids: list[int]) -> dict[int, Review]:
        """Return the latest review of each of ``revision_ids`` that has one."""
        if not revision_ids:
            return {}
        latest = (
            select(func.max(report_reviews.c.review_id))
            .where(report_reviews.c.revision_id.in_(revision_ids))
            .group_by(report_reviews.c.revision_id)
        )
        rows = connection.execute(
            select(
                report_reviews,
                report_revisions.c.facility_id,
                report_revisions.c.report_date,
                report_revisions.c.revision,
            )
            .join(report_revisions, report_revisions.c.revision_id == report_reviews.c.revision_id)
            .where(report_reviews.c.review_id.in_(latest))
        )
        return {row.revision_id: review_from_row(row) for row in rows}

    def review_queue(
        self,
        *,
        date_from: dt.date,
        date_to: dt.date,
        province_code: str | None = None,
        status: ReviewStatus = ReviewStatus.UNREVIEWED,
        limit: int = MAX_PAGE,
    ) -> list[ReviewItem]:
        """Return the latest revisions with flags and the given status, most serious first.

        Seriousness is the largest excess of a flag over its limit, then the number of flags;
        ties go to the latest day, then the facility id. Superseded revisions are left out: a
        correction replaces them.
        """
        checks = self.report_checks(
            date_from=date_from, date_to=date_to, province_code=province_code
        )
        latest: dict[tuple[str, dt.date], ReportCheck] = {}
        for check in checks.values():
            key = (check.facility_id, check.report_date)
            if key not in latest or latest[key].revision < check.revision:
                latest[key] = check
        chosen = [c for c in latest.values() if c.flags and c.status is status]
        chosen.sort(key=lambda c: (c.report_date, c.facility_id), reverse=True)
        chosen.sort(key=lambda c: seriousness(c.flags), reverse=True)
        chosen = chosen[: min(limit, MAX_PAGE)]
        return self._queue_items(chosen)

    def _queue_items(self, chosen: list[ReportCheck]) -> list[ReviewItem]:
        if not chosen:
            return []
        keys = {(c.facility_id, c.report_date, c.revision) for c in chosen}
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(report_revisions, facilities.c.name, facilities.c.province_code)
                .join(facilities, facilities.c.facility_id == report_revisions.c.facility_id)
                .where(report_revisions.c.facility_id.in_({k[0] for k in keys}))
                .where(report_revisions.c.report_date.in_({k[1] for k in keys}))
            )
            found = {
                (row.facility_id, row.report_date, row.revision): row
                for row in rows
                if (row.facility_id, row.report_date, row.revision) in keys
            }
        items = []
        for check in chosen:
            row = found[(check.facility_id, check.report_date, check.revision)]
            items.append(
                ReviewItem(revision_from_row(row._mapping), row.name, row.province_code, check)
            )
        return items

    def review_report(
        self,
        facility_id: str,
        report_date: dt.date,
        *,
        decision: ReviewDecision,
        reason: str,
        actor: str,
        revision: int | None = None,
    ) -> Review:
        """Record a decision on the latest revision of a report, with its audit row.

        Any report may be reviewed (an officer may send back a report no rule flagged); the
        review queue lists the flagged ones.

        Raises
        ------
        InvalidInputError
            If ``reason`` is empty or longer than 2,000 characters.
        RecordNotFoundError
            If the facility has no report of ``report_date``.
        ConflictError
            If ``revision`` is given and is not the latest (the facility corrected it since).
        """
        text = reason.strip() if isinstance(reason, str) else ""
        if not text or len(text) > MAX_NOTE_CHARS:
            raise InvalidInputError(
                f"reason: give why, in 1 to {MAX_NOTE_CHARS} characters, got {reason!r:.80}"
            )
        now = self.clock()
        with self._write() as connection:
            latest = connection.execute(
                select(report_revisions)
                .where(
                    and_(
                        report_revisions.c.facility_id == facility_id,
                        report_revisions.c.report_date == report_date,
                    )
                )
                .order_by(report_revisions.c.revision.desc())
                .limit(1)
            ).first()
            if latest is None:
                raise RecordNotFoundError(
                    f"report_date: no report of {facility_id!r} for {report_date}"
                )
            if revision is not None and revision != latest.revision:
                raise ConflictError(
                    f"revision: the latest revision is {latest.revision}, not {revision}; "
                    "read the report again and review the latest one"
                )
            review_id = inserted_id(
                connection.execute(
                    insert(report_reviews).values(
                        revision_id=latest.revision_id,
                        decision=decision.value,
                        reason=text,
                        reviewed_by=actor,
                        reviewed_at=now,
                    )
                )
            )
            self._audit(
                connection,
                actor,
                _REVIEWABLE_ACTIONS[decision],
                "reports",
                f"{facility_id}/{report_date}",
                {
                    "revision": latest.revision,
                    "decision": decision.value,
                    "reason": text,
                    "flags": [f.rule_id for f in flags_of_row(latest._mapping)],
                },
            )
        return Review(
            review_id, facility_id, report_date, latest.revision, decision, text, actor, now
        )
