/* oxyroute web map: plan hand-off and incoming deliveries (issue 14, parts 4 and 5).
 *
 * Loaded after map.js; uses its API client, translations and hooks (window.oxymap).
 * - Plans (roles with plans:read): GET /api/v1/plans, newest first: first day, region, days,
 *   state, who made it; "Xem / Show" draws the plan (no plan id to type); coordinators and admins
 *   (plans:publish) approve a draft and publish an approved plan (POST .../approve, .../publish
 *   with the version the row was drawn from; a 409 or 422 is shown and the list read again).
 *   Dispatchers see published plans only (the API lists only those).
 * - Incoming deliveries (facility officers): GET /api/v1/deliveries?facility_id=..., by ETA
 *   (local time), with product, quantity, vehicle and supplier; "Xác nhận đã nhận / Confirm
 *   receipt" asks for the quantity received, the receiver's name, a note and an optional photo
 *   (JPEG or PNG, at most 2 MiB, checked here and by the server) and POSTs .../confirm.
 */
(function () {
  "use strict";

  var oxymap = window.oxymap;
  var $ = oxymap.$, t = oxymap.t, api = oxymap.api, escapeHtml = oxymap.escapeHtml, number = oxymap.number;
  var PUBLISH_ROLES = ["province_coordinator", "admin"];  // plans:publish (data/access.py)
  var PLAN_ROLES = ["province_coordinator", "planner", "dispatcher", "admin"];  // plans:read
  var MAX_PROOF_BYTES = 2097152;

  var ENDPOINTS = {
    plans: "/api/v1/plans?limit=50",
    planAction: function (id, action) { return "/api/v1/plans/" + encodeURIComponent(id) + "/" + action; },
    deliveries: function (facilityId) { return "/api/v1/deliveries?limit=200&facility_id=" + encodeURIComponent(facilityId); },
    confirm: function (id) { return "/api/v1/deliveries/" + encodeURIComponent(id) + "/confirm"; }
  };

  oxymap.addStrings("vi", {
    plans_title: "Kế hoạch đã lập", incoming_title: "Hàng sắp đến cơ sở",
    col_first_day: "Ngày đầu", col_region: "Khu vực", col_days: "Số ngày", col_state: "Trạng thái", col_by: "Người lập",
    plan_draft: "nháp", plan_approved: "đã duyệt", plan_published: "đã công bố",
    show_plan: "Xem", approve_plan: "Duyệt", publish_plan: "Công bố", no_plans: "Chưa có kế hoạch nào.",
    plan_changed: "Kế hoạch {plan}: {state}.", published_n: "Kế hoạch {plan} đã công bố: {n} chuyến giao mới.",
    col_eta: "Dự kiến đến", col_goods: "Hàng", col_vehicle_from: "Xe · từ", col_delivery_state: "Trạng thái",
    delivery_planned: "theo kế hoạch", delivery_in_transit: "đang trên đường", delivery_delivered: "đã nhận",
    delivery_cancelled: "đã huỷ", confirm_receipt: "Xác nhận đã nhận", no_deliveries: "Không có chuyến giao nào tới cơ sở.",
    received_kg: "Đã nhận (kg oxy lỏng)", received_cyl: "Đã nhận (số bình)", receiver: "Người nhận (bắt buộc)",
    note_optional: "Ghi chú", photo: "Ảnh biên nhận hoặc chữ ký (JPEG/PNG, tối đa 2 MB, không bắt buộc)",
    send_receipt: "Gửi xác nhận", photo_too_big: "Ảnh lớn hơn 2 MB.", photo_type: "Ảnh phải là JPEG hoặc PNG.",
    receiver_missing: "Hãy nhập tên người nhận.", confirmed: "Đã xác nhận chuyến #{id}: nhận {q}.",
    shortfall_flag: "thiếu {q} so với kế hoạch"
  });
  oxymap.addStrings("en", {
    plans_title: "Plans", incoming_title: "Incoming deliveries",
    col_first_day: "First day", col_region: "Region", col_days: "Days", col_state: "State", col_by: "By",
    plan_draft: "draft", plan_approved: "approved", plan_published: "published",
    show_plan: "Show", approve_plan: "Approve", publish_plan: "Publish", no_plans: "No plan yet.",
    plan_changed: "Plan {plan}: {state}.", published_n: "Plan {plan} published: {n} new deliveries.",
    col_eta: "ETA", col_goods: "Goods", col_vehicle_from: "Vehicle · from", col_delivery_state: "State",
    delivery_planned: "planned", delivery_in_transit: "on its way", delivery_delivered: "received",
    delivery_cancelled: "cancelled", confirm_receipt: "Confirm receipt", no_deliveries: "No delivery for this facility.",
    received_kg: "Received (kg of liquid)", received_cyl: "Received (cylinders)", receiver: "Receiver (required)",
    note_optional: "Note", photo: "Photo of the receipt or signature (JPEG/PNG, at most 2 MB, optional)",
    send_receipt: "Send", photo_too_big: "The photo is over 2 MB.", photo_type: "The photo must be JPEG or PNG.",
    receiver_missing: "Write the receiver's name.", confirmed: "Delivery #{id} confirmed: {q} received.",
    shortfall_flag: "{q} short of the plan"
  });

  var plans = { list: null, error: null, message: null };
  var incoming = { list: null, error: null, message: null, open: null };

  function role() { return (oxymap.state.me || {}).role; }

  function localTime(iso) {
    var m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}:[0-9]{2})/.exec(iso || "");
    return m ? m[4] + " " + m[3] + "/" + m[2] : (iso || "–");
  }

  function statusLine(message, id) {
    return "<p id=\"" + id + "\" class=\"" + (message && message.error ? "error" : "status") + "\" role=\"status\">" +
      (message ? escapeHtml(message.text) : "") + "</p>";
  }

  // A message about a form: shown in place, so that what was typed in the form stays.
  function showIncomingMessage(message) {
    incoming.message = message;
    var line = $("incoming-message");
    line.className = message.error ? "error" : "status";
    line.textContent = message.text;
  }

  // ------------------------------------------------------------------ plans

  // The served region's name (GET /map/v1/regions) rather than its id, when the map knows it.
  function regionName(regionId) {
    var region = (oxymap.state.regions || []).filter(function (r) { return r.region_id === regionId; })[0];
    return region ? region.name : regionId;
  }

  function renderPlans() {
    var box = $("plans-list");
    if (plans.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(plans.error) + "</p>"; return; }
    if (!plans.list) { box.innerHTML = ""; return; }
    var html = statusLine(plans.message, "plans-message");
    if (!plans.list.length) { box.innerHTML = html + "<p class=\"empty\">" + escapeHtml(t("no_plans")) + "</p>"; return; }
    var publisher = PUBLISH_ROLES.indexOf(role()) >= 0;
    html += "<table id=\"plans-table\"><thead><tr><th>" + [t("col_first_day") + " · " + t("col_region"), t("col_days"), t("col_state"),
      t("col_by"), ""].map(escapeHtml).join("</th><th>") + "</th></tr></thead><tbody>";
    plans.list.forEach(function (p) {
      var buttons = "<button type=\"button\" data-show>" + escapeHtml(t("show_plan")) + "</button>";
      if (publisher && p.state === "draft") { buttons += "<button type=\"button\" data-plan-action=\"approve\">" + escapeHtml(t("approve_plan")) + "</button>"; }
      if (publisher && p.state === "approved") { buttons += "<button type=\"button\" data-plan-action=\"publish\">" + escapeHtml(t("publish_plan")) + "</button>"; }
      html += "<tr data-plan-id=\"" + escapeHtml(p.plan_id) + "\" title=\"" + escapeHtml(p.plan_id + (p.headline ? " — " + p.headline : "")) +
        "\"><td><span class=\"plan-date\">" + escapeHtml(p.plan_date) + "</span><div class=\"row-detail\">" +
        escapeHtml(regionName(p.region)) + "</div></td><td>" + escapeHtml(p.horizon_days === null ? "–" : p.horizon_days) +
        "</td><td class=\"plan-state state-" + escapeHtml(p.state) + "\">" + escapeHtml(t("plan_" + p.state)) + "</td><td>" +
        escapeHtml(p.created_by) + "</td><td class=\"row-buttons\">" + buttons + "</td></tr>";
    });
    box.innerHTML = html + "</tbody></table>";
    Array.prototype.forEach.call(box.querySelectorAll("tr[data-plan-id]"), function (row) {
      var plan = plans.list.filter(function (p) { return p.plan_id === row.getAttribute("data-plan-id"); })[0];
      row.querySelector("button[data-show]").addEventListener("click", function () { oxymap.loadPlan(plan.plan_id); });
      var action = row.querySelector("button[data-plan-action]");
      if (action) { action.addEventListener("click", function () { planAction(plan, action.getAttribute("data-plan-action")); }); }
    });
  }

  function loadPlans() {
    return api(ENDPOINTS.plans).then(function (data) {
      plans.list = data.plans; plans.error = null;
    }, function (error) {
      plans.error = oxymap.errorText(error);
    }).then(function () {
      renderPlans();
      document.body.setAttribute("data-plans-loaded", plans.list ? String(plans.list.length) : "error");
    });
  }

  function planAction(plan, action) {
    return api(ENDPOINTS.planAction(plan.plan_id, action), { version: plan.version }).then(function (answer) {
      var short = plan.plan_id.slice(0, 8);
      plans.message = { text: action === "publish" ? t("published_n", { plan: short, n: answer.deliveries_created || 0 }) :
        t("plan_changed", { plan: short, state: t("plan_" + (answer.state || "approved")) }) };
      document.body.setAttribute("data-plan-changed", plan.plan_id + "/" + action);
    }, function (error) {
      plans.message = { error: true, text: oxymap.errorText(error) };
    }).then(loadPlans);
  }

  // ------------------------------------------------------------------ incoming deliveries

  function goodsText(d) {
    var liquid = d.product === "liquid";
    var q = liquid ? number(d.planned_liquid_kg, 0) + " kg" : number(d.planned_cylinders, 0) + " × 40 L";
    return (liquid ? "LOX " : "") + q + " (" + number(d.planned_m3, 0) + " m³)";
  }

  function receivedText(d) {
    if (d.received_m3 === null || d.received_m3 === undefined) { return ""; }
    var q = d.product === "liquid" ? number(d.received_liquid_kg, 0) + " kg" : number(d.received_cylinders, 0) + " × 40 L";
    var s = d.shortfall ? "; " + t("shortfall_flag", { q: number(d.shortfall.m3, 0) + " m³" }) : "";
    return q + s;
  }

  function receiptForm(d) {
    var liquid = d.product === "liquid";
    return "<tr class=\"receipt-row\"><td colspan=\"5\"><div class=\"card-form\"><label>" + escapeHtml(t(liquid ? "received_kg" : "received_cyl")) +
      "<input type=\"text\" class=\"received\" value=\"" + escapeHtml(number(liquid ? d.planned_liquid_kg : d.planned_cylinders, 0)) +
      "\"></label><label>" + escapeHtml(t("receiver")) + "<input type=\"text\" class=\"receiver\" maxlength=\"200\"></label><label>" +
      escapeHtml(t("note_optional")) + "<input type=\"text\" class=\"note\" maxlength=\"1000\"></label><label>" + escapeHtml(t("photo")) +
      "<input type=\"file\" class=\"proof\" accept=\"image/jpeg,image/png\"></label><div class=\"buttons\"><button type=\"button\" data-send>" +
      escapeHtml(t("send_receipt")) + "</button></div></div></td></tr>";
  }

  function renderIncoming() {
    var box = $("incoming-list");
    if (incoming.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(incoming.error) + "</p>"; return; }
    if (!incoming.list) { box.innerHTML = ""; return; }
    var html = statusLine(incoming.message, "incoming-message");
    if (!incoming.list.length) { box.innerHTML = html + "<p class=\"empty\">" + escapeHtml(t("no_deliveries")) + "</p>"; return; }
    html += "<table id=\"incoming-table\"><thead><tr><th>" + [t("col_eta"), t("col_goods"), t("col_vehicle_from"), t("col_delivery_state"), ""]
      .map(escapeHtml).join("</th><th>") + "</th></tr></thead><tbody>";
    incoming.list.forEach(function (d) {
      var open = d.state === "planned" || d.state === "in_transit";
      html += "<tr data-delivery-id=\"" + d.delivery_id + "\"><td>" + escapeHtml(localTime(d.eta)) + "</td><td>" + escapeHtml(goodsText(d)) +
        "</td><td>" + escapeHtml([d.vehicle_id, d.supplier_name || d.supplier_id].filter(Boolean).join(" · ") || "–") + "</td><td>" +
        escapeHtml(t("delivery_" + d.state)) + (receivedText(d) ? "<br><span class=\"" + (d.shortfall ? "warning" : "") + "\">" +
        escapeHtml(receivedText(d)) + "</span>" : "") + "</td><td>" +
        (open ? "<button type=\"button\" data-confirm-delivery>" + escapeHtml(t("confirm_receipt")) + "</button>" : "") + "</td></tr>";
      if (open && incoming.open === d.delivery_id) { html += receiptForm(d); }
    });
    box.innerHTML = html + "</tbody></table>";
    Array.prototype.forEach.call(box.querySelectorAll("button[data-confirm-delivery]"), function (button) {
      var id = parseInt(button.closest("tr").getAttribute("data-delivery-id"), 10);
      button.addEventListener("click", function () { incoming.open = id; incoming.message = null; renderIncoming(); });
    });
    var send = box.querySelector("button[data-send]");
    if (send) {
      var delivery = incoming.list.filter(function (d) { return d.delivery_id === incoming.open; })[0];
      send.addEventListener("click", function () { confirmDelivery(delivery, box.querySelector(".receipt-row")); });
    }
  }

  function readProof(input) {
    var file = input && input.files && input.files[0];
    if (!file) { return Promise.resolve(null); }
    if (file.size > MAX_PROOF_BYTES) { return Promise.reject(new Error(t("photo_too_big"))); }
    if (["image/jpeg", "image/png"].indexOf(file.type) < 0) { return Promise.reject(new Error(t("photo_type"))); }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(",")[1]); };  // drop "data:image/...;base64,"
      reader.onerror = function () { reject(new Error(t("photo_type"))); };
      reader.readAsDataURL(file);
    });
  }

  function confirmDelivery(d, form) {
    var liquid = d.product === "liquid";
    var text = form.querySelector(".received").value;
    var reader = window.oxyreports && window.oxyreports.readNumber;
    var format = localStorage.getItem("oxyroute.number_format") === "en" ? "en" : "vi";
    var read = reader ? reader(text, liquid ? "m3" : "count", format) : { value: Number(text) };
    var receiver = form.querySelector(".receiver").value.trim();
    if (read.error || !isFinite(read.value)) { return showIncomingMessage({ error: true, text: read.error || text }); }
    if (!receiver) { return showIncomingMessage({ error: true, text: t("receiver_missing") }); }
    var body = { receiver_name: receiver, version: d.version };
    body[liquid ? "received_liquid_kg" : "received_cylinders"] = read.value;
    var note = form.querySelector(".note").value.trim();
    if (note) { body.note = note; }
    return readProof(form.querySelector(".proof")).then(function (proof) {
      if (proof) { body.proof_base64 = proof; }
      return api(ENDPOINTS.confirm(d.delivery_id), body);
    }).then(function (done) {
      incoming.open = null;
      incoming.message = { text: t("confirmed", { id: done.delivery_id, q: receivedText(done) }) };
      document.body.setAttribute("data-delivery-confirmed", String(done.delivery_id));
      return loadIncoming();
    }, function (error) {  // refused (409, 413, 415, 422): the form stays as typed, the reason above it
      showIncomingMessage({ error: true, text: error.status ? oxymap.errorText(error) : error.message });
      return error.status === 409 ? loadIncoming() : null;
    });
  }

  function loadIncoming() {
    var me = oxymap.state.me || {};
    return api(ENDPOINTS.deliveries(me.facility_id)).then(function (data) {
      incoming.list = data.deliveries; incoming.error = null;
    }, function (error) {
      incoming.error = oxymap.errorText(error);
    }).then(function () {
      renderIncoming();
      document.body.setAttribute("data-incoming-loaded", incoming.list ? String(incoming.list.length) : "error");
    });
  }

  oxymap.on("signedIn", function (me) {
    if (PLAN_ROLES.indexOf(me.role) >= 0) { $("plans-list-panel").hidden = false; loadPlans(); }
    if (me.role === "facility_reporter" && me.facility_id) { $("incoming-panel").hidden = false; loadIncoming(); }
  });
  oxymap.on("planRun", loadPlans);
  oxymap.on("region", function () { if (plans.list) { renderPlans(); } });  // regions' names are known now
  oxymap.on("language", function () {
    if (plans.list || plans.error) { renderPlans(); }
    if (incoming.list || incoming.error) { renderIncoming(); }
  });

  oxymap.applyLanguage();  // the headings of this file's panels, now that its strings are in
  window.oxyplans = { loadPlans: loadPlans, planAction: planAction, loadIncoming: loadIncoming, confirmDelivery: confirmDelivery };
}());
