/* oxyroute web map: Leaflet, offline base layers drawn from data, API layers and side panels.
 *
 * Everything is fetched from this server. The API token lives in sessionStorage (cleared when the
 * tab closes) and is sent only in the Authorization header, never in a URL.
 * Plans: "run a plan" posts to ENDPOINTS.plans and draws the plan's GeoJSON (showPlan). Scenarios:
 * the scenario panel lists ENDPOINTS.scenarios, runs one and draws the comparison (showComparison).
 * Routes: shown only when the API's OpenAPI document lists /plans/{plan_id}/routes (showRoutes).
 * Shapes are documented in docs/webmap.md; window.oxymap exposes the drawing functions.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "oxyroute.token";
  var LANG_KEY = "oxyroute.lang";

  var MAP_API = "/map/v1";  // webmap.MAP_API_PREFIX: the base layers
  var ENDPOINTS = {
    me: "/api/v1/me",
    regions: MAP_API + "/regions",
    provinces: MAP_API + "/provinces.geojson",
    layer: function (regionId, layer) {
      return MAP_API + "/regions/" + encodeURIComponent(regionId) + "/" + layer + ".geojson";
    },
    complianceDaily: function (provinceCode, date) {
      var query = [];
      if (provinceCode) { query.push("province_code=" + encodeURIComponent(provinceCode)); }
      if (date) { query.push("date_from=" + date, "date_to=" + date); }
      return "/api/v1/compliance/daily" + (query.length ? "?" + query.join("&") : "");
    },
    openapi: "/api/v1/openapi.json",
    plans: "/api/v1/plans",  // POST {region, date, horizon_days}
    plan: function (planId) {
      return "/api/v1/plans/" + encodeURIComponent(planId) + "?format=geojson";
    },
    planJson: function (planId) {  // start_date, horizon_days (and headline/summary if served)
      return "/api/v1/plans/" + encodeURIComponent(planId);
    },
    scenarios: function (regionId) {
      return "/api/v1/scenarios" + (regionId ? "?region=" + encodeURIComponent(regionId) : "");
    },
    scenarioRun: function (scenarioId) {  // POST: base plan + scenario plan + comparison
      return "/api/v1/scenarios/" + encodeURIComponent(scenarioId) + "/run";
    },
    runChanges: function (scenarioId, runId) {  // what changed, as GeoJSON
      return "/api/v1/scenarios/" + encodeURIComponent(scenarioId) + "/runs/" +
        encodeURIComponent(runId) + "?format=geojson";
    },
    // Routes (the dispatch endpoints): used only when the OpenAPI document lists them.
    routes: function (planId) {  // POST {day}
      return "/api/v1/plans/" + encodeURIComponent(planId) + "/routes";
    },
    routesGeojson: function (planId, routesId) {
      return "/api/v1/plans/" + encodeURIComponent(planId) + "/routes/" +
        encodeURIComponent(routesId) + "?format=geojson";
    }
  };
  var ROUTES_PATH = "/plans/{plan_id}/routes";

  var I18N = window.oxyMapStrings;  // web/static/map_strings.js

  // Base map: greys only, so that colour is left to the data (days of supply, suppliers, flows).
  var ROAD_STYLES = {
    motorway: [5, "#5f5f5f"], motorway_link: [2.5, "#6f6f6f"], trunk: [4.5, "#6a6a6a"],
    trunk_link: [2.5, "#7a7a7a"], primary: [3.5, "#808080"], primary_link: [2, "#8c8c8c"],
    secondary: [3, "#939393"], secondary_link: [1.8, "#9c9c9c"], tertiary: [2.3, "#a6a6a6"],
    tertiary_link: [1.5, "#adadad"]
  };
  var MINOR_ROAD = [1.2, "#bdbdbd"];
  var MINOR_MIN_ZOOM = 14;  // residential and service streets only when zoomed in (city view stays light)
  var DOS_BINS = [1, 3, 7];
  var DOS_COLOURS = ["#d7301f", "#fc8d59", "#fee08b", "#1a9850"];
  var NEUTRAL = "#3b6ea5";
  var SUPPLIER = "#6a3d9a";

  var state = {
    lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "vi",
    config: null, me: null, regions: [], region: null,
    layers: {}, counts: {}, plan: null, comparison: null, compliance: null, gasPerTonne: 700,
    scenarios: null, planStatus: null, scenarioStatus: null, routes: null, routesAvailable: false
  };

  function $(id) { return document.getElementById(id); }

  var hooks = { signedIn: [], language: [], planRun: [], region: [] };  // other panels' (report_panels.js) sign-in and language

  function addStrings(lang, strings) { Object.keys(strings).forEach(function (k) { I18N[lang][k] = strings[k]; }); }

  function t(key, values) {
    var text = (I18N[state.lang][key] !== undefined ? I18N[state.lang][key] : I18N.vi[key]) || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function escapeHtml(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function number(value, digits) {
    if (value === null || value === undefined || !isFinite(value)) { return "–"; }
    return Number(value).toLocaleString(state.lang === "vi" ? "vi-VN" : "en-GB",
      { maximumFractionDigits: digits === undefined ? 0 : digits });
  }

  // What each facility's demand stands on (web/static/plan_data.js).
  var plans = window.oxyPlanData({ t: t, number: number, escapeHtml: escapeHtml, state: state, addStrings: addStrings });

  // ------------------------------------------------------------------ API

  // ``details``: the envelope's fields at fault ([{field, reason}]), shown beside a form's fields.
  // ``body``: the whole answer (a 409's ``error.current``: the record as it is now).
  function ApiError(status, message, details, body) {
    this.status = status; this.message = message; this.details = details || []; this.body = body || null;
  }

  // GET by default; with a body, the body is sent as JSON (POST unless a method is given).
  function api(path, body, method) {
    var headers = { "Accept": "application/json, application/geo+json" };
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (token) { headers.Authorization = "Bearer " + token; }
    var init = { headers: headers, credentials: "omit", cache: "no-cache", method: method || "GET" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
      init.method = method || "POST";
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var message = data && data.error ? data.error.message : response.statusText;
          // The envelope's details name the fields at fault: show them (422 on a bad request).
          var details = data && data.error && data.error.details ? data.error.details : [];
          if (details.length) {
            message += ": " + details.map(function (d) {
              return d.field ? d.field + ": " + d.reason : d.reason;
            }).join("; ");
          }
          throw new ApiError(response.status, message, details, data);
        }
        return data;
      });
    });
  }

  function errorText(error, forbiddenKey) {
    return error.status === 403 ? t(forbiddenKey || "forbidden") : error.message;
  }

  // ------------------------------------------------------------------ map

  var map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: true });
  var canvas = L.canvas({ padding: 0.5 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("© OpenStreetMap contributors");
  map.setView([10.78, 106.70], 11);
  map.createPane("outlines").style.zIndex = 350;
  map.createPane("roads").style.zIndex = 360;

  function roadStyle(feature) {
    var style = ROAD_STYLES[feature.properties.road_class] || MINOR_ROAD;
    return { weight: style[0], color: style[1], opacity: 1, lineCap: "round", lineJoin: "round" };
  }

  function daysOfSupplyBin(days) {
    if (days === null || days === undefined || !isFinite(days)) { return -1; }
    for (var i = 0; i < DOS_BINS.length; i++) { if (days < DOS_BINS[i]) { return i; } }
    return DOS_BINS.length;
  }

  function facilityColour(properties) {
    if (!state.plan) { return NEUTRAL; }
    var bin = daysOfSupplyBin(properties.days_of_supply);
    return bin < 0 ? "#9e9e9e" : DOS_COLOURS[bin];
  }

  function supplierRadius(properties) {
    var m3 = properties.capacity_m3_per_day;
    if (m3 === null || m3 === undefined) { return 4; }
    return 4 + 1.1 * Math.sqrt(m3 / 1000);  // area proportional to capacity
  }

  function removeLayer(name) {
    if (state.layers[name]) { map.removeLayer(state.layers[name]); delete state.layers[name]; }
  }

  function updateMinorRoads() {
    var minor = state.layers.roads_minor;
    if (!minor) { return; }
    var show = map.getZoom() >= MINOR_MIN_ZOOM && state.roadsVisible !== false;
    if (show && !map.hasLayer(minor)) { minor.addTo(map); }
    if (!show && map.hasLayer(minor)) { map.removeLayer(minor); }
  }
  map.on("zoomend", updateMinorRoads);

  function drawRoads(collection) {
    removeLayer("roads"); removeLayer("roads_minor");
    var major = { type: "FeatureCollection", features: [] };
    var minor = { type: "FeatureCollection", features: [] };
    collection.features.forEach(function (feature) {
      (ROAD_STYLES[feature.properties.road_class] ? major : minor).features.push(feature);
    });
    var options = { renderer: canvas, pane: "roads", interactive: false, style: roadStyle };
    state.layers.roads = L.geoJSON(major, options).addTo(map);
    state.layers.roads_minor = L.geoJSON(minor, options);
    state.counts.roads = collection.features.reduce(function (n, f) { return n + f.properties.roads; }, 0);
    updateMinorRoads();
  }

  function drawProvinces(collection) {
    removeLayer("provinces");
    state.layers.provinces = L.geoJSON(collection, {
      renderer: canvas, pane: "outlines", interactive: false,
      style: { color: "#4a4a4a", weight: 1.6, fill: false, opacity: 0.9 }
    }).addTo(map);
  }

  function drawDistricts(collection) {
    removeLayer("districts");
    state.layers.districts = L.geoJSON(collection, {
      renderer: canvas, pane: "outlines", interactive: false,
      style: function (feature) {
        return { color: "#7a5c8f", weight: 1.2, fill: false, opacity: 0.9,
                 dashArray: feature.properties.complete ? null : "4 4" };
      }
    }).addTo(map);
  }

  function facilityTooltip(properties) {
    var html = "<b>" + escapeHtml(properties.name || properties.id || properties.facility_id) + "</b>";
    if (state.plan) {
      html += "<br>" + escapeHtml(t("col_dos")) + ": " + number(properties.days_of_supply, 1) +
        "<br>" + escapeHtml(t("col_shortfall")) + ": " + escapeHtml(plans.shortfallText(properties));
      if (properties.demand_basis) {
        html += "<br>" + escapeHtml(t("col_demand_day")) + ": " + escapeHtml(plans.demandPerDayText(properties)) +
          "<br>" + escapeHtml(t("demand_basis")) + ": " + escapeHtml(plans.basisText(properties));
      }
    }
    return html;
  }

  function facilityMarker(feature, latlng) {
    return L.circleMarker(latlng, {
      renderer: canvas, radius: 7, weight: 2, color: "#ffffff",
      fillColor: facilityColour(feature.properties), fillOpacity: 0.95
    }).bindTooltip(facilityTooltip(feature.properties));
  }

  function drawFacilities(collection) {
    removeLayer("facilities");
    state.facilityCollection = collection;
    state.counts.facilities = collection.features.length;
    state.layers.facilities = L.geoJSON(collection, { pointToLayer: facilityMarker }).addTo(map);
  }

  function drawSuppliers(collection) {
    removeLayer("suppliers");
    state.counts.suppliers = collection.features.length;
    state.layers.suppliers = L.geoJSON(collection, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        var capacity = p.capacity_m3_per_day === null ? t("capacity_unknown") :
          t("capacity") + ": " + number(p.capacity_m3_per_day) + " m³" + t("per_day") +
          (p.capacity_lox_t_per_day !== null ? " (" + number(p.capacity_lox_t_per_day, 1) + " t LOX" + t("per_day") + ")" : "") +
          (p.capacity_cylinders_per_day !== null ? " (" + number(p.capacity_cylinders_per_day) + " cyl." + t("per_day") + ")" : "");
        return L.circleMarker(latlng, {
          renderer: canvas, radius: supplierRadius(p), weight: 1.5, color: "#ffffff",
          fillColor: SUPPLIER, fillOpacity: p.capacity_m3_per_day === null ? 0.3 : 0.8
        }).bindTooltip("<b>" + escapeHtml(p.name) + "</b><br>" + escapeHtml(capacity));
      }
    }).addTo(map);
  }

  // ------------------------------------------------------------------ plans (documented in docs/webmap.md)

  function planFeatureKind(feature) {
    var kind = feature.properties && feature.properties.kind;
    if (kind) { return kind; }
    return feature.geometry && feature.geometry.type === "Point" ? "facility" : "flow";
  }

  function planNames(collection) {
    var names = {};
    collection.features.forEach(function (f) {
      var p = f.properties || {};
      if (p.kind === "supplier" && p.supplier_id) { names[p.supplier_id] = p.name; }
      if (planFeatureKind(f) === "facility" && p.facility_id) { names[p.facility_id] = p.name; }
    });
    return names;
  }

  function showPlan(collection) {
    if (state.planInfo && state.planInfo.plan_id !== (collection.plan && collection.plan.plan_id)) {
      state.planInfo = null;  // the first day and horizon of another plan
    }
    state.plan = collection;
    state.planNames = planNames(collection);
    removeLayer("plan_facilities"); removeLayer("flows"); removeLayer("routes"); removeLayer("stops");
    state.routes = null;
    var facilities = collection.features.filter(function (f) { return planFeatureKind(f) === "facility"; });
    var flows = collection.features.filter(function (f) { return planFeatureKind(f) === "flow"; });
    var routes = collection.features.filter(function (f) { return planFeatureKind(f) === "route"; });
    if (state.layers.facilities) { map.removeLayer(state.layers.facilities); }
    var maxFlow = flows.reduce(function (m, f) { return Math.max(m, f.properties.quantity_m3 || 0); }, 0) || 1;
    state.layers.flows = L.geoJSON({ type: "FeatureCollection", features: flows }, {
      renderer: canvas,
      style: function (f) {
        return { color: "#2b8cbe", opacity: 0.8, weight: 1.5 + 5 * (f.properties.quantity_m3 || 0) / maxFlow };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(escapeHtml(state.planNames[p.supplier_id] || p.supplier_id) + " → " +
          escapeHtml(state.planNames[p.facility_id] || p.facility_id) + ": " + number(p.quantity_m3) + " m³" +
          (p.product ? " (" + escapeHtml(p.product) + ")" : ""));
      }
    }).addTo(map);
    if (routes.length) { drawRoutes(routes, []); }
    state.layers.plan_facilities = L.geoJSON({ type: "FeatureCollection", features: facilities },
      { pointToLayer: facilityMarker }).addTo(map);
    if (state.layers.changes) { state.layers.changes.bringToFront(); }
    var planId = (collection.plan && collection.plan.plan_id) || "";
    document.body.setAttribute("data-plan-loaded", planId);
    renderShortfalls();
    renderRoutesPanel();
    renderLegend();
  }

  function clearPlan() {
    state.plan = null; state.routes = null; state.planInfo = null;
    removeLayer("plan_facilities"); removeLayer("flows"); removeLayer("routes"); removeLayer("stops");
    if (state.layers.facilities) { state.layers.facilities.addTo(map); }
    document.body.removeAttribute("data-plan-loaded");
    renderShortfalls();
    renderRoutesPanel();
    renderLegend();
  }

  // Day 0 per facility from the plan's JSON: m³ allocated (flows of day 0) and m³ unmet that day.
  function dayZero(allocation) {
    var out = {};
    function entry(id) { out[id] = out[id] || { delivered_m3: 0, unmet_m3: 0 }; return out[id]; }
    ((allocation || {}).flows || []).forEach(function (f) { if (f.day === 0) { entry(f.facility_id).delivered_m3 += f.quantity_m3; } });
    ((allocation || {}).unmet || []).forEach(function (u) { if (u.day === 0) { entry(u.facility_id).unmet_m3 += u.unmet_m3; } });
    return out;
  }

  // The plan's GeoJSON; its JSON's first day and horizon go to state.planInfo (still drawn without).
  function fetchPlan(planId) {
    return api(ENDPOINTS.plan(planId)).then(function (collection) {
      // GET /plans/{id}?format=geojson carries no plan member: name the plan for the panel.
      collection.plan = collection.plan || { plan_id: planId };
      return api(ENDPOINTS.planJson(planId)).then(function (doc) {
        return { plan_id: planId, start_date: doc.start_date, horizon_days: doc.horizon_days,
                 headline: doc.headline || null, summary: doc.summary || null, day0: dayZero(doc.allocation) };
      }, function () { return null; }).then(function (info) { state.planInfo = info; return collection; });
    });
  }

  function loadPlan(planId) {
    return fetchPlan(planId).then(showPlan, function (error) {
      clearPlan();
      var box = $("shortfall-list");
      box.innerHTML = "<p class=\"empty\">" + escapeHtml(error.status === 404 ? t("plan_not_found") : error.message) + "</p>";
    });
  }

  function setStatus(key, id, status) {
    state[key] = status;
    var box = $(id);
    if (!status) { box.textContent = ""; box.className = "status"; return; }
    box.className = status.error ? "error" : "status";
    box.textContent = status.error ? status.error : t(status.key, status.values);
  }

  function runPlan() {
    if (!state.region) { setStatus("planStatus", "plan-status", { error: t("no_region") }); return Promise.resolve(); }
    var body = { region: state.region.region_id, date: $("plan-date").value,
                 horizon_days: parseInt($("plan-horizon").value, 10) || 7 };
    setStatus("planStatus", "plan-status", { key: "plan_running" });
    $("run-plan-form").querySelector("button").disabled = true;
    return api(ENDPOINTS.plans, body).then(function (answer) {
      return loadPlan(answer.plan_id).then(function () {
        hooks.planRun.forEach(function (hook) { hook(answer); });
        var totals = answer.totals;
        setStatus("planStatus", "plan-status", { key: "plan_totals", values: {
          plan: answer.plan_id.slice(0, 8), days: answer.horizon_days, demand: number(totals.demand_m3),
          delivered: number(totals.delivered_m3), unmet: number(totals.unmet_m3) } });
      });
    }, function (error) {
      setStatus("planStatus", "plan-status", { error: errorText(error, "forbidden_run") });
    }).then(function () { $("run-plan-form").querySelector("button").disabled = false; });
  }

  function renderShortfalls() {
    var box = $("shortfall-list");
    if (!state.plan) {
      box.innerHTML = "<p class=\"empty\">" + escapeHtml(t("no_plan")) + "</p>";
      return plans.renderHeadline([], $("plan-headline-top"));
    }
    var facilities = state.plan.features.filter(function (f) { return planFeatureKind(f) === "facility"; });
    var short = facilities.filter(function (f) {
      return !plans.demandUnknown(f.properties) && (f.properties.shortfall_m3 || 0) > 0;
    });
    short.sort(function (a, b) { return b.properties.shortfall_m3 - a.properties.shortfall_m3; });
    var total = short.reduce(function (s, f) { return s + f.properties.shortfall_m3; }, 0);
    var unknown = facilities.filter(function (f) { return plans.demandUnknown(f.properties); }).length;
    var planId = (state.plan.plan && state.plan.plan.plan_id) || "";
    var html = plans.renderHeadline(facilities, $("plan-headline-top"));
    html += "<p class=\"status\">" + escapeHtml(t("plan_shown", {
      plan: planId, n: facilities.length, short: short.length, total: number(total), unknown: unknown })) + "</p>";
    html += plans.renderDataGaps(facilities);
    if (!short.length) {
      html += "<p class=\"empty\">" + escapeHtml(t("no_shortfall")) + "</p>";
    } else {
      // The shortfall is over the whole plan, the day-0 figures over its first day: both say so.
      var info = state.planInfo || {};
      var day0 = info.day0 || null;
      var heads = [t("col_facility") + " · " + t("col_basis"), info.horizon_days ? t("shortfall_days", { days: info.horizon_days }) :
        t("col_shortfall"), t("col_dos"), t("col_demand_day")].concat(day0 ? [t("day0_delivered"), t("day0_unmet")] : []);
      html += "<h3>" + escapeHtml(t("shortfalls")) + "</h3><table id=\"shortfall-table\"" + (day0 ? " class=\"day0\"" : "") +
        "><thead><tr>" + heads.map(function (h) { return "<th>" + escapeHtml(h) + "</th>"; }).join("") + "</tr></thead><tbody>";
      short.forEach(function (f) {
        var p = f.properties;
        var d0 = day0 ? day0[p.facility_id] || { delivered_m3: 0, unmet_m3: 0 } : null;
        var basis = plans.basisText(p);  // under the name: six numbers need the panel's width
        html += "<tr data-facility-id=\"" + escapeHtml(p.facility_id) + "\"><td><span class=\"facility-name\">" +
          escapeHtml(p.name || p.facility_id) + "</span>" + (basis === "–" ? "" : "<div class=\"row-detail\">" + escapeHtml(basis) + "</div>") +
          "</td>" + [number(p.shortfall_m3), number(p.days_of_supply, 1), plans.demandPerDayText(p)]
          .concat(d0 ? [number(d0.delivered_m3), number(d0.unmet_m3)] : [])
          .map(function (c) { return "<td>" + escapeHtml(c) + "</td>"; }).join("") + "</tr>";
      });
      html += "</tbody></table>";
    }
    box.innerHTML = html;
  }

  // ------------------------------------------------------------------ routes (dispatch endpoints)

  function clockTime(iso) {
    // "2021-08-20T07:34:02+07:00" -> "07:34" (arrivals are local time, Asia/Ho_Chi_Minh)
    var match = /T([0-9]{2}:[0-9]{2})/.exec(iso || "");
    return match ? match[1] : (iso || "–");
  }

  // One colour per vehicle (issue 15: every route was one green dashed line), in the routes' order.
  var ROUTE_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
                       "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#17becf"];

  function vehicleOf(p) { return p.vehicle || p.vehicle_id || ""; }

  function routeColour(vehicle) {
    var order = state.routeVehicles || [];
    var i = order.indexOf(vehicle);
    return ROUTE_COLOURS[(i < 0 ? order.length : i) % ROUTE_COLOURS.length];
  }

  function drawRoutes(routes, stops) {
    removeLayer("routes"); removeLayer("stops");
    state.routeVehicles = [];
    routes.concat(stops).forEach(function (f) {
      var v = vehicleOf(f.properties);
      if (state.routeVehicles.indexOf(v) < 0) { state.routeVehicles.push(v); }
    });
    state.layers.routes = L.geoJSON({ type: "FeatureCollection", features: routes }, {
      renderer: canvas,
      style: function (f) { return { color: routeColour(vehicleOf(f.properties)), weight: 4, opacity: 0.85 }; },
      onEachFeature: function (f, layer) {
        // The vehicle's id as a label on its line, always shown, underlined in its colour; routes
        // from one depot share their middle, so each label is shifted by its vehicle's rank.
        var rank = state.routeVehicles.indexOf(vehicleOf(f.properties));
        layer.bindTooltip(escapeHtml(vehicleOf(f.properties)), { permanent: true, direction: "center",
          className: "route-label", offset: [0, 16 * (rank - (state.routeVehicles.length - 1) / 2)] });
      }
    }).addTo(map);
    state.layers.routes.eachLayer(function (layer) {  // the label underlined in its route's colour
      var element = layer.getTooltip() && layer.getTooltip().getElement();
      if (element) { element.style.borderBottom = "3px solid " + routeColour(vehicleOf(layer.feature.properties)); }
    });
    state.layers.stops = L.geoJSON({ type: "FeatureCollection", features: stops }, {
      pointToLayer: function (f, latlng) {
        var p = f.properties;
        return L.circleMarker(latlng, { renderer: canvas, radius: 5, weight: 1.5, color: "#ffffff",
                                        fillColor: routeColour(vehicleOf(p)), fillOpacity: 1 })
          .bindTooltip(escapeHtml(vehicleOf(p) + " #" + (p.sequence === undefined ? "" : p.sequence)) +
            " " + escapeHtml(p.name || p.facility_id || p.type || "") + "<br>" + escapeHtml(t("col_arrival")) + " " +
            escapeHtml(clockTime(p.arrival)));
      }
    }).addTo(map);
    // The plan's flows (whole horizon) would sit under the day's routes: hidden while routes show.
    if (routes.length && state.layers.flows && map.hasLayer(state.layers.flows)) { map.removeLayer(state.layers.flows); }
  }

  // Deliveries (loads) of the routes, not their steps: a drop step, counted once per load it carries.
  function deliveryCount(stops) {
    var loads = {}, n = 0;
    stops.forEach(function (f) {
      var p = f.properties;
      if (p.type !== "delivery") { return; }
      var ids = p.load_ids || (p.load_id ? [p.load_id] : null);
      if (!ids) { n += 1; return; }
      ids.forEach(function (id) { if (!loads[id]) { loads[id] = true; n += 1; } });
    });
    return n;
  }

  // Draws GET /plans/{id}/routes/{routes_id}?format=geojson: "route" lines, "stop" points with arrival.
  function showRoutes(collection) {
    var routes = collection.features.filter(function (f) { return f.properties.kind === "route"; });
    var stops = collection.features.filter(function (f) { return f.properties.kind === "stop"; });
    state.routes = { routes: routes, stops: stops };
    drawRoutes(routes, stops);
    renderRoutesPanel();
    renderLegend();
  }

  function renderRoutesPanel() {
    var form = $("routes-form");
    form.hidden = !(state.routesAvailable && state.plan);
    var box = $("route-list");
    if (!state.routes) { box.innerHTML = ""; return; }
    var stops = state.routes.stops;
    var html = "<p class=\"status\" id=\"routes-count\">" + escapeHtml(t("routes_shown", { n: state.routes.routes.length,
      deliveries: deliveryCount(stops), stops: stops.length })) + "</p>" +
      (state.layers.flows && !map.hasLayer(state.layers.flows) ? "<p class=\"hint\">" + escapeHtml(t("flows_hidden")) + "</p>" : "") +
      "<table id=\"route-table\"><thead><tr><th>" + escapeHtml(t("col_vehicle")) + "</th><th>" +
      escapeHtml(t("col_stop")) + "</th><th>" + escapeHtml(t("col_arrival")) + "</th></tr></thead><tbody>";
    stops.forEach(function (f) {
      var p = f.properties;
      html += "<tr><td><span class=\"swatch\" data-style=\"" + routeColour(vehicleOf(p)) + "\"></span>" +
        escapeHtml(vehicleOf(p)) + "</td><td>" +
        escapeHtml((p.sequence === undefined ? "" : p.sequence + ". ") + (p.type ? t("step_" + p.type) + " · " : "") +
          (p.name || p.facility_id || "")) +
        "</td><td>" + escapeHtml(clockTime(p.arrival)) + "</td></tr>";
    });
    box.innerHTML = html + "</tbody></table>";
    paintSwatches(box);
  }

  function computeRoutes() {
    var planId = state.plan && state.plan.plan && state.plan.plan.plan_id;
    if (!planId) { return Promise.resolve(); }
    setStatus("routesStatus", "routes-status", { key: "routes_running" });
    return api(ENDPOINTS.routes(planId), { day: parseInt($("routes-day").value, 10) || 0 }).then(function (created) {
      return api(ENDPOINTS.routesGeojson(planId, created.routes_id)).then(function (collection) {
        setStatus("routesStatus", "routes-status", null);
        showRoutes(collection);
        state.routes.routes_id = created.routes_id;
        document.body.setAttribute("data-routes-loaded", created.routes_id);
      });
    }, function (error) {
      setStatus("routesStatus", "routes-status", { error: errorText(error, "forbidden_run") });
    });
  }

  function detectRoutes() {
    // The route endpoints come from another part of the project: use them only when served.
    return api(ENDPOINTS.openapi).then(function (doc) {
      state.routesAvailable = !!(doc && doc.paths && doc.paths[ROUTES_PATH]);
      renderRoutesPanel();
    }, function () { state.routesAvailable = false; });
  }

  // ------------------------------------------------------------------ scenarios

  function loadScenarios() {
    var regionId = state.region ? state.region.region_id : null;
    return api(ENDPOINTS.scenarios(regionId)).then(function (data) {
      state.scenarios = data.scenarios;
    }, function (error) {
      state.scenarios = { error: errorText(error) };
    }).then(renderScenarios);
  }

  function renderScenarios() {
    var box = $("scenario-list");
    var list = state.scenarios;
    if (!list) { box.innerHTML = ""; return; }
    if (list.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(list.error) + "</p>"; return; }
    var html = "<h3>" + escapeHtml(t("scenario_list")) + "</h3>";
    if (!list.length) { box.innerHTML = html + "<p class=\"empty\">" + escapeHtml(t("no_scenarios")) + "</p>"; return; }
    html += "<table id=\"scenario-table\"><thead><tr><th>" + escapeHtml(t("col_name")) + "</th><th>" +
      escapeHtml(t("col_plan_date")) + "</th><th>" + escapeHtml(t("col_version")) + "</th><th>" +
      escapeHtml(t("col_author")) + "</th><th></th></tr></thead><tbody>";
    list.forEach(function (s) {
      html += "<tr><td title=\"" + escapeHtml(s.description || "") + "\">" + escapeHtml(s.name) + "</td><td>" +
        escapeHtml(s.date) + "</td><td>" + escapeHtml(s.version) + "</td><td>" + escapeHtml(s.created_by) +
        "</td><td><button type=\"button\" data-run-scenario=\"" + escapeHtml(s.scenario_id) + "\">" +
        escapeHtml(t("run")) + "</button></td></tr>";
    });
    box.innerHTML = html + "</tbody></table>";
    Array.prototype.forEach.call(box.querySelectorAll("button[data-run-scenario]"), function (button) {
      button.addEventListener("click", function () { runScenario(button.getAttribute("data-run-scenario")); });
    });
  }

  function runScenario(scenarioId) {
    var scenario = (state.scenarios || []).filter(function (s) { return s.scenario_id === scenarioId; })[0] || {};
    setStatus("scenarioStatus", "scenario-status", { key: "scenario_running", values: { name: scenario.name || scenarioId } });
    return api(ENDPOINTS.scenarioRun(scenarioId), {}).then(function (run) {
      return Promise.all([fetchPlan(run.scenario_plan_id), api(ENDPOINTS.runChanges(scenarioId, run.run_id))])
        .then(function (results) {
          var plan = results[0];
          setStatus("scenarioStatus", "scenario-status", null);
          setStatus("planStatus", "plan-status", null);  // the plan shown is now the scenario's
          showPlan(plan);
          showComparison(run, results[1]);
        });
    }, function (error) {
      setStatus("scenarioStatus", "scenario-status", { error: errorText(error, "forbidden_run") });
    });
  }

  // ``run`` is the answer of POST /scenarios/{id}/run (or a bare comparison); ``changes`` the
  // run's GeoJSON (facility_change points, flow_change lines), drawn above the plan.
  function showComparison(run, changes) {
    state.comparison = run;
    removeLayer("changes");
    if (changes && changes.features) {
      state.layers.changes = L.geoJSON(changes, {
        renderer: canvas,
        style: function (f) {
          // L.geoJSON applies this to the rings too, after pointToLayer: style both kinds here.
          var p = f.properties;
          if (p.kind === "facility_change") {
            return { color: p.change_m3 > 0 ? "#d7301f" : "#1a9850", weight: 3, fill: false, opacity: 1 };
          }
          return { color: p.change === "added" ? "#1a9850" : p.change === "removed" ? "#d7301f" : "#ff7f00",
                   weight: 2.5, opacity: 0.9, dashArray: p.change === "removed" ? "5 5" : null };
        },
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          return L.circleMarker(latlng, { renderer: canvas, radius: p.new_facility ? 14 : 12, weight: 3,
                                          color: p.change_m3 > 0 ? "#d7301f" : "#1a9850", fill: false });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          var names = state.planNames || {};
          layer.bindTooltip(p.kind === "facility_change" ?
            "<b>" + escapeHtml(p.name || p.facility_id) + "</b>" + (p.new_facility ? " (" + escapeHtml(t("new_facility")) + ")" : "") +
              "<br>" + escapeHtml(t("unmet_total")) + ": " + number(p.unmet_m3_base) + " → " + number(p.unmet_m3_scenario) +
              "<br>" + escapeHtml(t("col_dos")) + ": " + number(p.days_of_supply_base, 1) + " → " + number(p.days_of_supply_scenario, 1) +
              (p.unmet_reasons_scenario && p.unmet_reasons_scenario.length ? "<br>" + escapeHtml(p.unmet_reasons_scenario.join(", ")) : "") :
            escapeHtml(t("flows_" + p.change)) + ": " + escapeHtml(names[p.supplier_id] || p.supplier_id) + " → " +
              escapeHtml(names[p.facility_id] || p.facility_id) + " " +
              number(p.quantity_m3 !== undefined ? p.quantity_m3 : p.quantity_m3_scenario) + " m³");
        }
      }).addTo(map);
      document.body.setAttribute("data-comparison-loaded", run && run.run_id ? run.run_id : "");
    }
    renderComparison();
    renderLegend();
  }

  function comparisonRow(label, values) {
    values = values || {};
    var change = values.change !== undefined ? values.change : (values.scenario || 0) - (values.base || 0);
    return "<tr><td>" + escapeHtml(label) + "</td><td>" + number(values.base) + "</td><td>" +
      number(values.scenario) + "</td><td>" + (change > 0 ? "+" : "") + number(change) + "</td></tr>";
  }

  function flowRows(rows, key) {
    var names = state.planNames || {};
    var shown = 8;  // per kind; the map and the run's JSON hold them all
    return rows.slice(0, shown).map(function (r) {
      var quantity = r.quantity_m3 !== undefined ? number(r.quantity_m3) :
        number(r.quantity_m3_base) + " → " + number(r.quantity_m3_scenario);
      return "<tr><td>" + escapeHtml(t(key)) + ": " + escapeHtml(names[r.supplier_id] || r.supplier_id) + " → " +
        escapeHtml(names[r.facility_id] || r.facility_id) + "</td><td>" + quantity + "</td></tr>";
    }).join("") + (rows.length > shown ? "<tr><td>" + escapeHtml(t(key)) + ": " +
      escapeHtml(t("more", { n: rows.length - shown })) + "</td><td></td></tr>" : "");
  }

  function renderComparison() {
    var box = $("scenario-comparison");
    var run = state.comparison;
    if (!run) { box.innerHTML = "<p class=\"empty\">" + escapeHtml(t("no_comparison")) + "</p>"; return; }
    var c = run.comparison || run;
    var totals = c.totals || {};
    var html = "";
    if (run.run_id) {
      html += "<p class=\"status\">" + escapeHtml(t("run_shown", { name: run.name, version: run.version,
        user: run.created_by, at: run.created_at })) + "</p>";
    }
    html += "<table id=\"comparison-totals\"><thead><tr><th></th><th>" + escapeHtml(t("col_base")) + "</th><th>" +
      escapeHtml(t("col_scenario")) + "</th><th>" + escapeHtml(t("col_change")) + "</th></tr></thead><tbody>" +
      (totals.demand_m3 ? comparisonRow(t("demand_total"), totals.demand_m3) : "") +
      (totals.delivered_m3 ? comparisonRow(t("delivered_total"), totals.delivered_m3) : "") +
      comparisonRow(t("unmet_total"), totals.unmet_m3) + "</tbody></table>";
    var facilities = c.facilities || [];
    html += "<h3>" + escapeHtml(t("facilities_changed")) + "</h3>";
    if (!facilities.length) {
      html += "<p class=\"empty\">" + escapeHtml(t("no_facility_change")) + "</p>";
    } else {
      html += "<table id=\"comparison-facilities\"><thead><tr><th>" + escapeHtml(t("col_facility")) + "</th><th>" +
        escapeHtml(t("col_base")) + "</th><th>" + escapeHtml(t("col_scenario")) + "</th><th>" +
        escapeHtml(t("col_change")) + "</th></tr></thead><tbody>";
      facilities.forEach(function (f) {
        html += comparisonRow(f.name || f.facility_id, { base: f.unmet_m3_base, scenario: f.unmet_m3_scenario,
                                                        change: f.change_m3 });
      });
      html += "</tbody></table>";
    }
    var added = c.flows_added || [], removed = c.flows_removed || [], changed = c.flows_changed || [];
    html += "<p class=\"status\" id=\"flow-counts\">" + escapeHtml(t("flows_added")) + ": " + added.length + " · " +
      escapeHtml(t("flows_removed")) + ": " + removed.length + " · " +
      escapeHtml(t("flows_changed")) + ": " + changed.length + "</p>";
    if (added.length + removed.length + changed.length) {
      html += "<table id=\"comparison-flows\"><thead><tr><th>" + escapeHtml(t("col_flow")) + "</th><th>" +
        escapeHtml(t("col_quantity")) + "</th></tr></thead><tbody>" + flowRows(added, "flows_added") +
        flowRows(removed, "flows_removed") + flowRows(changed, "flows_changed") + "</tbody></table>";
    }
    if (run.base_plan_id) {
      html += "<div class=\"buttons\"><button type=\"button\" id=\"show-base\">" + escapeHtml(t("show_base")) +
        "</button><button type=\"button\" id=\"show-scenario\">" + escapeHtml(t("show_scenario")) + "</button></div>";
    }
    box.innerHTML = html;
    if (run.base_plan_id) {
      $("show-base").addEventListener("click", function () { loadPlan(run.base_plan_id); });
      $("show-scenario").addEventListener("click", function () { loadPlan(run.scenario_plan_id); });
    }
  }

  function clearComparison() {
    state.comparison = null;
    removeLayer("changes");
    document.body.removeAttribute("data-comparison-loaded");
    renderComparison();
    renderLegend();
  }

  // ------------------------------------------------------------------ legend and panels

  function legendRow(swatchClass, label, layerName, style) {
    var checkbox = layerName ? "<input type=\"checkbox\" data-layer=\"" + layerName + "\"" +
      (state.layers[layerName] && map.hasLayer(state.layers[layerName]) ? " checked" : "") + ">" : "";
    return "<div class=\"legend-row" + (layerName ? "" : " legend-sub") + "\"><label>" + checkbox + "<span class=\"swatch " + swatchClass + "\"" +
      (style ? " data-style=\"" + style + "\"" : "") + "></span>" + escapeHtml(label) + "</label></div>";
  }

  // Colours are set here, not in style attributes: the page's Content-Security-Policy forbids those.
  function paintSwatches(box) {
    Array.prototype.forEach.call(box.querySelectorAll("[data-style]"), function (el) {
      el.style.background = el.getAttribute("data-style");
    });
  }

  function renderLegend() {
    var html = legendRow("line", t("roads"), "roads", "#808080") +
      legendRow("line", t("provinces"), "provinces", "#4a4a4a") +
      legendRow("line", t("districts"), "districts", "#7a5c8f") +
      "<div class=\"legend-note\">" + escapeHtml(t("districts_note")) + "</div>";
    if (state.plan) {
      html += legendRow("", t("days_of_supply"), "plan_facilities") +
        DOS_COLOURS.map(function (_, i) { return legendRow("dos-" + i, t("dos_" + i)); }).join("") +
        legendRow("dos-none", t("dos_none")) + legendRow("line", t("flows"), "flows", "#2b8cbe");
      if (state.layers.routes && state.layers.routes.getLayers().length) {
        html += legendRow("line", t("routes"), "routes", "#555555") + (state.routeVehicles || []).map(function (v) {
          return legendRow("line", v, null, routeColour(v));
        }).join("");
      }
    } else {
      html += legendRow("neutral", t("facilities"), "facilities") +
        "<div class=\"legend-note\">" + escapeHtml(t("facilities_neutral")) + "</div>";
    }
    if (state.layers.changes) {
      html += legendRow("ring-worse", t("changes"), "changes") + legendRow("ring-worse", t("worse")) +
        legendRow("ring-better", t("better")) + legendRow("line", t("flows_added"), null, "#1a9850") +
        legendRow("line dashed-red", t("flows_removed")) + legendRow("line", t("flows_changed"), null, "#ff7f00");
    }
    html += legendRow("supplier", t("suppliers"), "suppliers") +
      "<div class=\"legend-note\">" + escapeHtml(t("suppliers_note", { m3_per_t: state.gasPerTonne })) + "</div>";
    var legend = $("legend");
    legend.innerHTML = html;
    paintSwatches(legend);
    Array.prototype.forEach.call(legend.querySelectorAll("input[data-layer]"), function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-layer");
        var layer = state.layers[name];
        if (name === "roads") { state.roadsVisible = box.checked; updateMinorRoads(); }
        if (!layer) { return; }
        if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
      });
    });
  }

  function renderCompliance() {
    var box = $("compliance-table");
    var data = state.compliance;
    if (!data) { box.innerHTML = ""; return; }
    if (data.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(data.error) + "</p>"; return; }
    var cols = ["col_date", "col_province", "col_expected", "col_on_time", "col_late", "col_missing", "col_pending", "col_rate"];
    var html = "<p class=\"status\">" + escapeHtml(t("deadline", { deadline: data.deadline_local })) + "</p>";
    if (!data.rows.length) { box.innerHTML = html + "<p class=\"empty\">" + escapeHtml(t("no_rows")) + "</p>"; return; }
    html += "<table id=\"compliance-rows\"><thead><tr>" + cols.map(function (c) { return "<th>" + escapeHtml(t(c)) + "</th>"; }).join("") +
      "</tr></thead><tbody>";
    data.rows.forEach(function (r) {
      html += "<tr><td>" + escapeHtml(r.report_date) + "</td><td>" + escapeHtml(r.province_code) + "</td><td>" +
        r.expected_reports + "</td><td>" + r.actual_reports_on_time + "</td><td>" + r.late_reports + "</td><td>" +
        r.missing_reports + "</td><td>" + r.pending_reports + "</td><td>" +
        (r.reporting_rate === null ? "–" : number(r.reporting_rate, 1) + " %") + "</td></tr>";
    });
    box.innerHTML = html + "</tbody></table>";
  }

  function loadCompliance() {
    var date = $("compliance-date").value || null;
    var province = state.region ? state.region.province_code : null;
    return api(ENDPOINTS.complianceDaily(province, date)).then(function (data) {
      state.compliance = data;
      // The plan starts on the report day shown (the server's today unless one was chosen).
      if (!$("plan-date").value && data.rows && data.rows.length) { $("plan-date").value = data.rows[0].report_date; }
    }, function (error) {
      state.compliance = { error: error.status === 403 ? t("forbidden") : error.message };
    }).then(renderCompliance);
  }

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    document.title = t("title");
    Array.prototype.forEach.call(document.querySelectorAll("[data-lang]"), function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === state.lang));
    });
    if (state.me) { $("who").textContent = t("signed_in", { user: state.me.username, role: state.me.role }); }
    renderLegend(); renderCompliance(); renderShortfalls(); renderComparison(); renderRegionStatus();
    renderScenarios(); renderRoutesPanel();
    hooks.language.forEach(function (hook) { hook(); });
    [["planStatus", "plan-status"], ["scenarioStatus", "scenario-status"], ["routesStatus", "routes-status"]]
      .forEach(function (pair) { if (state[pair[0]]) { setStatus(pair[0], pair[1], state[pair[0]]); } });
  }

  function renderRegionStatus() {
    if (!state.region) { return; }
    $("region-status").textContent = state.loading ? t("loading") : t("loaded", {
      roads: number(state.counts.roads), facilities: number(state.counts.facilities),
      suppliers: number(state.counts.suppliers) });
  }

  // ------------------------------------------------------------------ region loading

  function loadLayer(path, draw, name) {
    return api(path).then(draw, function (error) {
      var status = $("region-status");
      status.textContent = t("layer_failed", { layer: name, message: error.message });
      throw error;
    });
  }

  function loadRegion(regionId) {
    var region = state.regions.filter(function (r) { return r.region_id === regionId; })[0];
    if (!region) { return Promise.resolve(); }
    if (state.region && state.region.region_id !== region.region_id) { clearPlan(); clearComparison(); }
    state.region = region; state.loading = true; state.counts = {};
    renderRegionStatus();
    var b = region.bbox;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [10, 10] });
    var jobs = [loadLayer(ENDPOINTS.provinces, drawProvinces, "provinces")];
    var draws = { roads: drawRoads, districts: drawDistricts, facilities: drawFacilities, suppliers: drawSuppliers };
    region.layers.forEach(function (name) {
      if (draws[name]) { jobs.push(loadLayer(ENDPOINTS.layer(region.region_id, name), draws[name], name)); }
    });
    return Promise.all(jobs.map(function (job) { return job.catch(function (e) { return e; }); })).then(function (results) {
      state.loading = false;
      if (!results.some(function (r) { return r instanceof ApiError; })) { renderRegionStatus(); }
      renderLegend();
      document.body.setAttribute("data-region-loaded", region.region_id);
      hooks.region.forEach(function (hook) { hook(region); });
      return state.me && state.me.role === "facility_reporter" ? null : Promise.all([loadCompliance(), loadScenarios()]);
    });
  }

  function showSignedIn() {
    $("login-panel").hidden = true;
    $("logout").hidden = false;
    // A facility officer reports for its facility (web/static/report_panels.js); plans are not its work.
    var panels = state.me.role === "facility_reporter" ? ["region-panel"] :
      ["region-panel", "plan-panel", "compliance-panel", "shortfall-panel", "scenario-panel"];
    panels.forEach(function (id) { $(id).hidden = false; });
    hooks.signedIn.forEach(function (hook) { hook(state.me); });
    $("who").textContent = t("signed_in", { user: state.me.username, role: state.me.role });
    detectRoutes();
    return api(ENDPOINTS.regions).then(function (data) {
      state.regions = data.regions;
      var select = $("region-select");
      select.innerHTML = "";
      state.regions.forEach(function (r) {
        var option = document.createElement("option");
        option.value = r.region_id; option.textContent = r.name;
        select.appendChild(option);
      });
      if (!state.regions.length) { $("region-status").textContent = t("no_regions"); return null; }
      return loadRegion(state.regions[0].region_id);
    });
  }

  function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    return api(ENDPOINTS.me).then(function (me) {
      state.me = me;
      $("login-error").textContent = "";
      return showSignedIn();
    }, function (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("login-error").textContent = error.status === 401 || error.status === 429 ? t("login_failed") : error.message;
    });
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    window.location.reload();
  }

  // ------------------------------------------------------------------ start

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("token");
    var token = input.value.trim();
    input.value = "";
    if (token) { signIn(token); }
  });
  $("logout").addEventListener("click", signOut);
  $("region-select").addEventListener("change", function (event) { loadRegion(event.target.value); });
  $("compliance-form").addEventListener("submit", function (event) { event.preventDefault(); loadCompliance(); });
  $("run-plan-form").addEventListener("submit", function (event) { event.preventDefault(); runPlan(); });
  $("routes-form").addEventListener("submit", function (event) { event.preventDefault(); computeRoutes(); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-lang]"), function (button) {
    button.addEventListener("click", function () {
      state.lang = button.getAttribute("data-lang");
      localStorage.setItem(LANG_KEY, state.lang);
      applyLanguage();
    });
  });

  applyLanguage();
  fetch("/webmap/config.json", { credentials: "omit" }).then(function (r) { return r.json(); }).then(function (config) {
    state.config = config;
    state.gasPerTonne = config.gas_m3_per_lox_t;
    renderLegend();
    config.attribution.forEach(function (text) { map.attributionControl.addAttribution(escapeHtml(text)); });
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: escapeHtml(config.tile_attribution || ""), maxZoom: 19 }).addTo(map);
    }
  }).then(function () {
    // A token kept from earlier in this tab (a reload) signs in again.
    if (sessionStorage.getItem(TOKEN_KEY)) { signIn(sessionStorage.getItem(TOKEN_KEY)); }
  });

  window.oxymap = {
    api: api, escapeHtml: escapeHtml, number: number, addStrings: addStrings, $: $,
    on: function (name, hook) { hooks[name].push(hook); }, applyLanguage: applyLanguage,
    map: map, canvas: canvas, state: state, endpoints: ENDPOINTS, paintSwatches: paintSwatches, errorText: errorText, showPlan: showPlan, clearPlan: clearPlan,
    loadPlan: loadPlan, runPlan: runPlan, showComparison: showComparison, clearComparison: clearComparison,
    loadScenarios: loadScenarios, runScenario: runScenario, showRoutes: showRoutes, loadRegion: loadRegion, t: t
  };
}());
