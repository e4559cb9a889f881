"""The store: schema migrations, durability settings, revisions, audit trail, append-only rows."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from data.errors import (
    ConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    RecordNotFoundError,
)
from data.schema.registry import DailyReport, Role, Supplier, SupplierKind
from data.store import Store

REPORT = DailyReport(
    facility_id="79-A",
    report_date=dt.date(2021, 8, 20),
    oxygen_used_24h_m3=120.0,
    note="Còn 3 bình đầy",
)


def test_migrations_match_the_tables(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from data.db import metadata

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_sqlite_is_in_wal_mode_with_full_sync(store: Store) -> None:
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_corrections_are_new_revisions(store: Store) -> None:
    first = store.submit_report(REPORT, submitted_by="repA")
    same = store.submit_report(REPORT, submitted_by="repA")
    corrected = store.submit_report(
        dataclasses.replace(REPORT, oxygen_used_24h_m3=130.0), submitted_by="repA"
    )
    assert (first.created, same.created, corrected.created) == (True, False, True)
    assert [r.revision for r in store.report_history("79-A", REPORT.report_date)] == [1, 2]
    history = store.report_history("79-A", REPORT.report_date)
    assert history[0].report.oxygen_used_24h_m3 == 120.0  # the first version stays readable
    assert history[0].report.note == "Còn 3 bình đầy"
    latest = store.latest_reports(date_from=REPORT.report_date, date_to=REPORT.report_date)
    assert [(r.report.facility_id, r.revision) for r in latest] == [("79-A", 2)]


def test_report_rules(store: Store, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set_local("2021-08-20 23:00")
    with pytest.raises(
        InvalidInputError, match=r"report_date: must not be after tomorrow \(2021-08-21"
    ):
        store.submit_report(
            dataclasses.replace(REPORT, report_date=dt.date(2021, 8, 22)), submitted_by="x"
        )
    store.submit_report(
        dataclasses.replace(REPORT, report_date=dt.date(2021, 8, 21)), submitted_by="x"
    )
    with pytest.raises(RecordNotFoundError, match="facility_id: no facility 'nope'"):
        store.submit_report(dataclasses.replace(REPORT, facility_id="nope"), submitted_by="x")


def test_idempotency_key_contract(store: Store) -> None:
    first = store.submit_report(
        REPORT, submitted_by="repA", user_id=1, idempotency_key="k1", request_hash="h1"
    )
    again = store.submit_report(
        REPORT, submitted_by="repA", user_id=1, idempotency_key="k1", request_hash="h1"
    )
    assert again.replayed and again.created and again.revision.revision == first.revision.revision
    with pytest.raises(IdempotencyKeyReusedError, match="Idempotency-Key"):
        store.submit_report(
            REPORT, submitted_by="repA", user_id=1, idempotency_key="k1", request_hash="h2"
        )
    assert store.count_report_revisions() == 1


def test_audit_rows_equal_mutations_and_cannot_change(store: Store) -> None:
    before = len(store.audit_trail(limit=1000))
    supplier = Supplier(
        supplier_id="S1",
        name="Công ty TNHH Oxy Đồng Nai",
        kind=SupplierKind.LIQUID_PRODUCER,
        province_code="75",
        liquid_output_t_per_day=20.0,
    )
    store.create_record(supplier, actor="admin")
    store.replace_record(dataclasses.replace(supplier, liquid_output_t_per_day=25.0), actor="admin")
    store.replace_record(
        dataclasses.replace(supplier, liquid_output_t_per_day=25.0), actor="admin"
    )  # no change
    store.submit_report(REPORT, submitted_by="repA")
    store.submit_report(REPORT, submitted_by="repA")  # same content: no change
    store.delete_record("suppliers", "S1", actor="admin")
    events = store.audit_trail(limit=1000)[before:]
    assert [(e.action, e.entity) for e in events] == [
        ("create", "suppliers"),
        ("update", "suppliers"),
        ("submit", "reports"),
        ("delete", "suppliers"),
    ]
    assert events[1].detail == {"liquid_output_t_per_day": [20.0, 25.0]}
    for statement in (
        "UPDATE audit_events SET actor = 'x'",
        "DELETE FROM audit_events",
        "UPDATE report_revisions SET oxygen_used_24h_m3 = 0",
        "DELETE FROM report_revisions",
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))


def test_registry_conflicts_and_references(store: Store) -> None:
    supplier = Supplier(
        supplier_id="S1", name="Messer", kind=SupplierKind.FILLING_STATION, province_code="74"
    )
    store.create_record(supplier, actor="admin")
    with pytest.raises(ConflictError, match="already exists"):
        store.create_record(supplier, actor="admin")
    with pytest.raises(InvalidInputError, match="province_code: no provinces record '99'"):
        store.create_record(
            dataclasses.replace(supplier, supplier_id="S2", province_code="99"), actor="admin"
        )
    store.submit_report(REPORT, submitted_by="repA")
    with pytest.raises(ConflictError, match="still referenced"):
        store.delete_record("facilities", "79-A", actor="admin")


def test_tokens_are_hashed_and_users_can_be_disabled(store: Store, clock) -> None:  # type: ignore[no-untyped-def]
    store.add_user("newrep", Role.FACILITY_REPORTER, facility_id="79-B")
    token = store.issue_token("newrep", expires_at=clock() + dt.timedelta(days=1))
    with store.engine.connect() as connection:
        stored = [row[0] for row in connection.execute(text("SELECT token_hash FROM api_tokens"))]
    assert token not in stored and all(len(h) == 64 for h in stored)
    assert store.authenticate(token).facility_id == "79-B"
    clock.now += dt.timedelta(days=2)
    from data.errors import AuthenticationError

    with pytest.raises(AuthenticationError, match="expired"):
        store.authenticate(token)
    with pytest.raises(InvalidInputError, match="province_code: a province_coordinator needs"):
        store.add_user("c", Role.PROVINCE_COORDINATOR)
