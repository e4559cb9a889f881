"""Periods of a region's inventory-routing plan: a day, or finer where a tank lasts less (issue 17).

The core (:mod:`routing.irp`) plans in periods: a delivery arrives at the start of its period and
each tank must end every period at or above its floor. A tank can be planned with periods of
``period_h`` hours only if, filled to the brim, it still ends the period at its floor:

    floor(capacity_kg) - ceil(burn per period) >= ceil(floor_kg)

(the integer rounding is the core's: kg are its units). Each plant's problem takes the longest of
:data:`PERIOD_CHOICES_H` (24, 12, 8 or 6 hours) that lets every one of its tanks be planned, so a
plant whose tanks all last more than a day keeps days, and a big hospital's small tank brings its
plant's problem down to 12, 8 or 6 hours (several deliveries a day). The floor stays ``floor_h``
hours of burn whatever the period: it is the safety the user set, not a fraction of the period.
A tank that cannot be planned even at 6 h is left out with the ``tank_too_small`` shortfall and
the kg it lacks (:func:`missing_at_finest_kg`).

Periods divide the day, so period ``k`` of the horizon (0 first) is day ``k // per_day``, starting
at ``(k % per_day) * period_h`` o'clock local time (:func:`day_and_start`, :func:`starts_at`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Protocol

from data.reporting import LOCAL_TZ

PERIOD_CHOICES_H: tuple[int, ...] = (24, 12, 8, 6)
"""Period lengths tried, longest first, hours; each divides the day."""

FINEST_PERIOD_H = PERIOD_CHOICES_H[-1]


class _Tank(Protocol):
    @property
    def capacity_kg(self) -> float: ...
    @property
    def burn_kg_per_day(self) -> float: ...
    @property
    def floor_kg(self) -> float: ...


def burn_per_period_kg(burn_kg_per_day: float, period_h: float) -> float:
    """Return the burn of one period of ``period_h`` hours, kg."""
    return burn_kg_per_day * period_h / 24.0


def plannable(tank: _Tank, period_h: int) -> bool:
    """Return whether a full tank still ends a period of ``period_h`` hours at its floor."""
    burn = math.ceil(burn_per_period_kg(tank.burn_kg_per_day, period_h))
    return math.floor(tank.capacity_kg) - burn >= math.ceil(tank.floor_kg)


def missing_at_finest_kg(tank: _Tank) -> float:
    """Return the kg of tank lacking to hold its floor plus the finest period's burn (0: none)."""
    need = tank.floor_kg + burn_per_period_kg(tank.burn_kg_per_day, FINEST_PERIOD_H)
    return max(need - tank.capacity_kg, 0.0)


def choose_period_h(tanks: Iterable[_Tank]) -> int | None:
    """Return the longest period (hours) of :data:`PERIOD_CHOICES_H` every tank can be planned in.

    None when some tank cannot be planned even at the finest period (:data:`FINEST_PERIOD_H`);
    24 for no tank.
    """
    listed = list(tanks)
    for period_h in PERIOD_CHOICES_H:
        if all(plannable(tank, period_h) for tank in listed):
            return period_h
    return None


def periods_per_day(period_h: int) -> int:
    """Return how many periods of ``period_h`` hours make a day.

    Raises
    ------
    ValueError
        If ``period_h`` does not divide 24 hours.
    """
    if period_h <= 0 or 24 % period_h:
        raise ValueError(f"period_h: {period_h!r} must divide 24 hours (6, 8, 12 or 24)")
    return 24 // period_h


def day_and_start(period: int, period_h: int) -> tuple[int, int]:
    """Return (day, hour of the day the period starts) of period ``period`` (0 first)."""
    per_day = periods_per_day(period_h)
    return period // per_day, (period % per_day) * period_h


def starts_at(start_date: dt.date, day: int, start_h: float) -> dt.datetime:
    """Return the local instant (Asia/Ho_Chi_Minh) a period starts: ``start_h`` h on ``day``."""
    midnight = dt.datetime.combine(start_date + dt.timedelta(days=day), dt.time(0), LOCAL_TZ)
    return midnight + dt.timedelta(hours=start_h)


def time_label(day: int, start_h: float, period_h: float) -> str:
    """Return ``day 2`` for a day-long period, ``day 2 08:00-16:00`` for a shorter one."""
    if period_h >= 24:
        return f"day {day}"
    end_h = start_h + period_h
    return f"day {day} {_clock(start_h)}-{_clock(end_h)}"


def _clock(hours: float) -> str:
    whole = round(hours * 60)
    return f"{whole // 60:02d}:{whole % 60:02d}"
