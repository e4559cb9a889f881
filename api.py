"""The oxyroute HTTP API: a Flask application factory serving the registry under ``/api/v1``.

Conventions: JSON bodies in UTF-8; coordinates WGS84 ``lon``/``lat`` in degrees; gas volumes in m³
at normal conditions (``_m3``); dates ``YYYY-MM-DD`` in Asia/Ho_Chi_Minh; instants ISO 8601 in UTC.
Every request except ``/api/v1/openapi.json`` and ``/api/v1/health`` needs
``Authorization: Bearer <token>`` (DHIS2's ``ApiToken <token>`` also works). Every error has the
same envelope: ``{"error": {"status", "category", "message", "details": [{"field", "reason"}]}}``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from coordination.compliance import (
    compliance_by_province_day,
    demand_by_province,
    monthly_reporting_table,
    national_compliance,
)
from data.access import Principal, authorize
from data.errors import (
    AuthenticationError,
    ConflictError,
    ImportRejectedError,
    InvalidInputError,
    MalformedInputError,
    PermissionDeniedError,
    RecordNotFoundError,
)
from data.reporting import LOCAL_TZ, is_on_time, month_days
from data.schema.registry import (
    REGISTRY_RECORD_TYPES,
    DailyReport,
    Facility,
    RegistryRecord,
    ReportRevision,
    Role,
    id_field,
)
from data.store import Approval, Store, utc_now
from data.units import OxygenConversions
from web.auth import CostlyOperationLimiter, FailedAuthLimiter, authenticate_request
from web.common import (
    ERROR_RESPONSE,
    error_responses,
    json_body,
    query_date,
    query_parameter,
    query_province,
)
from web.dispatch import register_route_routes, route_openapi_paths
from web.errors import TooManyRequestsError
from web.fhir import fhir_openapi_paths, register_fhir_routes
from web.map import WebMapConfig, register_webmap
from web.plans import PlanService, default_plans_dir, plan_openapi_paths, register_plan_routes
from web.scenarios import register_scenario_routes, scenario_openapi_paths

API_PREFIX = "/api/v1"
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
_PUBLIC_ENDPOINTS = {"api.openapi", "api.health", "api.fhir_metadata"}
logger = logging.getLogger("oxyroute.api")


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Configuration of one API application.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the registry database (see :func:`data.db.resolve_database_url`).
    upgrade_schema
        Apply pending Alembic migrations when the app is created (default True).
    max_request_bytes
        Largest request body accepted (default 5 MiB); larger bodies get 413.
    max_xlsx_uncompressed_bytes, max_xlsx_entries
        Limits checked before an XLSX upload is parsed (zip-bomb guard).
    failed_auth_limit, failed_auth_window_s, failed_auth_lockout_s
        After ``failed_auth_limit`` failed authentications from one address within the window,
        the address gets 429 for the lockout period.
    costly_limit, costly_window_s, costly_concurrent
        Each user may start at most ``costly_limit`` plans, route computations and scenario runs
        per ``costly_window_s`` seconds, ``costly_concurrent`` at a time; beyond, 429.
    clock
        The present instant (aware); tests inject a fixed clock.
    conversions
        Oxygen unit factors for stock and demand figures.
    webmap
        Regions and tile server of the web map at ``/`` (``None``: the page with no region).
    """

    database_url: str
    upgrade_schema: bool = True
    max_request_bytes: int = 5 * 1024 * 1024
    max_xlsx_uncompressed_bytes: int = 50 * 1024 * 1024
    max_xlsx_entries: int = 100
    failed_auth_limit: int = 10
    failed_auth_window_s: float = 60.0
    failed_auth_lockout_s: float = 60.0
    costly_limit: int = 6
    costly_window_s: float = 60.0
    costly_concurrent: int = 1
    clock: Callable[[], dt.datetime] = utc_now
    conversions: OxygenConversions = field(default_factory=OxygenConversions)
    regions: tuple[str, ...] = ("hcmc", "hcmc_d5")
    data_dir: str | None = None
    cache_dir: str | None = None
    plans_dir: str | None = None
    webmap: WebMapConfig | None = None


@dataclass(frozen=True, slots=True)
class _AppState:
    config: ApiConfig
    store: Store
    limiter: FailedAuthLimiter
    costly: CostlyOperationLimiter
    query_rules: tuple[tuple[re.Pattern[str], dict[str, frozenset[str]]], ...] = ()


def create_app(config: ApiConfig) -> Flask:
    """Create the API application for ``config``.

    Opens the database (upgrading its schema when ``config.upgrade_schema``); nothing else is
    read, and nothing happens at import time.
    """
    from data.db import create_db_engine, upgrade_database

    app = Flask("oxyroute")
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = create_db_engine(config.database_url)
    if config.upgrade_schema:
        upgrade_database(engine)
    app.extensions["oxyroute"] = _AppState(
        config=config,
        store=Store(engine, clock=config.clock),
        limiter=FailedAuthLimiter(
            max_failures=config.failed_auth_limit,
            window_s=config.failed_auth_window_s,
            lockout_s=config.failed_auth_lockout_s,
        ),
        costly=CostlyOperationLimiter(
            max_per_window=config.costly_limit,
            window_s=config.costly_window_s,
            max_concurrent=config.costly_concurrent,
        ),
        query_rules=_query_rules(openapi_document()),
    )
    app.extensions["oxyroute_plans"] = PlanService(
        regions=config.regions,
        plans_dir=Path(config.plans_dir) if config.plans_dir else default_plans_dir(),
        data_dir=config.data_dir,
        cache_dir=config.cache_dir,
    )
    app.register_blueprint(_build_blueprint(), url_prefix=API_PREFIX)
    state = app.extensions["oxyroute"]
    map_resources = register_webmap(
        app,
        config.webmap,
        store=state.store,
        limiter=state.limiter,
        conversions=config.conversions,
    )
    # The plan endpoints route on the networks the map already loaded (one copy per region).
    app.extensions["oxyroute_plans"].share_networks(
        {rid: (layers.region, layers.network) for rid, layers in map_resources.regions.items()}
    )
    _register_error_handlers(app)
    return app


def _query_rules(
    document: dict[str, Any],
) -> tuple[tuple[re.Pattern[str], dict[str, frozenset[str]]], ...]:
    """Return, per documented path, the query parameters each method accepts."""
    rules = []
    for path, item in document["paths"].items():
        parts = re.split(r"(\{[^}]+\})", path)
        pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        shared = [p for p in item.get("parameters", []) if p["in"] == "query"]
        methods = {}
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = {
                p["name"] for p in [*shared, *operation.get("parameters", [])] if p["in"] == "query"
            }
            methods[method.upper()] = frozenset(names)
        rules.append((re.compile(f"^{re.escape(API_PREFIX)}{pattern}$"), methods))
    return tuple(rules)


def _check_query_names() -> None:
    """Refuse query parameters the OpenAPI document does not declare for this operation (400)."""
    method = "GET" if request.method == "HEAD" else request.method
    for pattern, methods in _state().query_rules:
        if pattern.fullmatch(request.path) and method in methods:
            unknown = sorted(set(request.args) - methods[method])
            if unknown:
                allowed = ", ".join(sorted(methods[method])) or "none"
                raise MalformedInputError(
                    "unknown query parameter",
                    [f"{name}: unknown query parameter (allowed: {allowed})" for name in unknown],
                )
            return


def _state() -> _AppState:
    return current_app.extensions["oxyroute"]  # type: ignore[no-any-return]


def _store() -> Store:
    return _state().store


def _principal() -> Principal:
    return g.principal  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- errors

_CATEGORIES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal",
}


def _details(problems: list[str]) -> list[dict[str, str]]:
    out = []
    for problem in problems:
        name, sep, reason = problem.partition(": ")
        out.append(
            {"field": name, "reason": reason}
            if sep and " " not in name.strip("[]'\"")
            else {"field": "", "reason": problem}
        )
    return out


def error_response(
    status: int,
    message: str,
    problems: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Return the JSON error envelope with ``status``."""
    response = jsonify(
        {
            "error": {
                "status": status,
                "category": _CATEGORIES.get(status, "error"),
                "message": message,
                "details": _details(problems or []),
            }
        }
    )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MalformedInputError)
    def _malformed(error: MalformedInputError) -> Response:
        return error_response(400, "malformed request", error.problems)

    @app.errorhandler(ImportRejectedError)
    def _rejected(error: ImportRejectedError) -> Response:
        response = error_response(422, str(error).split("\n")[0])
        response.get_json()  # parsed once so that it can be replaced below
        body = {
            "error": {
                "status": 422,
                "category": "unprocessable",
                "message": "nothing was imported: fix every row listed and send again",
                "details": [
                    {"row": p.row, "field": p.column, "reason": p.reason}
                    for p in error.row_problems
                ],
            }
        }
        response.set_data(json.dumps(body, ensure_ascii=False))
        return response

    @app.errorhandler(InvalidInputError)
    def _invalid(error: InvalidInputError) -> Response:
        return error_response(422, "the request breaks a rule", error.problems)

    @app.errorhandler(AuthenticationError)
    def _unauthenticated(error: AuthenticationError) -> Response:
        return error_response(
            401,
            "authentication required: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="oxyroute"'},
        )

    @app.errorhandler(TooManyRequestsError)
    def _too_many(error: TooManyRequestsError) -> Response:
        return error_response(429, str(error), headers={"Retry-After": str(error.retry_after_s)})

    @app.errorhandler(PermissionDeniedError)
    def _forbidden(error: PermissionDeniedError) -> Response:
        return error_response(403, str(error))

    @app.errorhandler(RecordNotFoundError)
    def _not_found(error: RecordNotFoundError) -> Response:
        return error_response(404, "not found", [str(error)])

    @app.errorhandler(ConflictError)
    def _conflict(error: ConflictError) -> Response:
        return error_response(409, str(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        message = {413: f"request body larger than {_state().config.max_request_bytes} bytes"}.get(
            status, error.description or error.name
        )
        # Keep what the exception says about the request (Allow on 405, Retry-After...).
        headers = {
            name: value
            for name, value in error.get_headers()
            if name.lower() not in ("content-type", "content-length")
        }
        return error_response(status, message, headers=headers)

    @app.errorhandler(Exception)
    def _internal(error: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error; it has been logged")


# ---------------------------------------------------------------------------- request parsing


def _query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise MalformedInputError(
            f"{name}: bad number",
            [f"{name}: must be a whole number from {low} to {high}, got {raw!r}"],
        )
    return int(raw)


def _today() -> dt.date:
    return _state().config.clock().astimezone(LOCAL_TZ).date()


def _scoped_province(permission: str) -> str | None:
    """Return the province a request is about: the query's, or a coordinator's own by default."""
    principal = _principal()
    if principal.role == Role.FACILITY_REPORTER:
        raise PermissionDeniedError(
            "a facility reporter reads its own facility's data under "
            f"/facilities/{principal.facility_id}/..."
        )
    province_code = query_province()
    if province_code is None and principal.role == Role.PROVINCE_COORDINATOR:
        province_code = principal.province_code
    authorize(principal, permission, province_code=province_code)
    return province_code


# ---------------------------------------------------------------------------- serialisation


def _reports_json(revisions: list[Any], date_from: dt.date, date_to: dt.date) -> list[Any]:
    """Serialise latest report revisions with their first submission time (on-time rule)."""
    firsts = {
        (s.facility_id, s.report_date): s.first_submitted_at
        for s in _store().first_submissions(date_from=date_from, date_to=date_to)
    }
    return [
        _revision_json(
            r, first_submitted_at=firsts.get((r.report.facility_id, r.report.report_date))
        )
        for r in revisions
    ]


def _revision_json(
    revision: ReportRevision, *, first_submitted_at: dt.datetime | None = None
) -> dict[str, Any]:
    conversions = _state().config.conversions
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
    }


def _plain(value: Any) -> Any:
    """Turn a result dataclass (with its rate properties) into JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("reporting_rate", "reporting_rate_on_time"):
            if hasattr(type(value), name):
                out[name] = getattr(value, name)
        if "actual_reports_on_time" in out and "actual_reports" in out:
            # The same figures under DHIS2's reporting-rate names (INTEROP.md).
            out["dhis2"] = {
                "EXPECTED_REPORTS": out["expected_reports"],
                "ACTUAL_REPORTS": out["actual_reports"],
                "ACTUAL_REPORTS_ON_TIME": out["actual_reports_on_time"],
                "REPORTING_RATE": out["reporting_rate"],
                "REPORTING_RATE_ON_TIME": out["reporting_rate_on_time"],
            }
        return out
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------- blueprint


def _build_blueprint() -> Blueprint:
    api = Blueprint("api", __name__)
    collections = "any(" + ", ".join(f"'{c}'" for c in REGISTRY_RECORD_TYPES) + ")"

    @api.before_request
    def _authenticate() -> None:
        if request.endpoint in _PUBLIC_ENDPOINTS:
            return
        state = _state()
        g.principal = authenticate_request(
            authorization=request.headers.get("Authorization", ""),
            query_names=request.args,
            client=request.remote_addr or "unknown",
            store=state.store,
            limiter=state.limiter,
        )
        _check_query_names()

    register_plan_routes(api, _store)
    register_route_routes(api, _store)
    register_scenario_routes(api, _store, lambda: _state().config.clock())
    register_fhir_routes(api, _store)

    @api.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(openapi_document())

    @api.get("/health")
    def health() -> Response:
        return jsonify({"status": "ok"})

    @api.get("/me")
    def me() -> Response:
        return jsonify(_plain(_principal()))

    @api.get("/provinces")
    def list_provinces() -> Response:
        authorize(_principal(), "provinces:read")
        return jsonify({"provinces": [p.to_dict() for p in _store().list_provinces()]})

    # -- registry collections -------------------------------------------------------------

    @api.get(f"/<{collections}:collection>")
    def list_records(collection: str) -> Response:
        principal = _principal()
        limit = _query_int("limit", 100, 1, 1000)
        offset = _query_int("offset", 0, 0, 10**9)
        records: list[RegistryRecord]
        if collection == "facilities" and principal.role == Role.FACILITY_REPORTER:
            authorize(principal, "facilities:read", facility_id=principal.facility_id)
            records = [_store().get_record("facilities", principal.facility_id or "")]
        elif collection == "facilities":
            records = _store().list_records(
                collection,
                province_code=_scoped_province("facilities:read"),
                limit=limit,
                offset=offset,
            )
        else:
            authorize(principal, f"{collection}:read")
            records = _store().list_records(
                collection, province_code=query_province(), limit=limit, offset=offset
            )
        return jsonify(
            {
                collection.replace("-", "_"): [r.to_dict() for r in records],
                "limit": limit,
                "offset": offset,
            }
        )

    @api.post(f"/<{collections}:collection>")
    def create_record(collection: str) -> Response:
        record = REGISTRY_RECORD_TYPES[collection].from_mapping(json_body())
        _authorize_record(collection, "write", record)
        _store().create_record(record, actor=_principal().username)
        return _created(record.to_dict(), f"{API_PREFIX}/{collection}/{_record_id(record)}")

    @api.get(f"/<{collections}:collection>/<record_id>")
    def get_record(collection: str, record_id: str) -> Response:
        _preauthorize_facility(collection, record_id)
        record = _store().get_record(collection, record_id)
        _authorize_record(collection, "read", record)
        return jsonify(record.to_dict())

    @api.put(f"/<{collections}:collection>/<record_id>")
    def replace_record(collection: str, record_id: str) -> Response:
        _preauthorize_facility(collection, record_id, "write")
        record_type = REGISTRY_RECORD_TYPES[collection]
        fixed: dict[str, Any] = {id_field(record_type): record_id}
        record = record_type.from_mapping(json_body(), **fixed)
        _authorize_record(collection, "write", _store().get_record(collection, record_id))
        _authorize_record(collection, "write", record)
        _store().replace_record(record, actor=_principal().username)
        return jsonify(record.to_dict())

    @api.delete(f"/<{collections}:collection>/<record_id>")
    def delete_record(collection: str, record_id: str) -> Response:
        _preauthorize_facility(collection, record_id, "write")
        _authorize_record(collection, "write", _store().get_record(collection, record_id))
        _store().delete_record(collection, record_id, actor=_principal().username)
        return Response(status=204)

    # -- daily reports ---------------------------------------------------------------------

    @api.post("/facilities/<facility_id>/reports")
    def submit_report(facility_id: str) -> Response:
        _authorize_facility(facility_id, "reports:write")
        body = json_body()
        report = DailyReport.from_mapping(body, facility_id=facility_id)
        key = request.headers.get("Idempotency-Key")
        request_hash = None
        if key is not None:
            if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
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
            request_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        principal = _principal()
        result = _store().submit_report(
            report,
            submitted_by=principal.username,
            user_id=principal.user_id,
            idempotency_key=key,
            request_hash=request_hash,
        )
        history = _store().report_history(facility_id, report.report_date)
        payload = {
            **_revision_json(result.revision, first_submitted_at=history[0].submitted_at),
            "created": result.created,
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

    @api.get("/facilities/<facility_id>/reports")
    def list_facility_reports(facility_id: str) -> Response:
        _authorize_facility(facility_id, "reports:read")
        date_to = query_date("date_to", _today())
        date_from = query_date("date_from", _days_before(date_to, 30))
        _check_period(date_from, date_to)
        revisions = _store().latest_reports(
            date_from=date_from, date_to=date_to, facility_id=facility_id
        )
        return jsonify({"reports": _reports_json(revisions, date_from, date_to)})

    @api.get("/facilities/<facility_id>/reports/<report_date>/revisions")
    def report_revisions(facility_id: str, report_date: str) -> Response:
        _authorize_facility(facility_id, "reports:read")
        day = _path_date(report_date)
        history = _store().report_history(facility_id, day)
        if not history:
            raise RecordNotFoundError(f"report_date: no report of {facility_id!r} for {day}")
        return jsonify(
            {
                "revisions": [
                    _revision_json(r, first_submitted_at=history[0].submitted_at) for r in history
                ]
            }
        )

    @api.get("/facilities/<facility_id>/reports/<report_date>")
    def latest_report(facility_id: str, report_date: str) -> Response:
        _authorize_facility(facility_id, "reports:read")
        day = _path_date(report_date)
        history = _store().report_history(facility_id, day)
        if not history:
            raise RecordNotFoundError(f"report_date: no report of {facility_id!r} for {day}")
        return jsonify(
            {
                **_revision_json(history[-1], first_submitted_at=history[0].submitted_at),
                "revisions": len(history),
            }
        )

    @api.get("/reports")
    def list_reports() -> Response:
        province_code = _scoped_province("reports:read")
        date_to = query_date("date_to", _today())
        date_from = query_date("date_from", date_to)
        _check_period(date_from, date_to)
        revisions = _store().latest_reports(
            date_from=date_from, date_to=date_to, province_code=province_code
        )
        return jsonify({"reports": _reports_json(revisions, date_from, date_to)})

    # -- compliance and demand -----------------------------------------------------------------

    @api.get("/compliance/daily")
    def compliance_daily() -> Response:
        province_code = _scoped_province("compliance:read")
        date_to = query_date("date_to", _today())
        date_from = query_date("date_from", date_to)
        _check_period(date_from, date_to)
        rows = compliance_by_province_day(
            _store().list_facilities(province_code=province_code),
            _store().first_submissions(date_from=date_from, date_to=date_to),
            date_from=date_from,
            date_to=date_to,
            now=_state().config.clock(),
            province_codes=None if province_code is None else [province_code],
        )
        return jsonify(
            {"deadline_local": "16:00 Asia/Ho_Chi_Minh", "rows": [_plain(r) for r in rows]}
        )

    @api.get("/compliance/national")
    def compliance_national() -> Response:
        authorize(_principal(), "compliance:read")  # national: coordinators are refused
        _forbid_scoped("national compliance")
        date_to = query_date("date_to", _today())
        date_from = query_date("date_from", date_to)
        _check_period(date_from, date_to)
        rows = compliance_by_province_day(
            _store().list_facilities(),
            _store().first_submissions(date_from=date_from, date_to=date_to),
            date_from=date_from,
            date_to=date_to,
            now=_state().config.clock(),
        )
        return jsonify({"days": [_plain(r) for r in national_compliance(rows)]})

    @api.get("/compliance/monthly")
    def compliance_monthly() -> Response:
        province_code = _scoped_province("compliance:read")
        raw = request.args.get("month", "")
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", raw)
        if match is None:
            raise MalformedInputError("month: bad month", [f"month: must be YYYY-MM, got {raw!r}"])
        year, month = int(match.group(1)), int(match.group(2))
        first, last = month_days(year, month)
        provinces = _store().list_provinces()
        if province_code is not None:
            provinces = [p for p in provinces if p.province_code == province_code]
        table = monthly_reporting_table(
            provinces,
            _store().list_facilities(province_code=province_code),
            _store().first_submissions(date_from=first, date_to=last),
            year=year,
            month=month,
            now=_state().config.clock(),
        )
        return jsonify(
            {
                "month": raw,
                "provinces_reporting": sum(r.reported for r in table),
                "provinces": len(table),
                "rows": [_plain(r) for r in table],
            }
        )

    @api.get("/demand/provinces")
    def demand_provinces() -> Response:
        province_code = _scoped_province("demand:read")
        day = query_date("date", _today())
        conversions = _state().config.conversions
        revisions = _store().latest_reports(date_from=day, date_to=day, province_code=province_code)
        rows = demand_by_province(
            _store().list_facilities(province_code=province_code),
            [r.report for r in revisions],
            report_date=day,
            conversions=conversions,
            province_codes=None if province_code is None else [province_code],
        )
        return jsonify(
            {
                "date": day.isoformat(),
                "gas_m3_per_lox_t": conversions.gas_m3_per_lox_t,
                "rows": [_plain(r) for r in rows],
            }
        )

    # -- approval and locking ------------------------------------------------------------------

    @api.get("/approvals")
    def list_approvals() -> Response:
        province_code = _scoped_province("approvals:read")
        date_to = query_date("date_to", _today())
        date_from = query_date("date_from", _days_before(date_to, 30))
        _check_period(date_from, date_to)
        items = _store().list_approvals(
            date_from=date_from, date_to=date_to, province_code=province_code
        )
        return jsonify({"approvals": [_approval_json(a) for a in items]})

    @api.get("/approvals/<province_code>/<report_date>")
    def get_approval(province_code: str, report_date: str) -> Response:
        code, day = _approval_target(province_code, report_date, "approvals:read")
        items = _store().list_approvals(date_from=day, date_to=day, province_code=code)
        if items:
            return jsonify(_approval_json(items[0]))
        return jsonify(
            {
                "province_code": code,
                "report_date": day.isoformat(),
                "locked": False,
                "approved_by": None,
                "approved_at": None,
                "unlocked_by": None,
                "unlocked_at": None,
                "unlock_reason": None,
            }
        )

    @api.post("/approvals/<province_code>/<report_date>")
    def approve_day(province_code: str, report_date: str) -> Response:
        code, day = _approval_target(province_code, report_date, "approvals:write")
        approval = _store().approve_day(code, day, actor=_principal().username)
        return _created(_approval_json(approval), f"{API_PREFIX}/approvals/{code}/{day}")

    @api.post("/approvals/<province_code>/<report_date>/unlock")
    def unlock_day(province_code: str, report_date: str) -> Response:
        code, day = _approval_target(province_code, report_date, "approvals:write")
        body = json_body()
        if not isinstance(body, dict) or set(body) - {"reason"}:
            raise MalformedInputError(
                "body: bad unlock request",
                ['body: send {"reason": "why the day is unlocked"} and nothing else'],
            )
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise MalformedInputError(
                "reason: is required", [f"reason: must be text, got {reason!r}"]
            )
        approval = _store().unlock_day(code, day, actor=_principal().username, reason=reason)
        return jsonify(_approval_json(approval))

    # -- DHIS2 dataValueSets ----------------------------------------------------------------

    @api.get("/dhis2/dataValueSets.<any(json, csv, adx):ext>")
    def export_data_value_set(ext: str) -> Response:
        from data.exchange.dhis2 import (
            ADX_MEDIA_TYPE,
            data_value_set,
            data_values,
            data_values_adx,
            data_values_csv,
        )

        _check_id_scheme()
        facility_id, province_code = _dhis2_scope()
        date_from, date_to = _dhis2_period()
        last_updated = _query_instant("lastUpdated")
        revisions = _store().latest_reports(
            date_from=date_from,
            date_to=date_to,
            facility_id=facility_id,
            province_code=province_code,
        )
        if last_updated is not None:
            revisions = [r for r in revisions if r.submitted_at >= last_updated]
        firsts = {
            (s.facility_id, s.report_date): s.first_submitted_at
            for s in _store().first_submissions(date_from=date_from, date_to=date_to)
        }
        values = data_values(revisions, firsts, conversions=_state().config.conversions)
        if ext == "csv":
            response = Response(data_values_csv(values), mimetype="text/csv; charset=utf-8")
            response.headers["Content-Disposition"] = 'attachment; filename="dataValueSets.csv"'
            return response
        if ext == "adx":
            exported = _state().config.clock()
            return Response(data_values_adx(values, exported=exported), mimetype=ADX_MEDIA_TYPE)
        return jsonify(data_value_set(values))

    @api.post("/dhis2/dataValueSets")
    def import_data_value_set() -> Response:
        from data.exchange.dhis2 import (
            ADX_MEDIA_TYPE,
            import_data_values,
            parse_data_value_set_json,
            parse_data_values_adx,
            parse_data_values_csv,
        )

        _check_id_scheme()
        dry_run = _query_bool("dryRun")
        if request.mimetype == "text/csv":
            values = parse_data_values_csv(request.get_data(cache=False))
        elif request.mimetype in (ADX_MEDIA_TYPE, "application/xml", "text/xml"):
            values = parse_data_values_adx(request.get_data(cache=False))
        else:
            values = parse_data_value_set_json(json_body())
        summary = import_data_values(_store(), values, principal=_principal(), dry_run=dry_run)
        return jsonify(summary)

    # -- audit and users ----------------------------------------------------------------------

    @api.get("/audit")
    def audit() -> Response:
        authorize(_principal(), "audit:read")
        events = _store().audit_trail(
            entity=request.args.get("entity"),
            entity_id=request.args.get("entity_id"),
            limit=_query_int("limit", 100, 1, 1000),
        )
        return jsonify({"events": [_plain(e) for e in events]})

    @api.post("/users")
    def add_user() -> Response:
        authorize(_principal(), "users:admin")
        body = json_body()
        if not isinstance(body, dict):
            raise MalformedInputError("body: must be an object", ["body: must be a JSON object"])
        unknown = set(body) - {"username", "role", "facility_id", "province_code"}
        problems = [f"{name}: unknown field" for name in sorted(unknown)]
        role_value = body.get("role")
        if role_value not in {r.value for r in Role}:
            problems.append(
                f"role: must be one of {', '.join(r.value for r in Role)}, got {role_value!r}"
            )
        for name in ("username", "facility_id", "province_code"):
            if body.get(name) is not None and not isinstance(body[name], str):
                problems.append(f"{name}: must be text")
        if problems:
            raise MalformedInputError.from_problems("user", problems)
        _store().add_user(
            str(body.get("username", "")),
            Role(str(role_value)),
            facility_id=body.get("facility_id"),
            province_code=body.get("province_code"),
            actor=_principal().username,
        )
        return _created(
            {k: body.get(k) for k in ("username", "role", "facility_id", "province_code")},
            f"{API_PREFIX}/users/{body['username']}",
        )

    @api.post("/users/<username>/tokens")
    def issue_token(username: str) -> Response:
        authorize(_principal(), "users:admin")
        token = _store().issue_token(username, label="api", actor=_principal().username)
        response = jsonify(
            {"username": username, "token": token, "note": "shown once; only its hash is stored"}
        )
        response.status_code = 201
        response.headers["Cache-Control"] = "no-store"
        return response

    @api.post("/users/<username>/disable")
    def disable_user(username: str) -> Response:
        authorize(_principal(), "users:admin")
        _store().set_user_disabled(username, True, actor=_principal().username)
        return jsonify({"username": username, "disabled": True})

    # -- import and export -------------------------------------------------------------------

    @api.post("/imports/<any(facilities, suppliers, vehicles, reports):kind>")
    def import_rows(kind: str) -> Response:
        from data.exchange.importers import import_file

        principal = _principal()
        authorize(
            principal,
            "imports:write",
            province_code=principal.province_code,
            facility_id=principal.facility_id,
        )
        file_format = _file_format(request.args.get("format") or request.mimetype)
        dry_run = _query_bool("dry_run")
        summary = import_file(
            _store(),
            kind,
            request.get_data(cache=False),
            file_format=file_format,
            principal=principal,
            dry_run=dry_run,
            max_xlsx_uncompressed_bytes=_state().config.max_xlsx_uncompressed_bytes,
            max_xlsx_entries=_state().config.max_xlsx_entries,
            crs=request.args.get("crs"),
        )
        return jsonify(summary)

    @api.get("/exports/<any(facilities, suppliers, vehicles, reports):kind>.<any(csv, xlsx):ext>")
    def export_rows(kind: str, ext: str) -> Response:
        from data.exchange.exporters import export_file

        province_code = (
            _scoped_province(f"{kind}:read")
            if kind in ("facilities", "reports")
            else _authorized_unscoped(f"{kind}:read")
        )
        date_to = query_date("date_to", _today())
        date_from = query_date("date_from", date_to)
        _check_period(date_from, date_to)
        content, mimetype = export_file(
            _store(), kind, ext, province_code=province_code, date_from=date_from, date_to=date_to
        )
        response = Response(content, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{kind}.{ext}"'
        return response

    return api


def _approval_json(approval: Approval) -> dict[str, Any]:
    return {
        "province_code": approval.province_code,
        "report_date": approval.report_date.isoformat(),
        "locked": approval.locked,
        "approved_by": approval.approved_by,
        "approved_at": approval.approved_at.astimezone(dt.UTC).isoformat(),
        "unlocked_by": approval.unlocked_by,
        "unlocked_at": None
        if approval.unlocked_at is None
        else approval.unlocked_at.astimezone(dt.UTC).isoformat(),
        "unlock_reason": approval.unlock_reason,
    }


def _approval_target(province_code: str, report_date: str, permission: str) -> tuple[str, dt.date]:
    """Parse and authorize the province-day of an approval request (scoped to coordinators)."""
    if not re.fullmatch(r"[0-9]{2}", province_code):
        raise MalformedInputError(
            "province_code: bad code",
            [f"province_code: must be a two-digit code, got {province_code!r}"],
        )
    day = _path_date(report_date)
    authorize(_principal(), permission, province_code=province_code)
    _store().get_province(province_code)
    return province_code, day


def _query_bool(name: str) -> bool:
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        raise MalformedInputError(
            f"{name}: bad value", [f"{name}: must be true or false, got {raw!r}"]
        )
    return raw == "true"


def _check_id_scheme() -> None:
    scheme = request.args.get("idScheme", "code")
    if scheme.lower() != "code":
        raise MalformedInputError(
            "idScheme: unsupported", [f"idScheme: only 'code' is supported, got {scheme!r}"]
        )


def _dhis2_scope() -> tuple[str | None, str | None]:
    """Return (facility id, province code) of a DHIS2 export from ``orgUnit``, authorized.

    ``orgUnit`` is a facility id or a 2021 province code (a parent org unit with its children);
    by default a reporter gets its facility, a coordinator its province, national roles all.
    """
    principal = _principal()
    org_unit = request.args.get("orgUnit")
    if org_unit is None and principal.role == Role.FACILITY_REPORTER:
        org_unit = principal.facility_id
    if org_unit is None:
        province_code = principal.province_code
        authorize(principal, "reports:read", province_code=province_code)
        return None, province_code
    if re.fullmatch(r"[0-9]{2}", org_unit):
        authorize(principal, "reports:read", province_code=org_unit)
        return None, org_unit
    _authorize_facility(org_unit, "reports:read")
    return org_unit, None


def _dhis2_period() -> tuple[dt.date, dt.date]:
    from data.exchange.dhis2 import parse_period

    period = request.args.get("period")
    if period is not None:
        if "startDate" in request.args or "endDate" in request.args:
            raise InvalidInputError("period: give either period or startDate and endDate, not both")
        if not re.fullmatch(r"[0-9]{8}", period):
            raise MalformedInputError(
                "period: bad period", [f"period: must be yyyyMMdd, got {period!r}"]
            )
        day = parse_period(period)  # eight digits but no such day: 422
        return day, day
    date_to = query_date("endDate", _today())
    date_from = query_date("startDate", date_to)
    _check_period(date_from, date_to)
    return date_from, date_to


_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?"
)


def _query_instant(name: str) -> dt.datetime | None:
    """Parse an RFC 3339 date-time or a date (midnight UTC) from the query; None if absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    match = _INSTANT.fullmatch(raw)
    try:
        if match is None:
            raise ValueError(raw)
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        if hour is None:
            return dt.datetime(int(year), int(month), int(day), tzinfo=dt.UTC)
        offset = dt.timedelta(0)
        if zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            offset = sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        value = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),  # a leap second counts as :59
            int(((fraction or ".0") + "000000")[1:7]),
            tzinfo=dt.timezone(offset),
        )
    except ValueError:
        raise MalformedInputError(
            f"{name}: bad instant",
            [f"{name}: must be an RFC 3339 date-time or a date (UTC midnight), got {raw!r}"],
        ) from None
    return value


def _authorized_unscoped(permission: str) -> str | None:
    """Check a permission that has no province scope; return ``None`` (no province filter).

    A ``province_code`` in the query (the operation documents it for the kinds that have a
    province) is still checked, so that a malformed one is a 400, not silently accepted.
    """
    query_province()
    authorize(_principal(), permission)
    return None


def _forbid_scoped(what: str) -> None:
    principal = _principal()
    if principal.role in (Role.FACILITY_REPORTER, Role.PROVINCE_COORDINATOR):
        raise PermissionDeniedError(f"{what} is for national roles; ask for your own province")


def _file_format(raw: str) -> str:
    value = raw.lower()
    if value in ("csv", "text/csv"):
        return "csv"
    if value in ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
        return "xlsx"
    raise MalformedInputError("format: unknown", [f"format: must be csv or xlsx, got {raw!r}"])


def _path_date(raw: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise MalformedInputError(
            "report_date: bad date", [f"report_date: must be YYYY-MM-DD, got {raw!r}"]
        )
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise MalformedInputError(
            "report_date: bad date", [f"report_date: no such day {raw!r}"]
        ) from None


def _days_before(day: dt.date, days: int) -> dt.date:
    """Return ``day`` minus ``days``, or the first representable day (no overflow near year 1)."""
    return day - dt.timedelta(days=min(days, (day - dt.date.min).days))


def _check_period(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        raise InvalidInputError(
            f"date_to: must not be before date_from ({date_from}), got {date_to}"
        )
    if (date_to - date_from).days > 366:
        raise InvalidInputError("date_to: a period is at most 366 days")


def _created(payload: dict[str, Any], location: str) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def _record_id(record: RegistryRecord) -> str:
    return str(getattr(record, id_field(type(record))))


def _preauthorize_facility(collection: str, record_id: str, verb: str = "read") -> None:
    # Refuse a reporter before looking the record up, so ids outside its scope are not probed.
    principal = _principal()
    if collection == "facilities" and principal.role == Role.FACILITY_REPORTER:
        authorize(principal, f"facilities:{verb}", facility_id=record_id, province_code=None)


def _authorize_record(collection: str, verb: str, record: RegistryRecord) -> None:
    principal = _principal()
    if isinstance(record, Facility):
        authorize(
            principal,
            f"facilities:{verb}",
            facility_id=record.facility_id,
            province_code=record.province_code,
        )
    else:
        authorize(principal, f"{collection}:{verb}")


def _authorize_facility(facility_id: str, permission: str) -> Facility:
    principal = _principal()
    if principal.role == Role.FACILITY_REPORTER:
        authorize(principal, permission, facility_id=facility_id)
    facility = _store().get_record("facilities", facility_id)
    assert isinstance(facility, Facility)
    authorize(
        principal,
        permission,
        facility_id=facility.facility_id,
        province_code=facility.province_code,
    )
    return facility


# ---------------------------------------------------------------------------- OpenAPI


def _schema_for(record_type: Any) -> dict[str, Any]:
    import typing
    from collections.abc import Mapping
    from enum import StrEnum

    from data.schema.registry import CYLINDER_SIZES, is_required_field, optional_hint

    properties: dict[str, Any] = {}
    required = []
    fields = {f.name: f for f in dataclasses.fields(record_type)}
    for name, hint in record_type.field_hints().items():
        optional, base = optional_hint(hint)
        if isinstance(base, type) and issubclass(base, StrEnum):
            schema: dict[str, Any] = {"type": "string", "enum": [m.value for m in base]}
        elif base is str:
            schema = {"type": "string", "minLength": 1}
            if name.endswith("_id"):
                schema["pattern"] = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
            if name == "province_code":
                schema = {"type": "string", "enum": _province_codes()}
        elif base is int:
            schema = {"type": "integer", "minimum": 0}
        elif base is float:
            schema = {"type": "number", "minimum": 0}
        elif base is bool:
            schema = {"type": "boolean"}
        elif base is dt.date:
            schema = {"type": "string", "format": "date"}
        elif typing.get_origin(base) in (Mapping, dict):
            schema = {
                "type": "object",
                "propertyNames": {"enum": sorted(CYLINDER_SIZES)},
                "additionalProperties": {"type": "integer", "minimum": 0},
            }
        else:
            schema = {"type": "array", "items": {"type": "string"}}
        if name == "lon":
            schema = {"type": "number", "minimum": -180, "maximum": 180}
        if name == "lat":
            schema = {"type": "number", "minimum": -90, "maximum": 90}
        if name == "tier":
            schema = {"type": "integer", "enum": [1, 2, 3]}
        if optional:
            schema = {"anyOf": [schema, {"type": "null"}]}
        properties[name] = schema
        if is_required_field(fields[name]):
            required.append(name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "description": (record_type.__doc__ or "").split("\n")[0],
    }


def _province_codes() -> list[str]:
    from data.provinces import PROVINCES_2021

    return [code for code, _, _ in PROVINCES_2021]


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 description of the API."""
    error = ERROR_RESPONSE
    errors = error_responses("400", "401", "403", "404", "409", "422", "429")
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}

    date = {"type": "string", "format": "date"}
    province = query_parameter(
        "province_code",
        {"type": "string", "pattern": "^[0-9]{2}$"},
        "2021 province code (coordinators: their own)",
    )
    id_schema = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"}
    path_param = {"name": "record_id", "in": "path", "required": True, "schema": id_schema}
    facility_param = {"name": "facility_id", "in": "path", "required": True, "schema": id_schema}
    date_param = {"name": "report_date", "in": "path", "required": True, "schema": date}
    province_path = {
        "name": "province_code",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]{2}$"},
    }
    paths: dict[str, Any] = {
        "/health": {"get": {"summary": "Liveness", "security": [], "responses": {"200": ok}}},
        "/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": {"200": ok}}
        },
        "/me": {"get": {"summary": "The authenticated user", "responses": {"200": ok, **errors}}},
        "/provinces": {
            "get": {
                "summary": "The 63 provinces of 2021 and their 2025 units",
                "responses": {"200": ok, **errors},
            }
        },
    }
    for collection, record_type in REGISTRY_RECORD_TYPES.items():
        ref = {"$ref": f"#/components/schemas/{record_type.__name__}"}
        body = {"required": True, "content": {"application/json": {"schema": ref}}}
        paths[f"/{collection}"] = {
            "get": {
                "summary": f"List {collection}",
                "parameters": [
                    province,
                    query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    query_parameter(
                        "offset", {"type": "integer", "minimum": 0, "maximum": 999_999_999}
                    ),
                ],
                "responses": {"200": ok, **errors},
            },
            "post": {
                "summary": f"Create one of {collection}",
                "requestBody": body,
                "responses": {"201": ok, **errors},
            },
        }
        paths[f"/{collection}/{{record_id}}"] = {
            "parameters": [path_param],
            "get": {"summary": "Read one", "responses": {"200": ok, **errors}},
            "put": {
                "summary": "Replace one (the id comes from the path)",
                "requestBody": body,
                "responses": {"200": ok, **errors},
            },
            "delete": {
                "summary": "Delete one (409 while referenced)",
                "responses": {"204": {"description": "deleted"}, **errors},
            },
        }
    report_body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DailyReport"}}},
    }
    period = [query_parameter("date_from", date), query_parameter("date_to", date)]
    paths.update(
        {
            "/facilities/{facility_id}/reports": {
                "parameters": [facility_param],
                "post": {
                    "summary": "Submit a daily report (idempotent; a change is a new revision)",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                        }
                    ],
                    "requestBody": report_body,
                    "responses": {"200": ok, "201": ok, **errors},
                },
                "get": {
                    "summary": "Latest revision of each report in a period",
                    "parameters": period,
                    "responses": {"200": ok, **errors},
                },
            },
            "/facilities/{facility_id}/reports/{report_date}": {
                "parameters": [facility_param, date_param],
                "get": {
                    "summary": "Latest revision of one report",
                    "responses": {"200": ok, **errors},
                },
            },
            "/facilities/{facility_id}/reports/{report_date}/revisions": {
                "parameters": [facility_param, date_param],
                "get": {
                    "summary": "Every revision of one report (audit trail)",
                    "responses": {"200": ok, **errors},
                },
            },
            "/reports": {
                "get": {
                    "summary": "Latest reports of a province or the country",
                    "parameters": [province, *period],
                    "responses": {"200": ok, **errors},
                }
            },
            "/compliance/daily": {
                "get": {
                    "summary": "Expected, on-time, late, missing reports per province and day",
                    "parameters": [province, *period],
                    "responses": {"200": ok, **errors},
                }
            },
            "/compliance/national": {
                "get": {
                    "summary": "National reporting rates per day",
                    "parameters": period,
                    "responses": {"200": ok, **errors},
                }
            },
            "/compliance/monthly": {
                "get": {
                    "summary": "Monthly table: province, reported or not, number of reports",
                    "parameters": [
                        province,
                        {
                            **query_parameter(
                                "month",
                                {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
                            ),
                            "required": True,
                        },
                    ],
                    "responses": {"200": ok, **errors},
                }
            },
            "/demand/provinces": {
                "get": {
                    "summary": "Declared oxygen use by province (m³/day, t/day liquid)",
                    "parameters": [province, query_parameter("date", date)],
                    "responses": {"200": ok, **errors},
                }
            },
            "/audit": {
                "get": {
                    "summary": "Audit trail",
                    "parameters": [
                        query_parameter("entity", {"type": "string"}),
                        query_parameter("entity_id", {"type": "string"}),
                        query_parameter(
                            "limit", {"type": "integer", "minimum": 1, "maximum": 1000}
                        ),
                    ],
                    "responses": {"200": ok, **errors},
                }
            },
            "/approvals": {
                "get": {
                    "summary": "Approved (locked) and unlocked province-days in a period",
                    "parameters": [province, *period],
                    "responses": {"200": ok, **errors},
                }
            },
            "/approvals/{province_code}/{report_date}": {
                "parameters": [province_path, date_param],
                "get": {
                    "summary": "Approval state of a province's day",
                    "responses": {"200": ok, **errors},
                },
                "post": {
                    "summary": "Approve a province's day, locking its reports (coordinator, admin)",
                    "responses": {"201": ok, **errors},
                },
            },
            "/approvals/{province_code}/{report_date}/unlock": {
                "parameters": [province_path, date_param],
                "post": {
                    "summary": "Unlock an approved day, giving a reason (coordinator, admin)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["reason"],
                                    "properties": {
                                        "reason": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 1000,
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": ok, **errors},
                },
            },
            "/dhis2/dataValueSets.{ext}": {
                "parameters": [
                    {
                        "name": "ext",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["json", "csv", "adx"]},
                    }
                ],
                "get": {
                    "summary": "Daily reports as a DHIS2 dataValueSet (JSON, CSV or ADX)",
                    "parameters": [
                        query_parameter(
                            "orgUnit",
                            {"type": "string"},
                            "facility id, or a 2021 province code for all its facilities",
                        ),
                        query_parameter("startDate", date),
                        query_parameter("endDate", date),
                        query_parameter(
                            "period", {"type": "string", "pattern": "^[0-9]{8}$"}, "yyyyMMdd"
                        ),
                        query_parameter(
                            "lastUpdated",
                            {
                                "anyOf": [
                                    {"type": "string", "format": "date-time"},
                                    {"type": "string", "format": "date"},
                                ]
                            },
                            "only facility-days changed at or after this instant (RFC 3339)",
                        ),
                        query_parameter("idScheme", {"type": "string", "enum": ["code", "CODE"]}),
                    ],
                    "responses": {
                        "200": {"description": "dataValueSet (JSON, CSV or ADX XML)"},
                        **errors,
                    },
                },
            },
            "/dhis2/dataValueSets": {
                "post": {
                    "summary": "Import DHIS2 data values (upsert; conflicts listed; dryRun)",
                    "parameters": [
                        query_parameter("dryRun", {"type": "string", "enum": ["true", "false"]}),
                        query_parameter("idScheme", {"type": "string", "enum": ["code", "CODE"]}),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/DataValueSet"}
                            },
                            "text/csv": {"schema": {"type": "string"}},
                            "application/adx+xml": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {"200": ok, "413": error, **errors},
                }
            },
            "/users": {
                "post": {
                    "summary": "Create a user (admin)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["username", "role"],
                                    "properties": {
                                        "username": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 100,
                                        },
                                        "role": {"type": "string", "enum": [r.value for r in Role]},
                                        "facility_id": {"type": ["string", "null"]},
                                        "province_code": {"type": ["string", "null"]},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"201": ok, **errors},
                }
            },
            "/users/{username}/tokens": {
                "parameters": [
                    {
                        "name": "username",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "post": {
                    "summary": "Issue a token (shown once)",
                    "responses": {"201": ok, **errors},
                },
            },
            "/users/{username}/disable": {
                "parameters": [
                    {
                        "name": "username",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "post": {"summary": "Disable a user", "responses": {"200": ok, **errors}},
            },
            "/imports/{kind}": {
                "parameters": [
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": ["facilities", "suppliers", "vehicles", "reports"],
                        },
                    }
                ],
                "post": {
                    "summary": "Import a CSV or XLSX file (all rows or none)",
                    "parameters": [
                        query_parameter("format", {"type": "string", "enum": ["csv", "xlsx"]}),
                        query_parameter("dry_run", {"type": "boolean"}),
                        query_parameter(
                            "crs",
                            {"type": "string"},
                            "facilities, suppliers: CRS of the coordinates (x/y or lon/lat), "
                            "e.g. VN-2000 EPSG:4756 or EPSG:3405; stored as WGS84",
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    },
                    "responses": {"200": ok, "413": error, **errors},
                },
            },
            "/exports/{kind}.{ext}": {
                "parameters": [
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": ["facilities", "suppliers", "vehicles", "reports"],
                        },
                    },
                    {
                        "name": "ext",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["csv", "xlsx"]},
                    },
                ],
                "get": {
                    "summary": "Export as CSV (UTF-8 with BOM) or XLSX",
                    "parameters": [province, *period],
                    "responses": {"200": {"description": "file"}, **errors},
                },
            },
        }
    )
    schemas: dict[str, Any] = {t.__name__: _schema_for(t) for t in REGISTRY_RECORD_TYPES.values()}
    report_schema = _schema_for(DailyReport)
    report_schema["required"] = [n for n in report_schema["required"] if n != "facility_id"]
    schemas["DailyReport"] = report_schema
    schemas["DataValueSet"] = {
        "type": "object",
        "required": ["dataValues"],
        "properties": {
            "dataSet": {"type": "string", "enum": ["OXY_DAILY"]},
            "period": {"type": "string"},
            "orgUnit": {"type": "string"},
            "completeDate": {"type": "string"},
            "attributeOptionCombo": {"type": "string"},
            "dataValues": {
                "type": "array",
                "maxItems": 200000,
                "items": {
                    "type": "object",
                    "required": ["dataElement", "value"],
                    "properties": {
                        "dataElement": {"type": "string"},
                        "period": {"type": "string"},
                        "orgUnit": {"type": "string"},
                        "categoryOptionCombo": {"type": "string"},
                        "attributeOptionCombo": {"type": "string"},
                        "value": {"type": ["string", "number"]},
                        "storedBy": {"type": "string"},
                        "created": {"type": "string"},
                        "lastUpdated": {"type": "string"},
                        "comment": {"type": "string"},
                        "followup": {"type": "boolean"},
                        "deleted": {"type": "boolean"},
                    },
                },
            },
        },
    }
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "category", "message", "details"],
                "properties": {
                    "status": {"type": "integer"},
                    "category": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "reason": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    }
    paths.update(plan_openapi_paths())
    paths.update(route_openapi_paths())
    paths.update(scenario_openapi_paths())
    paths.update(fhir_openapi_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "oxyroute registry API", "version": "1", "description": __doc__},
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }
