"""``oxyroute serve --workers N``: the gunicorn set-up, checked without binding a port.

The server itself, with two workers, answers the concurrency and kill -9 tests of
``tests/web/test_reliability.py``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from commands import server


class _Captured:
    """Stands in for the gunicorn application: keeps its options and app builder, runs nothing."""

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}
        self.build_app: Callable[[], Any] | None = None
        self.ran = False

    def __call__(self, options: dict[str, Any], build_app: Callable[[], Any]) -> _Captured:
        self.options = options
        self.build_app = build_app
        return self

    def run(self) -> None:
        self.ran = True


def test_several_workers_build_their_app_after_the_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    captured = _Captured()
    monkeypatch.setattr(server, "_gunicorn_application", captured)
    db_path = tmp_path / "registry.sqlite3"
    result = CliRunner().invoke(
        main,
        ["serve", "--workers", "3", "--threads", "4", "--port", "8123", "--region", "hcmc_d5",
         "--database-url", f"sqlite:///{db_path}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "gunicorn, 3 worker processes x 4 threads" in result.output
    assert captured.ran
    assert captured.options["bind"] == ["127.0.0.1:8123"]
    assert captured.options["workers"] == 3
    assert captured.options["threads"] == 4
    assert captured.options["worker_class"] == "gthread"
    assert captured.options["preload_app"] is False
    assert captured.options["reuse_port"] is True  # a listening socket per worker
    # The master upgraded the schema before any fork, and kept no connection open.
    connection = sqlite3.connect(db_path)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert {"facilities", "report_revisions", "alembic_version"} <= tables
    # A worker builds its own app (here, in this process) and does not upgrade again.
    assert captured.build_app is not None
    with caplog.at_level(logging.INFO, logger="oxyroute.serve"):
        app = captured.build_app()
    # The line benchmarks/bench_load.py waits for, once per worker.
    assert f"worker {os.getpid()} ready" in caplog.text
    try:
        state = app.extensions["oxyroute"]
        assert state.config.upgrade_schema is False
        assert state.config.database_url == f"sqlite:///{db_path}"
        assert app.test_client().get("/api/v1/health").status_code == 200
    finally:
        app.extensions["oxyroute"].store.engine.dispose()


def test_gunicorn_gets_every_option_and_builds_nothing_until_load() -> None:
    built: list[int] = []
    options = {"bind": ["[::1]:8124"], "workers": 2, "worker_class": "gthread", "threads": 3,
               "preload_app": False, "timeout": 300, "control_socket_disable": True,
               "reuse_port": True}  # fmt: skip
    application = server._gunicorn_application(options, lambda: built.append(1) or "app")
    assert built == []
    for key, value in options.items():
        assert application.cfg.settings[key].get() == value, key
    assert application.load() == "app"
    assert built == [1]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--workers", "0"], "0 is not in the range 1<=x<=32"),  # no process at all
        (["--workers", "33"], "33 is not in the range 1<=x<=32"),  # beyond any sane machine
        (["--workers", "two"], "'two' is not a valid integer"),
    ],
)
def test_a_bad_worker_count_is_refused(arguments: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, ["serve", *arguments])
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert expected in result.output


def test_several_workers_are_refused_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert "use --workers 1 (waitress)" in result.output


def test_one_process_scans_alerts_and_several_leave_it_to_cron(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    monkeypatch.setattr(server, "_serve_one_process", lambda config, **_: seen.append(config))
    monkeypatch.setattr(server, "_gunicorn_application", _Captured())
    database = ["--database-url", f"sqlite:///{tmp_path / 'registry.sqlite3'}"]
    one = CliRunner().invoke(main, ["serve", "--region", "hcmc_d5", *database])
    assert one.exit_code == 0, one.output
    assert seen[0].alert_monitor_interval_s == server.ALERT_SCAN_INTERVAL_S
    several = CliRunner().invoke(
        main, ["serve", "--workers", "2", "--region", "hcmc_d5", *database]
    )
    assert several.exit_code == 0, several.output
    assert "oxyroute alerts scan" in several.output
