/* oxyroute web map: the live board ("Act first", issue 14): hours to empty now, and live alerts.
 *
 * Loaded after map.js; uses its API client, translations and hooks (window.oxymap).
 * - Status board: GET /api/v1/status (scoped by role: a coordinator's province, a facility
 *   officer's facility), most urgent first as the API sorts it (critical, warning, unknown, ok;
 *   then hours to empty). Each row: the Vietnamese name beside the id, hours to empty in the
 *   reader's number format ("7,5 giờ" / "7.5 h"; unknown is never 0), the report's age, the burn's
 *   basis, what is on its way and its first arrival. A row's click centres the map on the facility
 *   (its position from GET /api/v1/facilities); markers are coloured by level.
 * - Alerts: GET /api/v1/alerts (what is stored), then GET /api/v1/alerts/stream read with fetch()
 *   (EventSource cannot send the Authorization header, and tokens never go in a URL): the body is
 *   split on blank lines, "id:" / "event:" / "data:" / "retry:" lines are read (":" comments
 *   ignored), and at the end of the body the page reconnects after "retry" ms with Last-Event-ID.
 *   Unacknowledged alerts first, most severe then newest first; "Xác nhận / Acknowledge" asks for
 *   a note and POSTs /alerts/{id}/ack (roles with alerts:write).
 */
(function () {
  "use strict";

  var oxymap = window.oxymap;
  var $ = oxymap.$, t = oxymap.t, api = oxymap.api, escapeHtml = oxymap.escapeHtml, number = oxymap.number;
  var TOKEN_KEY = "oxyroute.token";
  var LEVELS = ["critical", "warning", "unknown", "ok"];
  var LEVEL_COLOURS = { critical: "#b2182b", warning: "#ef8a00", unknown: "#8c8c8c", ok: "#1a9850" };
  var ACK_ROLES = ["province_coordinator", "dispatcher", "admin"];  // alerts:write (data/access.py)
  var REFRESH_MS = 60000;
  var SHOWN_ACKNOWLEDGED = 10;

  var ENDPOINTS = {
    status: "/api/v1/status",
    facilities: "/api/v1/facilities?limit=1000",
    alerts: function (since) { return "/api/v1/alerts?limit=1000&since=" + encodeURIComponent(since); },
    stream: function (since) { return "/api/v1/alerts/stream" + (since === null ? "" : "?since=" + encodeURIComponent(since)); },
    ack: function (id) { return "/api/v1/alerts/" + encodeURIComponent(id) + "/ack"; }
  };

  oxymap.addStrings("vi", {
    board_title: "Hành động trước: giờ còn oxy", alerts_title: "Cảnh báo (trực tiếp)",
    level_critical: "nguy cấp", level_warning: "cảnh báo", level_unknown: "chưa rõ", level_ok: "ổn",
    board_counts: "Lúc {at}: {critical} nguy cấp · {warning} cảnh báo · {unknown} chưa rõ · {ok} ổn (ngưỡng: dưới {crit} giờ nguy cấp, dưới {warn} giờ cảnh báo)",
    col_hours: "Còn", col_age: "tuổi số liệu", col_burn_basis: "mức dùng theo", col_on_way: "Đang tới · đến lúc",
    hours: "{h} giờ", empty_now: "đã hết", no_use: "không dùng", hours_unknown: "chưa rõ",
    age_h: "báo cáo {h} giờ trước", age_d: "báo cáo {d} ngày trước", no_report: "chưa có báo cáo",
    burn_declared: "khai báo sử dụng", burn_patients: "bệnh nhân × lưu lượng", burn_unknown: "chưa rõ mức dùng",
    nothing_on_way: "không có chuyến nào", board_empty: "Không có cơ sở nào trong phạm vi của bạn.",
    refresh: "Làm mới", centre_hint: "Bấm vào một dòng để xem cơ sở trên bản đồ.",
    no_position: "Chưa có toạ độ của cơ sở này trong danh mục.",
    stream_open: "Đang nhận cảnh báo trực tiếp.", stream_retry: "Mất kết nối luồng cảnh báo; thử lại sau {s} giây.",
    no_alerts: "Chưa có cảnh báo nào.", acknowledge: "Xác nhận đã xử lý", ack_note: "Ghi chú (bắt buộc): đã làm gì?",
    ack_send: "Gửi xác nhận", ack_cancel: "Huỷ", note_needed: "Hãy ghi chú trước khi xác nhận.",
    acknowledged_by: "Đã xác nhận bởi {by} lúc {at}: {note}", raised_at: "lúc {at}",
    kind_stock_critical: "sắp hết oxy", kind_stock_warning: "oxy dưới 24 giờ", kind_report_missed: "thiếu báo cáo 16:00",
    kind_delivery_late: "chuyến giao trễ", older_acknowledged: "Đã xác nhận gần đây"
  });
  oxymap.addStrings("en", {
    board_title: "Act first: hours of oxygen left", alerts_title: "Alerts (live)",
    level_critical: "critical", level_warning: "warning", level_unknown: "unknown", level_ok: "ok",
    board_counts: "At {at}: {critical} critical · {warning} warning · {unknown} unknown · {ok} ok (critical below {crit} h, warning below {warn} h)",
    col_hours: "Left", col_age: "data age", col_burn_basis: "use from", col_on_way: "On its way · arrives",
    hours: "{h} h", empty_now: "empty now", no_use: "no use", hours_unknown: "unknown",
    age_h: "report {h} h old", age_d: "report {d} d old", no_report: "no report",
    burn_declared: "declared use", burn_patients: "patients × flows", burn_unknown: "use unknown",
    nothing_on_way: "nothing", board_empty: "No facility in your scope.",
    refresh: "Refresh", centre_hint: "Click a row to see the facility on the map.",
    no_position: "The registry has no position for this facility.",
    stream_open: "Receiving alerts live.", stream_retry: "Alert stream lost; retrying in {s} s.",
    no_alerts: "No alert yet.", acknowledge: "Acknowledge", ack_note: "Note (required): what was done?",
    ack_send: "Send", ack_cancel: "Cancel", note_needed: "Write a note before acknowledging.",
    acknowledged_by: "Acknowledged by {by} at {at}: {note}", raised_at: "at {at}",
    kind_stock_critical: "running out", kind_stock_warning: "under 24 h of oxygen", kind_report_missed: "16:00 report missed",
    kind_delivery_late: "delivery late", older_acknowledged: "Recently acknowledged"
  });

  var board = { data: null, error: null, positions: {}, layer: null, timer: null };
  var alerts = { byId: {}, lastId: null, error: null, streaming: false, retryMs: 5000, openAck: null };

  function lang() { return oxymap.state.lang; }

  // "2021-08-20T13:00:00+07:00" -> "13:00 20/08" (local time as the API gives it).
  function localTime(iso) {
    var m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}:[0-9]{2})/.exec(iso || "");
    return m ? m[4] + " " + m[3] + "/" + m[2] : (iso || "–");
  }

  // Alerts carry UTC instants: shown in Asia/Ho_Chi_Minh, as every other time on the page.
  function vnTime(iso) {
    var ms = Date.parse(iso || "");
    if (!isFinite(ms)) { return iso || "–"; }
    return localTime(new Date(ms + 7 * 3600000).toISOString().replace("Z", "+07:00"));
  }

  // ------------------------------------------------------------------ status board

  function hoursText(s) {
    if (s.never_empty) { return t("no_use"); }
    if (s.hours_to_empty === null || s.hours_to_empty === undefined) { return t("hours_unknown"); }
    if (s.hours_to_empty <= 0) { return t("empty_now"); }
    return t("hours", { h: number(s.hours_to_empty, 1) });
  }

  function ageText(s) {
    if (s.report_age_h === null || s.report_age_h === undefined) { return t("no_report"); }
    return s.report_age_h < 48 ? t("age_h", { h: number(s.report_age_h, 0) }) : t("age_d", { d: number(s.report_age_h / 24, 1) });
  }

  function basisText(s) {
    return { "declared use": t("burn_declared"), "patients x flows": t("burn_patients") }[s.burn_basis] || t("burn_unknown");
  }

  function onWayText(s) {
    if (!s.in_transit_m3 && !s.next_arrival) { return t("nothing_on_way"); }
    return number(s.in_transit_m3, 0) + " m³" + (s.next_arrival ? " · " + localTime(s.next_arrival) : "");
  }

  function renderBoard() {
    var box = $("board-list");
    if (board.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(board.error) + "</p>"; return; }
    var data = board.data;
    if (!data) { box.innerHTML = "<p class=\"empty\">" + escapeHtml(t("loading")) + "</p>"; return; }
    var limits = data.thresholds && data.thresholds.default ? data.thresholds.default : {};
    var html = "<p class=\"status\" id=\"board-counts\">" + escapeHtml(t("board_counts", {
      at: localTime(data.at), critical: data.counts.critical, warning: data.counts.warning,
      unknown: data.counts.unknown, ok: data.counts.ok, crit: number(limits.critical_hours, 1),
      warn: number(limits.warning_hours, 1) })) + "</p>";
    // The markers' colours (the map's legend is about plans and layers; the levels are named here).
    html += "<div class=\"level-legend\">" + LEVELS.map(function (level) {
      return "<span><span class=\"swatch\" data-style=\"" + LEVEL_COLOURS[level] + "\"></span>" + escapeHtml(t("level_" + level)) + "</span>";
    }).join("") + "</div>";
    if (!data.statuses.length) { box.innerHTML = html + "<p class=\"empty\">" + escapeHtml(t("board_empty")) + "</p>"; return; }
    // Three columns in the side panel: the facility (its data's age and basis below its name),
    // hours to empty, and what is on its way with its first arrival.
    html += "<p class=\"hint\">" + escapeHtml(t("centre_hint")) + "</p><div class=\"board-scroll\"><table id=\"status-table\"><thead><tr><th>" +
      escapeHtml(t("col_facility")) + " · " + escapeHtml(t("col_age")) + " · " + escapeHtml(t("col_burn_basis")) + "</th><th>" +
      escapeHtml(t("col_hours")) + "</th><th>" + escapeHtml(t("col_on_way")) + "</th></tr></thead><tbody>";
    data.statuses.forEach(function (s) {
      html += "<tr class=\"level-" + escapeHtml(s.level) + "\" data-facility-id=\"" + escapeHtml(s.facility_id) + "\" title=\"" +
        escapeHtml(t("level_" + s.level)) + "\"><td><span class=\"facility-name\">" + escapeHtml(s.name || s.facility_id) +
        "</span> <span class=\"facility-id\">" + escapeHtml(s.facility_id) + "</span><div class=\"row-detail\"><span class=\"age\">" +
        escapeHtml(ageText(s)) + "</span> · <span class=\"basis\">" + escapeHtml(basisText(s)) + "</span></div></td><td class=\"hours\">" +
        escapeHtml(hoursText(s)) + "</td><td class=\"on-way\">" + escapeHtml(onWayText(s)) + "</td></tr>";
    });
    box.innerHTML = html + "</tbody></table></div>";
    oxymap.paintSwatches(box);
    Array.prototype.forEach.call(box.querySelectorAll("tr[data-facility-id]"), function (row) {
      row.addEventListener("click", function () { centre(row.getAttribute("data-facility-id")); });
    });
  }

  function centre(facilityId) {
    var position = board.positions[facilityId];
    $("board-note").textContent = position ? "" : t("no_position");
    if (!position) { return; }
    var map = oxymap.map;
    map.setView([position[1], position[0]], Math.max(map.getZoom(), 15));
    var marker = board.markers && board.markers[facilityId];
    if (marker) { marker.openTooltip(); }
    document.body.setAttribute("data-board-centred", facilityId);
  }

  function drawStatusMarkers() {
    var map = oxymap.map;
    if (board.layer) { map.removeLayer(board.layer); }
    board.layer = L.layerGroup();
    board.markers = {};
    (board.data ? board.data.statuses : []).slice().reverse().forEach(function (s) {  // most urgent on top
      var position = board.positions[s.facility_id];
      if (!position) { return; }
      var marker = L.circleMarker([position[1], position[0]], {
        renderer: oxymap.canvas, radius: 8, weight: 2, color: "#ffffff", fillColor: LEVEL_COLOURS[s.level], fillOpacity: 0.95
      }).bindTooltip("<b>" + escapeHtml(s.name) + "</b> (" + escapeHtml(s.facility_id) + ")<br>" +
        escapeHtml(t("level_" + s.level)) + ": " + escapeHtml(hoursText(s)) + "<br>" + escapeHtml(ageText(s)));
      marker.on("click", function () { centre(s.facility_id); });
      board.markers[s.facility_id] = marker;
      board.layer.addLayer(marker);
    });
    board.layer.addTo(map);
  }

  function loadPositions() {
    return api(ENDPOINTS.facilities).then(function (data) {
      (data.facilities || []).forEach(function (f) {
        if (f.lon !== null && f.lat !== null && f.lon !== undefined) { board.positions[f.facility_id] = [f.lon, f.lat]; }
      });
    }, function () { return null; });  // the board works without positions (no centring)
  }

  function loadBoard() {
    return api(ENDPOINTS.status).then(function (data) {
      board.data = data; board.error = null;
    }, function (error) {
      board.error = oxymap.errorText(error);
    }).then(function () {
      renderBoard();
      drawStatusMarkers();
      document.body.setAttribute("data-board-loaded", board.data ? String(board.data.statuses.length) : "error");
    });
  }

  // ------------------------------------------------------------------ alerts

  var SEVERITY = { critical: 0, warning: 1 };

  function sortedAlerts() {
    var list = Object.keys(alerts.byId).map(function (id) { return alerts.byId[id]; });
    list.sort(function (a, b) {
      return (a.acknowledged ? 1 : 0) - (b.acknowledged ? 1 : 0) ||
        (a.acknowledged ? 0 : (SEVERITY[a.level] === undefined ? 2 : SEVERITY[a.level]) -
          (SEVERITY[b.level] === undefined ? 2 : SEVERITY[b.level])) ||
        String(b.raised_at).localeCompare(String(a.raised_at)) || b.alert_id - a.alert_id;
    });
    return list;
  }

  function alertItem(a, canAck) {
    var message = a.message ? (lang() === "en" ? a.message.en : a.message.vi) : a.kind;
    var html = "<div class=\"alert-item level-" + escapeHtml(a.level) + (a.acknowledged ? " acked" : "") +
      "\" data-alert-id=\"" + a.alert_id + "\"><div class=\"alert-head\"><span class=\"badge level-" + escapeHtml(a.level) +
      "\">" + escapeHtml(t("level_" + a.level)) + "</span> <b>" + escapeHtml(t("kind_" + a.kind)) + "</b> <span class=\"hint\">" +
      escapeHtml(t("raised_at", { at: vnTime(a.raised_at) })) + "</span></div><p class=\"alert-message\">" + escapeHtml(message) + "</p>";
    if (a.acknowledged) {
      html += "<p class=\"hint\">" + escapeHtml(t("acknowledged_by", { by: a.acknowledged.by, at: vnTime(a.acknowledged.at),
        note: a.acknowledged.note })) + "</p>";
    } else if (canAck && alerts.openAck === a.alert_id) {
      html += "<div class=\"buttons ack-form\"><input type=\"text\" class=\"ack-note\" maxlength=\"1000\" placeholder=\"" +
        escapeHtml(t("ack_note")) + "\" aria-label=\"" + escapeHtml(t("ack_note")) + "\"><button type=\"button\" data-ack-send>" +
        escapeHtml(t("ack_send")) + "</button><button type=\"button\" data-ack-cancel>" + escapeHtml(t("ack_cancel")) +
        "</button></div>";
    } else if (canAck) {
      html += "<div class=\"buttons\"><button type=\"button\" data-ack>" + escapeHtml(t("acknowledge")) + "</button></div>";
    }
    return html + "</div>";
  }

  function renderAlerts() {
    var box = $("alerts-list");
    var canAck = ACK_ROLES.indexOf((oxymap.state.me || {}).role) >= 0;
    var list = sortedAlerts();
    var open = list.filter(function (a) { return !a.acknowledged; });
    var done = list.filter(function (a) { return a.acknowledged; }).slice(0, SHOWN_ACKNOWLEDGED);
    var html = alerts.error ? "<p class=\"error\">" + escapeHtml(alerts.error) + "</p>" : "";
    if (!list.length) { html += "<p class=\"empty\">" + escapeHtml(t("no_alerts")) + "</p>"; }
    html += open.map(function (a) { return alertItem(a, canAck); }).join("");
    if (done.length) { html += "<h3>" + escapeHtml(t("older_acknowledged")) + "</h3>" + done.map(function (a) { return alertItem(a, false); }).join(""); }
    box.innerHTML = html;
    $("alerts-status").textContent = alerts.streaming ? t("stream_open") : alerts.retrying ? t("stream_retry", { s: alerts.retryMs / 1000 }) : "";
    Array.prototype.forEach.call(box.querySelectorAll(".alert-item"), function (item) {
      var id = parseInt(item.getAttribute("data-alert-id"), 10);
      var button = item.querySelector("button[data-ack]");
      if (button) { button.addEventListener("click", function () { alerts.openAck = id; renderAlerts(); focusNote(id); }); }
      var cancel = item.querySelector("button[data-ack-cancel]");
      if (cancel) { cancel.addEventListener("click", function () { alerts.openAck = null; renderAlerts(); }); }
      var send = item.querySelector("button[data-ack-send]");
      if (send) { send.addEventListener("click", function () { acknowledge(id, item.querySelector(".ack-note").value); }); }
    });
  }

  function focusNote(id) {
    var input = document.querySelector(".alert-item[data-alert-id=\"" + id + "\"] .ack-note");
    if (input) { input.focus(); }
  }

  function acknowledge(id, note) {
    if (!note || !note.trim()) { alerts.error = t("note_needed"); renderAlerts(); focusNote(id); return Promise.resolve(); }
    return api(ENDPOINTS.ack(id), { note: note.trim() }).then(function (done) {
      alerts.byId[done.alert_id] = done; alerts.error = null; alerts.openAck = null;
      document.body.setAttribute("data-alert-acked", String(done.alert_id));
    }, function (error) {
      alerts.error = oxymap.errorText(error);
      if (error.status === 409) { alerts.openAck = null; return loadAlerts(); }  // someone acknowledged first
      return null;
    }).then(renderAlerts);
  }

  function remember(alert) {
    alerts.byId[alert.alert_id] = alert;
    if (alerts.lastId === null || alert.alert_id > alerts.lastId) { alerts.lastId = alert.alert_id; }
  }

  function loadAlerts() {
    function page(since, left) {
      return api(ENDPOINTS.alerts(since)).then(function (data) {
        data.alerts.forEach(remember);
        return data.alerts.length === 1000 && left > 1 ? page(data.next_since, left - 1) : null;
      });
    }
    return page("0", 5).then(function () { alerts.error = null; }, function (error) {
      alerts.error = oxymap.errorText(error);
    }).then(renderAlerts);
  }

  // One SSE event block ("id: 12\nevent: alert\ndata: {...}") -> the alert, or null.
  function parseEvent(block) {
    var event = { id: null, type: "message", data: [] };
    block.split(/\r?\n/).forEach(function (line) {
      if (!line || line.charAt(0) === ":") { return; }
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") { event.id = value; } else if (field === "event") { event.type = value; }
      else if (field === "data") { event.data.push(value); }
      else if (field === "retry" && /^[0-9]+$/.test(value)) { alerts.retryMs = parseInt(value, 10); }
    });
    if (event.type !== "alert" || !event.data.length) { return null; }
    try { return JSON.parse(event.data.join("\n")); } catch (e) { return null; }
  }

  function received(alert) {
    remember(alert);
    renderAlerts();
    document.body.setAttribute("data-alert-received", String(alert.alert_id));
    if (!board.pending) {  // the board follows the alerts (debounced: a scan raises several at once)
      board.pending = setTimeout(function () { board.pending = null; loadBoard(); }, 1500);
    }
  }

  function openStream() {
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (!token || !window.ReadableStream) { return; }
    var headers = { "Authorization": "Bearer " + token, "Accept": "text/event-stream" };
    if (alerts.lastId !== null) { headers["Last-Event-ID"] = String(alerts.lastId); }
    var since = alerts.lastId === null ? "0" : null;
    fetch(ENDPOINTS.stream(since), { headers: headers, credentials: "omit", cache: "no-store" }).then(function (response) {
      if (!response.ok || !response.body) { throw new Error(String(response.status)); }
      alerts.streaming = true; alerts.retrying = false;
      renderAlerts();
      document.body.setAttribute("data-alerts-stream", "open");
      var reader = response.body.getReader();
      var decoder = new TextDecoder("utf-8");
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { return null; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var blocks = buffer.split(/\r?\n\r?\n/);
          buffer = blocks.pop();
          blocks.forEach(function (block) { var alert = parseEvent(block); if (alert) { received(alert); } });
          return pump();
        });
      }
      return pump();
    }).catch(function () { alerts.retrying = true; return null; }).then(function () {
      // The server ends a stream after a while (25 s by default): reconnect with Last-Event-ID.
      alerts.streaming = false;
      document.body.setAttribute("data-alerts-stream", "closed");
      renderAlerts();
      setTimeout(openStream, alerts.retryMs);
    });
  }

  // ------------------------------------------------------------------ wiring

  oxymap.on("signedIn", function () {
    $("board-panel").hidden = false;
    $("alerts-panel").hidden = false;
    renderBoard();
    loadPositions().then(loadBoard);
    if (board.timer === null) { board.timer = setInterval(loadBoard, REFRESH_MS); }
    loadAlerts().then(openStream);
  });
  oxymap.on("language", function () {
    if (board.data || board.error) { renderBoard(); drawStatusMarkers(); }
    if (oxymap.state.me) { renderAlerts(); }
  });
  $("board-refresh").addEventListener("click", loadBoard);

  oxymap.applyLanguage();  // the headings of this file's panels, now that its strings are in
  window.oxyboard = { markers: function () { return board.markers || {}; },
    position: function (facilityId) { return board.positions[facilityId] || null; },
    statuses: function () { return board.data ? board.data.statuses : []; }, loadBoard: loadBoard, loadAlerts: loadAlerts, acknowledge: acknowledge, parseEvent: parseEvent, centre: centre };
}());
