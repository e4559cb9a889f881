"""Seed data through the API: generated reports and fleet are labelled wherever they are shown."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from data.seed import SeedData, hcmc_seed, store_seed


@pytest.fixture(scope="session")
def seed(data_dir: Path) -> SeedData:
    return hcmc_seed(data_dir)


def test_generated_reports_are_labelled_in_the_api_and_exports(
    as_user: Any, app: Any, clock: Any, seed: SeedData
) -> None:
    clock.set_local("2021-09-10 09:00")
    store = app.extensions["oxyroute"].store
    facility = seed.facilities[0]
    small = dataclasses.replace(
        seed,
        facilities=(facility,),
        reports=tuple((r, at) for r, at in seed.reports if r.facility_id == facility.facility_id),
    )
    summary = store_seed(store, small)
    assert summary.facilities == 1 and summary.vehicles == 24
    admin = as_user("admin")
    reports = admin.get(
        f"/facilities/{facility.facility_id}/reports?date_from=2021-08-01&date_to=2021-08-31"
    ).get_json()["reports"]
    assert reports and all(
        r["generated"] is True and r["source"].startswith("generated:") for r in reports
    )
    csv_text = (
        admin.get("/exports/reports.csv?province_code=79&date_from=2021-08-01&date_to=2021-08-31")
        .get_data()
        .decode("utf-8-sig")
    )
    header, first_row = csv_text.splitlines()[:2]
    assert header.endswith(",generated,source") and ',true,"generated: oxyroute seed' in first_row
    values = admin.get(
        f"/dhis2/dataValueSets.json?orgUnit={facility.facility_id}&startDate=2021-08-01&endDate=2021-08-31"
    ).get_json()["dataValues"]
    assert values and all(v["comment"].startswith("generated:") for v in values)
    vehicles = admin.get("/vehicles").get_json()["vehicles"]
    assert all(v["source"].startswith("generated:") for v in vehicles)
    monthly = admin.get("/compliance/monthly?month=2021-08&province_code=79").get_json()["rows"][0]
    assert monthly["reported"] is True
