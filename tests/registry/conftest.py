"""Fixtures of the registry tests: a migrated template database with provinces, facilities, users.

The template is built once per session (migrations, the 63 provinces with their 2025 units from
the shared TopoJSON, three facilities, one user per role) and copied for each test, so every test
gets a fresh database file in its own temporary folder.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from data.schema.registry import Facility, Role

# Hand-made facilities: two in Hồ Chí Minh City (79), one in Hà Nội (01).
FACILITY_A = Facility(facility_id="79-A", name="Bệnh viện Chợ Rẫy", province_code="79",
                      lon=106.6597, lat=10.7578, tier=3, district="Quận 5",
                      reporting_from=dt.date(2021, 8, 1))
FACILITY_B = Facility(facility_id="79-B", name="Bệnh viện Nhân dân Gia Định", province_code="79",
                      lon=106.6940, lat=10.8043, tier=3, district="Quận Bình Thạnh",
                      reporting_from=dt.date(2021, 8, 1))
FACILITY_C = Facility(facility_id="01-C", name="Bệnh viện Bạch Mai", province_code="01",
                      lon=105.8412, lat=21.0012, tier=3, district="Quận Đống Đa",
                      reporting_from=dt.date(2021, 8, 1))

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
        from data.compliance import LOCAL_TZ

        self.now = dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)


@dataclass(frozen=True)
class Template:
    """The session's template database and the tokens of its users."""

    path: Path
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Template:
    from data.db import create_db_engine, upgrade_database
    from data.provinces import provinces_with_2025_units
    from data.store import Store

    path = tmp_path_factory.mktemp("template") / "registry.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store.create_records([FACILITY_A, FACILITY_B, FACILITY_C], actor="fixture")
    tokens = {}
    for username, (role, facility_id, province_code) in USERS.items():
        store.add_user(username, role, facility_id=facility_id, province_code=province_code)
        tokens[username] = store.issue_token(username)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return Template(path, tokens)


@pytest.fixture
def db_url(template_db: Template, tmp_path: Path) -> str:
    """URL of a fresh copy of the template database."""
    target = tmp_path / "registry.sqlite3"
    shutil.copyfile(template_db.path, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> Clock:
    """Return a clock at 2021-08-20 09:00 in Hồ Chí Minh City."""
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock):  # type: ignore[no-untyped-def]
    """Yield a store on a fresh database."""
    from data.db import create_db_engine
    from data.store import Store

    engine = create_db_engine(db_url)
    yield Store(engine, clock=clock)
    engine.dispose()
