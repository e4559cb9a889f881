"""Fixtures of the web map tests: District 5's map resources, an app serving them, clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.registry_world import Clock, Template


@pytest.fixture(scope="session")
def d5_resources(d5_region, d5_network, data_dir: Path):  # type: ignore[no-untyped-def]
    """Map resources serving District 5, built once per session (layers are cached inside)."""
    from web.map_layers import MapResources

    return MapResources({"hcmc_d5": (d5_region, d5_network)}, data_dir=data_dir)


@pytest.fixture
def map_app(db_url: str, clock: Clock, d5_resources, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Yield a fresh app from the factory whose web map serves District 5.

    ``load_map_resources`` is replaced by the session's resources so that every test does not
    reload the network and rebuild the layers; the factory wiring itself is exercised by
    ``test_factory_loads_configured_regions``.
    """
    import web.map as webmap
    from api import ApiConfig, create_app

    monkeypatch.setattr(webmap, "load_map_resources", lambda config, **_: d5_resources)
    application = create_app(
        ApiConfig(
            database_url=db_url,
            clock=clock,
            failed_auth_limit=5,
            webmap=webmap.WebMapConfig(regions=("hcmc_d5",)),
        )
    )
    yield application
    application.extensions["oxyroute"].store.engine.dispose()


@pytest.fixture
def map_client(map_app: Any):  # type: ignore[no-untyped-def]
    """Return the Flask test client of :func:`map_app`."""
    return map_app.test_client()


@pytest.fixture
def auth(template_db: Template):  # type: ignore[no-untyped-def]
    """``auth("planner")`` returns the Authorization header of that fixture user."""
    return lambda username: {"Authorization": f"Bearer {template_db.tokens[username]}"}
