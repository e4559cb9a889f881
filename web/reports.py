"""Daily reports over HTTP: submit (idempotent, revised), read, and what they add up to.

Facilities submit one report a day before 16:00 (a change is a new revision; the first
submission decides whether it was on time). Coordinators read their province's reports, its
reporting compliance and declared demand; the national roles read the country's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from functools import partial
from typing import Any

from flask import Response, jsonify, request

from coordination.compliance import (
    MONTHLY_TABLE_HEADERS,
    compliance_by_province_day,
    demand_by_province,
    monthly_reporting_table,
    monthly_table_cells,
    national_compliance,
)
from coordination.report_doubts import use_reviews
from data.access import authorize
from data.errors import MalformedInputError, PermissionDeniedError, RecordNotFoundError
from data.exchange.compliance_table import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    table_to_csv,
    table_to_xlsx,
)
from data.reporting import LOCAL_TZ, is_on_time, month_days
from data.schema.registry import DailyReport, ReportRevision, Role
from data.store import ReportCheck
from matcher.demand import CARRY_FORWARD_DAYS
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    current_store,
    json_body,
    path_date,
    plain,
    principal,
    query_date,
    query_period,
    scoped_province,
    today,
)
from web.openapi import (
    DATE_SCHEMA,
    ID_SCHEMA,
    OK_RESPONSE,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
    record_schema,
    schema_ref,
)
from web.registry import PERIOD_QUERY, PROVINCE_QUERY
from web.review import check_json, flags_json

bp = ApiBlueprint("reports", __name__, url_prefix=API_PREFIX)
bp.component_schemas["DailyReport"] = partial(record_schema, DailyReport, fixed=["facility_id"])

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
_OK = {"200": OK_RESPONSE, **_ERRORS}
_FACILITY = path_parameter("facility_id", ID_SCHEMA)
_REPORT_DATE = path_parameter("report_date", DATE_SCHEMA)


@operation(
    bp,
    "POST",
    "/facilities/<facility_id>/reports",
    summary="Submit a daily report (idempotent; a change is a new revision)",
    parameters=[
        _FACILITY,
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
        },
    ],
    request_body=json_request(schema_ref("DailyReport")),
    responses={"200": OK_RESPONSE, "201": OK_RESPONSE, **_ERRORS},
)
def submit_report(facility_id: str) -> Response:
    """Store a facility's report: 201 for a new revision, 200 when nothing changed.

    Physically impossible values are refused (422 naming the field, the value and the limit);
    doubtful ones are stored with flags, returned as ``warnings`` (Vietnamese and English).
    """
    authorize_facility(facility_id, "reports:write")
    body = json_body()
    report = DailyReport.from_mapping(body, facility_id=facility_id)
    key = request.headers.get("Idempotency-Key")
    user = principal()
    store = current_store()
    result = store.submit_report(
        report,
        submitted_by=user.username,
        user_id=user.user_id,
        idempotency_key=key,
        request_hash=None if key is None else _request_hash(key, body),
    )
    history = store.report_history(facility_id, report.report_date)
    payload = {
        **_revision_json(
            result.revision,
            first_submitted_at=history[0].submitted_at,
            check=_checks(facility_id, report.report_date).get(_key(result.revision)),
        ),
        "created": result.created,
        "warnings": flags_json(result.flags),
    }
    response = jsonify(payload)
    response.status_code = 201 if result.created else 200
    response.headers["Location"] = (
        f"{API_PREFIX}/facilities/{facility_id}/reports/"
        f"{report.report_date}/revisions/{result.revision.revision}"
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _request_hash(key: str, body: Any) -> str:
    """Return the hash a replayed ``Idempotency-Key`` must match (path and body); 400 bad key."""
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise MalformedInputError(
            "Idempotency-Key: bad key",
            ["Idempotency-Key: must be 1-255 visible ASCII characters"],
        )
    canonical = json.dumps(
        {"path": request.path, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@operation(
    bp,
    "GET",
    "/facilities/<facility_id>/reports",
    summary="Latest revision of each report in a period",
    parameters=[_FACILITY, *PERIOD_QUERY],
    responses=_OK,
)
def list_facility_reports(facility_id: str) -> Response:
    """Return a facility's latest reports of a period (default: the last 30 days)."""
    authorize_facility(facility_id, "reports:read")
    date_from, date_to = query_period(30)
    revisions = current_store().latest_reports(
        date_from=date_from, date_to=date_to, facility_id=facility_id
    )
    checks = current_store().report_checks(
        date_from=date_from, date_to=date_to, facility_id=facility_id
    )
    return jsonify({"reports": _reports_json(revisions, date_from, date_to, checks)})


@operation(
    bp,
    "GET",
    "/facilities/<facility_id>/reports/<report_date>",
    summary="Latest revision of one report",
    parameters=[_FACILITY, _REPORT_DATE],
    responses=_OK,
)
def latest_report(facility_id: str, report_date: str) -> Response:
    """Return the latest revision of a facility's report of one day."""
    history = _history(facility_id, report_date)
    checks = _checks(facility_id, history[-1].report.report_date)
    return jsonify(
        {
            **_revision_json(
                history[-1],
                first_submitted_at=history[0].submitted_at,
                check=checks.get(_key(history[-1])),
            ),
            "revisions": len(history),
        }
    )


@operation(
    bp,
    "GET",
    "/facilities/<facility_id>/reports/<report_date>/revisions",
    summary="Every revision of one report (audit trail)",
    parameters=[_FACILITY, _REPORT_DATE],
    responses=_OK,
)
def report_revisions(facility_id: str, report_date: str) -> Response:
    """Return every revision of a facility's report of one day, oldest first."""
    history = _history(facility_id, report_date)
    first = history[0].submitted_at
    checks = _checks(facility_id, history[0].report.report_date)
    return jsonify(
        {
            "revisions": [
                _revision_json(r, first_submitted_at=first, check=checks.get(_key(r)))
                for r in history
            ]
        }
    )


def _history(facility_id: str, report_date: str) -> list[ReportRevision]:
    """Return the revisions of one report, authorized; 404 when there is none."""
    authorize_facility(facility_id, "reports:read")
    day = path_date(report_date)
    history = current_store().report_history(facility_id, day)
    if not history:
        raise RecordNotFoundError(f"report_date: no report of {facility_id!r} for {day}")
    return history


@operation(
    bp,
    "GET",
    "/reports",
    summary="Latest reports of a province or the country",
    parameters=[PROVINCE_QUERY, *PERIOD_QUERY],
    responses=_OK,
)
def list_reports() -> Response:
    """Return the latest reports of a period in a province (coordinators: theirs) or all."""
    province_code = scoped_province("reports:read")
    date_from, date_to = query_period()
    revisions = current_store().latest_reports(
        date_from=date_from, date_to=date_to, province_code=province_code
    )
    checks = current_store().report_checks(
        date_from=date_from, date_to=date_to, province_code=province_code
    )
    return jsonify({"reports": _reports_json(revisions, date_from, date_to, checks)})


# ---------------------------------------------------------------------------- compliance, demand


@operation(
    bp,
    "GET",
    "/compliance/daily",
    summary="Expected, on-time, late, missing reports per province and day",
    parameters=[PROVINCE_QUERY, *PERIOD_QUERY],
    responses=_OK,
)
def compliance_daily() -> Response:
    """Return the reporting compliance of each province and day of a period."""
    province_code = scoped_province("compliance:read")
    date_from, date_to = query_period()
    store = current_store()
    rows = compliance_by_province_day(
        store.list_facilities(province_code=province_code),
        store.first_submissions(date_from=date_from, date_to=date_to),
        date_from=date_from,
        date_to=date_to,
        now=app_state().config.clock(),
        province_codes=None if province_code is None else [province_code],
    )
    return jsonify({"deadline_local": "16:00 Asia/Ho_Chi_Minh", "rows": [plain(r) for r in rows]})


@operation(
    bp,
    "GET",
    "/compliance/national",
    summary="National reporting rates per day",
    parameters=PERIOD_QUERY,
    responses=_OK,
)
def compliance_national() -> Response:
    """Return the country's reporting rates per day (national roles only)."""
    user = principal()
    authorize(user, "compliance:read")  # national: coordinators are refused
    if user.role in (Role.FACILITY_REPORTER, Role.PROVINCE_COORDINATOR):
        raise PermissionDeniedError(
            "national compliance is for national roles; ask for your own province"
        )
    date_from, date_to = query_period()
    store = current_store()
    rows = compliance_by_province_day(
        store.list_facilities(),
        store.first_submissions(date_from=date_from, date_to=date_to),
        date_from=date_from,
        date_to=date_to,
        now=app_state().config.clock(),
    )
    return jsonify({"days": [plain(r) for r in national_compliance(rows)]})


_TABLE_FORMATS = ("json", "csv", "xlsx")


@operation(
    bp,
    "GET",
    "/compliance/monthly",
    summary="Monthly table: province, reported or not, number of reports (JSON, CSV or XLSX)",
    parameters=[
        PROVINCE_QUERY,
        {
            **query_parameter("month", {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}),
            "required": True,
        },
        query_parameter(
            "format",
            {"type": "string", "enum": list(_TABLE_FORMATS), "default": "json"},
            "json (default), or a file like the ministry letter's appendix: csv (UTF-8 with BOM) "
            "or xlsx, Vietnamese headers with English beside",
        ),
    ],
    responses=_OK,
)
def compliance_monthly() -> Response:
    """Return, per province, whether it reported in a month and how many reports."""
    province_code = scoped_province("compliance:read")
    raw = request.args.get("month", "")
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", raw)
    if match is None:
        raise MalformedInputError("month: bad month", [f"month: must be YYYY-MM, got {raw!r}"])
    file_format = request.args.get("format", "json")
    if file_format not in _TABLE_FORMATS:
        raise MalformedInputError(
            "format: unknown format",
            [f"format: must be one of {', '.join(_TABLE_FORMATS)}, got {file_format!r}"],
        )
    year, month = int(match.group(1)), int(match.group(2))
    first, last = month_days(year, month)
    store = current_store()
    provinces = store.list_provinces()
    if province_code is not None:
        provinces = [p for p in provinces if p.province_code == province_code]
    table = monthly_reporting_table(
        provinces,
        store.list_facilities(province_code=province_code),
        store.first_submissions(date_from=first, date_to=last),
        year=year,
        month=month,
        now=app_state().config.clock(),
    )
    if file_format != "json":
        return _monthly_file(table, raw, file_format)
    return jsonify(
        {
            "month": raw,
            "provinces_reporting": sum(r.reported for r in table),
            "provinces": len(table),
            "rows": [plain(r) for r in table],
        }
    )


def _monthly_file(table: list[Any], month: str, file_format: str) -> Response:
    """Return the monthly table as a CSV or XLSX attachment (``compliance-YYYY-MM.<ext>``)."""
    cells = monthly_table_cells(table)
    if file_format == "csv":
        response = Response(table_to_csv(MONTHLY_TABLE_HEADERS, cells), content_type=CSV_MIMETYPE)
    else:
        reporting = sum(r.reported for r in table)
        notes = [
            f"Tháng {month}: {reporting}/{len(table)} tỉnh, thành phố đã báo cáo. "
            f"(Month {month}: {reporting} of {len(table)} provinces reported.)",
            "Số báo cáo: số cặp cơ sở-ngày có báo cáo; bản sửa không tính thêm. Tháng chưa kết "
            "thúc được tính đến hôm nay. (Reports: facility-days with a report; corrections are "
            "not extra reports. A month in progress is counted up to today.)",
            "Hạn báo cáo: 16:00 giờ Việt Nam mỗi ngày. (Deadline: 16:00 Asia/Ho_Chi_Minh daily.)",
        ]
        content = table_to_xlsx(
            MONTHLY_TABLE_HEADERS, cells, sheet_title=f"Tháng {month}", notes=notes
        )
        response = Response(content, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="compliance-{month}.{file_format}"'
    )
    return response


@operation(
    bp,
    "GET",
    "/demand/provinces",
    summary="Oxygen demand by province (m³/day, t/day liquid), with each facility's basis",
    parameters=[PROVINCE_QUERY, query_parameter("date", DATE_SCHEMA)],
    responses=_OK,
)
def demand_provinces() -> Response:
    """Return each province's demand on one day under the plans' rule, and the declared use.

    Reports of the :data:`~matcher.demand.CARRY_FORWARD_DAYS` days before ``date`` are fetched
    too: a facility that reported yesterday is "carried forward", as in a plan's day 0.
    """
    province_code = scoped_province("demand:read")
    day = query_date("date", today())
    conversions = app_state().config.conversions
    store = current_store()
    revisions = store.latest_reports(
        date_from=day - dt.timedelta(days=CARRY_FORWARD_DAYS),
        date_to=day,
        province_code=province_code,
    )
    read_at = {(r.report.facility_id, r.report.report_date): r.revision for r in revisions}
    checks = store.report_checks(
        date_from=day - dt.timedelta(days=CARRY_FORWARD_DAYS),
        date_to=day,
        province_code=province_code,
    )
    rows = demand_by_province(
        store.list_facilities(province_code=province_code),
        [r.report for r in revisions],
        report_date=day,
        conversions=conversions,
        province_codes=None if province_code is None else [province_code],
        use_reviews=use_reviews(checks, read_at),
    )
    return jsonify(
        {
            "date": day.isoformat(),
            "gas_m3_per_lox_t": conversions.gas_m3_per_lox_t,
            "rows": [plain(r) for r in rows],
        }
    )


# ---------------------------------------------------------------------------- serialisation


def _key(revision: ReportRevision) -> tuple[str, dt.date, int]:
    return (revision.report.facility_id, revision.report.report_date, revision.revision)


def _checks(facility_id: str, day: dt.date) -> dict[tuple[str, dt.date, int], ReportCheck]:
    """Return the flags and reviews of every revision of one facility's report of ``day``."""
    return current_store().report_checks(date_from=day, date_to=day, facility_id=facility_id)


def _reports_json(
    revisions: list[Any],
    date_from: dt.date,
    date_to: dt.date,
    checks: dict[tuple[str, dt.date, int], ReportCheck],
) -> list[Any]:
    """Serialise latest report revisions with their first submission time (on-time rule)."""
    firsts = {
        (s.facility_id, s.report_date): s.first_submitted_at
        for s in current_store().first_submissions(date_from=date_from, date_to=date_to)
    }
    return [
        _revision_json(
            r,
            first_submitted_at=firsts.get((r.report.facility_id, r.report.report_date)),
            check=checks.get(_key(r)),
        )
        for r in revisions
    ]


def _revision_json(
    revision: ReportRevision,
    *,
    first_submitted_at: dt.datetime | None = None,
    check: ReportCheck | None = None,
) -> dict[str, Any]:
    conversions = app_state().config.conversions
    first = first_submitted_at or revision.submitted_at
    return {
        **revision.report.to_dict(),
        "revision": revision.revision,
        "submitted_at": revision.submitted_at.astimezone(dt.UTC).isoformat(),
        "submitted_at_local": revision.submitted_at.astimezone(LOCAL_TZ).isoformat(),
        "submitted_by": revision.submitted_by,
        "content_hash": revision.content_hash,
        "on_time": is_on_time(first, revision.report.report_date),
        "stock_on_hand_m3": round(revision.report.stock_on_hand_m3(conversions), 3),
        "generated": revision.generated,
        "source": revision.source,
        **check_json(check),
    }
