"""The reporting day: local time zone, the 16:00 deadline, local dates and report periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from data.errors import InvalidInputError

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REPORT_DEADLINE_LOCAL = dt.time(16, 0)
MAX_PERIOD_DAYS = 366


def report_deadline(report_date: dt.date) -> dt.datetime:
    """Return the deadline of the report for ``report_date``: that day 16:00 Asia/Ho_Chi_Minh."""
    return dt.datetime.combine(report_date, REPORT_DEADLINE_LOCAL, tzinfo=LOCAL_TZ)


def is_on_time(first_submitted_at: dt.datetime, report_date: dt.date) -> bool:
    """Return whether a report first submitted at ``first_submitted_at`` (aware) is on time.

    Raises
    ------
    InvalidInputError
        If ``first_submitted_at`` has no time zone.
    """
    if first_submitted_at.tzinfo is None:
        raise InvalidInputError("first_submitted_at: must be timezone-aware (UTC or local)")
    return first_submitted_at <= report_deadline(report_date)


def local_date(instant: dt.datetime) -> dt.date:
    """Return the Asia/Ho_Chi_Minh calendar date of an aware instant."""
    return instant.astimezone(LOCAL_TZ).date()


def days_between(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    """Return the days from ``date_from`` to ``date_to`` inclusive.

    Raises
    ------
    InvalidInputError
        If ``date_to`` is before ``date_from`` or the period is longer than 366 days.
    """
    if date_to < date_from:
        raise InvalidInputError(
            f"date_to: must not be before date_from ({date_from}), got {date_to}"
        )
    count = (date_to - date_from).days + 1
    if count > MAX_PERIOD_DAYS:
        raise InvalidInputError(f"date_to: a period is at most {MAX_PERIOD_DAYS} days, got {count}")
    return [date_from + dt.timedelta(days=i) for i in range(count)]


@dataclass(frozen=True, slots=True)
class Submission:
    """When a facility first reported on a day (its revision 1)."""

    facility_id: str
    report_date: dt.date
    first_submitted_at: dt.datetime


def month_days(year: int, month: int) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a month.

    Raises
    ------
    InvalidInputError
        If the month is not 1-12 or the year not 2000-2100.
    """
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise InvalidInputError(
            f"month: must be YYYY-MM between 2000-01 and 2100-12, got {year}-{month}"
        )
    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first, last
