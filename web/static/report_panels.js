/* oxyroute web map: the facility officer's daily report form and the province's review queue.
 *
 * Loaded after map.js; uses its API client, translations and hooks (window.oxymap).
 * - Report form (role facility_reporter, its own facility): the fields of
 *   POST /api/v1/facilities/{id}/reports. Numbers are typed as text and read by the form's declared
 *   number format (Vietnamese: "." groups thousands, "," is the decimal mark; English the other
 *   way), the rules of data/schema/number_text.py: a text that does not fit is refused beside its
 *   field with the other format's reading, never guessed, and every number read is shown back.
 *   The answer's warnings (Vietnamese and English) and a refusal's field errors (400/422 details)
 *   are shown beside the fields they name.
 * - Review queue (roles with reviews:read; coordinators of their province): GET /review/reports,
 *   each flag with its field, value, limit and messages, and accept / ask-for-correction buttons
 *   that POST a reason (reviews:write).
 */
(function () {
  "use strict";

  var oxymap = window.oxymap;
  var $ = oxymap.$, t = oxymap.t, api = oxymap.api, escapeHtml = oxymap.escapeHtml, number = oxymap.number;
  var FORMAT_KEY = "oxyroute.number_format";
  var REVIEW_ROLES = ["province_coordinator", "ministry", "admin"];
  var DECIDE_ROLES = ["province_coordinator", "admin"];

  var ENDPOINTS = {
    facility: function (id) { return "/api/v1/facilities/" + encodeURIComponent(id); },
    reports: function (id) { return "/api/v1/facilities/" + encodeURIComponent(id) + "/reports"; },
    review: "/api/v1/review/reports",
    decide: function (item, decision) {  // decision: "accept" or "correction"
      return "/api/v1/review/reports/" + encodeURIComponent(item.facility_id) + "/" + item.report_date + "/" + decision;
    }
  };

  // [field, kind, required]; kind: "m3", "l", "count" (a whole number) or "text".
  var FIELDS = [
    ["oxygen_used_24h_m3", "m3", true], ["patients_cannula_mask", "count"], ["patients_high_flow", "count"],
    ["patients_niv", "count"], ["patients_invasive", "count"], ["patients_ecmo", "count"],
    ["liquid_stock_l", "l"], ["deliveries_expected_m3", "m3"]
  ];

  oxymap.addStrings("vi", {
    report_title: "Báo cáo oxy hằng ngày", review_title: "Báo cáo cần xem lại",
    report_for: "Cơ sở: {name} ({id})", f_report_date: "Ngày báo cáo",
    f_oxygen_used_24h_m3: "Oxy đã dùng trong 24 giờ (m³ khí)",
    f_patients_cannula_mask: "Bệnh nhân thở oxy qua gọng mũi / mặt nạ", f_patients_high_flow: "Bệnh nhân thở oxy dòng cao (HFNC)",
    f_patients_niv: "Bệnh nhân thở máy không xâm nhập (NIV)", f_patients_invasive: "Bệnh nhân thở máy xâm nhập",
    f_patients_ecmo: "Bệnh nhân ECMO", f_liquid_stock_l: "Oxy lỏng trong bồn (lít lỏng; để trống: không có bồn)",
    f_deliveries_expected_m3: "Dự kiến nhận trong 24 giờ tới (m³ khí)",
    f_cylinders_full: "Bình đầy {size}", f_cylinders_empty: "Bình rỗng {size}", f_note: "Ghi chú",
    number_format: "Cách viết số", format_vi: "Tiếng Việt: 5.200,5", format_en: "Tiếng Anh: 5,200.5",
    submit_report: "Gửi báo cáo", sending: "Đang gửi…",
    read_as: "đọc là {value}", not_other: " (không phải {value} như cách viết {format})", required: "bắt buộc / required",
    not_number: "không phải là số theo cách viết {format} (ví dụ {example})",
    other_reading: "; theo cách viết {format} thì là {value}: hãy đổi “Cách viết số” nếu đúng như vậy",
    not_whole: "phải là số nguyên (số người, số bình)", negative: "không được là số âm",
    saved: "Đã lưu báo cáo ngày {date} (bản {revision}).", unchanged: "Báo cáo ngày {date} không thay đổi, không lưu thêm.",
    saved_warnings: "Đã lưu, nhưng có {n} giá trị đáng ngờ: cán bộ tỉnh sẽ xem lại. Hãy kiểm tra và sửa nếu sai.",
    refused: "Báo cáo chưa được lưu: hãy sửa các ô được đánh dấu.",
    fix_fields: "Hãy sửa các ô được đánh dấu trước khi gửi.",
    history: "Báo cáo gần đây", col_report_date: "Ngày", col_use: "Dùng (m³/24 giờ)", col_review: "Xem lại",
    status_unflagged: "không có cảnh báo", status_unreviewed: "chờ tỉnh xem lại", status_accepted: "tỉnh đã chấp nhận",
    status_correction_requested: "tỉnh yêu cầu sửa",
    no_review_items: "Không có báo cáo nào chờ xem lại.", col_field: "Ô", col_value: "Giá trị", col_limit: "Giới hạn",
    reason: "Lý do", accept: "Chấp nhận", ask_correction: "Yêu cầu sửa",
    reason_needed: "Hãy nhập lý do trước khi quyết định.",
    accepted_done: "Đã chấp nhận báo cáo ngày {date} của {name}.",
    correction_done: "Đã yêu cầu {name} sửa báo cáo ngày {date}.",
    review_items: "{n} báo cáo chờ xem lại ({from} – {to}), nghiêm trọng nhất trước"
  });
  oxymap.addStrings("en", {
    report_title: "Daily oxygen report", review_title: "Reports in doubt",
    report_for: "Facility: {name} ({id})", f_report_date: "Report date",
    f_oxygen_used_24h_m3: "Oxygen used in the last 24 h (m³ gas)",
    f_patients_cannula_mask: "Patients on nasal cannula / mask", f_patients_high_flow: "Patients on high-flow oxygen (HFNC)",
    f_patients_niv: "Patients on non-invasive ventilation (NIV)", f_patients_invasive: "Patients on invasive ventilation",
    f_patients_ecmo: "Patients on ECMO", f_liquid_stock_l: "Liquid oxygen in the tank (litres of liquid; empty: no tank)",
    f_deliveries_expected_m3: "Deliveries expected in the next 24 h (m³ gas)",
    f_cylinders_full: "Full cylinders {size}", f_cylinders_empty: "Empty cylinders {size}", f_note: "Note",
    number_format: "Number format", format_vi: "Vietnamese: 5.200,5", format_en: "English: 5,200.5",
    submit_report: "Submit report", sending: "Sending…",
    read_as: "read as {value}", not_other: " (not {value} as in the {format} format)", required: "bắt buộc / required",
    not_number: "not a number in the {format} format (e.g. {example})",
    other_reading: "; in the {format} format it is {value}: change “Number format” if that is what you mean",
    not_whole: "must be a whole number (people, cylinders)", negative: "must not be negative",
    saved: "Report of {date} saved (revision {revision}).", unchanged: "Report of {date} unchanged; nothing stored.",
    saved_warnings: "Saved, but {n} values are in doubt: the province will review them. Check them and correct any mistake.",
    refused: "The report was not stored: correct the marked fields.",
    fix_fields: "Correct the marked fields before sending.",
    history: "Recent reports", col_report_date: "Date", col_use: "Used (m³/24 h)", col_review: "Review",
    status_unflagged: "no warning", status_unreviewed: "waiting for the province", status_accepted: "accepted by the province",
    status_correction_requested: "correction requested",
    no_review_items: "No report waits for review.", col_field: "Field", col_value: "Value", col_limit: "Limit",
    reason: "Reason", accept: "Accept", ask_correction: "Ask for correction",
    reason_needed: "Enter a reason before deciding.",
    accepted_done: "Accepted the report of {date} from {name}.",
    correction_done: "Asked {name} to correct the report of {date}.",
    review_items: "{n} reports wait for review ({from} – {to}), most serious first"
  });

  var panel = { me: null, facility: null, sizes: ["40L"], format: localStorage.getItem(FORMAT_KEY) === "en" ? "en" : "vi",
                status: null, errors: {}, readings: {}, others: {}, history: null, queue: null, reviewStatus: null };

  // ------------------------------------------------------------------ numbers as people type them

  var MARKS = { vi: [".", ","], en: [",", "."] };
  var EXAMPLES = { vi: "5.200,5", en: "5,200.5" };

  function formatName(format) { return t("format_" + format).split(":")[0]; }

  // The number ``text`` means in ``format``, or null when it does not fit (data/schema/number_text.py).
  function readIn(text, format) {
    var th = MARKS[format][0] === "." ? "\\." : ",", dec = MARKS[format][1] === "." ? "\\." : ",";
    var pattern = new RegExp("^(?:([0-9]{1,3}(?:" + th + "[0-9]{3})+)|([0-9]+))(?:" + dec + "([0-9]+))?$");
    var match = pattern.exec(text);
    if (!match) { return null; }
    var digits = (match[1] || match[2]).split(MARKS[format][0]).join("");
    return Number(digits + (match[3] ? "." + match[3] : ""));
  }

  // {value} (null for an empty optional field) or {error}; ``kind`` "count" asks for a whole number.
  function readNumber(raw, kind, format) {
    var text = String(raw || "").trim();
    if (!text) { return { value: null }; }
    if (/^[-−]/.test(text)) { return { error: t("negative") }; }
    var value = readIn(text, format);
    if (value === null || !isFinite(value)) {
      var other = format === "vi" ? "en" : "vi";
      var elsewhere = readIn(text, other);
      return { error: t("not_number", { format: formatName(format), example: EXAMPLES[format] }) +
        (elsewhere === null ? "" : t("other_reading", { format: formatName(other), value: String(elsewhere) })) };
    }
    if (kind === "count" && Math.floor(value) !== value) { return { error: t("not_whole") }; }
    // Text the other format reads differently ("5.200", "1,234") is read by the declared format;
    // the other reading is named beside it, so a slip between the two is seen before sending.
    var otherFormat = format === "vi" ? "en" : "vi";
    var otherValue = readIn(text, otherFormat);
    return { value: value, other: otherValue !== null && otherValue !== value ?
      { format: formatName(otherFormat), value: otherValue } : null };
  }

  // ------------------------------------------------------------------ the report form

  function todayLocal() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date());
  }

  function cylinderFields() {
    var fields = [];
    ["cylinders_full", "cylinders_empty"].forEach(function (name) {
      panel.sizes.forEach(function (size) { fields.push([name + "." + size, "count", false, name, size]); });
    });
    return fields;
  }

  function fieldRow(id, label, input) {
    return "<div class=\"field\" data-field=\"" + escapeHtml(id) + "\"><label for=\"rf-" + escapeHtml(id) + "\">" +
      escapeHtml(label) + "</label>" + input + "<div class=\"field-msg\" id=\"msg-" + escapeHtml(id) + "\"></div></div>";
  }

  function numberInput(id, required) {
    return "<input id=\"rf-" + escapeHtml(id) + "\" name=\"" + escapeHtml(id) + "\" type=\"text\" inputmode=\"decimal\"" +
      " spellcheck=\"false\"" + (required ? " required" : "") + ">";
  }

  function renderForm() {
    var form = $("report-form");
    var kept = {};
    Array.prototype.forEach.call(form.querySelectorAll("input, textarea, select"), function (el) { kept[el.id] = el.value; });
    var html = fieldRow("report_date", t("f_report_date"), "<input id=\"rf-report_date\" type=\"date\" required>") +
      fieldRow("number_format", t("number_format"), "<select id=\"rf-number_format\"><option value=\"vi\">" +
        escapeHtml(t("format_vi")) + "</option><option value=\"en\">" + escapeHtml(t("format_en")) + "</option></select>");
    FIELDS.forEach(function (f) { html += fieldRow(f[0], t("f_" + f[0]) + (f[2] ? " *" : ""), numberInput(f[0], f[2])); });
    cylinderFields().forEach(function (f) { html += fieldRow(f[0], t("f_" + f[3], { size: f[4] }), numberInput(f[0])); });
    html += fieldRow("note", t("f_note"), "<textarea id=\"rf-note\" rows=\"2\" maxlength=\"2000\"></textarea>") +
      "<button type=\"submit\">" + escapeHtml(t("submit_report")) + "</button>";
    form.innerHTML = html;
    Object.keys(kept).forEach(function (id) { if ($(id)) { $(id).value = kept[id]; } });
    if (!$("rf-report_date").value) { $("rf-report_date").value = todayLocal(); }
    $("rf-number_format").value = panel.format;
    $("rf-number_format").addEventListener("change", function (event) {
      panel.format = event.target.value;
      localStorage.setItem(FORMAT_KEY, panel.format);
      checkAll();
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[inputmode=decimal]"), function (input) {
      // On every keystroke, not on "change": a message appearing on blur moves the submit button
      // away from under the pointer that is clicking it.
      input.addEventListener("input", function () { checkField(input.name); renderMessages(); });
    });
    renderMessages();
  }

  function kindOf(name) {
    var all = FIELDS.concat(cylinderFields());
    for (var i = 0; i < all.length; i++) { if (all[i][0] === name) { return all[i][1]; } }
    return "text";
  }

  // Read one field into panel.errors (client side) and panel.readings; returns its value.
  function checkField(name) {
    var input = $("rf-" + name);
    var result = readNumber(input.value, kindOf(name), panel.format);
    var required = input.hasAttribute("required");
    delete panel.errors[name];
    delete panel.readings[name];
    delete panel.others[name];
    if (result.error) { panel.errors[name] = [{ cls: "error", text: result.error }]; }
    else if (result.value === null && required) { panel.errors[name] = [{ cls: "error", text: t("required") }]; }
    else if (result.value !== null) { panel.readings[name] = result.value; panel.others[name] = result.other; }
    return result.value;
  }

  function checkAll() {
    panel.errors = {}; panel.readings = {}; panel.others = {};
    FIELDS.concat(cylinderFields()).forEach(function (f) { checkField(f[0]); });
    renderMessages();
    return Object.keys(panel.errors).length === 0;
  }

  function shownIn(value) {
    return value.toLocaleString(panel.format === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 3 });
  }

  function unitOf(name) { var kind = kindOf(name); return kind === "m3" ? " m³" : kind === "l" ? " L" : ""; }

  function renderMessages() {
    var form = $("report-form");
    Array.prototype.forEach.call(form.querySelectorAll(".field"), function (row) {
      var name = row.getAttribute("data-field");
      var box = $("msg-" + name);
      var messages = (panel.errors[name] || []).slice();
      if (!messages.length && panel.readings[name] !== undefined) {
        // Shown in the form's own format, so that what was typed and what was read compare directly.
        var other = panel.others[name];
        messages.push({ cls: "read", text: t("read_as", { value: shownIn(panel.readings[name]) + unitOf(name) }) +
          (other ? t("not_other", { value: shownIn(other.value), format: other.format }) : "") });
      }
      row.className = "field" + (messages.some(function (m) { return m.cls === "error"; }) ? " has-error" :
        messages.some(function (m) { return m.cls === "warning"; }) ? " has-warning" : "");
      box.innerHTML = messages.map(function (m) {
        return "<div class=\"" + m.cls + "\">" + escapeHtml(m.text) + (m.en ? "<br><span class=\"en\">" + escapeHtml(m.en) + "</span>" : "") + "</div>";
      }).join("");
    });
  }

  // "cylinders_full['40L']", "cylinders_full.40L" and "liquid_stock_l" name a form field.
  function formField(field) {
    var match = /^(cylinders_(?:full|empty))(?:\[['"]?([^'"\]]+)['"]?\]|\.(.+))$/.exec(field || "");
    var name = match ? match[1] + "." + (match[2] || match[3]) : field;
    return name && $("rf-" + name) ? name : null;
  }

  function reportBody() {
    var body = { report_date: $("rf-report_date").value };
    FIELDS.forEach(function (f) { if (panel.readings[f[0]] !== undefined) { body[f[0]] = panel.readings[f[0]]; } });
    cylinderFields().forEach(function (f) {
      if (panel.readings[f[0]] === undefined) { return; }
      body[f[3]] = body[f[3]] || {};
      body[f[3]][f[4]] = panel.readings[f[0]];
    });
    var note = $("rf-note").value.trim();
    if (note) { body.note = note; }
    return body;
  }

  function setReportStatus(status) {
    panel.status = status;
    var box = $("report-status");
    box.className = status && status.error ? "error" : "status";
    box.textContent = status ? t(status.key, status.values) : "";
  }

  function showWarnings(warnings) {
    var other = [];
    warnings.forEach(function (w) {
      var name = formField(w.field);
      var first = oxymap.state.lang === "en" ? w.message_en : w.message_vi;
      var second = oxymap.state.lang === "en" ? w.message_vi : w.message_en;
      var message = { cls: "warning", text: first, en: second };
      if (name) { (panel.errors[name] = panel.errors[name] || []).push(message); } else { other.push(message); }
    });
    $("report-warnings").innerHTML = other.map(function (m) {
      return "<p class=\"warning\">" + escapeHtml(m.text) + "<br><span class=\"en\">" + escapeHtml(m.en) + "</span></p>";
    }).join("");
  }

  function showRefusal(error) {
    var other = [];
    (error.details || []).forEach(function (d) {
      var name = formField(d.field);
      // A refusal's reason is "English / Vietnamese": the page's language first, the other below.
      var halves = String(d.reason).split(" / ");
      var vi = oxymap.state.lang === "vi" && halves.length === 2;
      var message = halves.length === 2 ? { cls: "error", text: halves[vi ? 1 : 0], en: halves[vi ? 0 : 1] } :
        { cls: "error", text: d.reason };
      if (name) { (panel.errors[name] = panel.errors[name] || []).push(message); }
      else { other.push((d.field ? d.field + ": " : "") + d.reason); }
    });
    if (!(error.details || []).length) { other.push(error.status === 403 ? t("forbidden") : error.message); }
    $("report-warnings").innerHTML = other.map(function (text) { return "<p class=\"error\">" + escapeHtml(text) + "</p>"; }).join("");
    setReportStatus({ error: true, key: "refused" });
  }

  function submitReport() {
    $("report-warnings").innerHTML = "";
    if (!checkAll()) { setReportStatus({ error: true, key: "fix_fields" }); return Promise.resolve(); }
    var button = $("report-form").querySelector("button[type=submit]");
    button.disabled = true;
    setReportStatus({ key: "sending" });
    var body = reportBody();
    return api(ENDPOINTS.reports(panel.facility.facility_id), body).then(function (answer) {
      showWarnings(answer.warnings || []);
      var values = { date: answer.report_date, revision: answer.revision, n: (answer.warnings || []).length };
      setReportStatus({ key: !answer.created ? "unchanged" : values.n ? "saved_warnings" : "saved", values: values,
                        error: false });
      if (values.n) { $("report-status").className = "warning"; }
      document.body.setAttribute("data-report-saved", answer.report_date + "/" + answer.revision);
      return loadHistory();
    }, showRefusal).then(function () { renderMessages(); button.disabled = false; });
  }

  function loadHistory() {
    return api(ENDPOINTS.reports(panel.facility.facility_id)).then(function (data) {
      panel.history = data.reports;
      renderHistory();
    }, function () { panel.history = null; });
  }

  function renderHistory() {
    var box = $("report-history");
    var reports = (panel.history || []).slice().sort(function (a, b) { return a.report_date < b.report_date ? 1 : -1; }).slice(0, 7);
    if (!reports.length) { box.innerHTML = ""; return; }
    box.innerHTML = "<h3>" + escapeHtml(t("history")) + "</h3><table id=\"report-history-table\"><thead><tr><th>" +
      escapeHtml(t("col_report_date")) + "</th><th>" + escapeHtml(t("col_use")) + "</th><th>" + escapeHtml(t("col_review")) +
      "</th></tr></thead><tbody>" + reports.map(function (r) {
        var review = r.review && r.review.reason ? ": " + r.review.reason : "";
        return "<tr><td>" + escapeHtml(r.report_date) + "</td><td>" + number(r.oxygen_used_24h_m3, 1) + "</td><td>" +
          escapeHtml(t("status_" + (r.review_status || "unflagged")) + review) + "</td></tr>";
      }).join("") + "</tbody></table>";
  }

  function startReportForm(me) {
    return api(ENDPOINTS.facility(me.facility_id)).then(function (facility) {
      panel.facility = facility;
      var sizes = Object.keys(facility.cylinders_on_hand || {});
      panel.sizes = sizes.length ? sizes.sort() : ["40L"];
      $("report-panel").hidden = false;
      $("report-facility").textContent = t("report_for", { name: facility.name, id: facility.facility_id });
      panel.errors = {}; panel.readings = {}; panel.others = {};
      renderForm();
      document.body.setAttribute("data-report-form", facility.facility_id);
      return loadHistory();
    });
  }

  // ------------------------------------------------------------------ the review queue

  function loadQueue() {
    return api(ENDPOINTS.review).then(function (data) { panel.queue = data; }, function (error) {
      panel.queue = { error: error.status === 403 ? t("forbidden") : error.message };
    }).then(renderQueue);
  }

  function flagRows(item) {
    return item.flags.map(function (f) {
      var first = oxymap.state.lang === "en" ? f.message_en : f.message_vi;
      var second = oxymap.state.lang === "en" ? f.message_vi : f.message_en;
      // The unit is the field's suffix (units in names): litres of liquid, m³ of gas, else a count.
      var unit = /_l$/.test(f.field) ? " L" : /_m3$/.test(f.field) ? " m³" : "";
      return "<tr><td>" + escapeHtml(f.field) + "</td><td>" + number(f.value, 1) + unit + "</td><td>" + number(f.limit, 1) + unit +
        "</td></tr><tr class=\"flag-message\"><td colspan=\"3\">" + escapeHtml(first) + "<br><span class=\"en\">" +
        escapeHtml(second) + "</span></td></tr>";
    }).join("");
  }

  function renderQueue() {
    var box = $("review-list");
    var queue = panel.queue;
    if (!queue) { box.innerHTML = ""; return; }
    if (queue.error) { box.innerHTML = "<p class=\"error\">" + escapeHtml(queue.error) + "</p>"; return; }
    if (!queue.items.length) { box.innerHTML = "<p class=\"empty\">" + escapeHtml(t("no_review_items")) + "</p>"; return; }
    var decide = DECIDE_ROLES.indexOf(panel.me.role) >= 0;
    var html = "<p class=\"status\">" + escapeHtml(t("review_items", { n: queue.items.length, from: queue.date_from, to: queue.date_to })) + "</p>";
    queue.items.forEach(function (item, index) {
      html += "<div class=\"review-item\" data-review=\"" + index + "\"><h3>" + escapeHtml(item.facility_name || item.facility_id) +
        " — " + escapeHtml(item.report_date) + "</h3><table class=\"review-flags\"><thead><tr><th>" + escapeHtml(t("col_field")) +
        "</th><th>" + escapeHtml(t("col_value")) + "</th><th>" + escapeHtml(t("col_limit")) + "</th></tr></thead><tbody>" +
        flagRows(item) + "</tbody></table>" + (decide ? "<div class=\"buttons\"><input type=\"text\" class=\"review-reason\" placeholder=\"" +
        escapeHtml(t("reason")) + "\" aria-label=\"" + escapeHtml(t("reason")) + "\"><button type=\"button\" data-decision=\"accept\">" +
        escapeHtml(t("accept")) + "</button><button type=\"button\" data-decision=\"correction\">" + escapeHtml(t("ask_correction")) +
        "</button></div>" : "") + "</div>";
    });
    box.innerHTML = html;
    Array.prototype.forEach.call(box.querySelectorAll("button[data-decision]"), function (button) {
      button.addEventListener("click", function () {
        var row = button.closest(".review-item");
        decideReview(queue.items[Number(row.getAttribute("data-review"))], button.getAttribute("data-decision"),
          row.querySelector(".review-reason").value.trim());
      });
    });
  }

  function setReviewStatus(status) {
    panel.reviewStatus = status;
    var box = $("review-status");
    box.className = status && status.error ? "error" : "status";
    box.textContent = !status ? "" : status.text || t(status.key, status.values);
  }

  function decideReview(item, decision, reason) {
    if (!reason) { setReviewStatus({ error: true, key: "reason_needed" }); return Promise.resolve(); }
    return api(ENDPOINTS.decide(item, decision), { reason: reason, revision: item.revision }).then(function () {
      setReviewStatus({ key: decision === "accept" ? "accepted_done" : "correction_done",
                        values: { date: item.report_date, name: item.facility_name || item.facility_id } });
      document.body.setAttribute("data-review-decided", item.facility_id + "/" + item.report_date + "/" + decision);
      return loadQueue();
    }, function (error) { setReviewStatus({ error: true, text: error.message }); });
  }

  // ------------------------------------------------------------------ wiring

  $("report-form").addEventListener("submit", function (event) { event.preventDefault(); submitReport(); });

  oxymap.on("signedIn", function (me) {
    panel.me = me;
    if (me.role === "facility_reporter" && me.facility_id) { startReportForm(me); }
    if (REVIEW_ROLES.indexOf(me.role) >= 0) { $("review-panel").hidden = false; loadQueue(); }
  });

  oxymap.on("language", function () {
    if (panel.facility) {
      $("report-facility").textContent = t("report_for", { name: panel.facility.name, id: panel.facility.facility_id });
      renderForm();
      if (panel.status) { setReportStatus(panel.status); }
      renderHistory();
    }
    renderQueue();
    if (panel.reviewStatus) { setReviewStatus(panel.reviewStatus); }
  });

  oxymap.applyLanguage();  // the panels' headings need the strings added above
  window.oxyreports = { readNumber: readNumber, submitReport: submitReport, loadQueue: loadQueue, panel: panel };
}());
