"""Reliability: concurrent submissions, and a server killed mid-submission.

Concurrent submissions store exactly the right revisions; a server killed with SIGKILL
mid-submission loses no acknowledged report and duplicates none. The tests against a running
``oxyroute serve`` run against one process (waitress) and against two worker processes
(gunicorn, ``--workers 2``), which share the registry file (issue 16, item 7).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYS = [
    (facility, dt.date(2021, 7, 27) + dt.timedelta(days=d))
    for facility in ("79-A", "79-B")
    for d in range(25)
]  # 50 (facility, day) pairs; the clock is 20 Aug


def test_eight_workers_submit_1000_reports(app: Any, template_db: Any) -> None:
    token = template_db.tokens["admin"]
    errors: list[str] = []

    def work(worker: int) -> None:
        client = app.test_client()
        for i in range(worker, 1000, 8):
            facility, day = KEYS[i % len(KEYS)]
            response = client.post(
                f"/api/v1/facilities/{facility}/reports",
                json={
                    "report_date": day.isoformat(),
                    "oxygen_used_24h_m3": float(i),
                    "note": f"lần {i}",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code != 201:
                errors.append(f"{i}: {response.status_code} {response.get_data(as_text=True)}")

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"1000 submissions by 8 workers in {elapsed:.1f} s")
    assert errors == []
    store = app.extensions["oxyroute"].store
    assert store.count_report_revisions() == 1000
    for facility, day in KEYS:
        history = store.report_history(facility, day)
        assert [r.revision for r in history] == list(range(1, 21))  # 1000 / 50 keys
        assert len({r.report.note for r in history}) == 20
        times = [r.submitted_at for r in history]
        assert times == sorted(times)  # revision order is submission order


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# One waitress process (serve's default) and gunicorn's master with two worker processes.
WORKER_COUNTS = [pytest.param(1, id="1-process"), pytest.param(2, id="2-workers")]


def _start_server(db_path: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--threads",
            "8",
            "--workers",
            str(workers),
            "--database-url",
            f"sqlite:///{db_path}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own process group: kill -9 reaches the master and every worker at once.
        start_new_session=True,
    )
    # Generous: on a loaded 2-core machine the start (imports, schema check) took over 30 s once.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before answering")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            if len(_worker_pids(process.pid, workers)) == workers:
                return process
        except OSError:  # refused, reset, or timed out while gunicorn's workers boot
            pass
        time.sleep(0.1)
    _kill_server(process)
    raise RuntimeError("server did not start within 120 s")


def _worker_pids(server_pid: int, workers: int) -> list[int]:
    """Return the processes that answer: the server itself, or gunicorn's worker children."""
    if workers == 1:
        return [server_pid]
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == server_pid:  # field 4 of stat(5): the parent's pid
            children.append(int(stat.parent.name))
    return sorted(children)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _kill_server(server: subprocess.Popen[bytes]) -> None:
    """Send SIGKILL to the server's whole process group (master and workers) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    finally:
        _kill_server(server)  # workers still running after the master left, if any


def _post(port: int, token: str, facility: str, body: dict[str, Any], key: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/facilities/{facility}/reports",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn and /proc")
@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_eight_clients_submit_1000_reports_to_the_server(
    template_db: Any, tmp_path: Path, workers: int
) -> None:
    """The in-process test above, over HTTP against `oxyroute serve --workers N`."""
    from data.db import create_db_engine
    from data.store import Store

    db_path = tmp_path / "registry.sqlite3"
    shutil.copyfile(template_db.path, db_path)
    token = template_db.tokens["admin"]
    port = _free_port()
    server = _start_server(db_path, port, workers)
    pids = _worker_pids(server.pid, workers)
    cpu_before = {pid: _cpu_s(pid) for pid in pids}
    errors: list[str] = []

    def work(client: int) -> None:
        for i in range(client, 1000, 8):
            facility, day = KEYS[i % len(KEYS)]
            body = {"report_date": day.isoformat(), "oxygen_used_24h_m3": float(i)}
            status = _post(port, token, facility, {**body, "note": f"lần {i}"}, f"c{i}")
            if status != 201:
                errors.append(f"{i}: {status}")

    started = time.perf_counter()
    try:
        threads = [threading.Thread(target=work, args=(c,)) for c in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_used = {pid: _cpu_s(pid) - cpu_before[pid] for pid in pids}
    finally:
        _stop_server(server)
    print(
        f"1000 submissions by 8 clients to {workers} process(es) in {elapsed:.1f} s; "
        f"CPU s per process {[round(s, 2) for s in cpu_used.values()]}"
    )
    assert errors == []
    # Every process answered a share (an idle gunicorn worker spends about 0.01 CPU s a second).
    assert all(seconds > 0.3 for seconds in cpu_used.values()), cpu_used
    engine = create_db_engine(f"sqlite:///{db_path}")
    try:
        store = Store(engine)
        assert store.count_report_revisions() == 1000
        for facility, day in KEYS:
            history = store.report_history(facility, day)
            assert [r.revision for r in history] == list(range(1, 21))  # 1000 / 50 keys
            assert len({r.report.note for r in history}) == 20
    finally:
        engine.dispose()
    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_kill_9_loses_no_acknowledged_report(
    template_db: Any, tmp_path: Path, workers: int
) -> None:
    db_path = tmp_path / "registry.sqlite3"
    shutil.copyfile(template_db.path, db_path)
    token = template_db.tokens["admin"]
    port = _free_port()
    server = _start_server(db_path, port, workers)
    pids = _worker_pids(server.pid, workers)
    cpu_before = {pid: _cpu_s(pid) for pid in pids}
    acknowledged: dict[str, tuple[str, dict[str, Any]]] = {}
    pending: dict[str, tuple[str, dict[str, Any]]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def write(worker: int) -> None:
        i = 0
        while not stop.is_set():
            facility, day = KEYS[(worker * 7 + i) % len(KEYS)]
            key = f"w{worker}-{i}"
            body = {"report_date": day.isoformat(), "oxygen_used_24h_m3": float(i), "note": key}
            with lock:
                pending[key] = (facility, body)
            try:
                status = _post(port, token, facility, body, key)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                return  # the server died under us: this request is not acknowledged
            with lock:
                if status in (200, 201):
                    acknowledged[key] = pending.pop(key)
            i += 1

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    cpu_used = {pid: _cpu_s(pid) - cpu_before[pid] for pid in pids}
    _kill_server(server)  # SIGKILL to every process of the server at once
    stop.set()
    for thread in threads:
        thread.join()
    print(
        f"{workers} process(es): {len(acknowledged)} acknowledged before kill -9, "
        f"{len(pending)} in flight; CPU s per process {[round(s, 2) for s in cpu_used.values()]}"
    )
    assert len(acknowledged) > 20
    assert all(seconds > 0.1 for seconds in cpu_used.values()), cpu_used  # all were writing

    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    notes = [row[0] for row in connection.execute("SELECT note FROM report_revisions")]
    connection.close()
    assert set(acknowledged) <= set(notes)
    assert len(notes) == len(set(notes))

    # Clients retry what was in flight with the same key: stored at most once.
    server = _start_server(db_path, port, workers)
    try:
        for key, (facility, body) in pending.items():
            assert _post(port, token, facility, body, key) in (200, 201)
        for key, (facility, body) in list(acknowledged.items())[:20]:
            assert _post(port, token, facility, body, key) in (200, 201)
    finally:
        _stop_server(server)
    connection = sqlite3.connect(db_path)
    notes = [row[0] for row in connection.execute("SELECT note FROM report_revisions")]
    per_key = defaultdict(int)
    for row in connection.execute(
        "SELECT facility_id, report_date, revision FROM report_revisions"
    ):
        per_key[(row[0], row[1], row[2])] += 1
    connection.close()
    assert len(notes) == len(set(notes))
    assert set(acknowledged) | set(pending) <= set(notes)
    assert max(per_key.values()) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL, gunicorn")
def test_kill_9_of_one_worker_is_replaced_and_loses_nothing(
    template_db: Any, tmp_path: Path
) -> None:
    """One of two workers dies mid-submission: the other answers, the master starts a new one."""
    db_path = tmp_path / "registry.sqlite3"
    shutil.copyfile(template_db.path, db_path)
    token = template_db.tokens["admin"]
    port = _free_port()
    server = _start_server(db_path, port, workers=2)
    victim = _worker_pids(server.pid, 2)[0]
    acknowledged: set[str] = set()
    retried: set[str] = set()
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def write(client: int) -> None:
        i = 0
        while not stop.is_set():
            facility, day = KEYS[(client * 7 + i) % len(KEYS)]
            key = f"c{client}-{i}"
            body = {"report_date": day.isoformat(), "oxygen_used_24h_m3": float(i), "note": key}
            for attempt in range(20):  # a client retries a lost answer with the same key
                try:
                    status = _post(port, token, facility, body, key)
                except OSError:
                    with lock:
                        retried.add(key)
                    time.sleep(0.05 * (attempt + 1))
                    continue
                with lock:
                    if status in (200, 201):
                        acknowledged.add(key)
                    else:
                        errors.append(f"{key}: {status}")
                break
            i += 1

    threads = [threading.Thread(target=write, args=(c,)) for c in range(8)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        os.kill(victim, signal.SIGKILL)
        time.sleep(2.5)
        stop.set()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replacement = [pid for pid in _worker_pids(server.pid, 2) if pid != victim]
            if len(replacement) == 2:
                break
            time.sleep(0.2)
        assert len(replacement) == 2, "the master did not replace the killed worker"
    finally:
        _stop_server(server)
    print(f"{len(acknowledged)} acknowledged, {len(retried)} retried after the kill")
    assert errors == []
    assert len(acknowledged) > 20
    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    notes = [row[0] for row in connection.execute("SELECT note FROM report_revisions")]
    connection.close()
    assert acknowledged <= set(notes)
    assert len(notes) == len(set(notes))  # a retried key is stored once


def _established_per_process(pids: list[int], port: int) -> dict[int, int]:
    """Return how many TCP connections to ``port`` each process holds (from /proc)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":  # ESTABLISHED, server side
                    inodes.add(fields[9])
    counts = {}
    for pid in pids:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                held += target.startswith("socket:[") and target[8:-1] in inodes
        counts[pid] = held
    return counts


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn and /proc")
def test_two_workers_share_long_lived_connections(template_db: Any, tmp_path: Path) -> None:
    """Keep-alive clients are spread over both workers, not left to the first one awake.

    On one shared listening socket, 44 of a load test's 50 keep-alive connections went to one
    worker; each worker now has a socket of its own (SO_REUSEPORT) and the kernel spreads them.
    """
    db_path = tmp_path / "registry.sqlite3"
    shutil.copyfile(template_db.path, db_path)
    port = _free_port()
    server = _start_server(db_path, port, workers=2)
    clients: list[socket.socket] = []
    try:
        pids = _worker_pids(server.pid, 2)
        for _ in range(24):  # all at once, as a load test's users connect
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        for client in clients:  # one request each, the connection kept open
            client.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        for client in clients:
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        counts = _established_per_process(pids, port)
        # Spread by a hash of the address pair: all 24 on one worker has odds of 2 in 2^24.
        assert sum(counts.values()) == 24, counts
        assert min(counts.values()) >= 1, counts
    finally:
        for client in clients:
            client.close()
        _stop_server(server)
