"""Conversions between registry records and table rows, and of stored instants to UTC."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from data.schema.registry import (
    REGISTRY_RECORD_TYPES,
    DailyReport,
    RegistryRecord,
    ReportRevision,
    optional_hint,
)

RecordT = TypeVar("RecordT", bound=RegistryRecord)


@typing.overload
def aware_utc(value: dt.datetime) -> dt.datetime: ...
@typing.overload
def aware_utc(value: None) -> None: ...
def aware_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Return a stored instant as an aware UTC datetime (None stays None)."""
    # SQLite keeps no zone; every stored instant is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def inserted_id(result: Any) -> int:
    """Return the primary key of the row an INSERT just added."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer primary key
        raise RuntimeError("the database returned no primary key for an insert")
    return int(key[0])


def to_row(record: RegistryRecord) -> dict[str, Any]:
    """Return a record's fields as column values (enums as text, tuples as lists)."""
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


def from_row(record_type: type[RecordT], row: Mapping[Any, Any]) -> RecordT:
    """Build a record of ``record_type`` from a table row (the inverse of :func:`to_row`)."""
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


def collection_of(record: RegistryRecord) -> str:
    """Return the collection (table) name of a registry record.

    Raises
    ------
    TypeError
        If ``record`` is not of a registry record type.
    """
    for collection, record_type in REGISTRY_RECORD_TYPES.items():
        if type(record) is record_type:
            return collection
    raise TypeError(f"{type(record).__name__} is not a registry record")


def revision_from_row(row: Mapping[Any, Any]) -> ReportRevision:
    """Build a report revision from a ``report_revisions`` row."""
    report = from_row(DailyReport, row)
    return ReportRevision(
        report=report,
        revision=row["revision"],
        submitted_at=aware_utc(row["submitted_at"]),
        submitted_by=row["submitted_by"],
        content_hash=row["content_hash"],
        generated=bool(row["generated"]),
        source=row["source"],
    )
