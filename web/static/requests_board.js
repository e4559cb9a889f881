/* oxyroute web map: the board of urgent requests (SOS, issue 14 part 3).
 *
 * Loaded after map.js; uses its API client, translations and hooks (window.oxymap).
 * GET /api/v1/requests (scoped by role) gives the requests and the board's columns; the page
 * shows requested, approved, sourced, dispatched and delivered side by side (rejected and
 * cancelled are counted below). A card: the facility's Vietnamese name, product and quantity
 * (approved beside requested when they differ), needed by (local time), the reason, the chosen
 * vehicle and ETA; and the actions the user's role may take (data/access.py):
 *   approve (quantity + reason), reject (reason): requests:decide (province officers, admins);
 *   options, then choose one, and dispatch: requests:dispatch (also dispatchers);
 *   cancel: requests:write (the filing side).
 * Every change sends the version the card was drawn from (compare-and-set); a 409 shows the
 * server's message and the request as it is now, and the board is read again.
 */
(function () {
  "use strict";

  var oxymap = window.oxymap;
  var $ = oxymap.$, t = oxymap.t, api = oxymap.api, escapeHtml = oxymap.escapeHtml, number = oxymap.number;
  var COLUMNS = ["requested", "approved", "sourced", "dispatched", "delivered"];
  var CAN = {
    decide: ["province_coordinator", "admin"],
    dispatch: ["province_coordinator", "dispatcher", "admin"],
    write: ["facility_reporter", "province_coordinator", "admin"]
  };

  var ENDPOINTS = {
    list: "/api/v1/requests",
    suppliers: "/api/v1/suppliers?limit=1000",
    action: function (id, action, region) {
      return "/api/v1/requests/" + encodeURIComponent(id) + "/" + action + (region ? "?region=" + encodeURIComponent(region) : "");
    },
    options: function (id, region) {
      return "/api/v1/requests/" + encodeURIComponent(id) + "/options" + (region ? "?region=" + encodeURIComponent(region) : "");
    }
  };

  oxymap.addStrings("vi", {
    requests_title: "Yêu cầu khẩn (SOS)", no_requests: "Không có yêu cầu khẩn nào.",
    liquid_kg: "Oxy lỏng {q} kg", cylinders_n: "{q} bình 40 L", approved_q: "duyệt: {q}",
    needed_by: "Cần trước {at}", eta: "Xe {vehicle} từ {supplier}, đến {at}",
    approve: "Duyệt", reject: "Từ chối", cancel_request: "Huỷ yêu cầu", options: "Phương án nguồn", dispatch: "Xuất phát",
    quantity_kg: "Số lượng duyệt (kg oxy lỏng)", quantity_cyl: "Số bình duyệt", reason: "Lý do",
    reason_if_changed: "Lý do (bắt buộc nếu đổi số lượng)", reason_required: "Lý do (bắt buộc)",
    confirm: "Xác nhận", close: "Đóng", reason_missing: "Hãy nhập lý do.",
    quantity_bad: "Số lượng không đọc được: {text}", conflict: "Yêu cầu đã thay đổi: {message}. Hiện tại: {state} (bản {version}).",
    option_trip: "Chuyến mới", option_insert: "Chèn vào tuyến",
    option_line: "{kind}: xe {vehicle} từ {supplier}, đến {at}", option_on_time: "kịp (dư {m} phút)",
    option_late: "trễ {m} phút", option_delays: "làm chậm {n} điểm sau ({d} phút)", choose: "Chọn",
    no_options: "Không có phương án nào.", options_for: "Phương án nguồn cho yêu cầu #{id}: {name}, {q}", computing: "Đang tính phương án trên mạng đường…",
    others: "Từ chối: {rejected} · Đã huỷ: {cancelled}", done_action: "Yêu cầu #{id}: {state}.",
    file_request: "Gửi yêu cầu khẩn", file_for: "Cơ sở", product: "Loại", product_cylinders: "Bình 40 L",
    product_liquid: "Oxy lỏng (kg)", quantity: "Số lượng (bình, hoặc kg oxy lỏng)", needed_by_local: "Cần trước (giờ Việt Nam)",
    contact_name: "Người liên hệ", contact_phone: "Điện thoại", send_request: "Gửi yêu cầu",
    filed: "Đã gửi yêu cầu #{id} cho {name}.", fields_missing: "Hãy điền: {fields}."
  });
  oxymap.addStrings("en", {
    requests_title: "Urgent requests (SOS)", no_requests: "No urgent request.",
    liquid_kg: "Liquid oxygen {q} kg", cylinders_n: "{q} cylinders of 40 L", approved_q: "approved: {q}",
    needed_by: "Needed by {at}", eta: "Vehicle {vehicle} from {supplier}, arrives {at}",
    approve: "Approve", reject: "Reject", cancel_request: "Cancel request", options: "Sourcing options", dispatch: "Dispatch",
    quantity_kg: "Approved quantity (kg of liquid)", quantity_cyl: "Approved cylinders", reason: "Reason",
    reason_if_changed: "Reason (required if the quantity changes)", reason_required: "Reason (required)",
    confirm: "Confirm", close: "Close", reason_missing: "Write a reason.",
    quantity_bad: "Quantity not readable: {text}", conflict: "The request changed: {message}. Now: {state} (version {version}).",
    option_trip: "New trip", option_insert: "Insert into a route",
    option_line: "{kind}: vehicle {vehicle} from {supplier}, arrives {at}", option_on_time: "in time ({m} min to spare)",
    option_late: "{m} min late", option_delays: "delays {n} later stops ({d} min)", choose: "Choose",
    no_options: "No option.", options_for: "Sourcing options for request #{id}: {name}, {q}", computing: "Computing options on the roads…",
    others: "Rejected: {rejected} · Cancelled: {cancelled}", done_action: "Request #{id}: {state}.",
    file_request: "File an urgent request", file_for: "Facility", product: "Product", product_cylinders: "40 L cylinders",
    product_liquid: "Liquid oxygen (kg)", quantity: "Quantity (cylinders, or kg of liquid)", needed_by_local: "Needed by (Viet Nam time)",
    contact_name: "Contact", contact_phone: "Phone", send_request: "Send request",
    filed: "Request #{id} filed for {name}.", fields_missing: "Fill in: {fields}."
  });

  var board = { data: null, error: null, message: null, open: null, options: {}, suppliers: {} };

  function role() { return (oxymap.state.me || {}).role; }
  function may(what) { return CAN[what].indexOf(role()) >= 0; }
  function en() { return oxymap.state.lang === "en"; }

  function localTime(iso) {
    var m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}:[0-9]{2})/.exec(iso || "");
    return m ? m[4] + " " + m[3] + "/" + m[2] : (iso || "–");
  }

  function vnTime(iso) {
    var ms = Date.parse(iso || "");
    return isFinite(ms) ? localTime(new Date(ms + 7 * 3600000).toISOString()) : (iso || "–");
  }

  function quantityText(r) {
    var liquid = r.product === "liquid";
    var asked = liquid ? r.requested_liquid_kg : r.requested_cylinders;
    var approved = liquid ? r.approved_liquid_kg : r.approved_cylinders;
    var text = t(liquid ? "liquid_kg" : "cylinders_n", { q: number(asked, 1) });
    if (approved !== null && approved !== undefined && approved !== asked) { text += " → " + t("approved_q", { q: number(approved, 1) }); }
    return text;
  }

  function stateLabel(r) { return en() ? r.state_label_en : r.state_label_vi; }

  function actionsFor(r) {
    var out = [];
    if (r.state === "requested" && may("decide")) { out.push("approve", "reject"); }
    if (r.state === "approved" && may("dispatch")) { out.push("options"); }
    if (r.state === "sourced" && may("dispatch")) { out.push("dispatch"); }
    if (["requested", "approved", "sourced"].indexOf(r.state) >= 0 && may("write")) { out.push("cancel"); }
    return out;
  }

  function formHtml(r) {
    var open = board.open;
    if (!open || open.id !== r.request_id || open.action === "options") { return ""; }
    var html = "<div class=\"card-form\" data-form=\"" + open.action + "\">";
    if (open.action === "approve") {
      var asked = r.product === "liquid" ? r.requested_liquid_kg : r.requested_cylinders;
      html += "<label>" + escapeHtml(t(r.product === "liquid" ? "quantity_kg" : "quantity_cyl")) +
        "<input type=\"text\" class=\"card-quantity\" value=\"" + escapeHtml(number(asked, 1)) + "\"></label>";
    }
    html += "<label>" + escapeHtml(t(open.action === "approve" ? "reason_if_changed" : open.action === "reject" ? "reason_required" : "reason")) +
      "<input type=\"text\" class=\"card-reason\" maxlength=\"1000\"></label><div class=\"buttons\"><button type=\"button\" data-confirm>" +
      escapeHtml(t("confirm")) + "</button><button type=\"button\" data-close>" + escapeHtml(t("close")) + "</button></div></div>";
    return html;
  }

  // The options of the request whose "options" was clicked, below the board at its full width.
  function optionsHtml(r) {
    var answer = board.options[r.request_id];
    var html = "<div class=\"request-options\" data-request-id=\"" + r.request_id + "\"><h3>" + escapeHtml(t("options_for", {
      id: r.request_id, name: r.facility_name, q: quantityText(r) })) + "</h3>";
    if (!answer) { return html + "<p class=\"hint\">" + escapeHtml(t("computing")) + "</p></div>"; }
    if (answer.error) { return html + "<p class=\"error\">" + escapeHtml(answer.error) + "</p></div>"; }
    if (!answer.options.length) { return html + "<p class=\"empty\">" + escapeHtml(t("no_options")) + "</p></div>"; }
    return html + "<ol class=\"options\">" + answer.options.map(function (o) {
      var timing = o.meets_needed_by ? t("option_on_time", { m: number(o.margin_min, 0) }) : t("option_late", { m: number(-o.margin_min, 0) });
      var delays = o.delays && o.delays.length ? "; " + t("option_delays", { n: o.delays.length, d: number(o.detour_min, 0) }) : "";
      return "<li" + (o.meets_needed_by ? "" : " class=\"late\"") + ">" + escapeHtml(t("option_line", {
        kind: t(o.kind === "insertion" ? "option_insert" : "option_trip"), vehicle: o.vehicle_id, supplier: o.supplier_name || supplierName(o.supplier_id),
        at: vnTime(o.eta) })) + " (" + escapeHtml(timing + delays) + ") <button type=\"button\" data-option=\"" +
        escapeHtml(o.option_id) + "\">" + escapeHtml(t("choose")) + "</button></li>";
    }).join("") + "</ol><div class=\"buttons\"><button type=\"button\" data-close-options>" + escapeHtml(t("close")) + "</button></div></div>";
  }

  function supplierName(id) { return board.suppliers[id] || id; }

  function loadSuppliers() {
    return api(ENDPOINTS.suppliers).then(function (data) {
      (data.suppliers || []).forEach(function (s) { board.suppliers[s.supplier_id] = s.name; });
    }, function () { return null; });  // ids stand in for names
  }

  function cardHtml(r) {
    var sourcing = r.sourcing ? "<p class=\"card-line\">" + escapeHtml(t("eta", { vehicle: r.sourcing.vehicle_id,
      supplier: supplierName(r.sourcing.supplier_id), at: vnTime(r.sourcing.eta) })) + "</p>" : "";
    return "<div class=\"request-card\" data-request-id=\"" + r.request_id + "\" data-state=\"" + escapeHtml(r.state) +
      "\"><p class=\"card-name\"><b>" + escapeHtml(r.facility_name) + "</b> <span class=\"facility-id\">" +
      escapeHtml(r.facility_id) + "</span></p><p class=\"card-line\">" + escapeHtml(quantityText(r)) + "</p><p class=\"card-line\">" +
      escapeHtml(t("needed_by", { at: localTime(r.needed_by_local) })) + "</p><p class=\"card-line hint\">" + escapeHtml(r.reason) +
      (r.decision_reason ? " — " + escapeHtml(r.decision_reason) : "") + "</p>" + sourcing +
      "<div class=\"buttons card-actions\">" + actionsFor(r).map(function (a) {
        return "<button type=\"button\" data-action=\"" + a + "\">" + escapeHtml(t(a === "cancel" ? "cancel_request" : a)) + "</button>";
      }).join("") + "</div>" + formHtml(r) + "</div>";
  }

  function render() {
    var box = $("requests-board");
    if (board.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(board.error) + "</p>"; return; }
    if (!board.data) { box.innerHTML = ""; return; }
    var byId = {};
    board.data.requests.forEach(function (r) { byId[r.request_id] = r; });
    var columns = {};
    board.data.board.forEach(function (c) { columns[c.state] = c; });
    var html = "<p class=\"" + (board.message && board.message.error ? "error" : "status") + "\" id=\"requests-message\" role=\"status\">" +
      (board.message ? escapeHtml(board.message.text) : "") + "</p>";
    if (may("write")) { html += fileFormHtml(); }
    if (!board.data.requests.length) { html += "<p class=\"empty\">" + escapeHtml(t("no_requests")) + "</p>"; }
    html += "<div class=\"kanban\">" + COLUMNS.map(function (state) {
      var column = columns[state] || { request_ids: [], count: 0, label_vi: state, label_en: state };
      return "<div class=\"kanban-column\" data-column=\"" + state + "\"><h3>" + escapeHtml(en() ? column.label_en : column.label_vi) +
        " (" + column.count + ")</h3>" + column.request_ids.map(function (id) { return byId[id] ? cardHtml(byId[id]) : ""; }).join("") + "</div>";
    }).join("") + "</div>";
    if (board.open && board.open.action === "options" && byId[board.open.id]) { html += optionsHtml(byId[board.open.id]); }
    var rejected = (columns.rejected || {}).count || 0, cancelled = (columns.cancelled || {}).count || 0;
    html += "<p class=\"hint\">" + escapeHtml(t("others", { rejected: rejected, cancelled: cancelled })) + "</p>";
    box.innerHTML = html;
    wire(box, byId);
  }

  // ------------------------------------------------------------------ filing (requests:write)

  // The facilities one may file for: a facility officer its own, others those of the status board.
  function fileFacilities() {
    var me = oxymap.state.me || {};
    var rows = window.oxyboard ? window.oxyboard.statuses() : [];
    if (me.role === "facility_reporter") {
      var own = rows.filter(function (s) { return s.facility_id === me.facility_id; })[0];
      return [{ id: me.facility_id, name: own ? own.name : me.facility_id }];
    }
    return rows.map(function (s) { return { id: s.facility_id, name: s.name }; });
  }

  function fileFormHtml() {
    if (!board.filing) {
      return "<div class=\"buttons\"><button type=\"button\" id=\"file-request-open\">" + escapeHtml(t("file_request")) + "</button></div>";
    }
    function field(key, input) { return "<label>" + escapeHtml(t(key)) + input + "</label>"; }
    return "<form id=\"file-request\" class=\"card-form\" novalidate autocomplete=\"off\">" +
      field("file_for", "<select name=\"facility_id\">" + fileFacilities().map(function (f) {
        return "<option value=\"" + escapeHtml(f.id) + "\">" + escapeHtml(f.name + " (" + f.id + ")") + "</option>";
      }).join("") + "</select>") +
      field("product", "<select name=\"product\"><option value=\"cylinders\">" + escapeHtml(t("product_cylinders")) +
        "</option><option value=\"liquid\">" + escapeHtml(t("product_liquid")) + "</option></select>") +
      field("quantity", "<input type=\"text\" name=\"quantity\">") +
      field("needed_by_local", "<input type=\"datetime-local\" name=\"needed_by\">") +
      field("reason_required", "<input type=\"text\" name=\"reason\" maxlength=\"1000\">") +
      field("contact_name", "<input type=\"text\" name=\"contact_name\" maxlength=\"200\">") +
      field("contact_phone", "<input type=\"text\" name=\"contact_phone\" maxlength=\"40\">") +
      "<div class=\"buttons\"><button type=\"submit\">" + escapeHtml(t("send_request")) + "</button><button type=\"button\" id=\"file-request-close\">" +
      escapeHtml(t("close")) + "</button></div></form>";
  }

  // The form's values as POST /requests wants them; the deadline typed is Viet Nam time (+07:00).
  function fileBody(form) {
    var v = function (name) { return form.elements[name].value.trim(); };
    var missing = ["quantity", "needed_by", "reason"].filter(function (name) { return !v(name); });
    if (missing.length) { return { error: t("fields_missing", { fields: missing.map(function (n) {
      return t({ quantity: "quantity", needed_by: "needed_by_local", reason: "reason" }[n]); }).join(", ") }) }; }
    var liquid = v("product") === "liquid";
    var quantity = readQuantity(v("quantity"), !liquid);
    if (quantity === null) { return { error: t("quantity_bad", { text: v("quantity") }) }; }
    var body = { facility_id: v("facility_id"), product: v("product"), needed_by: v("needed_by").slice(0, 16) + ":00+07:00",
                 reason: v("reason") };
    body[liquid ? "requested_liquid_kg" : "requested_cylinders"] = quantity;
    if (v("contact_name")) { body.contact_name = v("contact_name"); }
    if (v("contact_phone")) { body.contact_phone = v("contact_phone"); }
    return { body: body };
  }

  function fileRequest(form) {
    var built = fileBody(form);
    if (built.error) { return Promise.resolve(showMessage({ error: true, text: built.error })); }
    return api(ENDPOINTS.list, built.body).then(function (created) {
      board.filing = false;
      board.message = { text: t("filed", { id: created.request_id, name: created.facility_name }) };
      document.body.setAttribute("data-request-filed", String(created.request_id));
      return load();
    }, function (error) {  // 422 names each field at fault; what was typed stays
      showMessage({ error: true, text: oxymap.errorText(error) });
    });
  }

  function wireFiling(box) {
    var open = box.querySelector("#file-request-open");
    if (open) { open.addEventListener("click", function () { board.filing = true; board.message = null; render(); }); }
    var form = box.querySelector("#file-request");
    if (!form) { return; }
    form.addEventListener("submit", function (event) { event.preventDefault(); fileRequest(form); });
    box.querySelector("#file-request-close").addEventListener("click", function () { board.filing = false; render(); });
  }

  function wire(box, byId) {
    wireFiling(box);
    var options = box.querySelector(".request-options");
    if (options) {
      var chosen = byId[parseInt(options.getAttribute("data-request-id"), 10)];
      Array.prototype.forEach.call(options.querySelectorAll("button[data-option]"), function (button) {
        button.addEventListener("click", function () { change(chosen, "source", { option_id: button.getAttribute("data-option") }); });
      });
      var close = options.querySelector("button[data-close-options]");
      if (close) { close.addEventListener("click", function () { board.open = null; render(); }); }
    }
    Array.prototype.forEach.call(box.querySelectorAll(".request-card"), function (card) {
      var r = byId[parseInt(card.getAttribute("data-request-id"), 10)];
      Array.prototype.forEach.call(card.querySelectorAll("button[data-action]"), function (button) {
        button.addEventListener("click", function () { start(r, button.getAttribute("data-action")); });
      });
      var close = card.querySelector("button[data-close]");
      if (close) { close.addEventListener("click", function () { board.open = null; render(); }); }
      var confirm = card.querySelector("button[data-confirm]");
      if (confirm) { confirm.addEventListener("click", function () { submit(r, card); }); }
    });
  }

  // Options are computed on the map's region when the facility lies in it (its network is loaded
  // already); else the API's default, the first served region of the facility's province.
  function sourcingRegion(r) {
    var region = oxymap.state.region;
    var position = window.oxyboard ? window.oxyboard.position(r.facility_id) : null;
    if (!region || !position || !region.bbox) { return null; }
    var b = region.bbox;
    return position[0] >= b[0] && position[0] <= b[2] && position[1] >= b[1] && position[1] <= b[3] ? region.region_id : null;
  }

  function start(r, action) {
    board.message = null;
    if (action === "dispatch") { return change(r, "dispatch", {}); }
    board.open = { id: r.request_id, action: action };
    render();
    if (action !== "options") { return Promise.resolve(); }
    delete board.options[r.request_id];
    return api(ENDPOINTS.options(r.request_id, sourcingRegion(r))).then(function (answer) {
      board.options[r.request_id] = answer;
    }, function (error) {
      board.options[r.request_id] = { error: oxymap.errorText(error) };
    }).then(render);
  }

  // Reads a typed quantity with the page's number format (report_panels.js), else plainly.
  function readQuantity(text, whole) {
    var reader = window.oxyreports && window.oxyreports.readNumber;
    if (reader) {
      var format = localStorage.getItem("oxyroute.number_format") === "en" ? "en" : "vi";
      var read = reader(text, whole ? "count" : "m3", format);
      return read.error ? null : read.value;
    }
    var value = Number(String(text).trim());
    return isFinite(value) && value > 0 ? value : null;
  }

  // A message about a card's form: shown in place, so that what was typed stays.
  function showMessage(message) {
    board.message = message;
    var line = $("requests-message");
    line.className = message.error ? "error" : "status";
    line.textContent = message.text;
  }

  function submit(r, card) {
    var action = board.open.action;
    var reason = (card.querySelector(".card-reason") || {}).value || "";
    var body = {};
    if (reason.trim()) { body.reason = reason.trim(); }
    if (action === "reject" && !body.reason) { return showMessage({ error: true, text: t("reason_missing") }); }
    if (action === "approve") {
      var text = card.querySelector(".card-quantity").value;
      var liquid = r.product === "liquid";
      var value = readQuantity(text, !liquid);
      if (value === null) { return showMessage({ error: true, text: t("quantity_bad", { text: text }) }); }
      var asked = liquid ? r.requested_liquid_kg : r.requested_cylinders;
      if (value !== asked) { body[liquid ? "approved_liquid_kg" : "approved_cylinders"] = value; }
    }
    return change(r, action, body);
  }

  function change(r, action, body) {
    body.version = r.version;
    var region = action === "source" ? sourcingRegion(r) : null;  // the options chosen from
    return api(ENDPOINTS.action(r.request_id, action, region), body).then(function (updated) {
      board.open = null;
      board.message = { text: t("done_action", { id: updated.request_id, state: stateLabel(updated) }) };
      document.body.setAttribute("data-request-changed", updated.request_id + "/" + updated.state);
      return load();
    }, function (error) {
      var current = error.body && error.body.error && error.body.error.current;
      if (error.status !== 409 || !current) {  // refused (403, 422): the form stays as typed
        return showMessage({ error: true, text: oxymap.errorText(error) });
      }
      // Someone else changed it first: say how it is now, and read the board again.
      board.open = null;
      board.message = { error: true, text: t("conflict", { message: error.message, state: stateLabel(current), version: current.version }) };
      return load();
    });
  }

  function load() {
    return api(ENDPOINTS.list).then(function (data) {
      board.data = data; board.error = null;
    }, function (error) {
      board.error = oxymap.errorText(error);
    }).then(function () {
      render();
      document.body.setAttribute("data-requests-loaded", board.data ? String(board.data.requests.length) : "error");
    });
  }

  oxymap.on("signedIn", function () {
    $("requests-panel").hidden = false;
    (may("dispatch") ? loadSuppliers() : Promise.resolve()).then(load);
  });
  oxymap.on("language", function () { if (board.data || board.error) { render(); } });
  $("requests-refresh").addEventListener("click", load);

  oxymap.applyLanguage();  // the headings of this file's panels, now that its strings are in
  window.oxyrequests = { load: load, start: start, change: change };
}());
