"""``oxyroute plan --mode irp`` on the seeded registry, District 5 (issue 17, rolling horizon).

The seeded registry (``db seed --region hcmc``) is planned for District 5 from 20 August 2021;
one liquid delivery of 3,000 kg is in transit to the first tank (dispatched before the plan): the
IRP plan must keep it unchanged and count it, and write its files beside the usual ones.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from coordination.irp_plan_io import IRP_FILES
from data.reporting import LOCAL_TZ
from data.schema.live import Product


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("irp_cli")
    url = f"sqlite:///{folder / 'registry.sqlite3'}"
    result = CliRunner().invoke(main, ["db", "seed", "--region", "hcmc", "--database-url", url])
    assert result.exit_code == 0, result.output
    return url, folder


def _dispatch_one(url: str, facility_id: str) -> int:
    from data.db import create_db_engine
    from data.store import Store
    from data.store.deliveries import PlannedDelivery

    engine = create_db_engine(url)
    store = Store(engine)
    eta = dt.datetime(2021, 8, 21, 9, 0, tzinfo=LOCAL_TZ)
    item = PlannedDelivery(
        facility_id,
        "NSV-BH2",
        None,
        None,
        "GEN-NSV-BH2-T1",
        None,
        Product.LIQUID,
        3_000.0,
        None,
        2_100.0,
        eta,
    )
    created = store.create_delivery(item, actor="test")
    store.dispatch_delivery(created.delivery_id, actor="test")
    engine.dispose()
    return created.delivery_id


def _plan(url: str, out: Path, *extra: str) -> Any:
    args = ["plan", "--region", "hcmc_d5", "--date", "2021-08-20", "--horizon", "4"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--database-url", url, *extra])
    assert result.exit_code == 0, result.output
    return result


def test_plan_mode_irp_writes_its_files_and_keeps_a_dispatched_delivery(
    seeded: tuple[str, Path],
) -> None:
    url, folder = seeded
    first = _plan(url, folder / "first", "--mode", "irp", "--irp-time-limit", "3")
    document = json.loads((folder / "first" / "irp_plan.json").read_text(encoding="utf-8"))
    assert document["tanks"], "District 5 has hospitals with liquid tanks"
    assert "Inventory-routing plan from 2021-08-20, 4 days" in first.output
    tank = document["tanks"][0]
    delivery_id = _dispatch_one(url, tank["facility_id"])

    second = _plan(url, folder / "second", "--mode", "irp", "--irp-time-limit", "3")
    out = folder / "second"
    assert all((out / name).is_file() for name in ("plan.json", "flows.csv", *IRP_FILES))
    document = json.loads((out / "irp_plan.json").read_text(encoding="utf-8"))
    fixed = [d for d in document["deliveries"] if d["fixed"]]
    assert fixed == [
        {
            "day": 1,
            "period_h": 24,
            "starts_at": "2021-08-21T09:00+07:00",  # its ETA's hour, not the day's start
            "facility_id": tank["facility_id"],
            "plant_id": "NSV-BH2",
            "vehicle_id": "GEN-NSV-BH2-T1",
            "quantity_kg": 3_000.0,
            "fixed": True,
            "delivery_id": delivery_id,
        }
    ]
    assert "dispatched and kept 1" in second.output
    # The first day's routes are the plan's routes of day 0, names with their diacritics.
    day0 = json.loads((out / "irp_routes_day0.json").read_text(encoding="utf-8"))
    assert day0["routes"] == [r for r in document["routes"] if r["day"] == 0]
    names = {t["name"] for t in document["tanks"]}
    assert any(ch in "".join(names) for ch in "ệạđ")
    summary = (out / "irp_summary.txt").read_text(encoding="utf-8")
    assert "facility-days below the floor" in summary and "lowest hours to empty" in summary
    # Every shortfall has its reason in both languages.
    assert all(s["message_en"] and s["message_vi"] for s in document["shortfalls"])


def test_plan_default_mode_writes_no_irp_files(seeded: tuple[str, Path]) -> None:
    url, folder = seeded
    _plan(url, folder / "plain")
    assert not any((folder / "plain" / name).exists() for name in IRP_FILES)
