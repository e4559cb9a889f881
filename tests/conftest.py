"""Shared fixtures: the data directory and a persistent test cache for built road graphs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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

    from matcher.demand import OxygenNeed
    from planning import PlanFacility, PlanRequest, StockReport, suppliers_from_places

    start = dt.date(2021, 8, 20)
    places = d5_region.facilities.read()
    facilities = tuple(
        PlanFacility(p.place_id, p.name, p.lon, p.lat, "79", tier=3 if "Nguyễn Tri Phương" in p.name else 2,
                     district="Quận 5", beds=100,
                     liquid_tank_capacity_l=5000.0 if "Nguyễn Tri Phương" in p.name else 0.0,
                     cylinder_storage=200)
        for p in places
    )
    reports = tuple(
        StockReport(f.facility_id, start - dt.timedelta(days=1),
                    ((OxygenNeed.CANNULA_MASK, 30), (OxygenNeed.HIGH_FLOW, 5), (OxygenNeed.INVASIVE, 2)),
                    stock_m3=120.0)
        for f in facilities
    )
    suppliers = suppliers_from_places(d5_region.suppliers.read())
    return PlanRequest("hcmc_d5", start, facilities, suppliers, reports, horizon_days=3)
