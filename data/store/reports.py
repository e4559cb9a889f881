"""Daily reports in the store: submissions as append-only revisions, idempotent retries, history.

A report is stored as a new revision only when its content differs from the latest one; a
province's approved (locked) day refuses changes; an Idempotency-Key makes a retried request
return its first answer. Generated (seed) reports go through the same rules in bulk.

Every submitted report (one by one, or in a batch: the CSV, XLSX and DHIS2 importers) passes the
plausibility rules of :mod:`data.plausibility` here, where reports enter the store: a physically
impossible value is refused (nothing stored), doubtful ones are stored with the revision as
flags, for a province officer's review (:mod:`data.store.reviews`). Generated (seed) reports are
not checked: they are labelled generated wherever they are shown.

A single submission holds the write lock (SQLite has one) as briefly as it can: the facility, the
day's lock, the latest revision, the recent reports and the plausibility check are read and run in
a read transaction first; the write transaction then re-reads only a snapshot of what they rest on
(the facility's row, the day's lock, the newest revision id of the facility's checked days), redoes
the reads and the check under the lock if a concurrent writer changed it, and inserts. Revision
numbers stay dense, and ``submitted_at`` is read under the lock, so revision order is
``submitted_at`` order (issue 16, item 7). A batch runs in one write transaction throughout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from data.db.models import approvals, audit_events, facilities, idempotency_keys, report_revisions
from data.errors import (
    ConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    RecordNotFoundError,
)
from data.plausibility import DEFAULT_LIMITS, Finding, PlausibilityResult, check_report
from data.reporting import Submission, local_date
from data.schema.registry import DailyReport, Facility, ReportRevision
from data.store.approvals import refuse_if_locked
from data.store.base import StoreBase
from data.store.rows import aware_utc, from_row, inserted_id, revision_from_row, to_row

_WRITE_RETRIES = 3


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What happened to a submitted report.

    ``created`` is False when the content equalled the latest revision (nothing stored);
    ``replayed`` is True when the answer comes from an earlier request with the same
    Idempotency-Key. ``flags`` are the plausibility flags stored with the revision (the
    warnings to show the submitter; empty when none or never checked).
    """

    revision: ReportRevision
    created: bool
    replayed: bool = False
    flags: tuple[Finding, ...] = ()


class _RefusedReportError(Exception):
    """Control flow only: a report broke a refusal rule (turned into InvalidInputError)."""

    def __init__(self, report: DailyReport, result: PlausibilityResult) -> None:
        super().__init__(f"{report.facility_id}/{report.report_date}")
        self.report = report
        self.result = result


def flags_of_row(row: Any) -> tuple[Finding, ...]:
    """Return the plausibility flags stored in a ``report_revisions`` row."""
    return tuple(Finding.from_dict(item) for item in row["flags"] or ())


def _refusal_error(refused: list[tuple[int | None, _RefusedReportError]]) -> InvalidInputError:
    """Build the 422 of refused reports: ``field: reason`` per finding (batch: ``reports[n].``)."""
    problems = [
        finding.problem() if position is None else f"reports[{position}].{finding.problem()}"
        for position, error in refused
        for finding in error.result.refusals
    ]
    return InvalidInputError.from_problems("report (physically impossible values)", problems)


def _replayed_submission(
    connection: Connection, user_id: int | None, idempotency_key: str, request_hash: str | None
) -> SubmissionResult | None:
    """Return the first answer to a request with this user's Idempotency-Key, or None.

    Raises
    ------
    IdempotencyKeyReusedError
        If the key was used before with a different request.
    """
    earlier = connection.execute(
        select(idempotency_keys).where(
            and_(
                idempotency_keys.c.user_id == user_id,
                idempotency_keys.c.idempotency_key == idempotency_key,
            )
        )
    ).first()
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReusedError(
            "Idempotency-Key: this key was used for a different request; "
            "send a new key with a new request"
        )
    row = connection.execute(
        select(report_revisions).where(report_revisions.c.revision_id == earlier.revision_id)
    ).one()
    return SubmissionResult(
        revision_from_row(row._mapping),
        created=earlier.created,
        replayed=True,
        flags=flags_of_row(row._mapping),
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What the read phase of a submission found and decided, before the write lock.

    ``snapshot`` is :func:`_snapshot` as of the reads: if it is unchanged under the write lock,
    nothing the decision rests on has changed. ``latest`` is the day's latest revision (a row
    mapping; None if never reported); ``check`` the plausibility result, None when the content
    equals ``latest`` (nothing to store, nothing checked).
    """

    snapshot: tuple[Any, ...]
    latest: Mapping[Any, Any] | None
    check: PlausibilityResult | None


def _history_start(report: DailyReport) -> dt.date:
    """Return the first day whose reports the plausibility check reads for ``report``."""
    return report.report_date - dt.timedelta(days=DEFAULT_LIMITS.history_days)


def _snapshot(connection: Connection, report: DailyReport) -> tuple[Any, ...]:
    """Return what a submission's decision rests on, in one read of indexed rows.

    The facility's row (its record and province), whether its province locked the day, and the
    newest ``revision_id`` among the facility's revisions from the first history day to the
    report's day: revisions are append-only (triggers refuse UPDATE and DELETE) and ids grow, so
    a new revision of the day or of a recent day changes it.

    Raises
    ------
    RecordNotFoundError
        If there is no facility ``report.facility_id``.
    """
    newest = (
        select(func.max(report_revisions.c.revision_id))
        .where(
            and_(
                report_revisions.c.facility_id == report.facility_id,
                report_revisions.c.report_date.between(_history_start(report), report.report_date),
            )
        )
        .scalar_subquery()
    )
    locked = (
        select(func.count())
        .select_from(approvals)
        .where(
            and_(
                approvals.c.province_code == facilities.c.province_code,
                approvals.c.report_date == report.report_date,
                approvals.c.locked.is_(True),
            )
        )
        .scalar_subquery()
    )
    row = connection.execute(
        select(facilities, newest.label("newest_revision_id"), locked.label("locked_count")).where(
            facilities.c.facility_id == report.facility_id
        )
    ).first()
    if row is None:
        raise RecordNotFoundError(f"facility_id: no facility {report.facility_id!r}")
    mapping = dict(row._mapping)
    return (mapping, mapping.pop("newest_revision_id"), mapping.pop("locked_count"))


def _prepare_submission(
    connection: Connection, report: DailyReport, content_hash: str
) -> _Prepared:
    """Read what a submission needs and decide it: unchanged, or a checked new revision.

    The snapshot is read first: on a database where each statement sees the latest commits
    (PostgreSQL's read committed), the reads after it are at least as new, so an unchanged
    snapshot under the write lock still means an unchanged decision.

    Raises
    ------
    RecordNotFoundError, LockedError
        As :meth:`ReportStore.submit_report`.
    _RefusedReportError
        If a value is physically impossible.
    """
    snapshot = _snapshot(connection, report)
    facility = from_row(Facility, snapshot[0])
    if snapshot[2]:
        refuse_if_locked(connection, facility.province_code, report.report_date)
    day_rows: list[Mapping[Any, Any]] = []
    recent: dict[dt.date, Mapping[Any, Any]] = {}
    for row in connection.execute(
        select(report_revisions).where(
            and_(
                report_revisions.c.facility_id == report.facility_id,
                report_revisions.c.report_date.between(_history_start(report), report.report_date),
            )
        )
    ):
        mapping = row._mapping
        if mapping["report_date"] == report.report_date:
            day_rows.append(mapping)
        elif mapping["report_date"] not in recent or (
            recent[mapping["report_date"]]["revision"] < mapping["revision"]
        ):
            recent[mapping["report_date"]] = mapping
    latest = max(day_rows, key=lambda mapping: mapping["revision"], default=None)
    if latest is not None and latest["content_hash"] == content_hash:
        return _Prepared(snapshot, latest, None)
    check = check_report(
        report, facility, [from_row(DailyReport, mapping) for mapping in recent.values()]
    )
    if check.refused:
        raise _RefusedReportError(report, check)
    return _Prepared(snapshot, latest, check)


def _generated_item_problems(
    items: Sequence[tuple[DailyReport, dt.datetime]], now: dt.datetime
) -> list[str]:
    """List every generated item whose instant is naive or future, or whose day is too late."""
    problems = []
    for position, (report, submitted_at) in enumerate(items, start=1):
        if submitted_at.tzinfo is None or submitted_at > now:
            problems.append(
                f"submitted_at: item {position} must be an aware instant not after now, "
                f"got {submitted_at}"
            )
        elif report.report_date > local_date(submitted_at) + dt.timedelta(days=1):
            problems.append(
                f"report_date: item {position} ({report.report_date}) is after the day "
                f"after its submission ({submitted_at})"
            )
    return problems


def _facility_provinces(connection: Connection) -> dict[str, str]:
    """Return the province code of every facility, by facility id."""
    rows = connection.execute(select(facilities.c.facility_id, facilities.c.province_code))
    return {row.facility_id: row.province_code for row in rows}


def _locked_days(
    connection: Connection, first_day: dt.date, last_day: dt.date
) -> set[tuple[str, dt.date]]:
    """Return the (province, day) pairs approved and locked between two days (inclusive)."""
    rows = connection.execute(
        select(approvals.c.province_code, approvals.c.report_date).where(
            and_(
                approvals.c.report_date.between(first_day, last_day),
                approvals.c.locked.is_(True),
            )
        )
    )
    return {(row.province_code, row.report_date) for row in rows}


def _latest_revisions(
    connection: Connection, first_day: dt.date, last_day: dt.date
) -> dict[tuple[str, dt.date], tuple[int, str]]:
    """Return the latest revision number and content hash of each report between two days."""
    latest: dict[tuple[str, dt.date], tuple[int, str]] = {}
    for row in connection.execute(
        select(
            report_revisions.c.facility_id,
            report_revisions.c.report_date,
            report_revisions.c.revision,
            report_revisions.c.content_hash,
        ).where(report_revisions.c.report_date.between(first_day, last_day))
    ):
        key = (row.facility_id, row.report_date)
        if key not in latest or latest[key][0] < row.revision:
            latest[key] = (row.revision, row.content_hash)
    return latest


def _generated_audit_row(
    report: DailyReport,
    number: int,
    content_hash: str,
    submitted_at: dt.datetime,
    submitted_by: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Return the audit row of a generated revision (``detail.generated`` and its instant)."""
    return {
        "at": now,
        "actor": submitted_by,
        "action": "submit" if number == 1 else "correct",
        "entity": "reports",
        "entity_id": f"{report.facility_id}/{report.report_date}",
        "detail": {
            "revision": number,
            "content_hash": content_hash,
            "generated": True,
            "submitted_at": submitted_at.isoformat(),
        },
    }


class ReportStore(StoreBase):
    """Submit daily reports (single, batch, generated) and read their revisions."""

    # ------------------------------------------------------------------ daily reports

    def submit_report(
        self,
        report: DailyReport,
        *,
        submitted_by: str,
        user_id: int | None = None,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> SubmissionResult:
        """Store a daily report: a new revision if its content differs from the latest one.

        Submitting the same content as the latest revision stores nothing and returns that
        revision (``created=False``). With ``idempotency_key`` (per user), a repeated request
        returns the first answer (``replayed=True``).

        Raises
        ------
        RecordNotFoundError
            If the facility does not exist.
        InvalidInputError
            If ``report_date`` is after tomorrow (Asia/Ho_Chi_Minh), or a value is physically
            impossible (:mod:`data.plausibility`: each problem names the field, the value and
            the limit); nothing is stored.
        IdempotencyKeyReusedError
            If the key was used before with a different request.
        LockedError
            If the facility's province approved (locked) ``report_date``; a repeated request
            with the same Idempotency-Key still gets its first answer.
        ConflictError
            If a concurrent request with the same key won the race.
        """
        if idempotency_key is not None and (user_id is None or request_hash is None):
            raise ValueError("an idempotency key needs user_id and request_hash")
        now = self.clock()
        tomorrow = local_date(now) + dt.timedelta(days=1)
        if report.report_date > tomorrow:
            raise InvalidInputError(
                f"report_date: must not be after tomorrow ({tomorrow}, Asia/Ho_Chi_Minh), "
                f"got {report.report_date}"
            )
        content_hash = report.content_hash()
        for attempt in range(_WRITE_RETRIES):
            try:
                return self._submit_once(
                    report, content_hash, submitted_by, user_id, idempotency_key, request_hash
                )
            except _RefusedReportError as refused:
                raise _refusal_error([(None, refused)]) from None
            except IntegrityError as error:
                text = str(error.orig)
                if "idempotency" in text:
                    raise ConflictError(
                        "a request with this Idempotency-Key is already being "
                        "processed; retry later"
                    ) from None
                if attempt == _WRITE_RETRIES - 1:
                    raise ConflictError("the report was changed concurrently; retry") from None
        raise AssertionError("unreachable")

    def submit_reports(
        self, reports: list[DailyReport], *, submitted_by: str, dry_run: bool = False
    ) -> list[SubmissionResult]:
        """Submit many reports in one transaction: all are stored, or none.

        Each report is checked against the facility's history as stored so far, earlier reports
        of the batch included. With ``dry_run`` the same checks run and the same results come
        back (flags included), but the transaction is rolled back: nothing is stored.

        Raises
        ------
        RecordNotFoundError, InvalidInputError
            As :meth:`submit_report`, for the first bad report (nothing is stored); physically
            impossible values are all listed, each as ``reports[<position from 1>].<field>``.
        """
        now = self.clock()
        tomorrow = local_date(now) + dt.timedelta(days=1)
        late = [r for r in reports if r.report_date > tomorrow]
        if late:
            raise InvalidInputError(
                f"report_date: must not be after tomorrow ({tomorrow}), got {late[0].report_date}"
            )
        refused: list[tuple[int | None, _RefusedReportError]] = []
        results: list[SubmissionResult] = []
        with self._write() as connection:
            for position, report in enumerate(reports, start=1):
                try:
                    results.append(
                        self._submit_in(connection, report, report.content_hash(), submitted_by)
                    )
                except _RefusedReportError as error:
                    refused.append((position, error))
            if refused:
                # Raised inside the transaction: the reports stored before are rolled back.
                raise _refusal_error(refused)
            if dry_run:
                connection.rollback()
        return results

    def _submit_once(
        self,
        report: DailyReport,
        content_hash: str,
        submitted_by: str,
        user_id: int | None,
        idempotency_key: str | None,
        request_hash: str | None,
    ) -> SubmissionResult:
        # The reads and the plausibility check run first, in a read transaction (WAL readers
        # never wait for the writer); the write transaction then holds SQLite's single write
        # lock only to re-read what a concurrent writer may have changed and to insert
        # (issue 16, item 7: the lock was held for about half of each submission).
        with self.engine.connect() as connection, connection.begin():
            if idempotency_key is not None:
                replayed = _replayed_submission(connection, user_id, idempotency_key, request_hash)
                if replayed is not None:
                    return replayed
            prepared = _prepare_submission(connection, report, content_hash)
        if prepared.check is None and idempotency_key is None:
            # The same content as the latest revision, and no key to record: nothing to write.
            assert prepared.latest is not None
            return SubmissionResult(
                revision_from_row(prepared.latest),
                created=False,
                flags=flags_of_row(prepared.latest),
            )

        def write(connection: Connection) -> SubmissionResult:
            if idempotency_key is not None:
                replayed = _replayed_submission(connection, user_id, idempotency_key, request_hash)
                if replayed is not None:
                    return replayed
            checked = prepared
            if _snapshot(connection, report) != checked.snapshot:
                # A concurrent writer changed this facility's record, lock or recent reports
                # since the read: check again against what is stored now.
                checked = _prepare_submission(connection, report, content_hash)
            return self._store_prepared(
                connection,
                report,
                content_hash,
                checked,
                submitted_by,
                (user_id, idempotency_key, request_hash),
            )

        # One COMMIT (one fsync) for the submissions of this process's threads that wait for
        # the write lock together (group commit; see StoreBase._write_together).
        return self._write_together(write)

    def _submit_in(
        self,
        connection: Connection,
        report: DailyReport,
        content_hash: str,
        submitted_by: str,
    ) -> SubmissionResult:
        """Check and store one report of a batch, all in the batch's write transaction."""
        prepared = _prepare_submission(connection, report, content_hash)
        return self._store_prepared(
            connection, report, content_hash, prepared, submitted_by, (None, None, None)
        )

    def _store_prepared(
        self,
        connection: Connection,
        report: DailyReport,
        content_hash: str,
        prepared: _Prepared,
        submitted_by: str,
        idempotency: tuple[int | None, str | None, str | None],
    ) -> SubmissionResult:
        """Insert what ``prepared`` decided, in the write transaction of ``connection``.

        ``submitted_at`` is read from the clock here, under the write lock, so that revision
        order is ``submitted_at`` order even when submissions race.
        """
        now = self.clock()
        latest = prepared.latest
        if latest is not None and latest["content_hash"] == content_hash:
            revision_id, created = latest["revision_id"], False
            result = revision_from_row(latest)
            flags = flags_of_row(latest)
        else:
            assert prepared.check is not None  # decided by _prepare_submission
            flags = prepared.check.flags
            number = 1 if latest is None else latest["revision"] + 1
            revision_id = inserted_id(
                connection.execute(
                    insert(report_revisions).values(
                        **to_row(report),
                        revision=number,
                        content_hash=content_hash,
                        submitted_at=now,
                        submitted_by=submitted_by,
                        generated=False,
                        source=None,
                        flags=[finding.to_dict() for finding in flags],
                    )
                )
            )
            created = True
            result = ReportRevision(report, number, now, submitted_by, content_hash)
            self._audit(
                connection,
                submitted_by,
                "submit" if number == 1 else "correct",
                "reports",
                f"{report.facility_id}/{report.report_date}",
                {
                    "revision": number,
                    "content_hash": content_hash,
                    "flags": [finding.rule_id for finding in flags],
                },
            )
        user_id, idempotency_key, request_hash = idempotency
        if idempotency_key is not None:
            connection.execute(
                insert(idempotency_keys).values(
                    user_id=user_id,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    revision_id=revision_id,
                    created=created,
                    created_at=now,
                )
            )
        return SubmissionResult(result, created=created, flags=flags)

    def load_generated_reports(
        self,
        items: Sequence[tuple[DailyReport, dt.datetime]],
        *,
        submitted_by: str,
        source: str,
    ) -> int:
        """Store generated reports, each as if submitted at its own instant, in one transaction.

        For seed data: every revision is stored with ``generated=True`` and ``source``, so that it
        is labelled wherever it is shown, and leaves one audit row (``detail.generated``). Items
        are applied in order (a later item for the same facility-day is a correction, or nothing
        if its content is unchanged); the usual rules hold (locked days, unknown facilities), all
        or nothing. Rows are written in bulk (thousands of reports in a second).

        Returns
        -------
        int
            The number of revisions stored.

        Raises
        ------
        InvalidInputError
            If an instant is naive or in the future, or a report date is after the day after its
            submission (Asia/Ho_Chi_Minh); nothing is stored.
        RecordNotFoundError, LockedError
            As :meth:`submit_report`; nothing is stored.
        """
        now = self.clock()
        problems = _generated_item_problems(items, now)
        if problems:
            raise InvalidInputError.from_problems("generated reports", problems)
        if not items:
            return 0
        days = [report.report_date for report, _ in items]
        first_day, last_day = min(days), max(days)
        with self._write() as connection:
            province_of = _facility_provinces(connection)
            locked = _locked_days(connection, first_day, last_day)
            latest = _latest_revisions(connection, first_day, last_day)
            revision_rows: list[dict[str, Any]] = []
            audit_rows: list[dict[str, Any]] = []
            for report, submitted_at in items:
                province_code = province_of.get(report.facility_id)
                if province_code is None:
                    raise RecordNotFoundError(f"facility_id: no facility {report.facility_id!r}")
                if (province_code, report.report_date) in locked:
                    refuse_if_locked(connection, province_code, report.report_date)
                key = (report.facility_id, report.report_date)
                content_hash = report.content_hash()
                number, previous_hash = latest.get(key, (0, ""))
                if previous_hash == content_hash:
                    continue
                number += 1
                latest[key] = (number, content_hash)
                revision_rows.append(
                    {
                        **to_row(report),
                        "revision": number,
                        "content_hash": content_hash,
                        "submitted_at": submitted_at,
                        "submitted_by": submitted_by,
                        "generated": True,
                        "source": source,
                    }
                )
                audit_rows.append(
                    _generated_audit_row(
                        report, number, content_hash, submitted_at, submitted_by, now
                    )
                )
            if revision_rows:
                connection.execute(insert(report_revisions), revision_rows)
                connection.execute(insert(audit_events), audit_rows)
        return len(revision_rows)

    # ------------------------------------------------------------------ report history

    def report_history(self, facility_id: str, report_date: dt.date) -> list[ReportRevision]:
        """Return every revision of one report, oldest first (empty if never reported)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(report_revisions)
                .where(
                    and_(
                        report_revisions.c.facility_id == facility_id,
                        report_revisions.c.report_date == report_date,
                    )
                )
                .order_by(report_revisions.c.revision)
            )
            return [revision_from_row(row._mapping) for row in rows]

    def latest_reports(
        self,
        *,
        date_from: dt.date,
        date_to: dt.date,
        facility_id: str | None = None,
        province_code: str | None = None,
    ) -> list[ReportRevision]:
        """Return the latest revision of each report in the period, by facility then day."""
        latest = (
            select(
                report_revisions.c.facility_id,
                report_revisions.c.report_date,
                func.max(report_revisions.c.revision).label("revision"),
            )
            .where(report_revisions.c.report_date.between(date_from, date_to))
            .group_by(report_revisions.c.facility_id, report_revisions.c.report_date)
            .subquery()
        )
        query = (
            select(report_revisions)
            .join(
                latest,
                and_(
                    report_revisions.c.facility_id == latest.c.facility_id,
                    report_revisions.c.report_date == latest.c.report_date,
                    report_revisions.c.revision == latest.c.revision,
                ),
            )
            .order_by(report_revisions.c.facility_id, report_revisions.c.report_date)
        )
        if facility_id is not None:
            query = query.where(report_revisions.c.facility_id == facility_id)
        if province_code is not None:
            query = query.join(
                facilities, facilities.c.facility_id == report_revisions.c.facility_id
            ).where(facilities.c.province_code == province_code)
        with self.engine.connect() as connection:
            return [revision_from_row(row._mapping) for row in connection.execute(query)]

    def first_submissions(self, *, date_from: dt.date, date_to: dt.date) -> list[Submission]:
        """Return when each (facility, day) in the period was first reported (its revision 1)."""
        query = (
            select(
                report_revisions.c.facility_id,
                report_revisions.c.report_date,
                report_revisions.c.submitted_at,
            )
            .where(report_revisions.c.report_date.between(date_from, date_to))
            .where(report_revisions.c.revision == 1)
        )
        with self.engine.connect() as connection:
            return [
                Submission(row.facility_id, row.report_date, aware_utc(row.submitted_at))
                for row in connection.execute(query)
            ]

    def count_report_revisions(self) -> int:
        """Return the number of stored report revisions."""
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(report_revisions)).scalar_one()
            )
