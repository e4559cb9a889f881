"""Registry records in the store: provinces, facilities, suppliers, vehicles and the rest.

Also the audited merge of a duplicate facility into the one kept
(:meth:`RegistryStore.merge_facilities`, docs/registry.md "Duplicates").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from data.db.models import REGISTRY_TABLES, facilities, provinces, report_reviews, report_revisions
from data.dedupe import MERGED_INTO_PREFIX
from data.errors import ConflictError, InvalidInputError, RecordNotFoundError
from data.reporting import local_date
from data.schema.registry import (
    REGISTRY_RECORD_TYPES,
    DailyReport,
    Facility,
    Province,
    RegistryRecord,
    id_field,
)
from data.store.base import MAX_PAGE, StoreBase
from data.store.rows import collection_of, from_row, inserted_id, to_row

MERGE_SOURCE_MAX = 300
"""A facility's ``source`` holds 300 characters; the merge note is cut to fit."""


@dataclass(frozen=True, slots=True)
class FacilityMerge:
    """What :meth:`RegistryStore.merge_facilities` did.

    ``revisions`` pairs each copied revision's id (under the duplicate) with its copy's id (under
    the kept facility); ``days`` are the report days moved; ``reporting_until`` is the last day the
    duplicate is expected to report, now.
    """

    keep_id: str
    duplicate_id: str
    reason: str
    days: tuple[dt.date, ...]
    revisions: tuple[tuple[int, int], ...]
    reviews: int
    reporting_until: dt.date


class RegistryStore(StoreBase):
    """Create, read, replace and delete registry records and provinces (each change audited)."""

    # ------------------------------------------------------------------ provinces

    def upsert_provinces(self, items: list[Province], *, actor: str = "system") -> int:
        """Insert or update provinces; return how many changed (each change is audited)."""
        changed = 0
        with self._write() as connection:
            existing = {
                row.province_code: row._mapping for row in connection.execute(select(provinces))
            }
            for province in items:
                row = to_row(province)
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
            return [from_row(Province, row._mapping) for row in rows]

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
        return from_row(Province, row._mapping)

    # ------------------------------------------------------------------ registry records

    def _check_references(self, connection: Connection, record: RegistryRecord) -> None:
        problems = []
        for column in REGISTRY_TABLES[collection_of(record)].columns:
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
        collection = collection_of(record)
        table = REGISTRY_TABLES[collection]
        key = getattr(record, id_field(type(record)))
        now = self.clock()
        try:
            with self._write() as connection:
                self._check_references(connection, record)
                connection.execute(
                    insert(table).values(**to_row(record), created_at=now, updated_at=now)
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
                    collection = collection_of(record)
                    connection.execute(
                        insert(REGISTRY_TABLES[collection]).values(
                            **to_row(record), created_at=now, updated_at=now
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
        return from_row(record_type, row._mapping)

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
            return [from_row(record_type, row._mapping) for row in connection.execute(query)]

    def replace_record(self, record: RegistryRecord, *, actor: str) -> RegistryRecord:
        """Replace a stored record by ``record`` (same id); the audit row lists changed fields.

        Raises
        ------
        RecordNotFoundError
            If no record has that id.
        InvalidInputError
            If a reference does not exist.
        """
        collection = collection_of(record)
        table = REGISTRY_TABLES[collection]
        key_name = id_field(type(record))
        key = getattr(record, key_name)
        with self._write() as connection:
            row = connection.execute(select(table).where(table.c[key_name] == key)).first()
            if row is None:
                raise RecordNotFoundError(f"{key_name}: no {collection} record {key!r}")
            old = from_row(type(record), row._mapping).to_dict()
            new = record.to_dict()
            changes = {name: [old[name], new[name]] for name in new if old[name] != new[name]}
            if changes:
                self._check_references(connection, record)
                connection.execute(
                    update(table)
                    .where(table.c[key_name] == key)
                    .values(**to_row(record), updated_at=self.clock())
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
                    from_row(record_type, row._mapping).to_dict(),
                )
        except IntegrityError:
            raise ConflictError(
                f"{key_name}: {record_id!r} is still referenced (reports, vehicles, users, alerts, "
                "deliveries or urgent requests); "
                "it cannot be deleted. For a facility that stopped reporting, set reporting_until."
            ) from None

    def list_facilities(self, *, province_code: str | None = None) -> list[Facility]:
        """Return every facility (optionally of one province), ordered by id."""
        return typing.cast(
            list[Facility], self.list_records("facilities", province_code=province_code, limit=None)
        )

    # ------------------------------------------------------------------ merging duplicates

    def merge_facilities(
        self, keep_id: str, duplicate_id: str, *, actor: str, reason: str | None = None
    ) -> FacilityMerge:
        """Merge a duplicate facility into the one kept; both histories stay (one transaction).

        Revisions are append-only and the schema has no ``merged_into`` field, so: every report
        revision of the duplicate is copied under ``keep_id`` with its provenance (revision
        number, content, ``submitted_at``, ``submitted_by``, ``generated``, flags; ``source``
        names the duplicate and the original revision id), the province officers' reviews of
        those revisions are copied to the copies, the duplicate's reporting period ends
        yesterday (Asia/Ho_Chi_Minh) and its ``source`` says "merged into <keep_id>"; its own
        revisions stay where they were. One audit row (action ``merge``, entity ``facilities``,
        id ``duplicate_id``) lists the days, the revision ids and the reason.

        Raises
        ------
        InvalidInputError
            If both ids are the same, or the facilities are in different provinces.
        RecordNotFoundError
            If either facility does not exist.
        ConflictError
            If both facilities have a report for the same day (the days are listed: correct
            one of the two reports, or leave the facilities apart); nothing is changed.
        """
        if keep_id == duplicate_id:
            raise InvalidInputError(
                f"duplicate_id: cannot merge facility {keep_id!r} into itself / không thể gộp "
                "một cơ sở vào chính nó"
            )
        note = (reason or "").strip()
        with self._write() as connection:
            keep = self._facility_in(connection, keep_id, "keep_id")
            duplicate = self._facility_in(connection, duplicate_id, "duplicate_id")
            if keep.province_code != duplicate.province_code:
                raise InvalidInputError(
                    f"duplicate_id: {duplicate_id!r} is in province {duplicate.province_code}, "
                    f"{keep_id!r} in {keep.province_code}; only facilities of one province are "
                    f"merged / hai cơ sở thuộc hai tỉnh khác nhau, không gộp được"
                )
            moved = self._copy_revisions(connection, keep_id, duplicate_id)
            reviews = self._copy_reviews(connection, moved)
            until = self._end_duplicate(connection, duplicate, keep_id, actor)
            days = tuple(sorted({day for day, _, _ in moved}))
            merge = FacilityMerge(
                keep_id,
                duplicate_id,
                note,
                days,
                tuple((old, new) for _, old, new in moved),
                reviews,
                until,
            )
            self._audit(
                connection, actor, "merge", "facilities", duplicate_id, _merge_detail(merge)
            )
        return merge

    def _facility_in(self, connection: Connection, facility_id: str, field: str) -> Facility:
        row = connection.execute(
            select(facilities).where(facilities.c.facility_id == facility_id)
        ).first()
        if row is None:
            raise RecordNotFoundError(f"{field}: no facility {facility_id!r}")
        return from_row(Facility, row._mapping)

    def _copy_revisions(
        self, connection: Connection, keep_id: str, duplicate_id: str
    ) -> list[tuple[dt.date, int, int]]:
        """Copy the duplicate's revisions under ``keep_id``; return (day, old id, new id)."""
        rows = [
            dict(row._mapping)
            for row in connection.execute(
                select(report_revisions)
                .where(report_revisions.c.facility_id == duplicate_id)
                .order_by(report_revisions.c.report_date, report_revisions.c.revision)
            )
        ]
        kept_days = {
            row.report_date
            for row in connection.execute(
                select(report_revisions.c.report_date).where(
                    report_revisions.c.facility_id == keep_id
                )
            )
        }
        clashes = sorted(kept_days & {row["report_date"] for row in rows})
        if clashes:
            listed = ", ".join(day.isoformat() for day in clashes)
            raise ConflictError(
                f"report_date: {keep_id!r} and {duplicate_id!r} both reported on {listed}; "
                f"correct one of the two reports of each day first / cả hai cơ sở đều có báo "
                f"cáo ngày {listed}; hãy sửa một trong hai báo cáo trước khi gộp"
            )
        moved = []
        for row in rows:
            old_id = row.pop("revision_id")
            report = dataclasses.replace(from_row(DailyReport, row), facility_id=keep_id)
            origin = f"merged from {duplicate_id} revision_id {old_id}"
            row |= {
                "facility_id": keep_id,
                "content_hash": report.content_hash(),
                "source": "; ".join(p for p in (row["source"], origin) if p),
            }
            new_id = inserted_id(connection.execute(insert(report_revisions).values(**row)))
            moved.append((row["report_date"], old_id, new_id))
        return moved

    def _copy_reviews(self, connection: Connection, moved: list[tuple[dt.date, int, int]]) -> int:
        """Copy each review of a moved revision to its copy, in order; return how many."""
        new_of = {old: new for _, old, new in moved}
        if not new_of:
            return 0
        rows = connection.execute(
            select(report_reviews)
            .where(report_reviews.c.revision_id.in_(list(new_of)))
            .order_by(report_reviews.c.review_id)
        ).all()
        for row in rows:
            values = dict(row._mapping)
            values.pop("review_id")
            values["revision_id"] = new_of[values["revision_id"]]
            connection.execute(insert(report_reviews).values(**values))
        return len(rows)

    def _end_duplicate(
        self, connection: Connection, duplicate: Facility, keep_id: str, actor: str
    ) -> dt.date:
        """End the duplicate's reporting period yesterday and say where it went; return the day."""
        until = local_date(self.clock()) - dt.timedelta(days=1)
        if duplicate.reporting_from is not None and duplicate.reporting_from > until:
            until = duplicate.reporting_from
        if duplicate.reporting_until is not None:
            until = min(until, duplicate.reporting_until)
        note = f"{MERGED_INTO_PREFIX}{keep_id}"
        source = "; ".join(p for p in (note, duplicate.source) if p)[:MERGE_SOURCE_MAX]
        ended = dataclasses.replace(duplicate, reporting_until=until, source=source)
        connection.execute(
            update(facilities)
            .where(facilities.c.facility_id == duplicate.facility_id)
            .values(**to_row(ended), updated_at=self.clock())
        )
        old, new = duplicate.to_dict(), ended.to_dict()
        changes = {k: [old[k], new[k]] for k in new if old[k] != new[k]}
        self._audit(connection, actor, "update", "facilities", duplicate.facility_id, changes)
        return until


def _merge_detail(merge: FacilityMerge) -> dict[str, Any]:
    return {
        "keep_id": merge.keep_id,
        "duplicate_id": merge.duplicate_id,
        "reason": merge.reason,
        "days": [day.isoformat() for day in merge.days],
        "revisions": [list(pair) for pair in merge.revisions],
        "reviews": merge.reviews,
        "reporting_until": merge.reporting_until.isoformat(),
    }
