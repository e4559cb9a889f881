/* oxyroute web map: the planners' investment panel (issue 18, item 3).
 *
 * Loaded after map.js; uses its API client, translations and hooks (window.oxymap).
 * Planners (scenarios:write, data/access.py) give a budget (tỷ đồng), a deadline (weeks), the first
 * day and three weighted surges; "Tính / Run" POSTs /api/v1/investments for the region on the map
 * (the region's default candidates, a 20 s limit per solve) and shows the portfolio (hospital or
 * supplier names beside what is bought, units, capex, capacity) and the unmet demand per scenario
 * before and after; the chosen sites are drawn on the map from the answer's GeoJSON
 * (GET /api/v1/investments/{id}?format=geojson). A refusal (403, 422, 429) is shown as the server
 * says it. body[data-invest-done] holds the id of the last answer (tests wait for it).
 */
(function () {
  "use strict";

  var oxymap = window.oxymap;
  var $ = oxymap.$, t = oxymap.t, api = oxymap.api, escapeHtml = oxymap.escapeHtml, number = oxymap.number;
  var INVEST_ROLES = ["planner"];  // scenarios:write
  var SURGES = [
    { name: "Tăng 1,5 lần / surge x1.5", weight: 0.5, surge_factor: 1.5 },
    { name: "Tăng 2 lần / surge x2", weight: 0.3, surge_factor: 2 },
    { name: "Tăng 3 lần / surge x3", weight: 0.2, surge_factor: 3 }
  ];

  oxymap.addStrings("vi", {
    invest_title: "Đầu tư oxy theo kịch bản", invest_budget: "Ngân sách (tỷ đồng)", invest_deadline: "Hạn lắp đặt (tuần)",
    invest_date: "Ngày đầu", invest_days: "Số ngày", invest_surges: "Kịch bản: tăng 1,5 / 2 / 3 lần số bệnh nhân (trọng số 0,5 / 0,3 / 0,2)",
    invest_run: "Tính danh mục", invest_running: "Đang tính danh mục đầu tư…", invest_none: "Không mua gì: ngân sách hoặc thời hạn không đủ cho phương án nào giúp giảm thiếu hụt.",
    invest_done: "Chi {capex} / {budget} tỷ đồng; thiếu hụt kỳ vọng {before} → {after} m³ (tham lam: {greedy} m³).",
    col_site: "Nơi đặt", col_invest: "Đầu tư", col_units: "Số lượng", col_capex: "Vốn (tỷ đồng)", col_capacity: "+m³/ngày",
    col_scenario: "Kịch bản", col_before: "Thiếu trước (m³)", col_after: "Thiếu sau (m³)", no_region_invest: "Chọn một khu vực trước."
  });
  oxymap.addStrings("en", {
    invest_title: "Oxygen investment under scenarios", invest_budget: "Budget (billion VND)", invest_deadline: "Deadline (weeks)",
    invest_date: "First day", invest_days: "Days", invest_surges: "Scenarios: patients x1.5 / x2 / x3 (weights 0.5 / 0.3 / 0.2)",
    invest_run: "Choose portfolio", invest_running: "Choosing the portfolio…", invest_none: "Nothing bought: no candidate that reduces the shortfall fits the budget and the deadline.",
    invest_done: "Spent {capex} of {budget} billion VND; expected unmet {before} → {after} m³ (greedy: {greedy} m³).",
    col_site: "Site", col_invest: "Investment", col_units: "Units", col_capex: "Capex (bn VND)", col_capacity: "+m³/day",
    col_scenario: "Scenario", col_before: "Unmet before (m³)", col_after: "Unmet after (m³)", no_region_invest: "Choose a region first."
  });

  var invest = { answer: null, message: null, running: false };
  var layer = L.layerGroup().addTo(oxymap.map);

  function form() {
    return "<form id=\"invest-form\" class=\"card-form\" novalidate>" +
      "<label for=\"invest-budget\">" + escapeHtml(t("invest_budget")) + "</label><input id=\"invest-budget\" type=\"number\" min=\"0\" step=\"0.5\" value=\"10\">" +
      "<label for=\"invest-deadline\">" + escapeHtml(t("invest_deadline")) + "</label><input id=\"invest-deadline\" type=\"number\" min=\"0\" step=\"1\" value=\"8\">" +
      "<label for=\"invest-date\">" + escapeHtml(t("invest_date")) + "</label><input id=\"invest-date\" type=\"date\">" +
      "<label for=\"invest-days\">" + escapeHtml(t("invest_days")) + "</label><input id=\"invest-days\" type=\"number\" min=\"1\" max=\"14\" value=\"3\">" +
      "<p class=\"hint\">" + escapeHtml(t("invest_surges")) + "</p>" +
      "<button type=\"submit\">" + escapeHtml(t("invest_run")) + "</button></form>" +
      "<p id=\"invest-status\" class=\"status\" role=\"status\"></p><div id=\"invest-result\"></div>";
  }

  function build() {
    var panel = $("invest-panel");
    var kept = panel.querySelector("#invest-form") ? {
      budget: $("invest-budget").value, deadline: $("invest-deadline").value, date: $("invest-date").value, days: $("invest-days").value
    } : null;
    panel.innerHTML = "<h2>" + escapeHtml(t("invest_title")) + "</h2>" + form();
    if (kept) {
      $("invest-budget").value = kept.budget; $("invest-deadline").value = kept.deadline;
      $("invest-date").value = kept.date; $("invest-days").value = kept.days;
    }
    $("invest-form").addEventListener("submit", function (event) { event.preventDefault(); run(); });
    render();
  }

  function setStatus(message) {
    invest.message = message;
    var line = $("invest-status");
    line.className = message && message.error ? "error" : "status";
    line.textContent = message ? message.text : "";
  }

  function billions(vnd) { return number(vnd / 1e9, 2); }

  function portfolioTable(rows) {
    if (!rows.length) { return "<p class=\"empty\">" + escapeHtml(t("invest_none")) + "</p>"; }
    return "<table id=\"invest-table\"><thead><tr><th>" + [t("col_site"), t("col_invest"), t("col_units"), t("col_capex"), t("col_capacity")]
      .map(escapeHtml).join("</th><th>") + "</th></tr></thead><tbody>" + rows.map(function (r) {
      return "<tr data-candidate-id=\"" + escapeHtml(r.candidate_id) + "\"><td>" + escapeHtml(r.site_name || r.site_id) + "</td><td>" +
        escapeHtml(r.candidate_name || r.kind) + "</td><td>" + escapeHtml(number(r.units)) + "</td><td>" + escapeHtml(billions(r.capex_vnd)) +
        "</td><td>" + escapeHtml(number(r.capacity_m3_per_day)) + "</td></tr>";
    }).join("") + "</tbody></table>";
  }

  function scenarioTable(rows) {
    return "<table id=\"invest-scenarios\"><thead><tr><th>" + [t("col_scenario"), t("col_before"), t("col_after")]
      .map(escapeHtml).join("</th><th>") + "</th></tr></thead><tbody>" + rows.map(function (s) {
      return "<tr><td>" + escapeHtml(s.scenario) + "</td><td>" + escapeHtml(number(s.unmet_m3_before)) + "</td><td>" +
        escapeHtml(number(s.unmet_m3_after)) + "</td></tr>";
    }).join("") + "</tbody></table>";
  }

  function render() {
    var a = invest.answer;
    $("invest-form").querySelector("button").disabled = invest.running;
    if (invest.message) { setStatus(invest.message); }
    if (!a) { $("invest-result").innerHTML = ""; return; }
    setStatus({ text: t("invest_done", {
      capex: billions(a.optimum.capex_vnd), budget: billions(a.budget_vnd), before: number(a.before.expected_unmet_m3),
      after: number(a.optimum.expected_unmet_m3), greedy: number(a.greedy.expected_unmet_m3) }) });
    $("invest-result").innerHTML = portfolioTable(a.portfolio) + scenarioTable(a.scenarios);
  }

  // The chosen sites: one marker per site, its name and what it gets in the tooltip.
  function draw(geojson) {
    layer.clearLayers();
    var sites = {};
    geojson.features.forEach(function (f) {
      if (f.properties.kind !== "investment") { return; }
      var key = f.geometry.coordinates.join(",");
      sites[key] = sites[key] || { lonlat: f.geometry.coordinates, name: f.properties.site_name, items: [] };
      sites[key].items.push(number(f.properties.units) + " × " + f.properties.investment);
    });
    var points = Object.keys(sites).map(function (key) {
      var site = sites[key], point = [site.lonlat[1], site.lonlat[0]];
      L.circleMarker(point, {
        renderer: oxymap.canvas, radius: 11, color: "#1b4f72", weight: 3, fillColor: "#f1c40f", fillOpacity: 0.95
      }).bindTooltip(escapeHtml(site.name) + "<br>" + escapeHtml(site.items.join(", "))).addTo(layer);
      return point;
    });
    // Bring every chosen site into view (a supplier beyond the district's map too).
    if (points.length) { oxymap.map.fitBounds(L.latLngBounds(points), { padding: [40, 40], maxZoom: 16 }); }
    return points.length;
  }

  function run() {
    var region = oxymap.state.region;
    if (!region) { return setStatus({ error: true, text: t("no_region_invest") }); }
    if (!$("invest-date").value) { $("invest-date").value = $("plan-date").value; }
    var body = {
      region: region.region_id, date: $("invest-date").value,
      scenarios: { horizon_days: parseInt($("invest-days").value, 10) || 3, scenarios: SURGES },
      budget_vnd: Number($("invest-budget").value) * 1e9, deadline_weeks: Number($("invest-deadline").value),
      time_limit_s: 20
    };
    invest.running = true; invest.answer = null; layer.clearLayers();
    render(); setStatus({ text: t("invest_running") });
    return api("/api/v1/investments", body).then(function (answer) {
      invest.answer = answer; invest.message = null;
      return api(answer.links.geojson).then(draw);
    }).then(function (drawn) {
      document.body.setAttribute("data-invest-done", invest.answer.investment_id + "/" + drawn);
    }, function (error) {
      invest.answer = null;
      invest.message = { error: true, text: oxymap.errorText(error) };
    }).then(function () { invest.running = false; render(); });
  }

  oxymap.on("signedIn", function (me) {
    if (INVEST_ROLES.indexOf(me.role) < 0) { return; }
    $("invest-panel").hidden = false;
    build();
  });
  oxymap.on("language", function () { if (!$("invest-panel").hidden) { build(); } });

  // The drawn sites as [lat, lon, shown on the map's current view] (the browser test reads them).
  function drawnSites() {
    var view = oxymap.map.getBounds();
    return layer.getLayers().map(function (marker) {
      var at = marker.getLatLng();
      return [at.lat, at.lng, view.contains(at)];
    });
  }

  window.oxyinvest = { run: run, draw: draw, drawnSites: drawnSites };
}());
