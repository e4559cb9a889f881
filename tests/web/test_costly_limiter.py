"""The per-user limiter of costly operations (plans, routes, scenario runs)."""

from __future__ import annotations

import pytest

from web.auth import CostlyOperationLimiter
from web.errors import TooManyRequestsError


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_per_window_with_retry_after() -> None:
    clock = _Clock()
    limiter = CostlyOperationLimiter(max_per_window=2, window_s=60.0, clock=clock)
    for _ in range(2):
        with limiter.acquire("ana", "plan"):
            pass
    clock.now += 15.0
    with pytest.raises(TooManyRequestsError) as refused, limiter.acquire("ana", "plan"):
        pass
    assert refused.value.retry_after_s == 45 and "plan" in str(refused.value)
    with limiter.acquire("binh", "plan"):  # another user has its own budget
        pass
    clock.now += 45.0  # the first request leaves the window
    with limiter.acquire("ana", "plan"):
        pass


def test_one_at_a_time_and_released_on_error() -> None:
    limiter = CostlyOperationLimiter(max_per_window=10, max_concurrent=1, clock=_Clock())
    with limiter.acquire("ana", "routes"):
        with (
            pytest.raises(TooManyRequestsError, match="already running"),
            limiter.acquire("ana", "routes"),
        ):
            pass
        with limiter.acquire("binh", "routes"):
            pass
    with pytest.raises(ValueError, match="solver failed"), limiter.acquire("ana", "routes"):
        raise ValueError("the solver failed")
    with limiter.acquire("ana", "routes"):  # the failed operation gave its slot back
        pass
