"""Database URL resolution and engine creation: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

from data.errors import InvalidInputError

try:  # Unix; elsewhere (Windows: one server process) SQLite's own lock orders the writers
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms CI runs
    fcntl = None  # type: ignore[assignment]

DATABASE_URL_ENV = "OXYROUTE_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_SYNCHRONOUS = ("full", "normal")
"""What the ``synchronous`` parameter of a SQLite URL may say; ``full`` (the default) first."""
WRITE_OPTIONS = {"sqlite_begin": "IMMEDIATE"}
"""Execution options for a write transaction: on SQLite it takes the write lock at BEGIN, so two
writers queue instead of both reading, then one failing to upgrade its lock (SQLITE_BUSY)."""


def default_database_path() -> Path:
    """Return the default SQLite file: ``$XDG_DATA_HOME/oxyroute/oxyroute.sqlite3``.

    ``$XDG_DATA_HOME`` defaults to ``~/.local/share``. The folder is created if needed.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    folder = Path(base) / "oxyroute"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "oxyroute.sqlite3"


def resolve_database_url(url: str | None = None) -> str:
    """Return the database URL: ``url``, else ``$OXYROUTE_DATABASE_URL``, else the default file.

    Examples
    --------
    ``sqlite:////var/lib/oxyroute/registry.sqlite3`` or
    ``postgresql+psycopg://oxyroute@localhost/oxyroute`` (install a PostgreSQL driver first).
    """
    if url:
        return url
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    return f"sqlite:///{default_database_path()}"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite, configure it so that no acknowledged write is lost.

    SQLite connections use WAL journaling (readers never block the writer), ``synchronous=FULL``
    (a committed transaction survives a power cut or ``kill -9``, at the cost of one fsync per
    commit, 2-4 ms on our VMs, during which the write lock is held), foreign keys, and a 30 s busy
    timeout. Transactions started with :data:`WRITE_OPTIONS` begin ``IMMEDIATE``.

    A SQLite URL may end in ``?synchronous=normal``: commits are then not synced (the WAL is, at
    checkpoints), which SQLite documents as safe from corruption and durable across a crash of
    the application (``kill -9``: tested), but the last transactions acknowledged before a power
    cut or an operating-system crash may be lost. It is the operator's choice for a busy server
    on reliable power (docs/registry.md); the default stays ``full``.

    Parameters
    ----------
    url
        SQLAlchemy URL (see :func:`resolve_database_url`).
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Raises
    ------
    InvalidInputError
        If ``synchronous`` is given with another value than ``full`` or ``normal``.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    parsed = make_url(url)
    synchronous = str(parsed.query.get("synchronous", "full")).lower()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise InvalidInputError(
            f"database URL: synchronous={parsed.query.get('synchronous')!r} must be one of "
            f"{', '.join(SQLITE_SYNCHRONOUS)}"
        )
    parsed = parsed.difference_update_query(["synchronous"])
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def write_lock_path(engine: Engine) -> Path | None:
    """Return the file that orders the writers of several processes, or None (not a SQLite file).

    It sits beside the database: ``registry.sqlite3`` -> ``registry.sqlite3-write.lock``.
    """
    url = getattr(engine, "url", None)
    if url is None:
        return None  # a stand-in running in a transaction already open (it holds the lock)
    database = url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None  # a URI database (shared memory in tests): one process only
    return Path(f"{database}-write.lock")


@contextmanager
def _process_write_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (no-op when None); released on close.

    Why: SQLite makes a writer that finds the database locked by another process retry on a
    timer (sleeps of 1 to 100 ms), so under load the writers of two worker processes wait far
    longer than the lock is held and the unlucky one can wait seconds. Waiting in ``flock`` the
    kernel wakes the next writer as soon as the lock is released. The lock is the file's, so a
    killed process releases it; SQLite's own lock still guards writers that do not take it.
    """
    descriptor = None if path is None or fcntl is None else _open_lock_file(path)
    if descriptor is None:
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _open_lock_file(path: Path) -> int | None:
    """Open (or create) the lock file; None when this user may not (SQLite's lock then orders)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        try:
            return os.open(path, os.O_RDONLY)  # flock needs no write access
        except OSError:
            return None


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Open one write transaction: ``BEGIN IMMEDIATE`` on SQLite, writers of all processes in turn.

    On a SQLite file the transaction runs under :func:`_process_write_lock` (taken before BEGIN,
    released after COMMIT or ROLLBACK); on PostgreSQL it is a plain transaction.
    """
    with (
        _process_write_lock(write_lock_path(engine)),
        engine.execution_options(**WRITE_OPTIONS).begin() as connection,
    ):
        yield connection
