"""The registry tests' world: three hand-made facilities, one user per role, a settable clock.

The fixtures that build a database from them live in ``tests/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from data.schema.registry import Facility, Role

# Hand-made facilities: two in Hồ Chí Minh City (79), one in Hà Nội (01).
FACILITY_A = Facility(
    facility_id="79-A",
    name="Bệnh viện Chợ Rẫy",
    province_code="79",
    lon=106.6597,
    lat=10.7578,
    tier=3,
    district="Quận 5",
    reporting_from=dt.date(2021, 8, 1),
)
FACILITY_B = Facility(
    facility_id="79-B",
    name="Bệnh viện Nhân dân Gia Định",
    province_code="79",
    lon=106.6940,
    lat=10.8043,
    tier=3,
    district="Quận Bình Thạnh",
    reporting_from=dt.date(2021, 8, 1),
)
FACILITY_C = Facility(
    facility_id="01-C",
    name="Bệnh viện Bạch Mai",
    province_code="01",
    lon=105.8412,
    lat=21.0012,
    tier=3,
    district="Quận Đống Đa",
    reporting_from=dt.date(2021, 8, 1),
)

# username -> (role, facility, province)
USERS = {
    "admin": (Role.ADMIN, None, None),
    "ministry": (Role.MINISTRY, None, None),
    "planner": (Role.PLANNER, None, None),
    "dispatcher": (Role.DISPATCHER, None, None),
    "coord79": (Role.PROVINCE_COORDINATOR, None, "79"),
    "coord01": (Role.PROVINCE_COORDINATOR, None, "01"),
    "repA": (Role.FACILITY_REPORTER, "79-A", None),
    "repB": (Role.FACILITY_REPORTER, "79-B", None),
    "repC": (Role.FACILITY_REPORTER, "01-C", None),
}


@dataclass
class Clock:
    """A settable clock (UTC-aware); tests move it to check deadlines."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2021, 8, 20, 2, 0, tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        """Return the current time of this clock."""
        return self.now

    def set_local(self, text: str) -> None:
        """Set the time from a local Asia/Ho_Chi_Minh ``YYYY-MM-DD HH:MM[:SS]``."""
        from data.reporting import LOCAL_TZ

        self.now = dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)


@dataclass(frozen=True)
class Template:
    """The session's template database and the tokens of its users."""

    path: Path
    tokens: dict[str, str]
