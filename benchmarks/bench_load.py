"""Benchmark: the deadline-peak load test of RELIABILITY.md against the real server, with locust.

Every seeded HCMC facility reports at the 16:00 deadline while officers watch compliance:

1. A fresh SQLite registry (WAL, ``synchronous=FULL``, as the project configures it) in a
   temporary folder, filled by the project's own commands ``oxyroute db init`` and
   ``oxyroute db seed --region hcmc`` (every curated HCMC facility, generated August 2021 reports).
2. One facility reporter per facility (each scoped to its facility, as ``data/auth.py`` requires
   for report writes), one province coordinator of their province and one ministry user, each with
   an API token (through :class:`data.store.Store`, the code behind ``oxyroute users add``).
3. ``oxyroute serve`` (waitress) as a subprocess on a free 127.0.0.1 port, polled until
   ``/api/v1/health`` answers.
4. locust, headless, from its own virtual environment (``.venv-locust`` in the checkout, created
   here when missing: locust pins gevent, Flask and Werkzeug versions the project must not get),
   with ``benchmarks/locust_deadline_peak.py``: first the baseline (the same users and pacing
   against ``GET /api/v1/health``), then the peak (reporters POSTing daily reports with a new
   ``Idempotency-Key`` each, officers GETting compliance).
5. Exact percentiles from every request locust made, checked against the targets; the rows
   stored are checked against the reports acknowledged, and ``PRAGMA integrity_check`` run.

    PYTHONPATH=. python benchmarks/bench_load.py [--users 50] [--duration-s 120] [--spawn-rate 10]
        [--baseline-duration-s 30] [--wait-s 0.5 1.5] [--threads 8] [--locust-venv .venv-locust]

With ``--saturation [--workers 2]`` it runs instead the saturation comparison of
``benchmarks/bench_load_saturation.py``: no think time, 1 process (waitress) against N worker
processes (gunicorn), the health endpoint and the deadline mix, in one run.

Targets: 0 % failures; report POST p90 < 500 ms and p99 < 1 s; compliance GET p95 < 500 ms.
The server and locust share this machine's cores, so the figures are a floor of what a server
alone would do. Prints the figures; exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

LOCUSTFILE = Path(__file__).resolve().parent / "locust_deadline_peak.py"
LOCUST_REQUIREMENT = "locust>=2.20,<3"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SERVER_START_TIMEOUT_S = 300.0

REPORT_POST = "POST /facilities/{id}/reports"
COMPLIANCE_NAMES = ("GET /compliance/daily", "GET /compliance/national", "GET /compliance/monthly")
HEALTH = "GET /health"

MAX_FAILURE_PERCENT = 0.0
REPORT_P90_TARGET_MS = 500.0
REPORT_P99_TARGET_MS = 1000.0
COMPLIANCE_P95_TARGET_MS = 500.0


@dataclass(frozen=True, slots=True)
class Sample:
    """One request locust made: its stats name, response time, outcome and end time."""

    name: str
    response_time_ms: float
    ok: bool
    status: int
    error: str | None
    at_s: float


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """What one locust run did: its samples and the CPU seconds the server spent meanwhile."""

    samples: list[Sample]
    wall_s: float
    server_cpu_s: float
    locust_cpu_s: float
    locust_warnings: list[str]


def percentile_ms(values: list[float], percent: float) -> float:
    """Return the nearest-rank percentile of ``values`` (ms); NaN when there are none.

    Nearest rank (the smallest value with at least ``percent`` % of the values at or below it)
    never interpolates below an observed response time.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100.0 * len(ordered)))
    return ordered[rank - 1]


def throughput_per_s(samples: list[Sample]) -> float:
    """Return requests per second between the first and the last response of ``samples``."""
    if len(samples) < 2:
        return math.nan
    span_s = max(s.at_s for s in samples) - min(s.at_s for s in samples)
    return len(samples) / span_s if span_s > 0 else math.nan


def ensure_locust(venv_dir: Path) -> Path:
    """Return the ``locust`` executable of ``venv_dir``, creating the environment if it is missing.

    The environment is separate from the project's on purpose: locust pins gevent, Flask and
    Werkzeug versions the project relies on being different. It only needs HTTP to the server.

    Raises
    ------
    subprocess.CalledProcessError
        If the environment cannot be created or locust cannot be installed (no package index).
    """
    locust = venv_dir / "bin" / "locust"
    if locust.exists():
        return locust
    print(f"creating {venv_dir} and installing {LOCUST_REQUIREMENT} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
    subprocess.run(
        [str(venv_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", LOCUST_REQUIREMENT],
        check=True,
    )
    return locust


def _project_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


def _locust_env(scenario_path: Path, samples_path: Path) -> dict[str, str]:
    # Locust's interpreter must not see the project (or the project's venv) on its path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["OXYROUTE_LOAD_SCENARIO"] = str(scenario_path)
    env["OXYROUTE_LOAD_SAMPLES"] = str(samples_path)
    return env


def _cli(args: list[str]) -> str:
    """Run ``oxyroute ARGS`` from this checkout with this interpreter; return its output."""
    command = [sys.executable, "-c", "from cli import main; main()", *args]
    result = subprocess.run(
        command, env=_project_env(), cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"oxyroute {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def seed_database(database_url: str) -> str:
    """Create and seed the registry with ``oxyroute db init`` and ``db seed``; return their output."""
    init = _cli(["db", "init", "--database-url", database_url])
    seed = _cli(["db", "seed", "--region", "hcmc", "--database-url", database_url])
    return (init + seed).strip()


def create_load_users(database_url: str) -> dict[str, Any]:
    """Create the load test's users and tokens; return the scenario the locustfile reads.

    One facility reporter per facility (``load-rep-<facility_id>``), one province coordinator of
    the province with the most facilities (``load-coord-<code>``) and one ministry user.

    Raises
    ------
    RuntimeError
        If the registry has no facility (seed it first).
    """
    from data.db import create_db_engine
    from data.schema.registry import Role
    from data.store import Store

    engine = create_db_engine(database_url)
    try:
        store = Store(engine)
        facilities = store.list_facilities()
        if not facilities:
            raise RuntimeError("the registry has no facility; run `oxyroute db seed` first")
        reporters = {}
        for facility in facilities:
            username = f"load-rep-{facility.facility_id}"
            store.add_user(
                username, Role.FACILITY_REPORTER, facility_id=facility.facility_id, actor="bench"
            )
            reporters[facility.facility_id] = store.issue_token(username, actor="bench")
        counts = collections.Counter(f.province_code for f in facilities)
        province_code = counts.most_common(1)[0][0]
        store.add_user(
            f"load-coord-{province_code}",
            Role.PROVINCE_COORDINATOR,
            province_code=province_code,
            actor="bench",
        )
        store.add_user("load-ministry", Role.MINISTRY, actor="bench")
        return {
            "reporters": reporters,
            "province_code": province_code,
            "coordinator_token": store.issue_token(f"load-coord-{province_code}", actor="bench"),
            "ministry_token": store.issue_token("load-ministry", actor="bench"),
            "facilities_in_province": counts[province_code],
        }
    finally:
        engine.dispose()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    database_url: str, port: int, *, threads: int, log_path: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    """Start ``oxyroute serve`` on 127.0.0.1:``port``; its output goes to ``log_path``.

    One process (waitress) when ``workers`` is 1, else gunicorn's master and ``workers``
    worker processes, in a process group of their own (:func:`stop_server` ends them all).
    """
    log = log_path.open("wb")
    command = [
        sys.executable, "-c", "from cli import main; main()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
        "--workers", str(workers), "--database-url", database_url,
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        env=_project_env(),
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server with SIGTERM (gunicorn stops its workers); SIGKILL its group after 30 s."""
    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # workers left behind, if any
    server.wait()


def wait_until_up(
    base_url: str, server: subprocess.Popen[bytes], log_path: Path, *, workers: int = 1
) -> float:
    """Poll ``/api/v1/health`` until it answers 200; return the seconds waited.

    With several ``workers``, also wait until each has logged that its app is ready (a worker
    still loading would otherwise count against the first seconds of the load).

    Raises
    ------
    RuntimeError
        If the server exits or does not answer within ``SERVER_START_TIMEOUT_S``; the message
        ends with its log.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < SERVER_START_TIMEOUT_S:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/v1/health", timeout=2) as response:
                ready = workers == 1 or _ready_workers(log_path) >= workers
                if response.status == 200 and ready:
                    return time.perf_counter() - started
        except OSError:  # refused, reset or timed out (URLError is an OSError)
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"the server did not answer in {SERVER_START_TIMEOUT_S:.0f} s:\n"
        f"{log_path.read_text()[-4000:]}"
    )


def _ready_workers(log_path: Path) -> int:
    """Return how many gunicorn workers logged ``worker <pid> ready`` (``commands/server.py``)."""
    return len(re.findall(r"worker \d+ ready", log_path.read_text(errors="replace")))


def _process_cpu_s(pid: int) -> float:
    """Return the user + system CPU seconds of a running process and its children (``/proc``).

    The children are gunicorn's workers when the server runs several processes; a process that
    ended meanwhile counts 0.
    """
    total_ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself, or a child
            total_ticks += int(fields[11]) + int(fields[12])  # utime, stime (stat(5) 14, 15)
    return total_ticks / os.sysconf("SC_CLK_TCK")


def run_locust(
    locust: Path,
    *,
    user_classes: list[str],
    host: str,
    users: int,
    spawn_rate: float,
    duration_s: int,
    scenario_path: Path,
    folder: Path,
    label: str,
    server_pid: int,
) -> PhaseResult:
    """Run locust headless with ``user_classes`` of the locustfile; return every request it made.

    Locust's own CSV files (``<folder>/<label>_stats.csv`` ...) are written too, for the record.

    Raises
    ------
    RuntimeError
        If locust fails to run (not when requests fail: those are in the samples).
    """
    samples_path = folder / f"{label}_samples.jsonl"
    command = [
        str(locust), "-f", str(LOCUSTFILE), "--headless",
        "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration_s}s",
        "--host", host, "--csv", str(folder / label), "--only-summary",
        # Let in-flight requests finish at the end instead of cutting them off.
        "--stop-timeout", "10", "--exit-code-on-error", "0", "--loglevel", "WARNING",
        *user_classes,
    ]  # fmt: skip
    cpu_before = _process_cpu_s(server_pid)
    children_before = _children_cpu_s()
    started = time.perf_counter()
    result = subprocess.run(
        command,
        env=_locust_env(scenario_path, samples_path),
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    wall_s = time.perf_counter() - started
    server_cpu_s = _process_cpu_s(server_pid) - cpu_before
    locust_cpu_s = _children_cpu_s() - children_before
    if result.returncode != 0 or not samples_path.exists():
        raise RuntimeError(
            f"locust {label} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-3000:]}"
        )
    samples = [
        Sample(**json.loads(line))
        for line in samples_path.read_text(encoding="utf-8").splitlines()
        if line
    ]
    warnings = [
        line.strip()
        for line in (result.stdout + result.stderr).splitlines()
        if "CPU usage" in line or "WARNING" in line
    ]
    return PhaseResult(samples, wall_s, server_cpu_s, locust_cpu_s, warnings)


def _children_cpu_s() -> float:
    """Return the user + system CPU seconds of every child process reaped so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Check:
    """One measured figure against its target."""

    label: str
    value: float
    target: float
    unit: str
    at_most: bool = False
    at_least: bool = False

    @property
    def passed(self) -> bool:
        """Whether the value meets the target (strictly below it, at most it, or at least it)."""
        if math.isnan(self.value):
            return False
        if self.at_least:
            return self.value >= self.target
        return self.value <= self.target if self.at_most else self.value < self.target

    def line(self) -> str:
        """Return the check as one printed line."""
        relation = ">=" if self.at_least else "<=" if self.at_most else "<"
        return (
            f"  {self.label:<34} {self.value:>9.1f} {self.unit:<3} "
            f"target {relation} {self.target:g} {self.unit:<3} {'PASS' if self.passed else 'FAIL'}"
        )


def _times(samples: list[Sample], names: tuple[str, ...]) -> list[float]:
    return [s.response_time_ms for s in samples if s.name in names]


def _spread(values: list[float]) -> str:
    return (
        ", ".join(f"p{p:g} {percentile_ms(values, p):.1f}" for p in (50, 90, 95, 99))
        + f", max {max(values, default=math.nan):.1f} ms"
    )


def _count_revisions(database_url: str) -> tuple[int, str]:
    """Return the number of report revisions and SQLite's integrity check of the registry."""
    from sqlalchemy import text

    from data.db import create_db_engine
    from data.store import Store

    engine = create_db_engine(database_url)
    try:
        count = Store(engine).count_report_revisions()
        with engine.connect() as connection:
            integrity = ", ".join(
                str(row[0]) for row in connection.execute(text("PRAGMA integrity_check"))
            )
        return count, integrity
    finally:
        engine.dispose()


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="Concurrent locust users.")
    parser.add_argument("--duration-s", type=int, default=120, help="Length of the peak.")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="Users started per second.")
    parser.add_argument(
        "--baseline-duration-s", type=int, default=30, help="Length of the health baseline."
    )
    parser.add_argument(
        "--wait-s", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"),
        help="Think time of each user between two requests (uniform).",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=8, help="Waitress threads (serve's default)."
    )
    parser.add_argument("--seed", type=int, default=20210820, help="Seed of the report figures.")
    parser.add_argument("--locust-venv", type=Path, default=REPO_ROOT / ".venv-locust")
    saturation = parser.add_argument_group(
        "saturation (--saturation): 1 process against N workers, no think time"
    )
    saturation.add_argument(
        "--saturation", action="store_true",
        help="Compare 1 process (waitress) with --workers N (gunicorn) at saturation instead.",
    )  # fmt: skip
    saturation.add_argument("--workers", type=int, default=2, help="Worker processes (N).")
    saturation.add_argument("--saturation-users", type=int, default=50, help="Locust users.")
    saturation.add_argument(
        "--saturation-duration-s", type=int, default=40, help="Length of each mix run."
    )
    saturation.add_argument(
        "--saturation-health-s", type=int, default=20, help="Length of each health run."
    )
    saturation.add_argument(
        "--warmup-s", type=float, default=5.0, help="Seconds left out at the start of each run."
    )
    saturation.add_argument(
        "--rounds", type=int, default=1, help="Alternate 1 and N this many times (medians)."
    )
    saturation.add_argument(
        "--synchronous", choices=("full", "normal"), default="full",
        help="SQLite's synchronous setting of the served registry (the URL's ?synchronous=).",
    )  # fmt: skip
    return parser.parse_args()


@dataclass
class _PeakRun:
    """What one deadline-peak run measured: the users, both locust runs, the stored revisions."""

    scenario: dict[str, Any]
    today: dt.date
    baseline: Any
    peak: Any
    server_log: str
    stored: int
    integrity: str


def _prepare_registry(
    database_url: str, folder: Path, args: argparse.Namespace
) -> tuple[dict[str, Any], Path, int]:
    """Seed a fresh registry, create the load users; return the scenario, its file, revisions."""
    started = time.perf_counter()
    print(seed_database(database_url))
    scenario = create_load_users(database_url)
    revisions_before, _ = _count_revisions(database_url)
    scenario.update(
        today=dt.datetime.now(LOCAL_TZ).date().isoformat(),
        seed=args.seed,
        wait_min_s=args.wait_s[0],
        wait_max_s=args.wait_s[1],
    )
    scenario_path = folder / "scenario.json"
    scenario_path.write_text(json.dumps(scenario), encoding="utf-8")
    print(
        f"registry ready in {time.perf_counter() - started:.1f} s: "
        f"{len(scenario['reporters'])} facility reporters, coordinator of province "
        f"{scenario['province_code']} ({scenario['facilities_in_province']} facilities), "
        f"ministry; {revisions_before} seeded report revisions"
    )
    return scenario, scenario_path, revisions_before


def _run_peak(args: argparse.Namespace, locust: Path) -> _PeakRun:
    """Serve a fresh registry and run the health baseline, then the deadline peak, against it."""
    with tempfile.TemporaryDirectory(prefix="oxy-load-") as tmp:
        folder = Path(tmp)
        database_url = f"sqlite:///{folder / 'registry.sqlite3'}"
        scenario, scenario_path, revisions_before = _prepare_registry(database_url, folder, args)
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        log_path = folder / "server.log"
        server = start_server(database_url, port, threads=args.threads, log_path=log_path)
        try:
            waited_s = wait_until_up(host, server, log_path)
            print(f"server up on {host} after {waited_s:.1f} s (waitress, {args.threads} threads)")
            common = {
                "host": host,
                "users": args.users,
                "spawn_rate": args.spawn_rate,
                "scenario_path": scenario_path,
                "folder": folder,
                "server_pid": server.pid,
            }
            baseline = run_locust(
                locust, user_classes=["HealthBaseline"], duration_s=args.baseline_duration_s,
                label="baseline", **common,
            )  # fmt: skip
            peak = run_locust(
                locust, user_classes=["FacilityReporter", "ComplianceReader"],
                duration_s=args.duration_s, label="peak", **common,
            )  # fmt: skip
        finally:
            stop_server(server)
        server_log = log_path.read_text(errors="replace")
        revisions_after, integrity = _count_revisions(database_url)
    return _PeakRun(
        scenario,
        dt.date.fromisoformat(scenario["today"]),
        baseline,
        peak,
        server_log,
        revisions_after - revisions_before,
        integrity,
    )


def _print_figures(args: argparse.Namespace, run: _PeakRun) -> None:
    """Print the peak's requests, latencies, baseline, stored revisions and machine load."""
    peak, baseline = run.peak, run.baseline
    reports = [s for s in peak.samples if s.name == REPORT_POST]
    compliance = [s for s in peak.samples if s.name in COMPLIANCE_NAMES]
    failures = [s for s in peak.samples if not s.ok]
    report_ms = _times(peak.samples, (REPORT_POST,))
    compliance_ms = _times(peak.samples, COMPLIANCE_NAMES)
    health_ms = _times(baseline.samples, (HEALTH,))
    failure_percent = 100.0 * len(failures) / max(1, len(peak.samples))
    acknowledged = sum(s.ok for s in reports)
    cores = os.cpu_count() or 0

    print()
    print(
        f"deadline peak: {args.users} users (reporters : officers by weight 9 : 1), spawn "
        f"{args.spawn_rate:g}/s, {args.duration_s} s, think time {args.wait_s[0]:g}-"
        f"{args.wait_s[1]:g} s; each of the {len(run.scenario['reporters'])} facilities in turn; "
        f"report date {run.today} and earlier"
    )
    print(
        f"requests {len(peak.samples)}: {len(reports)} report POSTs, {len(compliance)} "
        f"compliance GETs; failures {len(failures)} ({failure_percent:.2f} %); "
        f"{throughput_per_s(peak.samples):.1f} req/s ({throughput_per_s(reports):.1f} report "
        f"POSTs/s)"
    )
    print(f"report POST      {_spread(report_ms)}")
    for name in COMPLIANCE_NAMES:
        values = _times(peak.samples, (name,))
        print(f"{name:<24} ({len(values)}) {_spread(values)}")
    print(
        f"baseline {HEALTH}, same users and pacing, {args.baseline_duration_s} s: "
        f"{len(health_ms)} requests, {throughput_per_s(baseline.samples):.1f} req/s, "
        f"{_spread(health_ms)}; failures {sum(not s.ok for s in baseline.samples)}"
    )
    print(
        f"server work / baseline: report POST p90 "
        f"{percentile_ms(report_ms, 90) / percentile_ms(health_ms, 90):.1f}x "
        f"the health p90; compliance GET p95 "
        f"{percentile_ms(compliance_ms, 95) / percentile_ms(health_ms, 95):.1f}x the health p95"
    )
    print(
        f"stored: {run.stored} new report revisions for {acknowledged} acknowledged report POSTs; "
        f"PRAGMA integrity_check: {run.integrity}"
    )
    print(
        f"machine: {cores} cores shared by the server (waitress, {args.threads} threads, one "
        f"process) and locust (one process): during the peak the server used "
        f"{peak.server_cpu_s:.1f} CPU s ({peak.server_cpu_s / peak.wall_s:.2f} cores, "
        f"{1000 * peak.server_cpu_s / max(1, len(peak.samples)):.1f} ms per request) and locust "
        f"{peak.locust_cpu_s:.1f} CPU s ({peak.locust_cpu_s / peak.wall_s:.2f} cores) over "
        f"{peak.wall_s:.0f} s"
    )
    queue_warnings = run.server_log.count("Task queue depth")
    if queue_warnings:
        print(f"waitress warned {queue_warnings} times that requests queued for a thread")
    for warning in peak.locust_warnings[:5]:
        print(f"locust: {warning}")
    for reason, count in collections.Counter(f"{s.name}: {s.error}" for s in failures).most_common(
        10
    ):
        print(f"  FAILURE x{count}: {reason}")


def _check_targets(run: _PeakRun) -> int:
    """Print the targets of RELIABILITY.md against the figures; return the exit status."""
    samples = run.peak.samples
    report_ms = _times(samples, (REPORT_POST,))
    failure_percent = 100.0 * sum(not s.ok for s in samples) / max(1, len(samples))
    acknowledged = sum(s.ok for s in samples if s.name == REPORT_POST)
    checks = [
        Check("failures", failure_percent, MAX_FAILURE_PERCENT, "%", at_most=True),
        Check("report POST p90", percentile_ms(report_ms, 90), REPORT_P90_TARGET_MS, "ms"),
        Check("report POST p99", percentile_ms(report_ms, 99), REPORT_P99_TARGET_MS, "ms"),
        Check(
            "compliance GET p95",
            percentile_ms(_times(samples, COMPLIANCE_NAMES), 95),
            COMPLIANCE_P95_TARGET_MS,
            "ms",
        ),
    ]
    print("targets (RELIABILITY.md):")
    for check in checks:
        print(check.line())
    lost = run.stored != acknowledged
    if lost:
        print(f"  FAIL: {acknowledged} reports acknowledged but {run.stored} revisions stored")
    return 0 if all(c.passed for c in checks) and not lost and run.integrity == "ok" else 1


def main() -> int:
    """Run the deadline-peak load test (or the saturation comparison) against the targets."""
    args = _parse_args()
    if args.saturation:
        import bench_load_saturation

        return bench_load_saturation.main(args)
    locust = ensure_locust(args.locust_venv)
    run = _run_peak(args, locust)
    _print_figures(args, run)
    return _check_targets(run)


if __name__ == "__main__":
    sys.exit(main())
