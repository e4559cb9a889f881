"""A plan's inventory-routing part over HTTP (issue 17): ``"mode": "irp"`` and ``/plans/{id}/irp``.

The registry is the fixture users' (tests/registry_world.py) plus the Hồ Chí Minh City seed
(sourced hospitals and suppliers, generated fleet and August 2021 reports), as ``oxyroute db
seed`` stores it; plans are made for District 5 (``hcmc_d5``) from 20 August 2021, whose
hospitals with liquid tanks are planned by inventory routing from their status at midnight.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.registry_world import Clock, Template
from tests.web.conftest import expect_error, user_factory

BODY = {"region": "hcmc_d5", "date": "2021-08-20", "horizon_days": 3}
IRP_BODY = {**BODY, "mode": "irp", "irp_time_limit_s": 2}
ROUTES_BODY = {
    "day": 0,
    "vehicles": [
        {
            "vehicle_id": "TK1",
            "kind": "cryogenic_tanker",
            "tank_capacity_lox_kg": 5000,
            "home_depot_id": "ALV-SHTP",
        }
    ],
    "options": {"time_limit_s": 1, "max_iterations": 50, "seed": 1, "cross_company_loading": True},
}


@pytest.fixture(scope="module")
def seeded_db(template_db: Template, data_dir: Path, tmp_path_factory: Any) -> Path:
    from data.db import create_db_engine
    from data.seed import hcmc_seed, store_seed
    from data.store import Store

    path = tmp_path_factory.mktemp("irp_http") / "registry.sqlite3"
    shutil.copyfile(template_db.path, path)
    engine = create_db_engine(f"sqlite:///{path}")
    # The seed's generated reports run to the end of August: stored as of 10 September.
    store_seed(
        Store(engine, clock=Clock(dt.datetime(2021, 9, 10, 2, 0, tzinfo=dt.UTC))),
        hcmc_seed(data_dir),
    )
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def world(seeded_db: Path, template_db: Template, tmp_path_factory: Any):  # type: ignore[no-untyped-def]
    """Yield (app, user factory, plans folder, the id of one IRP plan made by coord79)."""
    from api import ApiConfig, create_app

    folder = tmp_path_factory.mktemp("irp_http_app")
    shutil.copyfile(seeded_db, folder / "registry.sqlite3")
    plans_dir = folder / "plans"
    app = create_app(
        ApiConfig(
            database_url=f"sqlite:///{folder / 'registry.sqlite3'}",
            clock=Clock(),
            plans_dir=str(plans_dir),
        )
    )
    user = user_factory(app, template_db)
    created = user("coord79").post("/plans", json=IRP_BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    yield app, user, plans_dir, created.get_json()
    app.extensions["oxyroute"].store.engine.dispose()


def test_an_irp_plan_answers_with_its_figures_and_links(world: Any) -> None:
    _, user, plans_dir, answer = world
    plan_id = answer["plan_id"]
    assert answer["mode"] == "irp"
    irp = answer["irp"]
    assert irp["tanks"] > 0 and irp["tanks_planned"] > 0, irp
    assert irp["time_limit_s"] == 2
    assert answer["links"]["irp"] == f"/api/v1/plans/{plan_id}/irp"
    assert answer["links"]["irp_routes_day0"].endswith("/irp?part=routes_day0")
    # Stored with the plan, the same files as `oxyroute plan --mode irp` writes.
    stored = {p.name for p in (plans_dir / plan_id).iterdir()}
    assert {"plan.json", "irp_plan.json", "irp_routes_day0.json", "irp_summary.txt"} <= stored
    plan = user("coord79").get(f"/plans/{plan_id}").get_json()
    assert plan["meta"]["mode"] == "irp"


def test_the_irp_json_round_trips_vietnamese_names(world: Any) -> None:
    _, user, _, answer = world
    plan_id = answer["plan_id"]
    response = user("coord79").get(f"/plans/{plan_id}/irp")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "\\u" not in response.get_data(as_text=True)  # UTF-8 text, not escapes
    document = response.get_json()
    assert document["start_date"] == "2021-08-20" and document["horizon_days"] == 3
    names = {t["facility_id"]: t["name"] for t in document["tanks"]}
    assert any(ch in "".join(names.values()) for ch in "ệạđờ"), names
    # Each tank's name is the registry's, character for character.
    for facility_id, name in list(names.items())[:3]:
        record = user("coord79").get(f"/facilities/{facility_id}").get_json()
        assert record["name"] == name
    assert all(s["message_en"] and s["message_vi"] for s in document["shortfalls"])
    assert all(d["starts_at"].startswith("2021-08-2") for d in document["deliveries"])


def test_the_summary_and_the_first_days_routes(world: Any) -> None:
    _, user, _, answer = world
    base = f"/plans/{answer['plan_id']}/irp"
    coordinator = user("coord79")
    summary = coordinator.get(f"{base}?format=txt")
    assert summary.status_code == 200 and summary.mimetype == "text/plain"
    assert summary.get_data(as_text=True).startswith("Inventory-routing plan from 2021-08-20, 3")
    document = coordinator.get(base).get_json()
    day0 = coordinator.get(f"{base}?part=routes_day0").get_json()
    assert day0["date"] == "2021-08-20"
    assert day0["routes"] == [r for r in document["routes"] if r["day"] == 0]
    geojson = coordinator.get(f"{base}?part=routes_day0&format=geojson")
    assert geojson.status_code == 200 and geojson.mimetype == "application/geo+json"
    features = geojson.get_json()["features"]
    trips = [f for f in features if f["properties"]["kind"] == "trip"]
    stops = [f for f in features if f["properties"]["kind"] == "stop"]
    assert len(trips) == len(day0["routes"])
    assert len(stops) == sum(len(r["stops"]) for r in day0["routes"])
    for feature in stops:
        lon, lat = feature["geometry"]["coordinates"]
        assert 106.0 < lon < 108.0 and 10.0 < lat < 11.5  # [lon, lat] in and around the city
    whole = coordinator.get(f"{base}?format=geojson").get_json()["features"]
    assert sum(f["properties"]["kind"] == "trip" for f in whole) == len(document["routes"])


def test_a_plan_without_the_irp_mode_has_no_irp_part(world: Any) -> None:
    _, user, _, _ = world
    created = user("planner").post("/plans", json=BODY)
    assert created.status_code == 201
    answer = created.get_json()
    assert "irp" not in answer and "mode" not in answer  # the allocation answer, unchanged
    error = expect_error(user("planner").get(f"/plans/{answer['plan_id']}/irp"), 404)
    (detail,) = error["details"]
    assert detail["field"] == "plan_id" and '"mode": "irp"' in detail["reason"], detail
    expect_error(user("planner").get("/plans/" + "0" * 32 + "/irp"), 404)


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"mode": "fast"}, "mode", "'fast'"),  # not a mode
        ({"mode": 1}, "mode", "1"),  # not a string
        ({"mode": "irp", "irp_time_limit_s": 0}, "irp_time_limit_s", "0"),  # below 1 s
        ({"mode": "irp", "irp_time_limit_s": 301}, "irp_time_limit_s", "301"),  # over 300 s
        ({"mode": "irp", "irp_time_limit_s": "30"}, "irp_time_limit_s", "'30'"),  # text
        ({"mode": "irp", "irp_time_limit_s": True}, "irp_time_limit_s", "True"),  # a boolean
        ({"mode": "irp", "irp_time_limit_s": math.inf}, "irp_time_limit_s", "inf"),  # Infinity
        ({"irp_time_limit_s": 10}, "irp_time_limit_s", "allocation"),  # without mode irp
    ],
)
def test_a_bad_mode_is_a_422_naming_the_field_and_nothing_is_stored(
    world: Any, changes: dict[str, Any], field: str, value: str
) -> None:
    _, user, plans_dir, _ = world
    before = sorted(p.name for p in plans_dir.iterdir())
    response = user("planner").post(
        "/plans", data=json.dumps({**BODY, **changes}), content_type="application/json"
    )
    error = expect_error(response, 422)
    (detail,) = [d for d in error["details"] if d["field"] == field]
    assert value in detail["reason"], detail
    assert sorted(p.name for p in plans_dir.iterdir()) == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=pdf", "format"),  # not a format
        ("part=routes_day9", "part"),  # not a part
        ("part=routes_day0&format=txt", "format"),  # the summary is the whole plan's
    ],
)
def test_a_bad_part_or_format_is_a_422(world: Any, query: str, field: str) -> None:
    _, user, _, answer = world
    error = expect_error(user("coord79").get(f"/plans/{answer['plan_id']}/irp?{query}"), 422)
    assert [d["field"] for d in error["details"]] == [field]


def test_reading_the_irp_part_is_authorized_like_the_plan(world: Any) -> None:
    _, user, _, answer = world
    plan_id = answer["plan_id"]
    path = f"/plans/{plan_id}/irp"
    # A dispatcher sees published plans only; this one is a draft.
    error = expect_error(user("dispatcher").get(path), 403)
    assert "published plans only" in error["message"] + json.dumps(error["details"])
    for username in ("coord01", "repA"):
        expect_error(user(username).get(path), 403)
    expect_error(user(None).get(path), 401)
    assert user("planner").get(path).status_code == 200
    # Published (routes, approval, publication), the dispatcher reads it.
    coordinator = user("coord79")
    routes = coordinator.post(f"/plans/{plan_id}/routes", json=ROUTES_BODY)
    assert routes.status_code == 201, routes.get_data(as_text=True)
    assert coordinator.post(f"/plans/{plan_id}/approve").status_code == 200
    published = coordinator.post(f"/plans/{plan_id}/publish")
    assert published.status_code == 200, published.get_data(as_text=True)
    read = user("dispatcher").get(f"{path}?part=routes_day0")
    assert read.status_code == 200 and "routes" in read.get_json()
