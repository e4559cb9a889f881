"""A second region from files to a plan and routes, by path (issue 16, items 8, 10, 11, 12).

The region (tests/second_region_world.py) shares the registry with the template's Hồ Chí Minh
City and Hà Nội facilities and with a Hà Nội supplier and tanker added here: "the other city".
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.second_region_world import PLAN_DAY, REGION_ID, write_second_region

HANOI_SUPPLIER = "HN-OXY"


def _other_city(db_url: str) -> None:
    """Add a Hà Nội supplier, its operator and tanker: none of them may reach the region's plan."""
    from data.db import create_db_engine
    from data.schema.registry import (
        Supplier,
        SupplierKind,
        TransportOperator,
        Vehicle,
        VehicleKind,
    )
    from data.store import Store

    engine = create_db_engine(db_url)
    store = Store(engine)
    store.create_records(
        [
            Supplier(
                supplier_id=HANOI_SUPPLIER,
                name="Trạm oxy Hà Nội",
                kind=SupplierKind.LIQUID_PRODUCER,
                province_code="01",
                lon=105.85,
                lat=21.03,
                liquid_output_t_per_day=30.0,
            ),
            TransportOperator(operator_id="HN-VT", name="Vận tải Hà Nội", province_code="01"),
        ],
        actor="test",
    )
    store.create_records(
        [
            Vehicle(
                vehicle_id="HN-BON",
                operator_id="HN-VT",
                kind=VehicleKind.CRYOGENIC_TANKER,
                tank_capacity_lox_kg=9000,
                home_depot_id=HANOI_SUPPLIER,
            ),
        ],
        actor="test",
    )
    engine.dispose()


@pytest.fixture
def planned(tmp_path: Path, data_dir: Path, db_url: str, d5_network: object) -> dict[str, Path]:
    """Import the region's registry files and write its plan by path; return the folders."""
    world = write_second_region(tmp_path / "vung_thu", data_dir)
    _other_city(db_url)
    args = ["db", "import", "--region", str(world["region"]), "--database-url", db_url]
    for kind in ("facilities", "suppliers", "operators", "vehicles", "reports"):
        args += [f"--{kind}", str(world[kind])]
    imported = CliRunner().invoke(main, args)
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "ke_hoach"
    result = CliRunner().invoke(
        main,
        [
            "plan",
            "--region",
            str(world["region"]),
            "--date",
            PLAN_DAY,
            "--horizon",
            "2",
            "--out",
            str(out),
            "--database-url",
            db_url,
        ],
    )
    assert result.exit_code == 0, result.output
    return {**world, "plan_dir": out, "db": Path(db_url.removeprefix("sqlite:///"))}


def test_the_plan_keeps_the_region_file_and_only_its_records(planned: dict[str, Path]) -> None:
    plan = json.loads((planned["plan_dir"] / "plan.json").read_text(encoding="utf-8"))
    assert plan["region"] == REGION_ID
    assert plan["region_file"] == str(planned["region"].resolve())
    # Suppliers: the one on the map and the one its gateway links; not the other city's.
    assert {s["supplier_id"] for s in plan["suppliers"]} == {"VT-TRAM-Q5", "VT-MESSER"}
    facilities = {f["facility_id"] for f in plan["facilities"]}
    # 79-A (Chợ Rẫy) lies 1 km west of the extract, inside the 0.02° margin: planned.
    assert facilities == {"VT-HOA-HAO", "VT-NGUYEN-TRAI", "VT-BEN-THANH", "79-A"}
    left = {(e["kind"], e["id"]): e for e in plan["left_out"]}
    assert set(left) == {("facility", "VT-THU-DUC"), ("facility", "79-B"), ("supplier", "HN-OXY")}
    assert left[("facility", "VT-THU-DUC")]["reason"].startswith("12.")
    assert "km off the map of Vùng thử (bản đồ Quận 5)" in left[("facility", "79-B")]["reason"]
    assert "linked by none of its gateways" in left[("supplier", "HN-OXY")]["reason"]
    assert plan["off_map_other_provinces"] == 1  # Bạch Mai, Hà Nội: counted, not listed
    summary = (planned["plan_dir"] / "summary.txt").read_text(encoding="utf-8")
    assert "Left out: 2 registry facility record(s) off this region's map:" in summary
    assert "  HN-OXY Trạm oxy Hà Nội: " in summary


def test_a_facility_off_the_roads_is_noted_with_its_distance(planned: dict[str, Path]) -> None:
    plan = json.loads((planned["plan_dir"] / "plan.json").read_text(encoding="utf-8"))
    (note,) = [n for n in plan["far_snaps"] if n["id"] == "VT-BEN-THANH"]
    # 800 m east of the map's edge: planned from the nearest road, and the plan says so.
    assert 700 <= note["snap_distance_m"] <= 1000
    assert note["note"].startswith(f"{note['snap_distance_m']:,} m from the nearest road")
    summary = (planned["plan_dir"] / "summary.txt").read_text(encoding="utf-8")
    assert f"facility VT-BEN-THANH Phòng khám Bến Thành (vùng thử): {note['note']}" in summary


def test_dispatch_finds_the_region_of_a_plan_given_by_path(
    planned: dict[str, Path], tmp_path: Path
) -> None:
    routes = tmp_path / "tuyen"
    result = CliRunner().invoke(
        main,
        [
            "dispatch",
            "--plan-dir",
            str(planned["plan_dir"]),
            "--day",
            "0",
            "--out",
            str(routes),
            "--max-iterations",
            "200",
            "--database-url",
            f"sqlite:///{planned['db']}",
        ],
    )
    # Before: "region 'vung_thu': no bundled region of that name".
    assert result.exit_code == 0, result.output
    answer = json.loads((routes / "routes.json").read_text(encoding="utf-8"))
    used = {route["vehicle"] for route in answer["routes"]}
    assert used <= {"VT-XE-1", "VT-BON-1"} and used
    # The other city's tanker is not used, and the answer says why.
    (excluded,) = [v for v in answer["vehicles_excluded"] if v["vehicle_id"] == "HN-BON"]
    assert excluded["reason"].startswith("home depot 'HN-OXY' is not a supplier of this plan")
    assert (routes / "routes.geojson").is_file()


def test_a_scenario_beside_the_region_file_plans_and_dispatches(
    planned: dict[str, Path], tmp_path: Path
) -> None:
    scenario = planned["scenario"]
    out = tmp_path / "kich_ban"
    db = f"sqlite:///{planned['db']}"
    run = CliRunner().invoke(
        main, ["scenario", "run", str(scenario), "--out", str(out), "--database-url", db]
    )
    assert run.exit_code == 0, run.output
    plan = json.loads((out / "scenario" / "plan.json").read_text(encoding="utf-8"))
    assert plan["region_file"] == str(planned["region"].resolve())
    assert "VT-DA-CHIEN" in {f["facility_id"] for f in plan["facilities"]}
    routes = CliRunner().invoke(
        main,
        [
            "dispatch",
            "--plan-dir",
            str(out / "scenario"),
            "--day",
            "0",
            "--out",
            str(tmp_path / "tuyen"),
            "--max-iterations",
            "100",
            "--database-url",
            db,
        ],
    )
    assert routes.exit_code == 0, routes.output


def test_run_does_not_seed_hcmc_into_another_region_of_province_79(
    tmp_path: Path, data_dir: Path, d5_network: object
) -> None:
    world = write_second_region(tmp_path / "vung_thu", data_dir)
    db = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--region",
            str(world["region"]),
            "--out",
            str(tmp_path / "o"),
            "--database-url",
            db,
        ],
    )
    # Before: province 79, so the HCMC seed (95 hospitals) went into this region's registry.
    assert "seeding it with Ho Chi Minh City" not in result.output
    assert result.exit_code == 2
    assert "oxyroute db import --region" in result.output


def test_a_new_facility_takes_the_regions_province(request_d5) -> None:  # type: ignore[no-untyped-def]
    from coordination.planning import replace_request
    from coordination.scenarios import apply_scenario, scenario_from_mapping

    scenario = scenario_from_mapping(
        {
            "name": "Cần Thơ",
            "region": "can_tho.toml",
            "date": dt.date(2021, 8, 20),
            "horizon_days": 3,
            "changes": [
                {
                    "type": "new_facility",
                    "facility_id": "CT-MOI",
                    "name": "Bệnh viện dã chiến Cần Thơ",
                    "lon": 106.676,
                    "lat": 10.759,
                }
            ],
        }
    )
    base = replace_request(request_d5, region_province_code="92")
    changed, _ = apply_scenario(scenario, base, object())  # type: ignore[arg-type]
    # Before: "79", whatever the region.
    assert {f.facility_id: f.province_code for f in changed.facilities}["CT-MOI"] == "92"
