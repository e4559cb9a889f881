"""The deliveries tests' world: District 5's hand-made plan on disk, its places in the registry.

The plan is the hand-checkable one of ``tests/coordination/test_dispatch.py`` (20 August 2021,
District 5, ``HAND_FLOWS``): on day 0 the tanker TK1 takes 1.5 t of liquid oxygen (1,500 kg,
1,050 m³) from Air Liquide to Nguyễn Tri Phương, and the cylinder truck CT1 takes 100 cylinders
(600 m³) to Hòa Hảo and 40 (240 m³) to Nguyễn Trãi from Thép Thủ Đức: three drop stops, 1,890 m³.
Its four hospitals and two suppliers are put in the registry so that deliveries can refer to them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from data.schema.live import Product
from data.schema.registry import Facility, Supplier, SupplierKind
from data.store.deliveries import PlannedDelivery
from tests.coordination.test_dispatch import FACILITIES, HAND_FLOWS, SUPPLIERS, plan_document
from tests.web.conftest import user_factory
from tests.web.test_dispatch import BODY as ROUTES_BODY

PLAN_ID = "d" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture(name="handoff_app")
def handoff_app_fixture(db_url: str, clock: Any, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Yield an app whose plans folder holds the District 5 plan (no hand-off row yet)."""
    from api import ApiConfig, create_app

    plan_dir = tmp_path / PLAN_ID
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text(
        json.dumps(plan_document(HAND_FLOWS), ensure_ascii=False), encoding="utf-8"
    )
    (plan_dir / "meta.json").write_text(
        json.dumps(
            {
                "plan_id": PLAN_ID,
                "region": "hcmc_d5",
                "province_code": "79",
                "created_by": "coord79",
                "created_at": "2021-08-19T10:00:00+00:00",
            }
        ),
        encoding="utf-8",
    )
    application = create_app(ApiConfig(database_url=db_url, clock=clock, plans_dir=str(tmp_path)))
    store = application.extensions["oxyroute"].store
    store.create_records(
        [
            *(
                Facility(fid, name, "79", lon, lat, 2, district="Quận 5")
                for fid, (name, lon, lat) in FACILITIES.items()
            ),
            *(
                Supplier(sid, name, SupplierKind(kind), "79", lon=lon, lat=lat)
                for sid, (name, kind, lon, lat) in SUPPLIERS.items()
            ),
        ],
        actor="fixture",
    )
    yield application
    store.engine.dispose()


@pytest.fixture(name="user")
def user_fixture(handoff_app: Any, template_db: Any):  # type: ignore[no-untyped-def]
    """``user("coord79")``: a client of the hand-off app authenticated as that fixture user."""
    return user_factory(handoff_app, template_db)


@pytest.fixture(name="app_store")
def app_store_fixture(handoff_app: Any) -> Any:
    """Return the hand-off app's store."""
    return handoff_app.extensions["oxyroute"].store


def route_plan(user: Any) -> str:
    """Compute the plan's day-0 routes (as the dispatcher); return their id."""
    created = user("dispatcher").post(f"/plans/{PLAN_ID}/routes", json=ROUTES_BODY)
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()["routes_id"]  # type: ignore[no-any-return]


def publish(user: Any) -> dict[str, Any]:
    """Route, approve and publish the plan as coord79; return the publish answer."""
    route_plan(user)
    assert user("coord79").post(f"/plans/{PLAN_ID}/approve").status_code == 200
    published = user("coord79").post(f"/plans/{PLAN_ID}/publish")
    assert published.status_code == 200, published.get_data(as_text=True)
    return published.get_json()  # type: ignore[no-any-return]


def add_delivery(
    store: Any,
    facility_id: str = "79-A",
    *,
    product: Product = Product.CYLINDERS,
    quantity: int = 50,
    supplier_id: str | None = "TDS",
    request_id: int | None = None,
    eta: dt.datetime | None = None,
) -> int:
    """Store one planned delivery (not from routes) and return its id."""
    liquid = product == Product.LIQUID
    delivery = store.create_delivery(
        PlannedDelivery(
            facility_id=facility_id,
            supplier_id=supplier_id,
            plan_id=None,
            routes_id=None,
            vehicle_id=None,
            stop_index=None,
            product=product,
            planned_liquid_kg=float(quantity) if liquid else None,
            planned_cylinders=None if liquid else quantity,
            planned_m3=quantity * 0.7 if liquid else quantity * 6.0,
            eta=eta or dt.datetime(2021, 8, 20, 4, 0, tzinfo=dt.UTC),
            request_id=request_id,
        ),
        actor="fixture",
    )
    return delivery.delivery_id  # type: ignore[no-any-return]
