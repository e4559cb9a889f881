"""The oxyroute HTTP API: a Flask application factory serving the registry under ``/api/v1``.

Conventions: JSON bodies in UTF-8; coordinates WGS84 ``lon``/``lat`` in degrees; gas volumes in m³
at normal conditions (``_m3``); dates ``YYYY-MM-DD`` in Asia/Ho_Chi_Minh; instants ISO 8601 in UTC.
Every request except ``/api/v1/openapi.json`` and ``/api/v1/health`` needs
``Authorization: Bearer <token>`` (DHIS2's ``ApiToken <token>`` also works). Every error has the
same envelope: ``{"error": {"status", "category", "message", "details": [{"field", "reason"}]}}``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from data.errors import (
    AuthenticationError,
    ConflictError,
    ImportRejectedError,
    InvalidInputError,
    MalformedInputError,
    PermissionDeniedError,
    RecordNotFoundError,
)
from data.store import Store, utc_now
from data.units import OxygenConversions
from web import (
    alerts,
    approvals,
    declarations,
    deliveries,
    dhis2,
    dispatch,
    fhir,
    files,
    investment,
    irp_plans,
    meta,
    plans,
    registry,
    replan,
    reports,
    review,
    scenarios,
    status,
    urgent_requests,
    users,
)
from web.auth import CostlyOperationLimiter, FailedAuthLimiter, authenticate_request
from web.common import API_PREFIX, AppState, app_state, error_response
from web.errors import TooManyRequestsError
from web.map import WebMapConfig, register_webmap
from web.openapi import ApiBlueprint, public_endpoints, query_names
from web.openapi import openapi_document as build_openapi_document
from web.plans import PlanService, default_plans_dir

API_BLUEPRINTS: tuple[ApiBlueprint, ...] = (
    meta.bp,
    registry.bp,
    reports.bp,
    approvals.bp,
    review.bp,
    declarations.bp,
    dhis2.bp,
    users.bp,
    files.bp,
    plans.bp,
    irp_plans.bp,
    dispatch.bp,
    scenarios.bp,
    fhir.bp,
    status.bp,
    alerts.bp,
    urgent_requests.bp,
    deliveries.bp,
    replan.bp,
    investment.bp,
)
"""The blueprints of ``/api/v1``, in the order of the OpenAPI document."""
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
    alert_monitor_interval_s
        When set, a thread scans for alerts and sends due webhooks every so many seconds
        (docs/live-operations-alerts.md); ``oxyroute serve`` sets it, tests leave it None.
    alert_stream_max_s
        Longest a ``GET /alerts/stream`` connection is held before it ends (the browser resumes).
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
    alert_monitor_interval_s: float | None = None
    alert_stream_max_s: float = 300.0


class _DatabaseInt(IntegerConverter):
    """``<int:x>`` path ids that a database integer can hold (1 .. 2^63 - 1); others are 404.

    Werkzeug's converter takes any size, and an id of 25 digits made SQLite overflow: a 500
    (issue 16). Ids start at 1, so 0 is not found either.
    """

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: ApiConfig) -> Flask:
    """Create the API application for ``config``.

    Opens the database (upgrading its schema when ``config.upgrade_schema``) and loads the web
    map's regions (``config.webmap``); nothing else is read, and nothing happens at import time.
    """
    from data.db import create_db_engine, upgrade_database

    app = Flask("oxyroute")
    app.url_map.converters["int"] = _DatabaseInt
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = create_db_engine(config.database_url)
    if config.upgrade_schema:
        upgrade_database(engine)
    state = AppState(
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
        openapi=openapi_document(),
        public_endpoints=public_endpoints(API_BLUEPRINTS),
        query_names=query_names(API_BLUEPRINTS),
    )
    app.extensions["oxyroute"] = state
    app.extensions["oxyroute_plans"] = PlanService(
        regions=config.regions,
        plans_dir=Path(config.plans_dir) if config.plans_dir else default_plans_dir(),
        data_dir=config.data_dir,
        cache_dir=config.cache_dir,
    )
    for blueprint in API_BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(_authenticate)
    app.after_request(_harden_headers)
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
    app.config["OXYROUTE_ALERT_STREAM_MAX_S"] = config.alert_stream_max_s
    if config.alert_monitor_interval_s is not None:
        from web.alerts import start_alert_monitor

        start_alert_monitor(app, interval_s=config.alert_monitor_interval_s, regions=config.regions)
    return app


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 description of ``/api/v1``, from the operations of its views."""
    return build_openapi_document(
        API_BLUEPRINTS,
        title="oxyroute registry API",
        description=__doc__ or "",
        server_url=API_PREFIX,
    )


_API_BLUEPRINT_NAMES = frozenset(bp.name for bp in API_BLUEPRINTS)


def _authenticate() -> None:
    """Authenticate every ``/api/v1`` request but the public ones; refuse undeclared queries."""
    state = app_state()
    if request.blueprint not in _API_BLUEPRINT_NAMES or request.endpoint in state.public_endpoints:
        return
    g.principal = authenticate_request(
        authorization=request.headers.get("Authorization", ""),
        query_names=request.args,
        client=request.remote_addr or "unknown",
        store=state.store,
        limiter=state.limiter,
    )
    method = "GET" if request.method == "HEAD" else request.method
    allowed = state.query_names.get((request.endpoint or "", method))
    unknown = sorted(set(request.args) - allowed) if allowed is not None else []
    if allowed is not None and unknown:
        names = ", ".join(sorted(allowed)) or "none"
        raise MalformedInputError(
            "unknown query parameter",
            [f"{name}: unknown query parameter (allowed: {names})" for name in unknown],
        )


def _harden_headers(response: Response) -> Response:
    """Headers every answer carries (issue 16): no MIME sniffing; API answers are never cached.

    API answers carry health data, so a shared computer's browser or a proxy must not keep them
    (``Cache-Control: no-store`` unless a view chose its own caching). A content type given with
    a charset twice (``mimetype="text/csv; charset=utf-8"`` gains Flask's own) keeps one.
    """
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.blueprint in _API_BLUEPRINT_NAMES and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    content_type = response.headers.get("Content-Type", "")
    if content_type.lower().count("charset=") > 1:
        parts = [p.strip() for p in content_type.split(";")]
        kept = [p for i, p in enumerate(parts) if p.lower() not in (q.lower() for q in parts[:i])]
        response.headers["Content-Type"] = "; ".join(kept)
    return response


# ---------------------------------------------------------------------------- errors


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
        message = {
            413: f"request body larger than {app_state().config.max_request_bytes} bytes"
        }.get(status, error.description or error.name)
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
