"""``oxyroute db import --region R``: a new region's registry from files, all rows or none (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.second_region_world import REGION_NAME, write_second_region


@pytest.fixture
def world(tmp_path: Path, data_dir: Path) -> dict[str, Path]:
    return write_second_region(tmp_path / "vung_thu", data_dir)


def _import(db_url: str, world: dict[str, Path], **files: Path) -> object:
    args = ["db", "import", "--region", str(world["region"]), "--database-url", db_url]
    for kind, path in files.items():
        args += [f"--{kind}", str(path)]
    return CliRunner().invoke(main, args)


def _ids(db_url: str, collection: str) -> set[str]:
    from data.db import create_db_engine
    from data.store import Store

    engine = create_db_engine(db_url)
    try:
        records = Store(engine).list_records(collection, limit=None)
        return {str(getattr(r, next(iter(r.__dataclass_fields__)))) for r in records}
    finally:
        engine.dispose()


def test_every_file_is_imported_in_one_go(db_url: str, world: dict[str, Path]) -> None:
    result = _import(
        db_url,
        world,
        facilities=world["facilities"],
        suppliers=world["suppliers"],
        operators=world["operators"],
        vehicles=world["vehicles"],
        reports=world["reports"],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "facilities: 4 of 4 row(s) imported" in lines
    assert "suppliers: 2 of 2 row(s) imported" in lines
    assert "operators: 1 of 1 row(s) imported" in lines
    assert "vehicles: 2 of 2 row(s) imported" in lines
    assert lines[-1] == f"{REGION_NAME}: 12 rows imported"
    facilities = _ids(db_url, "facilities")
    assert {"VT-HOA-HAO", "VT-NGUYEN-TRAI", "VT-BEN-THANH", "VT-THU-DUC"} <= facilities
    assert _ids(db_url, "vehicles") == {"VT-XE-1", "VT-BON-1"}


def test_the_districts_come_from_the_region_file(db_url: str, world: dict[str, Path]) -> None:
    from data.db import create_db_engine
    from data.store import Store

    result = _import(db_url, world, facilities=world["facilities"])
    assert result.exit_code == 0, result.output
    engine = create_db_engine(db_url)
    districts = {
        f.facility_id: f.district
        for f in Store(engine).list_facilities()
        if f.facility_id[:3] == "VT-"
    }
    engine.dispose()
    # From quan_huyen.geojson (property "ten"); Thủ Đức is in none of its four districts. Hòa
    # Hảo hospital (254 Hòa Hảo street) lies just across District 5's edge, in District 10.
    assert districts == {
        "VT-HOA-HAO": "Quận 10",
        "VT-NGUYEN-TRAI": "Quận 5",
        "VT-BEN-THANH": "Quận 1",
        "VT-THU-DUC": None,
    }


def test_one_bad_row_in_the_last_file_stores_nothing(
    db_url: str, world: dict[str, Path], tmp_path: Path
) -> None:
    bad_reports = tmp_path / "bad.csv"
    text = world["reports"].read_text(encoding="utf-8")
    bad_reports.write_text(text.replace("VT-BEN-THANH,", "VT-KHONG-CO,"), encoding="utf-8")
    before = _ids(db_url, "facilities")
    result = _import(
        db_url,
        world,
        facilities=world["facilities"],
        suppliers=world["suppliers"],
        operators=world["operators"],
        vehicles=world["vehicles"],
        reports=bad_reports,
    )
    assert result.exit_code == 2
    assert "VT-KHONG-CO" in result.output and "bad.csv" in result.output
    # The facilities, suppliers and vehicles of the files before were rolled back too.
    assert _ids(db_url, "facilities") == before
    assert _ids(db_url, "suppliers") == set() and _ids(db_url, "vehicles") == set()


def test_geojson_facilities_are_imported(
    db_url: str, world: dict[str, Path], tmp_path: Path
) -> None:
    features = [
        {
            "type": "Feature",
            "id": "VT-GJ-1",
            "geometry": {"type": "Point", "coordinates": [106.6729739, 10.759246]},
            "properties": {
                "facility_id": "VT-GJ-1",
                "name": "Bệnh viện 30 Tháng 4 (vùng thử)",
                "province_code": "79",
                "tier": 2,
            },
        }
    ]
    path = tmp_path / "co_so.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    result = _import(db_url, world, facilities=path)
    assert result.exit_code == 0, result.output
    assert "VT-GJ-1" in _ids(db_url, "facilities")
    # The same file again: a conflict, nothing stored twice.
    again = _import(db_url, world, facilities=path)
    assert again.exit_code == 2
    assert (
        "row 2, facility_id (facilities file co_so.geojson): 'VT-GJ-1' is already" in again.output
    )
