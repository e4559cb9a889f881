"""What the API's blueprints share: the app's state, the error envelope and request helpers.

Every view reads the per-app resources through :func:`app_state` (set up by ``api.create_app``),
the authenticated user through :func:`principal`, and parses its query and path with the helpers
here, so that one malformed value gets the same 400 everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from flask import Response, current_app, g, jsonify, request

from data.access import ROLE_PERMISSIONS, Principal, authorize
from data.errors import (
    InvalidInputError,
    MalformedInputError,
    PermissionDeniedError,
    RecordNotFoundError,
)
from data.reporting import LOCAL_TZ
from data.schema.registry import Facility, Role

if TYPE_CHECKING:
    from data.store import Store
    from data.units import OxygenConversions
    from web.auth import CostlyOperationLimiter, FailedAuthLimiter

API_PREFIX = "/api/v1"
"""Where the registry API lives; its OpenAPI document's server URL."""


class ViewSettings(Protocol):
    """The settings of an app that its views read (``api.ApiConfig`` has them all)."""

    @property
    def clock(self) -> Callable[[], dt.datetime]:
        """The present instant (aware)."""

    @property
    def conversions(self) -> OxygenConversions:
        """Oxygen unit factors for stock and demand figures."""

    @property
    def max_request_bytes(self) -> int:
        """Largest request body accepted."""

    @property
    def max_xlsx_uncompressed_bytes(self) -> int:
        """Zip-bomb guard of XLSX uploads: largest uncompressed size."""

    @property
    def max_xlsx_entries(self) -> int:
        """Zip-bomb guard of XLSX uploads: most archive entries."""

    @property
    def data_dir(self) -> str | None:
        """The shared data directory (None: the default), e.g. for the province shapes."""

    @property
    def cache_dir(self) -> str | None:
        """The cache directory (None: the default), e.g. for district outlines read once."""


@dataclass(frozen=True, slots=True)
class AppState:
    """Per-app resources of the API views, kept in ``app.extensions["oxyroute"]``.

    Parameters
    ----------
    config
        The app's settings.
    store
        The registry store.
    limiter, costly
        The failed-authentication and costly-operation limiters.
    openapi
        The app's OpenAPI document (built once, from the blueprints' operations).
    public_endpoints
        Endpoints served without a token.
    query_names
        Per ``(endpoint, method)``, the query parameters the operation declares.
    """

    config: ViewSettings
    store: Store
    limiter: FailedAuthLimiter
    costly: CostlyOperationLimiter
    openapi: Mapping[str, Any]
    public_endpoints: frozenset[str]
    query_names: Mapping[tuple[str, str], frozenset[str]]


def app_state() -> AppState:
    """Return the resources of the app serving the current request."""
    return current_app.extensions["oxyroute"]  # type: ignore[no-any-return]


def current_store() -> Store:
    """Return the registry store of the app serving the current request."""
    return app_state().store


def principal() -> Principal:
    """Return the authenticated user of the current request."""
    return g.principal  # type: ignore[no-any-return]


def today() -> dt.date:
    """Return today's date in Asia/Ho_Chi_Minh by the app's clock."""
    return app_state().config.clock().astimezone(LOCAL_TZ).date()


# ---------------------------------------------------------------------------- error envelope

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
    """Return the JSON error envelope with ``status``.

    ``{"error": {"status", "category", "message", "details": [{"field", "reason"}]}}``; each
    problem ``"field: reason"`` becomes one detail (a problem without a field name keeps
    ``field`` empty).
    """
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


def created(payload: dict[str, Any], location: str) -> Response:
    """Return ``payload`` as JSON with status 201 and a ``Location`` header."""
    response = jsonify(payload)
    response.status_code = 201
    response.headers["Location"] = location
    return response


# ---------------------------------------------------------------------------- authorization


def require(permission: str) -> None:
    """Refuse roles without ``permission`` before anything is looked up (403, not 404)."""
    role = g.principal.role
    if permission not in ROLE_PERMISSIONS[role]:
        raise PermissionDeniedError(f"role {role.value!r} may not use {permission!r}")


def scoped_province(permission: str) -> str | None:
    """Return the province a request is about: the query's, or a coordinator's own by default."""
    user = principal()
    if user.role == Role.FACILITY_REPORTER:
        raise PermissionDeniedError(
            "a facility reporter reads its own facility's data under "
            f"/facilities/{user.facility_id}/..."
        )
    province_code = query_province()
    if province_code is None and user.role == Role.PROVINCE_COORDINATOR:
        province_code = user.province_code
    authorize(user, permission, province_code=province_code)
    return province_code


def authorize_facility(facility_id: str, permission: str) -> Facility:
    """Return a facility the user may use with ``permission`` (a reporter is checked first)."""
    user = principal()
    if user.role == Role.FACILITY_REPORTER:
        authorize(user, permission, facility_id=facility_id)
    try:
        facility = current_store().get_record("facilities", facility_id)
        assert isinstance(facility, Facility)
        authorize(
            user,
            permission,
            facility_id=facility.facility_id,
            province_code=facility.province_code,
        )
    except (RecordNotFoundError, PermissionDeniedError):
        _refuse_as_unseen(user, permission, facility_id)
        raise
    return facility


def _refuse_as_unseen(user: Principal, permission: str, facility_id: str) -> None:
    """Refuse a province officer alike for a missing facility and another province's one.

    A 404 for a missing id beside a 403 for another province's (naming that province) let an
    officer enumerate the registry (issue 16): both now get the same 403, which names neither.
    """
    if user.role == Role.PROVINCE_COORDINATOR and permission in ROLE_PERMISSIONS[user.role]:
        raise PermissionDeniedError(
            f"a province coordinator acts only on facilities of its province "
            f"{user.province_code!r}; {facility_id!r} is not one of them"
        )


# ---------------------------------------------------------------------------- request parsing


def json_body() -> Any:
    """Return the request's JSON body.

    400 unless it is UTF-8 JSON (a byte-order mark is ignored) sent as application/json and
    nested no deeper than the parser reads.
    """
    if not request.is_json:
        problem = "body: send JSON with Content-Type: application/json"
        raise MalformedInputError(problem, [problem])
    try:
        # utf-8-sig: a byte-order mark is ignored, as RFC 8259 allows (the plan endpoint, which
        # read bodies through Flask, accepted one).
        body = json.loads(request.get_data(cache=True).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problem = f"body: not valid UTF-8 JSON ({error})"
        raise MalformedInputError(problem, [problem]) from None
    except RecursionError:
        # Arrays nested thousands deep exhaust the parser's recursion (a 500 before).
        problem = "body: JSON nested too deeply to read"
        raise MalformedInputError(problem, [problem]) from None
    except ValueError as error:
        # An integer of more than 4,300 digits exceeds Python's int-from-text limit (a 500 before).
        problem = f"body: a number is too long to read ({error})"
        raise MalformedInputError(problem, [problem]) from None
    where = _lone_surrogate(body, "body")
    if where is not None:
        # "\ud800" parses to a string that cannot be stored or hashed as UTF-8 (a 500 before).
        problem = f"{where}: contains a lone UTF-16 surrogate, which is not a Unicode character"
        raise MalformedInputError(problem, [problem])
    return body


def _lone_surrogate(node: Any, path: str) -> str | None:
    """Return the path of the first string (or key) in ``node`` that is not valid Unicode text."""
    stack = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if not _is_text(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _is_text(key):
                    return f"{where} (a key)"
                stack.append((item, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
    return None


def _is_text(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def optional_json_object(allowed: set[str]) -> dict[str, Any]:
    """Return the request's JSON object, or {} when it sent no body; 422 on unknown keys."""
    if not request.get_data(cache=True):
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInputError("body: expected a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInputError.from_problems(
            "request",
            [f"{key}: unknown key (allowed: {', '.join(sorted(allowed))})" for key in unknown],
        )
    return body


def query_date(name: str, default: dt.date | None = None) -> dt.date:
    """Return the ``YYYY-MM-DD`` query parameter ``name``.

    400 if it is malformed, or absent without a ``default``.
    """
    raw = request.args.get(name)
    if raw is None:
        if default is not None:
            return default
        raise MalformedInputError(f"{name}: is required", [f"{name}: is required (YYYY-MM-DD)"])
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise MalformedInputError(
            f"{name}: bad date", [f"{name}: must be YYYY-MM-DD, got {raw!r}"]
        ) from None


def query_province() -> str | None:
    """Return the ``province_code`` query parameter (two digits), or None when absent."""
    raw = request.args.get("province_code")
    if raw is not None and not re.fullmatch(r"[0-9]{2}", raw):
        raise MalformedInputError(
            "province_code: bad code", [f"province_code: must be a two-digit code, got {raw!r}"]
        )
    return raw


def query_int(name: str, default: int, low: int, high: int) -> int:
    """Return the whole-number query parameter ``name`` (``default`` if absent); 400 outside."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise MalformedInputError(
            f"{name}: bad number",
            [f"{name}: must be a whole number from {low} to {high}, got {raw!r}"],
        )
    return int(raw)


def query_bool(name: str) -> bool:
    """Return the ``true``/``false`` query parameter ``name`` (false if absent); 400 otherwise."""
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        raise MalformedInputError(
            f"{name}: bad value", [f"{name}: must be true or false, got {raw!r}"]
        )
    return raw == "true"


def query_period(default_days: int = 0) -> tuple[dt.date, dt.date]:
    """Return ``date_from``, ``date_to`` (default: today and ``default_days`` before), checked."""
    date_to = query_date("date_to", today())
    date_from = query_date("date_from", _days_before(date_to, default_days))
    check_period(date_from, date_to)
    return date_from, date_to


def path_date(raw: str) -> dt.date:
    """Return the ``report_date`` of a path (``YYYY-MM-DD``); 400 if malformed or no such day."""
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


def check_period(date_from: dt.date, date_to: dt.date) -> None:
    """Refuse a period that ends before it starts or is longer than 366 days (422)."""
    if date_to < date_from:
        raise InvalidInputError(
            f"date_to: must not be before date_from ({date_from}), got {date_to}"
        )
    if (date_to - date_from).days > 366:
        raise InvalidInputError("date_to: a period is at most 366 days")


# ---------------------------------------------------------------------------- serialisation


def plain(value: Any) -> Any:
    """Turn a result dataclass (with its rate properties) into JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
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
        return [plain(v) for v in value]
    return value
