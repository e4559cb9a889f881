/* oxyroute web map: what a plan's demand stands on (issue 13, "missing is never zero").
 *
 * Loaded before map.js, which calls window.oxyPlanData(context) once with its translation
 * function, number formatting, HTML escaping and state. A facility whose demand is unknown is
 * never shown as 0: its demand and shortfall read "chưa rõ / unknown". Unknown and stale
 * facilities (estimated, or a report carried forward) are listed before the shortfalls, each with
 * its demand basis and report age; the plan's first line says whether the day has reports.
 */
(function () {
  "use strict";

  var STRINGS = {
    vi: {
      col_demand_day: "Nhu cầu (m³/ngày)", col_basis: "Số liệu", unknown: "chưa rõ",
      basis_declared_use: "khai báo sử dụng", basis_patients_x_flows: "bệnh nhân × lưu lượng",
      basis_carried_forward: "báo cáo cũ chuyển tiếp", basis_estimated: "ước tính (giường × tuyến)",
      basis_unknown: "chưa rõ nhu cầu", carried: "chuyển tiếp {n} ngày",
      age_days: "báo cáo {n} ngày trước", age_never: "chưa từng báo cáo", age_last: "báo cáo cuối {date}",
      data_gaps: "Nhu cầu chưa rõ hoặc số liệu cũ (xử lý trước)",
      data_gaps_note: "Nhu cầu chưa rõ không được tính vào tổng nào: hãy gọi cơ sở để lấy báo cáo.",
      headline_reported: "Báo cáo ngày {day}: {n}/{total} cơ sở đã báo cáo",
      headline_none: "KHÔNG CÓ BÁO CÁO ngày {day} (ngày báo cáo của kế hoạch); ngày gần nhất có báo cáo: {latest} ({count} cơ sở)",
      headline_none_ever: "KHÔNG CÓ BÁO CÁO ngày {day} và các ngày trước: nhu cầu đều là ước tính hoặc chưa rõ",
      headline_unknown: "; chưa rõ nhu cầu: {n} cơ sở (không tính vào tổng)",
      demand_day: "Nhu cầu mỗi ngày", demand_basis: "Cơ sở số liệu"
    },
    en: {
      col_demand_day: "Demand (m³/day)", col_basis: "Data", unknown: "unknown",
      basis_declared_use: "declared use", basis_patients_x_flows: "patients × flows",
      basis_carried_forward: "carried forward", basis_estimated: "estimated (beds × tier)",
      basis_unknown: "demand unknown", carried: "carried forward {n} d",
      age_days: "report {n} d old", age_never: "never reported", age_last: "last report {date}",
      data_gaps: "Unknown or stale demand (first to act on)",
      data_gaps_note: "Unknown demand is in no total: phone the facility for its report.",
      headline_reported: "Reports of {day}: {n} of {total} facilities reported",
      headline_none: "NO REPORTS for {day} (the reporting day of this plan); the latest day with reports is {latest} ({count} facilities)",
      headline_none_ever: "NO REPORTS for {day} and none before it: demand is estimated or unknown everywhere",
      headline_unknown: "; demand UNKNOWN for {n} facilities (not in any total)",
      demand_day: "Demand per day", demand_basis: "Demand basis"
    }
  };

  window.oxyPlanData = function (context) {
    var t = context.t, number = context.number, escapeHtml = context.escapeHtml, state = context.state;
    Object.keys(STRINGS).forEach(function (lang) { context.addStrings(lang, STRINGS[lang]); });

    function demandUnknown(p) { return p.demand_known === false || p.demand_basis === "unknown"; }

    function demandStale(p) {
      return p.demand_basis === "estimated" || p.demand_basis === "carried_forward" ||
        (p.carried_forward_days || 0) > 0;
    }

    function planHorizonDays() {
      var info = state.planInfo || {};
      return info.horizon_days || (state.plan && state.plan.plan && state.plan.plan.horizon_days) || null;
    }

    function planStartDate() {
      var info = state.planInfo || {};
      return info.start_date || (state.plan && state.plan.plan && state.plan.plan.date) || null;
    }

    function daysBetween(later, earlier) {
      return Math.round((Date.parse(later + "T00:00:00Z") - Date.parse(earlier + "T00:00:00Z")) / 86400000);
    }

    function reportAgeDays(p) {
      if (p.report_age_days !== null && p.report_age_days !== undefined) { return p.report_age_days; }
      var start = planStartDate();
      return p.last_report_date && start ? daysBetween(start, p.last_report_date) : null;
    }

    function shortfallText(p) { return demandUnknown(p) ? t("unknown") : number(p.shortfall_m3); }

    function demandPerDayText(p) {
      var days = planHorizonDays();
      if (demandUnknown(p)) { return t("unknown"); }
      return days && p.demand_m3 !== null && p.demand_m3 !== undefined ? number(p.demand_m3 / days) : "–";
    }

    function basisText(p) {
      var basis = p.demand_basis || (demandUnknown(p) ? "unknown" : null);
      if (!basis) { return "–"; }
      var parts = [t("basis_" + basis)];
      if ((p.carried_forward_days || 0) > 0 && basis !== "carried_forward") {
        parts.push(t("carried", { n: p.carried_forward_days }));
      }
      var age = reportAgeDays(p);
      if (age !== null) { parts.push(t("age_days", { n: age })); }
      else { parts.push(p.last_report_date ? t("age_last", { date: p.last_report_date }) : t("age_never")); }
      return parts.join(" · ");
    }

    // Unknown first, then estimated, then the oldest carried-forward reports (as the plan summary).
    function dataGapRank(p) { return demandUnknown(p) ? 0 : p.demand_basis === "estimated" ? 1 : 2; }

    function compareDataGaps(a, b) {
      var pa = a.properties, pb = b.properties;
      return dataGapRank(pa) - dataGapRank(pb) ||
        (pb.carried_forward_days || 0) - (pa.carried_forward_days || 0) ||
        String(pa.last_report_date || "").localeCompare(String(pb.last_report_date || "")) ||
        String(pa.name || "").localeCompare(String(pb.name || ""));
    }

    // The plan's first line, in the page's language, made from the facility rows as the API's
    // ``headline`` is (reports of the day before the plan's first day, or the latest day that has
    // reports); the API's English line only for a plan whose rows do not say (older plans).
    function planHeadline(facilities) {
      var info = state.planInfo || {};
      var line = info.headline || (info.summary ? String(info.summary).split("\n")[0] : null);
      var start = planStartDate();
      if (!start || !facilities.some(function (f) { return f.properties.demand_basis; })) {
        return line ? { text: line, alarm: /NO REPORTS|KHÔNG CÓ BÁO CÁO/.test(line) } : null;
      }
      var day = new Date(Date.parse(start + "T00:00:00Z") - 86400000).toISOString().slice(0, 10);
      var dates = facilities.map(function (f) { return f.properties.last_report_date; }).filter(Boolean);
      var unknown = facilities.filter(function (f) { return demandUnknown(f.properties); }).length;
      var tail = unknown ? t("headline_unknown", { n: unknown }) : "";
      var reported = dates.filter(function (d) { return d === day; }).length;
      if (reported) {
        return { text: t("headline_reported", { day: day, n: reported, total: facilities.length }) + tail,
                 alarm: unknown > 0 };
      }
      if (!dates.length) { return { text: t("headline_none_ever", { day: day }) + tail, alarm: true }; }
      var latest = dates.reduce(function (m, d) { return d > m ? d : m; });
      var count = dates.filter(function (d) { return d === latest; }).length;
      return { text: t("headline_none", { day: day, latest: latest, count: count }) + tail, alarm: true };
    }

    function facilityRow(f, cells) {
      var p = f.properties;
      return "<tr data-facility-id=\"" + escapeHtml(p.facility_id) + "\"" +
        (demandUnknown(p) ? " class=\"unknown\"" : "") + "><td>" + escapeHtml(p.name || p.facility_id) + "</td>" +
        cells.map(function (c) { return "<td>" + escapeHtml(c) + "</td>"; }).join("") + "</tr>";
    }

    function tableHead(id, keys) {
      return "<table id=\"" + id + "\"><thead><tr>" + keys.map(function (k) {
        return "<th>" + escapeHtml(t(k)) + "</th>";
      }).join("") + "</tr></thead><tbody>";
    }

    function renderDataGaps(facilities) {
      var gaps = facilities.filter(function (f) { return demandUnknown(f.properties) || demandStale(f.properties); });
      if (!gaps.length) { return ""; }
      gaps.sort(compareDataGaps);
      var html = "<h3>" + escapeHtml(t("data_gaps")) + "</h3><p class=\"hint\">" + escapeHtml(t("data_gaps_note")) +
        "</p>" + tableHead("data-gap-table", ["col_facility", "col_demand_day", "col_shortfall", "col_basis"]);
      gaps.forEach(function (f) {
        var p = f.properties;
        html += facilityRow(f, [demandPerDayText(p), shortfallText(p), basisText(p)]);
      });
      return html + "</tbody></table>";
    }

    // The first line as HTML for the facility list; ``top`` (under the plan form) shows it too.
    function renderHeadline(facilities, top) {
      var headline = facilities.length ? planHeadline(facilities) : null;
      top.hidden = !headline;
      top.textContent = headline ? headline.text : "";
      top.className = "headline" + (headline && headline.alarm ? " alarm" : "");
      return headline ? "<p id=\"plan-headline\" class=\"headline" + (headline.alarm ? " alarm" : "") + "\">" +
        escapeHtml(headline.text) + "</p>" : "";
    }

    return {
      renderHeadline: renderHeadline, demandUnknown: demandUnknown, shortfallText: shortfallText, demandPerDayText: demandPerDayText,
      basisText: basisText, planHeadline: planHeadline, renderDataGaps: renderDataGaps,
      facilityRow: facilityRow, tableHead: tableHead
    };
  };
}());
