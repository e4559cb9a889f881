"""Authentication and authorisation: API tokens, roles, scoped permissions, failed-login limiter.

Tokens are random (256 bits) and only their SHA-256 is stored; a fast hash is enough for a secret
of that entropy (unlike a password, it cannot be guessed from a dictionary). Every API operation
names one permission; :func:`authorize` also checks the scope of scoped roles: a facility reporter
acts only on its own facility, a province coordinator only inside its 2021 province.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from data.errors import OxyrouteError
from data.schema.registry import Role

TOKEN_PREFIX = "oxy_"
TOKEN_PATTERN = re.compile(r"^oxy_[A-Za-z0-9_\-]{43}$")


class AuthenticationError(OxyrouteError):
    """No valid credentials.

    The token is missing, malformed, unknown, expired, revoked, or its user is disabled. Send
    ``Authorization: Bearer <token>`` with a token from ``oxyroute users token``.
    """


class PermissionDeniedError(OxyrouteError, PermissionError):
    """The user is known but its role or scope does not allow this operation.

    Ask an admin for a user with the right role (or scope).
    """


class TooManyRequestsError(OxyrouteError):
    """Too many requests of one kind from one client or user; wait ``retry_after_s`` seconds."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


class TooManyFailuresError(TooManyRequestsError):
    """Too many failed authentications from one client; wait ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed authentications; retry after {retry_after_s} s", retry_after_s
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user as the API sees it.

    Parameters
    ----------
    user_id, username, role
        Identity and role.
    facility_id
        The facility of a facility reporter (None for other roles).
    province_code
        The 2021 province of a province coordinator (None for other roles).
    """

    user_id: int
    username: str
    role: Role
    facility_id: str | None = None
    province_code: str | None = None


_READ_REGISTRY = (
    "facilities:read",
    "suppliers:read",
    "transport-operators:read",
    "vehicles:read",
    "equipment-suppliers:read",
    "provinces:read",
)
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.FACILITY_REPORTER: frozenset(
        {"provinces:read", "facilities:read", "reports:read", "reports:write"}
    ),
    Role.PROVINCE_COORDINATOR: frozenset(
        {
            *_READ_REGISTRY,
            "facilities:write",
            "reports:read",
            "reports:write",
            "compliance:read",
            "demand:read",
            "imports:write",
            "plans:read",
            "plans:write",
            "scenarios:read",
            "approvals:read",
            "approvals:write",
            "routes:read",
            "routes:write",
        }
    ),
    Role.MINISTRY: frozenset(
        {
            *_READ_REGISTRY,
            "reports:read",
            "compliance:read",
            "demand:read",
            "audit:read",
            "approvals:read",
        }
    ),
    Role.DISPATCHER: frozenset(
        {
            *_READ_REGISTRY,
            "reports:read",
            "demand:read",
            "transport-operators:write",
            "vehicles:write",
            "routes:read",
            "routes:write",
        }
    ),
    Role.PLANNER: frozenset(
        {
            *_READ_REGISTRY,
            "reports:read",
            "compliance:read",
            "demand:read",
            "approvals:read",
            "plans:read",
            "plans:write",
            "scenarios:read",
            "scenarios:write",
        }
    ),
    Role.ADMIN: frozenset(
        {
            *_READ_REGISTRY,
            "facilities:write",
            "suppliers:write",
            "transport-operators:write",
            "vehicles:write",
            "equipment-suppliers:write",
            "reports:read",
            "reports:write",
            "compliance:read",
            "demand:read",
            "audit:read",
            "users:admin",
            "imports:write",
            "approvals:read",
            "approvals:write",
        }
    ),
}
"""What each role may do. Facility reporters and province coordinators are further scoped."""

# Registry collections that carry a province and are scoped for coordinators; the others
# (suppliers, fleet) are shared regional resources every coordinator may read.
SCOPED_COLLECTIONS = frozenset(
    {
        "facilities",
        "reports",
        "compliance",
        "demand",
        "imports",
        "approvals",
        "plans",
        "routes",
        "scenarios",
    }
)


def new_token() -> str:
    """Return a new random API token (``oxy_`` + 43 URL-safe characters, 256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a token, the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authorize(
    principal: Principal,
    permission: str,
    *,
    facility_id: str | None = None,
    province_code: str | None = None,
) -> None:
    """Check that ``principal`` may use ``permission`` on the resource described.

    Parameters
    ----------
    principal
        The authenticated user.
    permission
        ``"<collection>:<read|write>"`` or ``"users:admin"``.
    facility_id, province_code
        The facility and province the operation touches (None: national or unscoped).

    Raises
    ------
    PermissionDeniedError
        If the role lacks the permission, or a scoped role acts outside its scope; a national
        (unscoped) request from a scoped role is outside its scope.
    """
    if permission not in ROLE_PERMISSIONS[principal.role]:
        raise PermissionDeniedError(f"role {principal.role.value!r} may not use {permission!r}")
    collection = permission.split(":", 1)[0]
    # The role test and the scope test stay separate ifs (SIM102 would merge them): these are the
    # security-critical branches and each must read on its own.
    if principal.role == Role.FACILITY_REPORTER and collection in SCOPED_COLLECTIONS | {  # noqa: SIM102
        "facilities"
    }:
        if facility_id is None or facility_id != principal.facility_id:
            raise PermissionDeniedError(
                f"a facility reporter acts only on its own facility {principal.facility_id!r}; "
                f"this request touches {facility_id or 'all facilities'!r}"
            )
    if principal.role == Role.PROVINCE_COORDINATOR and collection in SCOPED_COLLECTIONS:  # noqa: SIM102
        if province_code is None or province_code != principal.province_code:
            raise PermissionDeniedError(
                f"a province coordinator acts only in its province {principal.province_code!r}; "
                f"this request touches {province_code or 'all provinces'!r}"
            )


def validate_role_scope(
    role: Role, facility_id: str | None, province_code: str | None
) -> list[str]:
    """Return the problems with a user's scope (empty when it fits the role).

    A facility reporter needs a facility and no province; a province coordinator a province and
    no facility; every other role neither.
    """
    problems = []
    if role == Role.FACILITY_REPORTER:
        if facility_id is None:
            problems.append("facility_id: a facility_reporter needs its facility")
        if province_code is not None:
            problems.append("province_code: a facility_reporter is scoped by its facility only")
    elif role == Role.PROVINCE_COORDINATOR:
        if province_code is None:
            problems.append("province_code: a province_coordinator needs its province")
        if facility_id is not None:
            problems.append("facility_id: a province_coordinator is scoped by province only")
    elif facility_id is not None or province_code is not None:
        problems.append(
            f"role: {role.value} is not scoped; leave facility_id and province_code out"
        )
    return problems


class FailedAuthLimiter:
    """Count failed authentications per client and lock a client out after too many.

    After ``max_failures`` failures within ``window_s`` seconds, the client is refused for
    ``lockout_s`` seconds (HTTP 429 with ``Retry-After``), whatever it sends. Counters live in
    memory, per process: with several worker processes each holds its own.

    Parameters
    ----------
    max_failures, window_s, lockout_s
        The rule (defaults: 10 failures in 60 s lock the client out for 60 s).
    clock
        Monotonic seconds (injected for tests).
    """

    def __init__(
        self,
        *,
        max_failures: int = 10,
        window_s: float = 60.0,
        lockout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Raise :class:`TooManyFailuresError` if ``client`` is locked out."""
        now = self._clock()
        with self._lock:
            until = self._locked_until.get(client)
            if until is not None and now < until:
                raise TooManyFailuresError(max(1, int(until - now + 0.999)))
            if until is not None:
                del self._locked_until[client]

    def record_failure(self, client: str) -> None:
        """Count one failure of ``client``; lock it out when it reaches the limit."""
        now = self._clock()
        with self._lock:
            failures = self._failures.setdefault(client, deque())
            failures.append(now)
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            if len(failures) >= self.max_failures:
                self._locked_until[client] = now + self.lockout_s
                failures.clear()
            if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                self._failures = {k: v for k, v in self._failures.items() if v}


class CostlyOperationLimiter:
    """Limit each user's costly operations (plans, routes, scenario runs): rate and concurrency.

    A user may start at most ``max_per_window`` of them within ``window_s`` seconds, and run at
    most ``max_concurrent`` at once; beyond either, :meth:`acquire` raises
    :class:`TooManyRequestsError` (HTTP 429 with ``Retry-After``) before any work is done. State
    lives in memory, per process.

    Parameters
    ----------
    max_per_window, window_s, max_concurrent
        The rule (defaults: 6 per 60 s, 1 at a time).
    clock
        Monotonic seconds (injected for tests).
    """

    def __init__(
        self,
        *,
        max_per_window: int = 6,
        window_s: float = 60.0,
        max_concurrent: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_window = max_per_window
        self.window_s = window_s
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._started: dict[str, deque[float]] = {}
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def acquire(self, user: str, operation: str) -> Iterator[None]:
        """Hold one of ``user``'s slots while the ``operation`` (named in the error) runs."""
        now = self._clock()
        with self._lock:
            started = self._started.setdefault(user, deque())
            while started and started[0] <= now - self.window_s:
                started.popleft()
            if self._running.get(user, 0) >= self.max_concurrent:
                raise TooManyRequestsError(
                    f"{operation}: {self.max_concurrent} costly operation(s) already running for "
                    "this user; retry when it has finished",
                    1,
                )
            if len(started) >= self.max_per_window:
                wait = max(1, int(started[0] + self.window_s - now + 0.999))
                raise TooManyRequestsError(
                    f"{operation}: at most {self.max_per_window} costly operations per "
                    f"{self.window_s:g} s per user; retry after {wait} s",
                    wait,
                )
            started.append(now)
            self._running[user] = self._running.get(user, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[user] -= 1
                if not self._running[user]:
                    del self._running[user]


#: Query parameter names that would carry a token in a URL; a request using one is refused.
TOKEN_QUERY_NAMES = ("token", "api_token", "access_token", "apikey", "api_key")


def authenticate_request(
    *,
    authorization: str,
    query_names: Iterable[str],
    client: str,
    store: Any,
    limiter: Any,
) -> Principal:
    """Authenticate one HTTP request from its ``Authorization`` header (the API's and the map's).

    Tokens are accepted as ``Bearer <token>`` or DHIS2's ``ApiToken <token>``, never in the URL.
    Failures count against ``client`` in ``limiter``, which refuses a locked-out client first.

    Raises
    ------
    MalformedInputError
        If a query parameter would carry a token in the URL.
    TooManyFailuresError
        If the client is locked out after repeated failures.
    AuthenticationError
        If the header has no valid token.
    """
    from data.schema.registry import MalformedInputError

    if any(name in query_names for name in TOKEN_QUERY_NAMES):
        raise MalformedInputError(
            "tokens are never accepted in URLs",
            ["token: send it in the Authorization header, not the URL"],
        )
    limiter.check(client)
    scheme, _, token = authorization.partition(" ")
    try:
        if scheme.lower() not in ("bearer", "apitoken") or not token.strip():
            raise AuthenticationError("no token")
        principal: Principal = store.authenticate(token.strip())
    except AuthenticationError:
        limiter.record_failure(client)
        raise
    return principal
