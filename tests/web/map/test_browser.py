"""Browser test: Debian's Chromium, driven by Playwright, logs in and sees District 5 drawn offline.

Needs ``apt-get install chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package;
never ``playwright install`` (no browser downloads). Skipped with the reason when either is missing.
Screenshots are saved in each test's temporary directory (the paths are printed); set
``OXYROUTE_SCREENSHOT_DIR`` to keep copies in a folder of your choice.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from tests.web.map.browser_support import cells as _cells
from tests.web.map.browser_support import http_json as _http
from tests.web.map.browser_support import keep_screenshot as _keep
from tests.web.map.browser_support import log_in as _log_in

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

    # No plan yet: the panels say so; plans are listed, never typed in by id (issue 14).
    assert page.inner_text("#shortfall-list") == "Chưa có kế hoạch"
    assert page.locator("#plan-id").count() == 0
    page.wait_for_selector("#plans-list >> text=Chưa có kế hoạch nào.")

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
    assert page.console_errors == []

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


def _stop(vehicle: str, sequence: int, kind: str, name: str, at: str, load: str | None) -> Any:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [106.6597 + sequence / 1000, 10.7578]},
        "properties": {
            "kind": "stop",
            "vehicle": vehicle,
            "sequence": sequence,
            "type": kind,
            "name": name,
            "load_id": load,
            "arrival": f"2021-08-20T{at}:00+07:00",
        },
    }


# Issue 15: a second vehicle whose route starts at its depot, loads two loads at one station and
# drops them at two hospitals: 3 deliveries in all (CT1's one and CT2's two), not 5 steps.
CT2_ROUTE = [
    {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [[106.6865, 10.7625], [106.6700, 10.7500], [106.6865, 10.7625]],
        },
        "properties": {"kind": "route", "vehicle": "CT2"},
    },
    _stop("CT2", 0, "start", "Kho TDS", "06:00", None),
    _stop("CT2", 1, "pickup", "TDS", "06:10", "L2"),
    _stop("CT2", 2, "delivery", "Bệnh Viện Hòa Hảo", "07:00", "L2"),
    _stop("CT2", 3, "delivery", "Bệnh viện thử", "07:30", "L3"),
]


def test_routes_hook_draws_arrival_times(page: Any, live_server: str, template_db: Any) -> None:
    """Draw routes in the dispatch GeoJSON shape with arrival times; the form follows the API.

    Issue 15: each vehicle has its own colour and a label, the list counts deliveries (loads),
    not steps, and the plan's flows are hidden under the routes.
    """
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
    assert row.first.inner_text().split("\t") == ["CT1", "1. giao · Bệnh viện Chợ Rẫy", "07:34"]
    assert "Lộ trình xe" in page.inner_text("#legend")

    two = {"type": "FeatureCollection", "features": ROUTES_SHAPE["features"] + CT2_ROUTE}
    page.evaluate("routes => window.oxymap.showRoutes(routes)", two)
    drawn = page.evaluate("""() => {
        const s = window.oxymap.state, m = window.oxymap.map;
        return {lines: s.layers.routes.getLayers().map(l => [l.feature.properties.vehicle,
                    l.options.color, l.getTooltip().getContent(), l.getTooltip().options.permanent]),
                stops: s.layers.stops.getLayers().map(l => [l.feature.properties.vehicle,
                    l.options.fillColor]),
                flowsShown: m.hasLayer(s.layers.flows)};
    }""")
    (v1, c1, label1, permanent1), (v2, c2, label2, permanent2) = drawn["lines"]
    assert (v1, label1, permanent1, v2, label2, permanent2) == (
        "CT1",
        "CT1",
        True,
        "CT2",
        "CT2",
        True,
    )
    assert c1 != c2  # one colour per vehicle, its stops in the same colour
    assert {tuple(s) for s in drawn["stops"]} == {("CT1", c1), ("CT2", c2)}
    assert not drawn["flowsShown"]  # the plan's 7-day flows hide under the routes
    assert page.inner_text("#routes-count").startswith("2 xe, 3 lượt giao hàng (5 bước")
    legend = page.inner_text("#legend")
    assert "CT1" in legend and "CT2" in legend
    page.click("button[data-lang=en]")
    assert page.inner_text("#routes-count").startswith("2 vehicles, 3 deliveries (5 steps")


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

    # Issue 14, plan hand-off: the plans list shows the plan run above as a draft; approve, then
    # publish: every drop of the day's routes becomes a planned delivery.
    row = f"#plans-table tr[data-plan-id='{plan_id}']"
    page.wait_for_selector(f"{row} button[data-plan-action=approve]", timeout=10_000)
    page.click(f"{row} button[data-plan-action=approve]")
    page.wait_for_selector(f"{row} button[data-plan-action=publish]", timeout=10_000)
    page.click(f"{row} button[data-plan-action=publish]")
    page.wait_for_selector(f"body[data-plan-changed='{plan_id}/publish']", timeout=30_000)
    page.wait_for_selector(f"{row} td.state-published")
    drops = [s for s in stops if s["properties"]["type"] == "delivery"]
    deliveries = _http(f"{api}/deliveries?plan_id={plan_id}", token)["deliveries"]
    assert len(deliveries) == len(drops) > 0
    assert page.inner_text("#plans-message") == (
        f"Kế hoạch {plan_id[:8]} đã công bố: {len(drops)} chuyến giao mới."
    )
    assert page.console_errors == []


def test_unknown_demand_comes_first_and_is_never_zero(
    page: Any, seeded_server: str, template_db: Any, tmp_path: Path
) -> None:
    """A plan's unknown and stale facilities lead the list, unknown ones never shown as 0."""
    token = template_db.tokens["coord79"]
    api = seeded_server + "/api/v1"
    # A field hospital registered today: no report, no beds yet, so its demand is unknown.
    field_hospital = {
        "facility_id": "FH-Q5-2",
        "name": "Bệnh viện dã chiến Quận 5 số 2",
        "province_code": "79",
        "lon": 106.675,
        "lat": 10.757,
        "tier": 2,
        "district": "Quận 5",
    }
    _http(f"{api}/facilities", token, field_hospital)
    _log_in(page, seeded_server, token)
    page.wait_for_selector("#compliance-rows", timeout=10_000)
    page.fill("#plan-horizon", "2")
    page.click("#run-plan-form button[type=submit]")
    page.wait_for_selector("body[data-plan-loaded]:not([data-plan-loaded=''])", timeout=60_000)
    plan = _http(f"{api}/plans/{page.get_attribute('body', 'data-plan-loaded')}", token)
    rows = plan["facilities"]
    unknown = sorted(r["name"] for r in rows if not r["demand_known"])
    stale = [
        r
        for r in rows
        if r["demand_known"]
        and (r["demand_basis"] == "estimated" or (r["carried_forward_days"] or 0) > 0)
    ]
    # The field hospital, and the template's Chợ Rẫy (79-A, never reported) at least.
    assert {"Bệnh viện dã chiến Quận 5 số 2", "Bệnh viện Chợ Rẫy"} <= set(unknown)

    gaps = _cells(page, "#data-gap-table tbody tr")
    assert len(gaps) == len(unknown) + len(stale)
    # Unknown first (demand and shortfall "chưa rõ", never 0), then the stale ones.
    assert sorted(g[0] for g in gaps[: len(unknown)]) == unknown
    for name, demand_per_day, shortfall, basis in gaps[: len(unknown)]:
        assert (demand_per_day, shortfall) == ("chưa rõ", "chưa rõ"), name
        assert basis.startswith("chưa rõ nhu cầu · "), basis
    new = next(g for g in gaps if g[0] == field_hospital["name"])
    assert new[3] == "chưa rõ nhu cầu · chưa từng báo cáo"
    carried = [r for r in stale if r["demand_basis"] == "declared_use"]
    if carried:  # the oldest carried-forward report first, its age shown
        first = max(carried, key=lambda r: r["carried_forward_days"])
        expected = (
            f"khai báo sử dụng · chuyển tiếp {first['carried_forward_days']} ngày · "
            f"báo cáo {first['report_age_days']} ngày trước"
        )
        assert expected in [g[3] for g in gaps[len(unknown) :]]
    # Per-day quantities say so; the shortfall table lists known demand only, largest first.
    assert "Nhu cầu (m³/ngày)" in page.inner_text("#data-gap-table thead")
    short = sorted((r for r in rows if r["shortfall_m3"] > 0), key=lambda r: -r["shortfall_m3"])
    shown = _cells(page, "#shortfall-table tbody tr")
    # The name, its basis below it (six figures need the panel's width).
    assert [s[0].split("\n")[0] for s in shown] == [r["name"] for r in short]
    per_day = round(short[0]["demand_m3"] / 2)
    assert shown[0][3] == f"{per_day:,}".replace(",", ".")
    # Issue 14: the shortfall is over the plan's 2 days, and says so; day 0 has its own figures.
    heads = page.inner_text("#shortfall-table thead").strip().split("\t")
    assert heads[1:3] == ["Thiếu, cả 2 ngày (m³)", "Ngày dự trữ"]
    assert heads[4:6] == ["Ngày 0: giao (m³)", "Ngày 0: thiếu (m³)"]
    flows = plan["allocation"]["flows"]
    for row in short[:3]:
        day0 = sum(
            f["quantity_m3"]
            for f in flows
            if f["facility_id"] == row["facility_id"] and f["day"] == 0
        )
        cells = next(c for c in shown if c[0].split("\n")[0] == row["name"])
        assert cells[
            4
        ] == f"{int(Decimal(str(day0)).quantize(Decimal(1), ROUND_HALF_UP)):,}".replace(",", "."), (
            row["name"]
        )
    # Unknown facilities are grey on the map, and their tooltip says unknown, not 0.
    greys = page.evaluate("""() => window.oxymap.state.layers.plan_facilities.getLayers()
        .filter(l => l.feature.properties.demand_known === false)
        .map(l => [l.options.fillColor, l.getTooltip().getContent()])""")
    assert len(greys) == len(unknown)
    assert all(c == "#9e9e9e" and "Thiếu cả kế hoạch (m³): chưa rõ" in tip for c, tip in greys)

    # The first line: reports of the day before the plan, as many as the plan's rows say.
    reported = sum(r["last_report_date"] == "2021-08-19" for r in rows)
    headline = page.inner_text("#plan-headline")
    assert headline == (
        f"Báo cáo ngày 2021-08-19: {reported}/{len(rows)} cơ sở đã báo cáo; "
        f"chưa rõ nhu cầu: {len(unknown)} cơ sở (không tính vào tổng)"
    )
    assert page.inner_text("#plan-headline-top") == headline
    page.evaluate("document.getElementById('shortfall-panel').scrollIntoView()")
    screenshot = tmp_path / "webmap-plan-unknown.png"
    page.screenshot(path=str(screenshot))
    _keep(screenshot)

    # A plan whose reporting day has no report says so first, naming the latest day with reports.
    page.fill("#plan-date", "2021-09-10")
    page.fill("#plan-horizon", "1")
    page.click("#run-plan-form button[type=submit]")
    page.wait_for_selector(
        f"body[data-plan-loaded]:not([data-plan-loaded='{plan['plan_id']}'])", timeout=60_000
    )
    later = _http(f"{api}/plans/{page.get_attribute('body', 'data-plan-loaded')}", token)
    latest = max(r["last_report_date"] for r in later["facilities"] if r["last_report_date"])
    count = sum(r["last_report_date"] == latest for r in later["facilities"])
    headline = page.inner_text("#plan-headline")
    assert headline.startswith(
        "KHÔNG CÓ BÁO CÁO ngày 2021-09-09 (ngày báo cáo của kế hoạch); "
        f"ngày gần nhất có báo cáo: {latest} ({count} cơ sở)"
    )
    assert "alarm" in (page.get_attribute("#plan-headline", "class") or "")
    assert "0 cơ sở thiếu" not in page.inner_text("#shortfall-list") or "chưa rõ" in headline
    page.click("button[data-lang=en]")
    assert page.inner_text("#plan-headline").startswith("NO REPORTS for 2021-09-09")
    assert "Demand (m³/day)" in page.inner_text("#shortfall-list")
    assert page.console_errors == []


# (text, kind, declared format, value read or None for refused), as data/schema/number_text.py.
NUMBER_CASES = [
    ("5.200", "m3", "vi", 5200),  # Vietnamese thousands, never 5.2
    ("5.200,5", "m3", "vi", 5200.5),
    ("5200,5", "m3", "vi", 5200.5),
    ("1,234", "m3", "vi", 1.234),  # decimal comma (the other reading is named beside it)
    ("5.20", "m3", "vi", None),  # a group of two digits: not a Vietnamese number
    ("5,200.5", "m3", "vi", None),  # English marks in a Vietnamese form: refused, not guessed
    ("5,200.5", "m3", "en", 5200.5),
    ("5.200", "m3", "en", 5.2),
    ("-3", "m3", "vi", None),  # no negative quantity
    ("12", "count", "vi", 12),
    ("2,5", "count", "vi", None),  # half a patient
    ("1.000", "count", "vi", 1000),
    ("", "m3", "vi", None),  # empty: no value (optional fields are left out)
    ("12 m3", "m3", "vi", None),
]


def test_facility_officer_reports_through_the_form(
    page: Any, live_server: str, template_db: Any, tmp_path: Path
) -> None:
    """A facility officer's report: Vietnamese numbers, a refusal beside its field, then warnings."""
    token = template_db.tokens["repA"]
    api = live_server + "/api/v1"
    _log_in(page, live_server, token)
    page.wait_for_selector("body[data-report-form='79-A']", timeout=10_000)
    assert page.inner_text("#report-facility") == "Cơ sở: Bệnh viện Chợ Rẫy (79-A)"
    assert page.is_hidden("#plan-panel") and page.is_hidden("#review-panel")

    page.fill("#rf-report_date", "2021-08-20")
    # Vietnamese style: "5.200" is five thousand two hundred, shown back as read.
    page.fill("#rf-oxygen_used_24h_m3", "5.200")
    assert page.inner_text("#msg-oxygen_used_24h_m3") == (
        "đọc là 5.200 m³ (không phải 5,2 như cách viết Tiếng Anh)"
    )
    # The form's reading rules are data/schema/number_text.py's with a declared locale.
    readings = page.evaluate(
        """cases => cases.map(([text, kind, format]) => {
        const r = window.oxyreports.readNumber(text, kind, format);
        return r.error ? null : r.value; })""",
        [case[:3] for case in NUMBER_CASES],
    )
    assert readings == [case[3] for case in NUMBER_CASES]
    # English separators in a Vietnamese form are refused with their English reading, not guessed.
    page.fill("#rf-deliveries_expected_m3", "1,200.5")
    message = page.inner_text("#msg-deliveries_expected_m3")
    assert message.startswith("không phải là số theo cách viết Tiếng Việt (ví dụ 5.200,5)")
    assert "theo cách viết Tiếng Anh thì là 1200.5" in message
    page.fill("#rf-patients_niv", "2,5")
    page.click("#report-form button[type=submit]")
    assert page.inner_text("#msg-patients_niv") == "phải là số nguyên (số người, số bình)"
    assert page.inner_text("#report-status") == "Hãy sửa các ô được đánh dấu trước khi gửi."
    assert _http(f"{api}/facilities/79-A/reports", token)["reports"] == []  # nothing was sent

    # Impossible: 100,000 L of liquid (no tank declared; the largest hospital tank is 75,700 L).
    page.fill("#rf-deliveries_expected_m3", "")
    page.fill("#rf-patients_niv", "")
    page.fill("#rf-liquid_stock_l", "100.000")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report-status.error:has-text('chưa được lưu')")
    refusal = page.inner_text("#msg-liquid_stock_l")
    assert "100,000" in refusal and "75,700" in refusal and "lượng oxy lỏng" in refusal
    assert "has-error" in (page.get_attribute("[data-field=liquid_stock_l]", "class") or "")
    assert _http(f"{api}/facilities/79-A/reports", token)["reports"] == []  # nothing stored
    page.locator("[data-field=liquid_stock_l]").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "webmap-report-refused.png"))
    _keep(tmp_path / "webmap-report-refused.png")

    # Doubtful: 5,200 m³ used with no patient on oxygen is stored, with the warning beside it.
    page.fill("#rf-liquid_stock_l", "")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("body[data-report-saved='2021-08-20/1']", timeout=10_000)
    (stored,) = _http(f"{api}/facilities/79-A/reports", token)["reports"]
    assert stored["oxygen_used_24h_m3"] == 5200  # never 5.2
    assert [f["rule_id"] for f in stored["flags"]] == ["use.without_patients"]
    warning = page.inner_text("#msg-oxygen_used_24h_m3")
    assert stored["flags"][0]["message_vi"] in warning
    assert stored["flags"][0]["message_en"] in warning
    assert "có 1 giá trị đáng ngờ" in page.inner_text("#report-status")
    assert page.inner_text("#report-history-table tbody tr").split("\t") == [
        "2021-08-20",
        "5.200",
        "chờ tỉnh xem lại",
    ]
    page.evaluate("document.getElementById('report-panel').scrollIntoView()")
    screenshot = tmp_path / "webmap-report-form.png"
    page.screenshot(path=str(screenshot))
    _keep(screenshot)
    page.click("button[data-lang=en]")
    assert "Oxygen used in the last 24 h (m³ gas)" in page.inner_text("#report-form")
    # The only console error is the 422 of the refused report (no 403 for panels not its own).
    assert len(page.console_errors) == 1 and "422" in page.console_errors[0]


def test_coordinator_accepts_a_flagged_report(
    page: Any, live_server: str, template_db: Any, tmp_path: Path
) -> None:
    """A coordinator reads the reports in doubt and accepts one with a reason (audited)."""
    api = live_server + "/api/v1"
    body = {"report_date": "2021-08-20", "oxygen_used_24h_m3": 500, "liquid_stock_l": 800}
    answer = _http(f"{api}/facilities/79-A/reports", template_db.tokens["repA"], body)
    assert len(answer["warnings"]) == 2
    token = template_db.tokens["coord79"]
    _log_in(page, live_server, token)
    page.wait_for_selector("#review-list .review-item", timeout=10_000)
    item = page.locator(".review-item").first
    assert item.locator("h3").inner_text() == "Bệnh viện Chợ Rẫy — 2021-08-20"
    flags = item.inner_text()
    for warning in answer["warnings"]:
        assert warning["field"] in flags and warning["message_vi"] in flags
        assert warning["message_en"] in flags
    assert _cells(page, ".review-item .review-flags tbody tr:not(.flag-message)") == [
        ["liquid_stock_l", "800 L", "0 L"],
        ["oxygen_used_24h_m3", "500 m³", "6 m³"],
    ]
    page.evaluate("document.getElementById('review-panel').scrollIntoView()")
    screenshot = tmp_path / "webmap-review.png"
    page.screenshot(path=str(screenshot))
    _keep(screenshot)

    item.locator("button[data-decision=accept]").click()
    assert page.inner_text("#review-status") == "Hãy nhập lý do trước khi quyết định."
    item.locator(".review-reason").fill("Đã gọi điện: bồn 1.000 L mới lắp, chưa khai báo")
    item.locator("button[data-decision=accept]").click()
    page.wait_for_selector("body[data-review-decided='79-A/2021-08-20/accept']", timeout=10_000)
    assert page.inner_text("#review-status") == (
        "Đã chấp nhận báo cáo ngày 2021-08-20 của Bệnh viện Chợ Rẫy."
    )
    page.wait_for_selector("#review-list >> text=Không có báo cáo nào chờ xem lại.")
    accepted = _http(f"{api}/review/reports?status=accepted", token)["items"]
    assert [(i["facility_id"], i["review"]["reason"]) for i in accepted] == [
        ("79-A", "Đã gọi điện: bồn 1.000 L mới lắp, chưa khai báo")
    ]
    assert page.console_errors == []


def test_planner_chooses_an_investment_portfolio_on_the_map(
    page: Any, seeded_server: str, template_db: Any, tmp_path: Path
) -> None:
    """A planner runs the investment panel on District 5: the table and the map show the answer."""
    token = template_db.tokens["planner"]
    api = seeded_server + "/api/v1"
    _log_in(page, seeded_server, token)
    page.wait_for_selector("#invest-form", timeout=10_000)
    assert "Đầu tư oxy theo kịch bản" in page.inner_text("#invest-panel")
    page.fill("#invest-budget", "10")
    page.fill("#invest-deadline", "8")
    page.fill("#invest-date", "2021-08-20")
    page.fill("#invest-days", "3")
    page.click("#invest-form button[type=submit]")
    page.wait_for_selector("body[data-invest-done]", timeout=120_000)
    investment_id, drawn = str(page.get_attribute("body", "data-invest-done")).split("/")
    answer = _http(f"{api}/investments/{investment_id}", token)
    assert answer["region"] == "hcmc_d5" and answer["budget_vnd"] == 10e9
    assert answer["portfolio"], "three surges on District 5 leave unmet demand to buy against"
    rows = _cells(page, "#invest-table tbody tr")
    # Names beside what is bought, as the API answered them (Vietnamese, with diacritics).
    assert [r[0] for r in rows] == [p["site_name"] for p in answer["portfolio"]]
    assert [r[1] for r in rows] == [p["candidate_name"] for p in answer["portfolio"]]
    assert any("Bệnh viện" in r[0] for r in rows)
    geojson = _http(f"{api}/investments/{investment_id}?format=geojson", token)
    places = {
        (f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])
        for f in geojson["features"]
        if f["properties"]["kind"] == "investment"
    }
    # One marker per chosen site, at its place, every one in the map's view.
    shown = page.evaluate("window.oxyinvest.drawnSites()")
    assert int(drawn) == len(places) == len(shown)
    assert {(round(lat, 6), round(lon, 6)) for lat, lon, _ in shown} == {
        (round(lat, 6), round(lon, 6)) for lat, lon in places
    }
    assert all(in_view for _, _, in_view in shown)
    scenarios = _cells(page, "#invest-scenarios tbody tr")
    assert [s[0] for s in scenarios] == [s["scenario"] for s in answer["scenarios"]]
    status = page.inner_text("#invest-status")
    assert status.startswith("Chi ") and "tỷ đồng; thiếu hụt kỳ vọng" in status
    page.evaluate("document.getElementById('invest-panel').scrollIntoView()")
    screenshot = tmp_path / "webmap-invest.png"
    page.screenshot(path=str(screenshot))
    _keep(screenshot)
    page.click("[data-lang=en]")
    assert "Oxygen investment under scenarios" in page.inner_text("#invest-panel")
    assert page.console_errors == []
