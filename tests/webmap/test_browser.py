"""Browser test: Debian's Chromium, driven by Playwright, logs in and sees District 5 drawn offline.

Needs ``apt-get install chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package;
never ``playwright install`` (no browser downloads). Skipped with the reason when either is missing.
The screenshot is saved as ``webmap.png`` in the test's temporary directory (the path is printed).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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

# A hand-written plan in the shape docs/webmap.md documents for GET /api/v1/plans/{id}?format=geojson.
# It is not a computed plan: it checks that the page draws that shape (colours, shortfall list, flows).
PLAN_SHAPE = {
    "type": "FeatureCollection",
    "plan": {"plan_id": "shape-test", "region": "hcmc_d5", "unassigned": []},
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.67026, 10.762619]},
            "properties": {
                "kind": "facility",
                "facility_id": "5347976523",
                "name": "Bệnh Viện Hòa Hảo",
                "days_of_supply": 0.5,
                "shortfall_m3": 1200,
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.6780, 10.7580]},
            "properties": {
                "kind": "facility",
                "facility_id": "F2",
                "name": "Bệnh viện thử",
                "days_of_supply": 9,
                "shortfall_m3": 0,
            },
        },
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[106.6865, 10.7625], [106.67026, 10.762619]],
            },
            "properties": {
                "kind": "flow",
                "supplier_id": "TDS",
                "facility_id": "5347976523",
                "quantity_m3": 1800,
            },
        },
    ],
}


@pytest.fixture
def live_server(db_url: str, clock: Any) -> Iterator[str]:
    """The app (real factory, District 5 served) on a loopback port, in a thread."""
    from werkzeug.serving import make_server

    from api import ApiConfig, create_app
    from webmap import WebMapConfig

    app = create_app(
        ApiConfig(database_url=db_url, clock=clock, webmap=WebMapConfig(regions=("hcmc_d5",)))
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
def page(live_server: str) -> Iterator[Any]:
    """A Chromium page (1400 x 900) that records every request it makes."""
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


def _painted_pixels(page: Any) -> int:
    """Count the non-transparent pixels of the map's canvas (what Leaflet's renderer drew)."""
    return int(
        page.evaluate("""() => {
        const canvas = document.querySelector('#map canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { n++; } }
        return n;
    }""")
    )


def test_log_in_and_see_district_5(
    page: Any, live_server: str, template_db: Any, tmp_path: Path
) -> None:
    token = template_db.tokens["coord79"]
    page.goto(live_server + "/")
    assert page.title() == "oxyroute — Bản đồ điều phối oxy y tế"
    assert page.locator("#map canvas").count() == 0  # nothing drawn before logging in

    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)
    page.wait_for_selector("#compliance-rows", timeout=10_000)

    assert page.evaluate("sessionStorage.getItem('oxyroute.token')") == token
    assert page.input_value("#token") == ""
    assert "coord79" in page.inner_text("#who")

    # Facilities: six markers, inside the visible map.
    facilities = page.evaluate("""() => {
        const m = window.oxymap.map, layer = window.oxymap.state.layers.facilities;
        return {onMap: m.hasLayer(layer), count: layer.getLayers().length,
                visible: layer.getLayers().filter(l => m.getBounds().contains(l.getLatLng())).length};
    }""")
    assert facilities == {"onMap": True, "count": 6, "visible": 6}
    # Roads: the major classes are on the map, and at this zoom the minor streets too.
    roads = page.evaluate("""() => {
        const s = window.oxymap.state, m = window.oxymap.map;
        return {zoom: m.getZoom(), major: m.hasLayer(s.layers.roads), minor: m.hasLayer(s.layers.roads_minor),
                classes: s.layers.roads.getLayers().length + s.layers.roads_minor.getLayers().length,
                roads: s.counts.roads};
    }""")
    assert roads["major"] and roads["minor"] and roads["zoom"] >= 14
    assert roads["classes"] == 8 and roads["roads"] == 912
    assert _painted_pixels(page) > 50_000  # the canvas really holds the drawing
    assert page.evaluate("window.oxymap.state.layers.districts.getLayers().length") >= 5

    # Credits are always shown.
    attribution = page.inner_text(".leaflet-control-attribution")
    assert "© OpenStreetMap contributors" in attribution
    assert "Open Development Vietnam" in attribution

    # Compliance for the region's province (79); 09:00 local, so today's reports are pending.
    rows = page.locator("#compliance-rows tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t")[:3] == ["2021-08-20", "79", "2"]

    # No plan endpoint yet: the panels say so, and asking for a plan does not break the page.
    assert page.inner_text("#shortfall-list") == "Chưa có kế hoạch"
    page.fill("#plan-id", "p-1")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#shortfall-list >> text=Chưa có kế hoạch với mã này")

    # Languages: English, then back to Vietnamese with its diacritics.
    page.click("button[data-lang=en]")
    assert page.inner_text("#compliance-panel h2") == "Reporting compliance"
    assert page.title() == "oxyroute — medical oxygen coordination map"
    page.click("button[data-lang=vi]")
    assert page.inner_text("#compliance-panel h2") == "Tuân thủ báo cáo"
    assert page.inner_text("#scenario-panel h2") == "So sánh kịch bản"

    # Offline: every request went to this server; the token never appeared in a URL, and every
    # API request carried it in the Authorization header.
    urls = [r.url for r in page.requests]
    assert all(u.startswith(live_server) for u in urls), [
        u for u in urls if not u.startswith(live_server)
    ]
    assert not any(token in u for u in urls)
    api_requests = [r for r in page.requests if "/api/v1/" in r.url or "/map/v1/" in r.url]
    assert len(api_requests) >= 7
    assert all(r.headers.get("authorization") == f"Bearer {token}" for r in api_requests)
    # The only console error is the 404 of the plan asked for above.
    assert len(page.console_errors) == 1 and "404" in page.console_errors[0]

    screenshot = tmp_path / "webmap.png"
    page.screenshot(path=str(screenshot))
    print(f"screenshot: {screenshot}")
    assert screenshot.stat().st_size > 50_000


def test_plan_shape_is_drawn(page: Any, live_server: str, template_db: Any, tmp_path: Path) -> None:
    """Draw a hand-written plan in the documented shape: colours, shortfall list, flows, legend."""
    page.goto(live_server + "/")
    page.fill("#token", template_db.tokens["planner"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)
    page.evaluate("plan => window.oxymap.showPlan(plan)", PLAN_SHAPE)

    colours = page.evaluate("""() => window.oxymap.state.layers.plan_facilities.getLayers()
        .map(l => l.options.fillColor)""")
    assert colours == ["#d7301f", "#1a9850"]  # under 1 day: red; 7 days or more: green
    assert not page.evaluate("window.oxymap.map.hasLayer(window.oxymap.state.layers.facilities)")
    assert page.evaluate("window.oxymap.state.layers.flows.getLayers().length") == 1
    rows = page.locator("#shortfall-table tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t")[0] == "Bệnh Viện Hòa Hảo"
    assert "Số ngày dự trữ" in page.inner_text("#legend")

    page.evaluate("""() => window.oxymap.showComparison({
        totals: {unmet_m3: {base: 1200, scenario: 3000}},
        facilities: [{facility_id: "5347976523", name: "Bệnh Viện Hòa Hảo",
                      unmet_m3_base: 1200, unmet_m3_scenario: 3000}],
        flows: {added: [], removed: [{}], changed: [{}, {}]}})""")
    assert "Luồng bỏ: 1" in page.inner_text("#scenario-comparison")
    page.screenshot(path=str(tmp_path / "webmap-plan-shape.png"))
    print(f"screenshot: {tmp_path / 'webmap-plan-shape.png'}")

    page.evaluate("window.oxymap.clearPlan()")
    assert page.evaluate("window.oxymap.map.hasLayer(window.oxymap.state.layers.facilities)")
    assert page.inner_text("#shortfall-list") == "Chưa có kế hoạch"
