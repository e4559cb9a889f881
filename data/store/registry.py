"""Registry records in the store: provinces, facilities, suppliers, vehicles and the rest."""

from __future__ import annotations

import typing

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from data.db.models import REGISTRY_TABLES, provinces
from data.errors import ConflictError, InvalidInputError, RecordNotFoundError
from data.schema.registry import (
    REGISTRY_RECORD_TYPES,
    Facility,
    Province,
    RegistryRecord,
    id_field,
)
from data.store.base import MAX_PAGE, StoreBase
from data.store.rows import collection_of, from_row, to_row


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
                f"{key_name}: {record_id!r} is still referenced (reports, vehicles or users); "
                "it cannot be deleted. For a facility that stopped reporting, set reporting_until."
            ) from None

    def list_facilities(self, *, province_code: str | None = None) -> list[Facility]:
        """Return every facility (optionally of one province), ordered by id."""
        return typing.cast(
            list[Facility], self.list_records("facilities", province_code=province_code, limit=None)
        )
