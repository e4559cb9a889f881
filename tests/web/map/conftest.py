"""Fixtures of the web map tests: District 5's map resources, an app serving them, clients."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
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


# ---------------------------------------------------------------- browser tests (Chromium)

CHROMIUM = Path(os.environ.get("OXYROUTE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _serve(db_url: str, clock: Any, plans_dir: Path, **settings: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    from api import ApiConfig, create_app
    from web.map import WebMapConfig

    app = create_app(
        ApiConfig(
            database_url=db_url,
            clock=clock,
            plans_dir=str(plans_dir),
            webmap=WebMapConfig(regions=("hcmc_d5",)),
            **settings,
        )
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()
    app.extensions["oxyroute"].store.engine.dispose()


@pytest.fixture
def live_server(db_url: str, clock: Any, tmp_path: Path) -> Iterator[str]:
    """Serve the app (real factory, District 5 served) on a loopback port, in a thread."""
    yield from _serve(db_url, clock, tmp_path / "plans")


@pytest.fixture
def short_stream_server(db_url: str, clock: Any, tmp_path: Path) -> Iterator[str]:
    """As :func:`live_server`, whose alert streams end after 2 s (the page must reconnect)."""
    yield from _serve(db_url, clock, tmp_path / "plans", alert_stream_max_s=2.0)


@pytest.fixture
def seeded_server(db_url: str, clock: Any, tmp_path: Path, data_dir: Path) -> Iterator[str]:
    """As :func:`live_server`, on a registry seeded like ``oxyroute db seed --region hcmc``.

    The seed gives District 5 its hospitals (with generated tanks and cylinders), the suppliers
    and generated August 2021 reports, so plans and scenarios there have real inputs.
    """
    from data.db import create_db_engine
    from data.seed import SeedParameters, hcmc_seed, store_seed
    from data.store import Store

    engine = create_db_engine(db_url)
    # The store's own clock (now): generated reports are submitted in August 2021, before it.
    store_seed(Store(engine), hcmc_seed(data_dir, parameters=SeedParameters(seed=1)))
    engine.dispose()
    yield from _serve(db_url, clock, tmp_path / "plans")


@pytest.fixture
def page() -> Iterator[Any]:
    """Open a Chromium page (1400 x 900) that records every request it makes."""
    if not CHROMIUM.is_file():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set OXYROUTE_CHROMIUM)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="the playwright package is not installed (pip install -e '.[test]')",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        browser_page = context.new_page()
        browser_page.requests = []  # type: ignore[attr-defined]
        browser_page.on("request", lambda r: browser_page.requests.append(r))  # type: ignore[attr-defined]
        browser_page.console_errors = []  # type: ignore[attr-defined]
        browser_page.on(
            "console", lambda m: m.type == "error" and browser_page.console_errors.append(m.text)
        )  # type: ignore[attr-defined]
        yield browser_page
        context.close()
        browser.close()
