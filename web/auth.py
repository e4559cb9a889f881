"""Request authentication and throttling: bearer tokens, login lockout, costly-operation limits.

The permission table and :func:`data.access.authorize` say what a principal may do; this module
finds the principal of a request and refuses clients and users that ask too often.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from data.access import Principal
from data.errors import AuthenticationError
from web.errors import TooManyFailuresError, TooManyRequestsError


class FailedAuthLimiter:
    """Count failed authentications per client and lock a client out after too many.

    After ``max_failures`` failures within ``window_s`` seconds, the client's failed attempts are
    answered HTTP 429 with ``Retry-After`` for ``lockout_s`` seconds; a valid token still works
    (:func:`authenticate_request`), so a shared address cannot be locked out by one bad client.
    Counters live in memory, per process: with several worker processes each holds its own.

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
    Failures count against ``client`` in ``limiter``; once it is locked out, its failures are
    answered 429 instead of 401, but a valid token is still accepted.

    Raises
    ------
    MalformedInputError
        If a query parameter would carry a token in the URL.
    TooManyFailuresError
        If the header has no valid token and the client is locked out after repeated failures.
    AuthenticationError
        If the header has no valid token.
    """
    from data.errors import MalformedInputError

    if any(name in query_names for name in TOKEN_QUERY_NAMES):
        raise MalformedInputError(
            "tokens are never accepted in URLs",
            ["token: send it in the Authorization header, not the URL"],
        )
    scheme, _, token = authorization.partition(" ")
    try:
        if scheme.lower() not in ("bearer", "apitoken") or not token.strip():
            raise AuthenticationError("no token")
        principal: Principal = store.authenticate(token.strip())
    except AuthenticationError:
        # Only failures are throttled: a valid token is accepted even from a locked-out address,
        # so that ten bad tokens from a shared address (NAT, a proxy) lock out no one else
        # (issue 16). Guessing a 256-bit token gains nothing from the lookups this allows.
        limiter.check(client)
        limiter.record_failure(client)
        raise
    return principal
