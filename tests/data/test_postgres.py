"""The registry on PostgreSQL (by URL): migrations, revisions, idempotency, append-only history.

Runs when ``OXYROUTE_TEST_POSTGRES_URL`` names an empty database the test may fill, for example
``postgresql+psycopg://oxyroute:oxyroute@localhost/oxyroute_test`` (``.ci/run`` starts one when it can);
skipped otherwise, with that reason.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

URL = os.environ.get("OXYROUTE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="OXYROUTE_TEST_POSTGRES_URL is not set")


@pytest.fixture
def pg_store(data_dir: Path):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from data.db import create_db_engine, upgrade_database
    from data.provinces import provinces_with_2025_units
    from data.store import Store
    from tests.registry_world import FACILITY_A, FACILITY_B, Clock

    engine = create_db_engine(URL)
    with engine.begin() as connection:  # start from an empty schema every time
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(engine)
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store.create_records([FACILITY_A, FACILITY_B], actor="fixture")
    yield store
    engine.dispose()


def test_reports_revisions_and_idempotency_on_postgresql(pg_store) -> None:  # type: ignore[no-untyped-def]
    from data.schema.registry import DailyReport

    report = DailyReport(
        facility_id="79-A",
        report_date=dt.date(2021, 8, 20),
        oxygen_used_24h_m3=120.5,
        patients_high_flow=3,
        note="Thiếu bình 40 lít",
    )
    first = pg_store.submit_report(report, submitted_by="repA")
    again = pg_store.submit_report(report, submitted_by="repA")
    corrected = pg_store.submit_report(
        DailyReport(
            **{
                **{k: getattr(report, k) for k in DailyReport.field_hints()},
                "oxygen_used_24h_m3": 130.0,
            }
        ),
        submitted_by="repA",
    )
    assert (first.created, again.created, corrected.created) == (True, False, True)
    history = pg_store.report_history("79-A", dt.date(2021, 8, 20))
    assert [(r.revision, r.report.oxygen_used_24h_m3) for r in history] == [(1, 120.5), (2, 130.0)]
    assert history[0].report.note == "Thiếu bình 40 lít"  # Vietnamese survives the database
    facilities = {f.facility_id: f.name for f in pg_store.list_facilities()}
    assert facilities["79-A"] == "Bệnh viện Chợ Rẫy"


def test_history_is_append_only_on_postgresql(pg_store) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from data.schema.registry import DailyReport

    pg_store.submit_report(
        DailyReport(facility_id="79-B", report_date=dt.date(2021, 8, 20), oxygen_used_24h_m3=50.0),
        submitted_by="repB",
    )
    for statement in (
        "UPDATE report_revisions SET oxygen_used_24h_m3 = 1",
        "DELETE FROM report_revisions",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), pg_store.engine.begin() as connection:
            connection.execute(text(statement))
