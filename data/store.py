"""The registry store: registry records, daily report revisions, users and tokens, audit trail.

All writes run in one transaction each (``BEGIN IMMEDIATE`` on SQLite) and leave one audit row per
change in the same transaction, so a change and its audit row are stored together or not at all.
Report revisions and audit rows are append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from data.access import Principal, hash_token, new_token, validate_role_scope
from data.db.engine import WRITE_OPTIONS
from data.db.models import (
    REGISTRY_TABLES,
    api_tokens,
    approvals,
    audit_events,
    facilities,
    idempotency_keys,
    provinces,
    report_revisions,
    users,
)
from data.errors import (
    AuthenticationError,
    ConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    LockedError,
    RecordNotFoundError,
)
from data.reporting import Submission, local_date
from data.schema.registry import (
    REGISTRY_RECORD_TYPES,
    DailyReport,
    Facility,
    Province,
    RegistryRecord,
    ReportRevision,
    Role,
    id_field,
    optional_hint,
)

RecordT = TypeVar("RecordT", bound=RegistryRecord)
MAX_PAGE = 1000
_WRITE_RETRIES = 3


def utc_now() -> dt.datetime:
    """Return the present instant in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


@typing.overload
def _aware(value: dt.datetime) -> dt.datetime: ...
@typing.overload
def _aware(value: None) -> None: ...
def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite keeps no zone; every stored instant is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _inserted_id(result: Any) -> int:
    """Return the primary key of the row an INSERT just added."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer primary key
        raise RuntimeError("the database returned no primary key for an insert")
    return int(key[0])


def _to_row(record: RegistryRecord) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, field.name)
        if isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        row[field.name] = value
    return row


def _from_row(record_type: type[RecordT], row: Mapping[Any, Any]) -> RecordT:
    values: dict[str, Any] = {}
    for name, hint in record_type.field_hints().items():
        value = row[name]
        _, base = optional_hint(hint)
        if value is not None and isinstance(base, type) and issubclass(base, StrEnum):
            value = base(value)
        elif value is not None and typing.get_origin(base) is tuple:
            value = tuple(value)
        values[name] = value
    return record_type(**values)


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What happened to a submitted report.

    ``created`` is False when the content equalled the latest revision (nothing stored);
    ``replayed`` is True when the answer comes from an earlier request with the same
    Idempotency-Key.
    """

    revision: ReportRevision
    created: bool
    replayed: bool = False


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


class Store:
    """Repository functions over one database.

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

    # ------------------------------------------------------------------ provinces

    def upsert_provinces(self, items: list[Province], *, actor: str = "system") -> int:
        """Insert or update provinces; return how many changed (each change is audited)."""
        changed = 0
        with self._write() as connection:
            existing = {
                row.province_code: row._mapping for row in connection.execute(select(provinces))
            }
            for province in items:
                row = _to_row(province)
                old = existing.get(province.province_code)
                if old is None:
                    connection.execute(insert(provinces).values(**row))
                elif dict(old) != row:
                    connection.execute(
                        update(provinces)
                        .where(provinces.c.province_code == province.province_code)
                        .values(**row)
                    )
                else:
                    continue
                changed += 1
                self._audit(
                    connection,
                    actor,
                    "create" if old is None else "update",
                    "provinces",
                    province.province_code,
                    row,
                )
        return changed

    def list_provinces(self) -> list[Province]:
        """Return every province, ordered by code."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(provinces).order_by(provinces.c.province_code))
            return [_from_row(Province, row._mapping) for row in rows]

    def get_province(self, province_code: str) -> Province:
        """Return one province.

        Raises
        ------
        RecordNotFoundError
            If there is no province with that code.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                select(provinces).where(provinces.c.province_code == province_code)
            ).first()
        if row is None:
            raise RecordNotFoundError(f"province_code: no province {province_code!r}")
        return _from_row(Province, row._mapping)

    # ------------------------------------------------------------------ registry records

    def _check_references(self, connection: Connection, record: RegistryRecord) -> None:
        problems = []
        for column in REGISTRY_TABLES[_collection_of(record)].columns:
            for foreign_key in column.foreign_keys:
                value = getattr(record, column.name)
                if value is None:
                    continue
                target = foreign_key.column
                found = connection.execute(select(target).where(target == value)).first()
                if found is None:
                    problems.append(f"{column.name}: no {target.table.name} record {value!r}")
        if problems:
            raise InvalidInputError.from_problems(type(record).__name__, problems)

    def create_record(self, record: RegistryRecord, *, actor: str) -> RegistryRecord:
        """Store a new registry record.

        Raises
        ------
        InvalidInputError
            If a reference (province, operator, depot) does not exist.
        ConflictError
            If a record with the same id exists.
        """
        collection = _collection_of(record)
        table = REGISTRY_TABLES[collection]
        key = getattr(record, id_field(type(record)))
        now = self.clock()
        try:
            with self._write() as connection:
                self._check_references(connection, record)
                connection.execute(
                    insert(table).values(**_to_row(record), created_at=now, updated_at=now)
                )
                self._audit(connection, actor, "create", collection, key, record.to_dict())
        except IntegrityError:
            raise ConflictError(
                f"{id_field(type(record))}: {key!r} already exists in "
                f"{collection}; PUT to change it"
            ) from None
        return record

    def create_records(self, records: list[RegistryRecord], *, actor: str) -> int:
        """Store many new records in one transaction (all or none); return how many.

        Raises
        ------
        InvalidInputError
            Listing every bad reference, with the record's position (1-based).
        ConflictError
            If any id already exists (nothing is stored).
        """
        now = self.clock()
        try:
            with self._write() as connection:
                problems: list[str] = []
                for position, record in enumerate(records, start=1):
                    try:
                        self._check_references(connection, record)
                    except InvalidInputError as error:
                        problems.extend(f"record {position}: {p}" for p in error.problems)
                if problems:
                    raise InvalidInputError.from_problems("records", problems)
                for record in records:
                    collection = _collection_of(record)
                    connection.execute(
                        insert(REGISTRY_TABLES[collection]).values(
                            **_to_row(record), created_at=now, updated_at=now
                        )
                    )
                    self._audit(
                        connection,
                        actor,
                        "create",
                        collection,
                        getattr(record, id_field(type(record))),
                        record.to_dict(),
                    )
        except IntegrityError as error:
            raise ConflictError(
                f"a record already exists (nothing imported): {error.orig}"
            ) from None
        return len(records)

    def get_record(self, collection: str, record_id: str) -> RegistryRecord:
        """Return one registry record.

        Raises
        ------
        RecordNotFoundError
            If ``collection`` has no record ``record_id``.
        """
        table = REGISTRY_TABLES[collection]
        record_type = REGISTRY_RECORD_TYPES[collection]
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table).where(table.c[id_field(record_type)] == record_id)
            ).first()
        if row is None:
            raise RecordNotFoundError(
                f"{id_field(record_type)}: no {collection} record {record_id!r}"
            )
        return _from_row(record_type, row._mapping)

    def list_records(
        self,
        collection: str,
        *,
        province_code: str | None = None,
        facility_id: str | None = None,
        limit: int | None = MAX_PAGE,
        offset: int = 0,
    ) -> list[RegistryRecord]:
        """Return records of a collection ordered by id, optionally within a province/facility.

        ``limit`` None returns every record (for exports and compliance).
        """
        table = REGISTRY_TABLES[collection]
        record_type = REGISTRY_RECORD_TYPES[collection]
        query = select(table).order_by(table.c[id_field(record_type)])
        if province_code is not None and "province_code" in table.c:
            query = query.where(table.c.province_code == province_code)
        if facility_id is not None and "facility_id" in table.c:
            query = query.where(table.c.facility_id == facility_id)
        if limit is not None:
            query = query.limit(limit)
        query = query.offset(offset)
        with self.engine.connect() as connection:
            return [_from_row(record_type, row._mapping) for row in connection.execute(query)]

    def replace_record(self, record: RegistryRecord, *, actor: str) -> RegistryRecord:
        """Replace a stored record by ``record`` (same id); the audit row lists changed fields.

        Raises
        ------
        RecordNotFoundError
            If no record has that id.
        InvalidInputError
            If a reference does not exist.
        """
        collection = _collection_of(record)
        table = REGISTRY_TABLES[collection]
        key_name = id_field(type(record))
        key = getattr(record, key_name)
        with self._write() as connection:
            row = connection.execute(select(table).where(table.c[key_name] == key)).first()
            if row is None:
                raise RecordNotFoundError(f"{key_name}: no {collection} record {key!r}")
            old = _from_row(type(record), row._mapping).to_dict()
            new = record.to_dict()
            changes = {name: [old[name], new[name]] for name in new if old[name] != new[name]}
            if changes:
                self._check_references(connection, record)
                connection.execute(
                    update(table)
                    .where(table.c[key_name] == key)
                    .values(**_to_row(record), updated_at=self.clock())
                )
                self._audit(connection, actor, "update", collection, key, changes)
        return record

    def delete_record(self, collection: str, record_id: str, *, actor: str) -> None:
        """Delete a registry record (the audit row keeps its last content).

        Raises
        ------
        RecordNotFoundError
            If it does not exist.
        ConflictError
            If other records (reports, vehicles, users) still refer to it.
        """
        table = REGISTRY_TABLES[collection]
        record_type = REGISTRY_RECORD_TYPES[collection]
        key_name = id_field(record_type)
        try:
            with self._write() as connection:
                row = connection.execute(
                    select(table).where(table.c[key_name] == record_id)
                ).first()
                if row is None:
                    raise RecordNotFoundError(f"{key_name}: no {collection} record {record_id!r}")
                connection.execute(table.delete().where(table.c[key_name] == record_id))
                self._audit(
                    connection,
                    actor,
                    "delete",
                    collection,
                    record_id,
                    _from_row(record_type, row._mapping).to_dict(),
                )
        except IntegrityError:
            raise ConflictError(
                f"{key_name}: {record_id!r} is still referenced (reports, vehicles or users); "
                "it cannot be deleted. For a facility that stopped reporting, set reporting_until."
            ) from None

    def list_facilities(self, *, province_code: str | None = None) -> list[Facility]:
        """Return every facility (optionally of one province), ordered by id."""
        return typing.cast(
            list[Facility], self.list_records("facilities", province_code=province_code, limit=None)
        )

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
            If ``report_date`` is after tomorrow (Asia/Ho_Chi_Minh).
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
                    report, content_hash, now, submitted_by, user_id, idempotency_key, request_hash
                )
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
        self, reports: list[DailyReport], *, submitted_by: str
    ) -> list[SubmissionResult]:
        """Submit many reports in one transaction: all are stored, or none.

        Raises
        ------
        RecordNotFoundError, InvalidInputError
            As :meth:`submit_report`, for the first bad report (nothing is stored).
        """
        now = self.clock()
        tomorrow = local_date(now) + dt.timedelta(days=1)
        late = [r for r in reports if r.report_date > tomorrow]
        if late:
            raise InvalidInputError(
                f"report_date: must not be after tomorrow ({tomorrow}), got {late[0].report_date}"
            )
        with self._write() as connection:
            return [
                self._submit_in(
                    connection, report, report.content_hash(), now, submitted_by, None, None, None
                )
                for report in reports
            ]

    def _submit_once(
        self,
        report: DailyReport,
        content_hash: str,
        now: dt.datetime,
        submitted_by: str,
        user_id: int | None,
        idempotency_key: str | None,
        request_hash: str | None,
    ) -> SubmissionResult:
        with self._write() as connection:
            return self._submit_in(
                connection,
                report,
                content_hash,
                now,
                submitted_by,
                user_id,
                idempotency_key,
                request_hash,
            )

    def _submit_in(
        self,
        connection: Connection,
        report: DailyReport,
        content_hash: str,
        now: dt.datetime,
        submitted_by: str,
        user_id: int | None,
        idempotency_key: str | None,
        request_hash: str | None,
    ) -> SubmissionResult:
        if idempotency_key is not None:
            earlier = connection.execute(
                select(idempotency_keys).where(
                    and_(
                        idempotency_keys.c.user_id == user_id,
                        idempotency_keys.c.idempotency_key == idempotency_key,
                    )
                )
            ).first()
            if earlier is not None:
                if earlier.request_hash != request_hash:
                    raise IdempotencyKeyReusedError(
                        "Idempotency-Key: this key was used for a different request; "
                        "send a new key with a new request"
                    )
                row = connection.execute(
                    select(report_revisions).where(
                        report_revisions.c.revision_id == earlier.revision_id
                    )
                ).one()
                return SubmissionResult(
                    _revision_from_row(row._mapping), created=earlier.created, replayed=True
                )
        facility = connection.execute(
            select(facilities.c.province_code).where(facilities.c.facility_id == report.facility_id)
        ).first()
        if facility is None:
            raise RecordNotFoundError(f"facility_id: no facility {report.facility_id!r}")
        self._refuse_if_locked(connection, facility.province_code, report.report_date)
        latest = connection.execute(
            select(report_revisions)
            .where(
                and_(
                    report_revisions.c.facility_id == report.facility_id,
                    report_revisions.c.report_date == report.report_date,
                )
            )
            .order_by(report_revisions.c.revision.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.content_hash == content_hash:
            revision_id, created = latest.revision_id, False
            result = _revision_from_row(latest._mapping)
        else:
            number = 1 if latest is None else latest.revision + 1
            values = _to_row(report)
            revision_id = _inserted_id(
                connection.execute(
                    insert(report_revisions).values(
                        **values,
                        revision=number,
                        content_hash=content_hash,
                        submitted_at=now,
                        submitted_by=submitted_by,
                        generated=False,
                        source=None,
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
                {"revision": number, "content_hash": content_hash},
            )
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
        return SubmissionResult(result, created=created)

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
        if problems:
            raise InvalidInputError.from_problems("generated reports", problems)
        if not items:
            return 0
        days = [report.report_date for report, _ in items]
        first_day, last_day = min(days), max(days)
        with self._write() as connection:
            province_of = {
                row.facility_id: row.province_code
                for row in connection.execute(
                    select(facilities.c.facility_id, facilities.c.province_code)
                )
            }
            locked = {
                (row.province_code, row.report_date): row
                for row in connection.execute(
                    select(approvals).where(
                        and_(
                            approvals.c.report_date.between(first_day, last_day),
                            approvals.c.locked.is_(True),
                        )
                    )
                )
            }
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
            revision_rows: list[dict[str, Any]] = []
            audit_rows: list[dict[str, Any]] = []
            for report, submitted_at in items:
                key = (report.facility_id, report.report_date)
                province_code = province_of.get(report.facility_id)
                if province_code is None:
                    raise RecordNotFoundError(f"facility_id: no facility {report.facility_id!r}")
                if (province_code, report.report_date) in locked:
                    self._refuse_if_locked(connection, province_code, report.report_date)
                content_hash = report.content_hash()
                number, previous_hash = latest.get(key, (0, ""))
                if previous_hash == content_hash:
                    continue
                number += 1
                latest[key] = (number, content_hash)
                revision_rows.append(
                    {
                        **_to_row(report),
                        "revision": number,
                        "content_hash": content_hash,
                        "submitted_at": submitted_at,
                        "submitted_by": submitted_by,
                        "generated": True,
                        "source": source,
                    }
                )
                audit_rows.append(
                    {
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
                )
            if revision_rows:
                connection.execute(insert(report_revisions), revision_rows)
                connection.execute(insert(audit_events), audit_rows)
        return len(revision_rows)

    # ------------------------------------------------------------------ approval and locking

    def _refuse_if_locked(
        self, connection: Connection, province_code: str, report_date: dt.date
    ) -> None:
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
                f"({row.approved_by}, {_aware(row.approved_at).isoformat()}), which locks its "
                "reports; a coordinator or an admin must unlock the day with a reason first"
            )

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
            self._require_province(connection, province_code)
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
        return _approval_from_row(row._mapping)

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
            self._require_province(connection, province_code)
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
        return _approval_from_row(row._mapping)

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
            return [_approval_from_row(row._mapping) for row in connection.execute(query)]

    def _require_province(self, connection: Connection, province_code: str) -> None:
        found = connection.execute(
            select(provinces.c.province_code).where(provinces.c.province_code == province_code)
        ).first()
        if found is None:
            raise RecordNotFoundError(f"province_code: no province {province_code!r}")

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
            return [_revision_from_row(row._mapping) for row in rows]

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
            return [_revision_from_row(row._mapping) for row in connection.execute(query)]

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
                Submission(row.facility_id, row.report_date, _aware(row.submitted_at))
                for row in connection.execute(query)
            ]

    def count_report_revisions(self) -> int:
        """Return the number of stored report revisions."""
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(report_revisions)).scalar_one()
            )

    # ------------------------------------------------------------------ users and tokens

    def add_user(
        self,
        username: str,
        role: Role,
        *,
        facility_id: str | None = None,
        province_code: str | None = None,
        actor: str = "system",
    ) -> int:
        """Create a user; return its id.

        Raises
        ------
        InvalidInputError
            If the scope does not fit the role, or the facility or province does not exist.
        ConflictError
            If the username is taken.
        """
        problems = validate_role_scope(role, facility_id, province_code)
        if not username or len(username) > 100 or not username.isprintable() or " " in username:
            problems.append(
                f"username: 1-100 printable characters without spaces, got {username!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("user", problems)
        try:
            with self._write() as connection:
                if (
                    facility_id is not None
                    and connection.execute(
                        select(facilities.c.facility_id).where(
                            facilities.c.facility_id == facility_id
                        )
                    ).first()
                    is None
                ):
                    raise InvalidInputError(f"facility_id: no facility {facility_id!r}")
                if (
                    province_code is not None
                    and connection.execute(
                        select(provinces.c.province_code).where(
                            provinces.c.province_code == province_code
                        )
                    ).first()
                    is None
                ):
                    raise InvalidInputError(f"province_code: no province {province_code!r}")
                user_id = _inserted_id(
                    connection.execute(
                        insert(users).values(
                            username=username,
                            role=role.value,
                            facility_id=facility_id,
                            province_code=province_code,
                            disabled=False,
                            created_at=self.clock(),
                        )
                    )
                )
                self._audit(
                    connection,
                    actor,
                    "create",
                    "users",
                    username,
                    {
                        "role": role.value,
                        "facility_id": facility_id,
                        "province_code": province_code,
                    },
                )
        except IntegrityError:
            raise ConflictError(f"username: {username!r} is taken") from None
        return int(user_id)

    def issue_token(
        self,
        username: str,
        *,
        label: str | None = None,
        expires_at: dt.datetime | None = None,
        actor: str = "system",
    ) -> str:
        """Create an API token for a user and return it; only its hash is stored.

        Raises
        ------
        RecordNotFoundError
            If the user does not exist.
        """
        token = new_token()
        with self._write() as connection:
            user = connection.execute(select(users).where(users.c.username == username)).first()
            if user is None:
                raise RecordNotFoundError(f"username: no user {username!r}")
            connection.execute(
                insert(api_tokens).values(
                    user_id=user.user_id,
                    token_hash=hash_token(token),
                    label=label,
                    created_at=self.clock(),
                    expires_at=expires_at,
                )
            )
            self._audit(connection, actor, "issue_token", "users", username, {"label": label})
        return token

    def set_user_disabled(self, username: str, disabled: bool, *, actor: str = "system") -> None:
        """Disable (or enable again) a user: a disabled user's tokens stop working at once.

        Raises
        ------
        RecordNotFoundError
            If the user does not exist.
        """
        with self._write() as connection:
            result = connection.execute(
                update(users).where(users.c.username == username).values(disabled=disabled)
            )
            if result.rowcount == 0:
                raise RecordNotFoundError(f"username: no user {username!r}")
            self._audit(connection, actor, "disable" if disabled else "enable", "users", username)

    def authenticate(self, token: str) -> Principal:
        """Return the user a token belongs to.

        Raises
        ------
        AuthenticationError
            If the token is unknown, revoked or expired, or its user is disabled.
        """
        with self.engine.connect() as connection:
            row = connection.execute(
                select(users, api_tokens.c.expires_at, api_tokens.c.revoked_at)
                .join(api_tokens, api_tokens.c.user_id == users.c.user_id)
                .where(api_tokens.c.token_hash == hash_token(token))
            ).first()
        if row is None:
            raise AuthenticationError("unknown token")
        expires_at = _aware(row.expires_at)
        if row.revoked_at is not None or (expires_at is not None and expires_at <= self.clock()):
            raise AuthenticationError("token expired or revoked")
        if row.disabled:
            raise AuthenticationError("user disabled")
        return Principal(
            user_id=row.user_id,
            username=row.username,
            role=Role(row.role),
            facility_id=row.facility_id,
            province_code=row.province_code,
        )

    def list_users(self) -> list[dict[str, Any]]:
        """Return every user (without tokens), ordered by username."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.username))
            return [
                {
                    "username": r.username,
                    "role": r.role,
                    "facility_id": r.facility_id,
                    "province_code": r.province_code,
                    "disabled": r.disabled,
                }
                for r in rows
            ]

    # ------------------------------------------------------------------ audit

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
                    r.event_id, _aware(r.at), r.actor, r.action, r.entity, r.entity_id, r.detail
                )
                for r in connection.execute(query)
            ]


def _collection_of(record: RegistryRecord) -> str:
    for collection, record_type in REGISTRY_RECORD_TYPES.items():
        if type(record) is record_type:
            return collection
    raise TypeError(f"{type(record).__name__} is not a registry record")


def _revision_from_row(row: Mapping[Any, Any]) -> ReportRevision:
    report = _from_row(DailyReport, row)
    return ReportRevision(
        report=report,
        revision=row["revision"],
        submitted_at=_aware(row["submitted_at"]),
        submitted_by=row["submitted_by"],
        content_hash=row["content_hash"],
        generated=bool(row["generated"]),
        source=row["source"],
    )


def _approval_from_row(row: Mapping[Any, Any]) -> Approval:
    return Approval(
        province_code=row["province_code"],
        report_date=row["report_date"],
        locked=bool(row["locked"]),
        approved_by=row["approved_by"],
        approved_at=_aware(row["approved_at"]),
        unlocked_by=row["unlocked_by"],
        unlocked_at=_aware(row["unlocked_at"]),
        unlock_reason=row["unlock_reason"],
    )
