"""Shared fixtures: the data directory, a persistent graph cache, regions, networks and registries.

The registry template is built once per session (migrations, the 63 provinces with their 2025 units
from the shared TopoJSON, three facilities, one user per role) and copied for each test, so every
test gets a fresh database file in its own temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.registry_world import FACILITY_A, FACILITY_B, FACILITY_C, USERS, Clock, Template

REPO_ROOT = Path(__file__).resolve().parent.parent

# Built graphs are cached between runs in the (git-ignored) project cache, never in the user's home.
os.environ.setdefault("OXYROUTE_CACHE_DIR", str(REPO_ROOT / ".cache" / "test"))
# Plans computed by API tests never land in the user's data folder.
os.environ.setdefault("OXYROUTE_PLANS_DIR", str(REPO_ROOT / ".cache" / "test-plans"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Return the shared data directory, as the settings resolve it."""
    from data.settings import resolve_data_dir

    return resolve_data_dir()


@pytest.fixture(scope="session")
def d5_region():  # type: ignore[no-untyped-def]
    """Load the District 5 test region (bundled ``data/regions/hcmc_d5.toml``)."""
    from data.region import load_region

    return load_region("hcmc_d5")


@pytest.fixture(scope="session")
def d5_network(d5_region):  # type: ignore[no-untyped-def]
    """District 5's road network (about 730 junctions), built once and cached."""
    from data.settings import resolve_cache_dir
    from routing.graph import network_for_region

    return network_for_region(d5_region, cache_dir=resolve_cache_dir())


@pytest.fixture(scope="session")
def hcmc_region():  # type: ignore[no-untyped-def]
    """Load the whole-city region (bundled ``data/regions/hcmc.toml``)."""
    from data.region import load_region

    return load_region("hcmc")


@pytest.fixture(scope="session")
def hcmc_network(hcmc_region):  # type: ignore[no-untyped-def]
    """Ho Chi Minh City's road network (about 29,500 junctions); about 15 s on a cold cache."""
    from data.settings import resolve_cache_dir
    from routing.graph import network_for_region

    return network_for_region(hcmc_region, cache_dir=resolve_cache_dir())


@pytest.fixture(scope="session")
def request_d5(d5_region):  # type: ignore[no-untyped-def]
    """Six District 5 hospitals, reports of 19 August, the region's suppliers via gateways.

    Nguyen Tri Phuong has a 5,000 L liquid tank; the others take cylinders only.
    """
    import datetime as dt

    from coordination.planning import PlanFacility, PlanRequest, StockReport, suppliers_from_places
    from matcher.demand import OxygenNeed

    start = dt.date(2021, 8, 20)
    places = d5_region.facilities.read()
    facilities = tuple(
        PlanFacility(
            p.place_id,
            p.name,
            p.lon,
            p.lat,
            "79",
            tier=3 if "Nguyễn Tri Phương" in p.name else 2,
            district="Quận 5",
            beds=100,
            liquid_tank_capacity_l=5000.0 if "Nguyễn Tri Phương" in p.name else 0.0,
            cylinder_storage=200,
        )
        for p in places
    )
    reports = tuple(
        StockReport(
            f.facility_id,
            start - dt.timedelta(days=1),
            ((OxygenNeed.CANNULA_MASK, 30), (OxygenNeed.HIGH_FLOW, 5), (OxygenNeed.INVASIVE, 2)),
            stock_m3=120.0,
        )
        for f in facilities
    )
    suppliers = suppliers_from_places(d5_region.suppliers.read())
    return PlanRequest("hcmc_d5", start, facilities, suppliers, reports, horizon_days=3)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Template:
    from data.db import create_db_engine, upgrade_database
    from data.provinces import provinces_with_2025_units
    from data.store import Store

    path = tmp_path_factory.mktemp("template") / "registry.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store.create_records([FACILITY_A, FACILITY_B, FACILITY_C], actor="fixture")
    tokens = {}
    for username, (role, facility_id, province_code) in USERS.items():
        store.add_user(username, role, facility_id=facility_id, province_code=province_code)
        tokens[username] = store.issue_token(username)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return Template(path, tokens)


@pytest.fixture
def db_url(template_db: Template, tmp_path: Path) -> str:
    """URL of a fresh copy of the template database."""
    target = tmp_path / "registry.sqlite3"
    shutil.copyfile(template_db.path, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> Clock:
    """Return a clock at 2021-08-20 09:00 in Hồ Chí Minh City."""
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock):  # type: ignore[no-untyped-def]
    """Yield a store on a fresh database."""
    from data.db import create_db_engine
    from data.store import Store

    engine = create_db_engine(db_url)
    yield Store(engine, clock=clock)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Yield an engine on an empty database: a new SQLite file, or CI's PostgreSQL with its schema reset.

    The PostgreSQL case is skipped unless ``OXYROUTE_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it).
    """
    from sqlalchemy import text

    from data.db import create_db_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        url = os.environ.get("OXYROUTE_TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("OXYROUTE_TEST_POSTGRES_URL is not set")
    engine = create_db_engine(url)
    if request.param == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    yield engine
    engine.dispose()
