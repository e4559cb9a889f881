"""POST /plans and /scenarios for a region given by path, by the id /map/v1/regions lists (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.second_region_world import REGION_ID, write_second_region
from tests.web.conftest import expect_error, user_factory


@pytest.fixture
def region_app(db_url: str, clock: Any, tmp_path: Path, data_dir: Path, d5_network: Any):  # type: ignore[no-untyped-def]
    """Yield an app serving the second region by path, on the map and for plans."""
    from api import ApiConfig, create_app
    from web.map import WebMapConfig

    world = write_second_region(tmp_path / "vung_thu", data_dir)
    region = str(world["region"])
    application = create_app(
        ApiConfig(
            database_url=db_url,
            clock=clock,
            plans_dir=str(tmp_path / "plans"),
            regions=("hcmc_d5", region),
            webmap=WebMapConfig(regions=(region,)),
        )
    )
    yield application
    application.extensions["oxyroute"].store.engine.dispose()


def test_the_region_the_map_lists_is_accepted_by_post_plans(region_app: Any, template_db) -> None:  # type: ignore[no-untyped-def]
    user = user_factory(region_app, template_db)
    token = {"Authorization": f"Bearer {template_db.tokens['coord79']}"}
    listed = region_app.test_client().get("/map/v1/regions", headers=token).get_json()["regions"]
    assert [r["region_id"] for r in listed] == [REGION_ID]
    # Before: 422 "region: 'vung_thu' is not one of the served regions [... path ...]".
    created = user("coord79").post("/plans", json={"region": REGION_ID, "date": "2021-08-20"})
    assert created.status_code == 201, created.get_data(as_text=True)
    plan_id = created.get_json()["plan_id"]
    plan = user("coord79").get(f"/plans/{plan_id}").get_json()
    assert plan["region"] == REGION_ID and plan["region_file"].endswith("vung_thu.toml")
    # 79-A (Chợ Rẫy, 1 km west of the map) is planned; 79-B (Gia Định) is listed as left out.
    assert "79-A" in {f["facility_id"] for f in plan["facilities"]}
    assert [e["id"] for e in plan["left_out"]] == ["79-B"]
    # An unknown name is still refused, listing what is accepted.
    refused = expect_error(
        user("coord79").post("/plans", json={"region": "ha_noi", "date": "2021-08-20"}), 422
    )
    assert "vung_thu" in str(refused)
