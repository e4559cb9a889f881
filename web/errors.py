"""Errors of the HTTP layer: results that are gone or never were, and throttled clients."""

from __future__ import annotations

from data.errors import OxyrouteError, RecordNotFoundError


class RoutesNotFoundError(RecordNotFoundError):
    """No routes (or no route of that vehicle) under this plan: answer 404; check the ids."""


class ScenarioNotFoundError(RecordNotFoundError):
    """No scenario, version or run has this id: answer 404.

    List the scenarios with ``GET /api/v1/scenarios`` and a scenario's runs with ``.../runs``.
    """


class PlanNotFoundError(RecordNotFoundError):
    """No plan has this id: answer 404 (check the id returned by ``POST /plans``)."""


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
