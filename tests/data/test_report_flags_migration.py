"""Migration 0003 (report flags and reviews) on SQLite and, when configured, PostgreSQL.

Flags are stored with the revision; reviews are append-only; the migration goes down to 0002 and
up again. PostgreSQL runs when ``OXYROUTE_TEST_POSTGRES_URL`` names an empty database the test
may fill (``.ci/run`` sets it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from data.db import upgrade_database
from data.db.migrate import alembic_config, current_revision, head_revision
from data.provinces import provinces_with_2025_units
from data.schema.registry import DailyReport
from data.store import ReviewDecision, Store
from tests.registry_world import FACILITY_A, Clock


def test_flags_and_reviews_survive_and_migrate_down_and_up(
    empty_database: Any, data_dir: Path
) -> None:
    from alembic import command

    engine = empty_database
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store.create_records([FACILITY_A], actor="fixture")
    day = dt.date(2021, 8, 19)
    store.submit_report(
        DailyReport(
            facility_id="79-A",
            report_date=day - dt.timedelta(days=1),
            oxygen_used_24h_m3=650.0,
            patients_cannula_mask=40,
        ),
        submitted_by="repA",
    )
    result = store.submit_report(
        DailyReport(
            facility_id="79-A",
            report_date=day,
            oxygen_used_24h_m3=33_000.0,
            patients_cannula_mask=40,
        ),
        submitted_by="repA",
    )
    assert result.flags
    store.review_report(
        "79-A", day, decision=ReviewDecision.ACCEPTED, reason="đã xác minh", actor="coord79"
    )
    check = store.report_checks(date_from=day, date_to=day)[("79-A", day, 1)]
    assert check.flags == result.flags and check.review is not None
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE report_reviews SET reason = 'x'"))
    command.downgrade(alembic_config(engine), "0002")
    names = inspect(engine).get_table_names()
    assert "report_reviews" not in names
    assert "flags" not in {c["name"] for c in inspect(engine).get_columns("report_revisions")}
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    assert (
        Store(engine, clock=Clock())
        .report_checks(date_from=day, date_to=day)[("79-A", day, 1)]
        .flags
        == ()
    )  # the old rows were never checked again: no flags, not "clean"
