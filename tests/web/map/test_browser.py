"""Browser test: Debian's Chromium, driven by Playwright, logs in and sees District 5 drawn offline.

Needs ``apt-get install chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package;
never ``playwright install`` (no browser downloads). Skipped with the reason when either is missing.
Screenshots are saved in each test's temporary directory (the paths are printed); set
``OXYROUTE_SCREENSHOT_DIR`` to keep copies in a folder of your choice.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
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


def _serve(db_url: str, clock: Any, plans_dir: Path) -> Iterator[str]:
    from werkzeug.serving import make_server

    from api import ApiConfig, create_app
    from web.map import WebMapConfig

    app = create_app(
        ApiConfig(
            database_url=db_url,
            clock=clock,
            plans_dir=str(plans_dir),
            webmap=WebMapConfig(regions=("hcmc_d5",)),
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

    # No plan yet: the panels say so, and asking for an unknown plan does not break the page.
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
        flows_added: [], flows_removed: [{supplier_id: "TDS", facility_id: "F2", quantity_m3: 5}],
        flows_changed: []})""")
    assert "Luồng bỏ: 1" in page.inner_text("#scenario-comparison")
    page.screenshot(path=str(tmp_path / "webmap-plan-shape.png"))
    print(f"screenshot: {tmp_path / 'webmap-plan-shape.png'}")

    page.evaluate("window.oxymap.clearPlan()")
    assert page.evaluate("window.oxymap.map.hasLayer(window.oxymap.state.layers.facilities)")
    assert page.inner_text("#shortfall-list") == "Chưa có kế hoạch"


# A planner's what-if on District 5 (horizon 3 days to keep the test fast): both Phú Mỹ plants stop,
# cases double, and a 500-bed field hospital opens beside Chợ Rẫy.
WHAT_IF = {
    "name": "Phú Mỹ dừng + ca bệnh x2 + BV dã chiến Q5",
    "description": "both Phú Mỹ plants stop, cases double, a field hospital opens",
    "region": "hcmc_d5",
    "date": "2021-08-20",
    "horizon_days": 3,
    "changes": [
        {"type": "supplier_capacity", "supplier_id": "NSV-PM", "capacity_factor": 0.0},
        {"type": "supplier_capacity", "supplier_id": "ALV-PM", "capacity_factor": 0.0},
        {"type": "case_surge", "factor": 2.0},
        {
            "type": "new_facility",
            "facility_id": "FH-D5",
            "name": "Bệnh viện dã chiến Quận 5",
            "lon": 106.675,
            "lat": 10.757,
            "tier": 2,
            "beds": 500,
            "cylinder_storage": 300,
        },
    ],
}


def _http(url: str, token: str, body: Any = None) -> Any:
    """Call the live server's API as a client would (JSON in, JSON out)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers)) as answer:
        return json.loads(answer.read().decode("utf-8"))


def _keep(screenshot: Path) -> None:
    keep_dir = os.environ.get("OXYROUTE_SCREENSHOT_DIR")
    if keep_dir:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep_dir) / screenshot.name)
    print(f"screenshot: {screenshot}")


def test_run_a_plan_then_run_and_compare_a_scenario(
    page: Any, seeded_server: str, template_db: Any, tmp_path: Path
) -> None:
    """Run a plan from the map as a planner, then run a stored scenario and read the comparison."""
    token = template_db.tokens["planner"]
    api = seeded_server + "/api/v1"
    scenario = _http(api + "/scenarios", token, WHAT_IF)

    page.goto(seeded_server + "/")
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)
    page.wait_for_selector("#scenario-table", timeout=10_000)
    assert page.evaluate("window.oxymap.state.layers.facilities.getLayers().length") == 6
    assert not page.is_hidden("#plan-panel") and page.is_hidden("#routes-form")

    # The compliance rate is already a percentage in the API (88.17 -> "88,2 %", Vietnamese style).
    # The page rounds as Intl.NumberFormat does, half away from zero (86.25 -> "86,3"); Python's
    # format rounds the binary value half to even (86.25 -> "86.2"), hence Decimal.
    (rate_row,) = _http(api + "/compliance/daily?province_code=79", token)["rows"]
    tenths = Decimal(str(rate_row["reporting_rate"])).quantize(Decimal("0.1"), ROUND_HALF_UP)
    rate = f"{tenths}".replace(".", ",") + " %"
    assert page.inner_text("#compliance-rows tbody tr").split("\t")[-1] == rate

    # Run a plan: the date comes from the compliance panel (the server's today, 20 Aug 2021).
    assert page.input_value("#plan-date") == "2021-08-20"
    page.fill("#plan-horizon", "3")
    page.click("#run-plan-form button[type=submit]")
    page.wait_for_selector("body[data-plan-loaded]:not([data-plan-loaded=''])", timeout=60_000)
    plan_id = page.get_attribute("body", "data-plan-loaded")
    plan = _http(f"{api}/plans/{plan_id}", token)
    drawn = page.evaluate("""() => {
        const s = window.oxymap.state, m = window.oxymap.map;
        return {facilities: s.layers.plan_facilities.getLayers().length,
                colours: s.layers.plan_facilities.getLayers().map(l => l.options.fillColor),
                flows: s.layers.flows.getLayers().length,
                baseShown: m.hasLayer(s.layers.facilities)};
    }""")
    assert drawn["facilities"] == len(plan["facilities"]) >= 10
    assert not drawn["baseShown"]
    assert set(drawn["colours"]) <= {"#d7301f", "#fc8d59", "#fee08b", "#1a9850", "#9e9e9e"}
    assert len(set(drawn["colours"])) >= 2  # coloured by days of supply, not one neutral colour
    flows = {
        (f["supplier_id"], f["facility_id"], f["product"]) for f in plan["allocation"]["flows"]
    }
    assert drawn["flows"] == len(flows) > 0
    short = [f for f in plan["facilities"] if f["shortfall_m3"] > 0]
    assert page.locator("#shortfall-table tbody tr").count() == len(short) > 0
    assert plan_id[:8] in page.inner_text("#plan-status")
    assert "chưa đáp ứng" in page.inner_text("#plan-status")
    page.screenshot(path=str(tmp_path / "webmap-plan.png"))
    _keep(tmp_path / "webmap-plan.png")

    # Run the scenario from its panel: the scenario plan is drawn, the changes above it.
    row = page.locator("#scenario-table tbody tr", has_text=WHAT_IF["name"])
    assert row.count() == 1
    row.locator("button[data-run-scenario]").click()
    page.wait_for_selector(
        "body[data-comparison-loaded]:not([data-comparison-loaded=''])", timeout=60_000
    )
    run = page.evaluate("window.oxymap.state.comparison")
    assert run["scenario_id"] == scenario["scenario_id"]
    assert page.get_attribute("body", "data-plan-loaded") == run["scenario_plan_id"]
    comparison = run["comparison"]
    assert comparison["totals"]["unmet_m3"]["scenario"] > comparison["totals"]["unmet_m3"]["base"]
    run_url = f"{api}/scenarios/{scenario['scenario_id']}/runs/{run['run_id']}"
    changes = _http(run_url + "?format=geojson", token)
    assert page.evaluate("window.oxymap.state.layers.changes.getLayers().length") == len(
        changes["features"]
    )
    facility_rows = page.locator("#comparison-facilities tbody tr")
    assert facility_rows.count() == len(comparison["facilities"]) >= 1
    assert "Bệnh viện dã chiến Quận 5" in page.inner_text("#comparison-facilities")
    assert page.locator("#comparison-totals tbody tr").count() == 3
    counts = page.inner_text("#flow-counts")
    assert f"Luồng thêm: {len(comparison['flows_added'])}" in counts
    plan_facilities = page.evaluate("""() => window.oxymap.state.layers.plan_facilities.getLayers()
        .map(l => l.feature.properties.facility_id)""")
    assert "FH-D5" in plan_facilities
    assert "Thay đổi so với gốc" in page.inner_text("#legend")
    rings = page.evaluate("""() => window.oxymap.state.layers.changes.getLayers()
        .filter(l => l.feature.properties.kind === 'facility_change')
        .map(l => [l.feature.properties.facility_id, l.options.color, l.options.fill])""")
    assert ["FH-D5", "#d7301f", False] in rings  # more unmet: a red ring, not filled
    page.evaluate("document.getElementById('scenario-panel').scrollIntoView()")
    screenshot = tmp_path / "webmap-scenario.png"
    page.screenshot(path=str(screenshot))
    _keep(screenshot)
    assert screenshot.stat().st_size > 50_000

    # The base plan of the same run, then English.
    page.click("#show-base")
    page.wait_for_selector(f"body[data-plan-loaded='{run['base_plan_id']}']")
    assert "FH-D5" not in page.evaluate("""() => window.oxymap.state.layers.plan_facilities
        .getLayers().map(l => l.feature.properties.facility_id)""")
    page.click("button[data-lang=en]")
    assert page.inner_text("#scenario-table thead").split("\t")[:2] == ["Name", "Date"]
    assert "Total unmet demand (m³)" in page.inner_text("#comparison-totals")
    assert "Run plan" in page.inner_text("#run-plan-form")

    urls = [r.url for r in page.requests]
    assert all(u.startswith(seeded_server) for u in urls)
    assert not any(token in u for u in urls)
    api_requests = [r for r in page.requests if "/api/v1/" in r.url]
    assert all(r.headers.get("authorization") == f"Bearer {token}" for r in api_requests)
    assert page.console_errors == []


def test_roles_without_scenario_rights_are_told(
    page: Any, live_server: str, template_db: Any
) -> None:
    """Tell a dispatcher that scenarios and plans are not theirs; the page keeps working."""
    page.goto(live_server + "/")
    page.fill("#token", template_db.tokens["dispatcher"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)
    page.wait_for_selector("#scenario-list .error")
    assert page.inner_text("#scenario-list") == "Vai trò của bạn không xem được mục này."
    page.fill("#plan-date", "2021-08-20")
    page.click("#run-plan-form button[type=submit]")
    page.wait_for_selector("#plan-status.error")
    assert page.inner_text("#plan-status") == "Vai trò của bạn không chạy được mục này."


# Routes in the shape of the dispatch endpoints (docs/dispatch.md: "route" lines along the roads,
# "stop" points with local arrival times). Hand-written: it checks the drawing hook only.
ROUTES_SHAPE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[106.6865, 10.7625], [106.6597, 10.7578], [106.6865, 10.7625]],
            },
            "properties": {"kind": "route", "vehicle": "CT1"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.6597, 10.7578]},
            "properties": {
                "kind": "stop",
                "vehicle": "CT1",
                "sequence": 1,
                "type": "delivery",
                "facility_id": "79-A",
                "name": "Bệnh viện Chợ Rẫy",
                "arrival": "2021-08-20T07:34:02+07:00",
            },
        },
    ],
}


def test_routes_hook_draws_arrival_times(page: Any, live_server: str, template_db: Any) -> None:
    """Draw routes in the dispatch GeoJSON shape with arrival times; the form follows the API."""
    page.goto(live_server + "/")
    page.fill("#token", template_db.tokens["coord79"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)
    page.evaluate("plan => window.oxymap.showPlan(plan)", PLAN_SHAPE)
    served = "/plans/{plan_id}/routes" in _http(live_server + "/api/v1/openapi.json", "-")["paths"]
    assert page.is_hidden("#routes-form") != served
    page.evaluate("routes => window.oxymap.showRoutes(routes)", ROUTES_SHAPE)
    assert page.evaluate("window.oxymap.state.layers.routes.getLayers().length") == 1
    assert page.evaluate("window.oxymap.state.layers.stops.getLayers().length") == 1
    row = page.locator("#route-table tbody tr")
    assert row.first.inner_text().split("\t") == ["CT1", "1. Bệnh viện Chợ Rẫy", "07:34"]
    assert "Lộ trình xe" in page.inner_text("#legend")


def test_coordinator_runs_a_plan_and_its_routes(
    page: Any, seeded_server: str, template_db: Any, tmp_path: Path
) -> None:
    """Run a plan as a coordinator, then the routes of its first day: lines, stops, arrivals."""
    token = template_db.tokens["coord79"]
    api = seeded_server + "/api/v1"
    page.goto(seeded_server + "/")
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-region-loaded=hcmc_d5]", timeout=20_000)
    page.wait_for_selector("#compliance-rows", timeout=10_000)
    page.fill("#plan-horizon", "2")
    page.click("#run-plan-form button[type=submit]")
    page.wait_for_selector("body[data-plan-loaded]:not([data-plan-loaded=''])", timeout=60_000)
    plan_id = page.get_attribute("body", "data-plan-loaded")
    assert page.is_visible("#routes-form")  # the API lists the route endpoints
    page.fill("#routes-day", "0")
    page.click("#routes-form button[type=submit]")
    page.wait_for_selector("body[data-routes-loaded]", timeout=120_000)
    routes_id = page.get_attribute("body", "data-routes-loaded")
    routes = _http(f"{api}/plans/{plan_id}/routes/{routes_id}?format=geojson", token)
    lines = [f for f in routes["features"] if f["properties"]["kind"] == "route"]
    stops = [f for f in routes["features"] if f["properties"]["kind"] == "stop"]
    assert len(lines) >= 1
    assert page.evaluate("window.oxymap.state.layers.routes.getLayers().length") == len(lines)
    rows = page.locator("#route-table tbody tr")
    assert rows.count() == len(stops)
    first = rows.first.inner_text().split("\t")
    assert first[0] == stops[0]["properties"]["vehicle"]
    assert first[2] == stops[0]["properties"]["arrival"][11:16]  # local HH:MM of the ISO time
    assert "Lộ trình xe" in page.inner_text("#legend")
    page.evaluate("document.getElementById('plan-panel').scrollIntoView()")
    screenshot = tmp_path / "webmap-routes.png"
    page.screenshot(path=str(screenshot))
    _keep(screenshot)
    assert page.console_errors == []
