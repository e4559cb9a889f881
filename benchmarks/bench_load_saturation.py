"""Saturation of ``oxyroute serve`` with 1 and N worker processes: ``bench_load.py --saturation``.

Not run on its own: ``benchmarks/bench_load.py --saturation [--workers 2]`` calls :func:`main`.
One registry is seeded as for the deadline peak (every curated HCMC facility, its reporters, a
coordinator and the ministry); then, for 1 process (waitress, serve's default) and for N worker
processes (gunicorn), each on a fresh copy of that registry:

1. ``oxyroute serve --workers W`` starts; the run waits until every worker has built its app.
2. The trivial endpoint at saturation: locust users with no think time GET ``/api/v1/health``.
3. The deadline mix at saturation: the same users, no think time, reporters POSTing daily reports
   and officers GETting compliance (``locust_deadline_peak.py``, with locust's cheaper client).
4. The stored revisions are checked against the acknowledged POSTs, and the integrity check run.

Figures are taken after a warm-up (``--warmup-s``): throughput (requests per second between the
first and the last response of the window), report POST percentiles, and the CPU the server, locust
and everything else on the machine used meanwhile (``/proc/stat``). Targets (issue 16): N workers
reach at least 1.6x the throughput of 1 process, with report POST p99 under 500 ms. When other
processes used the machine during the runs, the verdict says the target could not be judged.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_load as load

THROUGHPUT_RATIO_TARGET = 1.6
SATURATION_REPORT_P99_TARGET_MS = 500.0
OTHERS_CORES_JUDGEABLE = 0.25
"""Average cores other processes may use during a run for the comparison still to be judged."""


@dataclass(frozen=True, slots=True)
class SaturationRun:
    """One server (1 or N processes) at saturation: the health and mix phases, what was stored."""

    workers: int
    round_index: int
    health: Any  # load.PhaseResult
    mix: Any  # load.PhaseResult
    stored: int
    integrity: str
    others_cores: float
    load_average: tuple[float, float, float]


def _machine_busy_s() -> float:
    """Return the CPU seconds the whole machine has been busy (not idle, not waiting on I/O)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def steady(samples: list[Any], warmup_s: float) -> list[Any]:
    """Return the samples that ended ``warmup_s`` seconds or more after the first one."""
    if not samples:
        return []
    start = min(s.at_s for s in samples) + warmup_s
    return [s for s in samples if s.at_s >= start]


def _acknowledged(run: SaturationRun) -> int:
    return sum(s.ok for s in run.mix.samples if s.name == load.REPORT_POST)


def _post_times(samples: list[Any]) -> list[float]:
    return [s.response_time_ms for s in samples if s.name == load.REPORT_POST]


def _run_once(
    args: argparse.Namespace,
    locust: Path,
    folder: Path,
    template: Path,
    workers: int,
    round_index: int,
) -> SaturationRun:
    """Serve a fresh copy of ``template`` with ``workers`` processes; run both phases."""
    label = f"w{workers}-r{round_index}"
    db_path = folder / f"{label}.sqlite3"
    shutil.copyfile(template, db_path)
    database_url = f"sqlite:///{db_path}"
    revisions_before, _ = load._count_revisions(database_url)
    port = load.free_port()
    host = f"http://127.0.0.1:{port}"
    log_path = folder / f"{label}-server.log"
    served_url = database_url + ("" if args.synchronous == "full" else "?synchronous=normal")
    server = load.start_server(
        served_url, port, threads=args.threads, log_path=log_path, workers=workers
    )
    try:
        waited_s = load.wait_until_up(host, server, log_path, workers=workers)
        print(f"[{label}] server up after {waited_s:.1f} s", flush=True)
        common = {
            "host": host,
            "users": args.saturation_users,
            "spawn_rate": float(args.saturation_users),  # every user at once
            "scenario_path": folder / "saturation-scenario.json",
            "folder": folder,
            "server_pid": server.pid,
        }
        health = load.run_locust(
            locust, user_classes=["HealthBaseline"], duration_s=args.saturation_health_s,
            label=f"{label}-health", **common,
        )  # fmt: skip
        busy_before = _machine_busy_s()
        mix = load.run_locust(
            locust, user_classes=["FacilityReporter", "ComplianceReader"],
            duration_s=args.saturation_duration_s, label=f"{label}-mix", **common,
        )  # fmt: skip
        others_s = _machine_busy_s() - busy_before - mix.server_cpu_s - mix.locust_cpu_s
        load_average = os.getloadavg()
    finally:
        load.stop_server(server)
    revisions_after, integrity = load._count_revisions(database_url)
    return SaturationRun(
        workers,
        round_index,
        health,
        mix,
        revisions_after - revisions_before,
        integrity,
        max(0.0, others_s / mix.wall_s),
        load_average,
    )


def _throughput(phase: Any, warmup_s: float) -> float:
    return float(load.throughput_per_s(steady(phase.samples, warmup_s)))


def _print_run(run: SaturationRun, warmup_s: float) -> None:
    """Print one run's figures: health, mix, report POST spread, CPU, stored revisions."""
    health = steady(run.health.samples, warmup_s)
    mix = steady(run.mix.samples, warmup_s)
    health_ms = [s.response_time_ms for s in health]
    post_ms = _post_times(mix)
    compliance_ms = [s.response_time_ms for s in mix if s.name in load.COMPLIANCE_NAMES]
    failures = sum(not s.ok for s in run.mix.samples) + sum(not s.ok for s in run.health.samples)
    acknowledged = _acknowledged(run)
    server = "waitress, 1 process" if run.workers == 1 else f"gunicorn, {run.workers} workers"
    print(f"round {run.round_index + 1}, {server}:")
    print(
        f"  GET /health        {_throughput(run.health, warmup_s):7.1f} req/s "
        f"({len(health)} requests), {load._spread(health_ms)}"
    )
    print(
        f"  deadline mix       {_throughput(run.mix, warmup_s):7.1f} req/s "
        f"({len(mix)} requests: {len(post_ms)} report POSTs, {len(compliance_ms)} compliance "
        f"GETs); failures {failures}"
    )
    print(f"  report POST        {load._spread(post_ms)}")
    print(
        f"  compliance GET     p95 {load.percentile_ms(compliance_ms, 95):.1f} ms; "
        f"stored {run.stored} new revisions for {acknowledged} acknowledged POSTs; "
        f"integrity {run.integrity}"
    )
    wall_s = run.mix.wall_s
    print(
        f"  CPU during the mix: server {run.mix.server_cpu_s / wall_s:.2f} cores "
        f"({1000 * run.mix.server_cpu_s / max(1, len(run.mix.samples)):.1f} ms per request), "
        f"locust {run.mix.locust_cpu_s / wall_s:.2f} cores, other processes "
        f"{run.others_cores:.2f} cores; load average after "
        f"{' '.join(f'{v:.2f}' for v in run.load_average)}"
    )


def _verdict(runs: list[SaturationRun], workers: int, warmup_s: float) -> int:
    """Print the targets against the medians over rounds; return the exit status."""
    one = [r for r in runs if r.workers == 1]
    many = [r for r in runs if r.workers == workers]
    rps_one = statistics.median(_throughput(r.mix, warmup_s) for r in one)
    rps_many = statistics.median(_throughput(r.mix, warmup_s) for r in many)
    health_one = statistics.median(_throughput(r.health, warmup_s) for r in one)
    health_many = statistics.median(_throughput(r.health, warmup_s) for r in many)
    p99_many = statistics.median(
        load.percentile_ms(_post_times(steady(r.mix.samples, warmup_s)), 99) for r in many
    )
    ratio = rps_many / rps_one if rps_one > 0 else math.nan
    print(
        f"{workers} workers vs 1 process: deadline mix {rps_many:.1f} / {rps_one:.1f} req/s = "
        f"{ratio:.2f}x; GET /health {health_many:.1f} / {health_one:.1f} req/s = "
        f"{health_many / health_one:.2f}x"
    )
    checks = [
        load.Check(
            f"throughput ratio ({workers} workers)",
            ratio,
            THROUGHPUT_RATIO_TARGET,
            "x",
            at_least=True,
        ),
        load.Check(
            f"report POST p99 ({workers} workers)",
            p99_many,
            SATURATION_REPORT_P99_TARGET_MS,
            "ms",
        ),
    ]
    print("targets (issue 16):")
    for check in checks:
        print(check.line())
    lost = [r for r in runs if r.integrity != "ok" or r.stored != _acknowledged(r)]
    failures = sum(not s.ok for r in runs for s in r.mix.samples + r.health.samples)
    print(
        f"  failures {failures}; runs whose stored revisions differ from acknowledged: {len(lost)}"
    )
    others = max(r.others_cores for r in runs)
    if others > OTHERS_CORES_JUDGEABLE:
        print(
            f"  NOT JUDGED: other processes used up to {others:.2f} of the "
            f"{os.cpu_count()} cores during a run (limit {OTHERS_CORES_JUDGEABLE}); the figures "
            "are a floor, and the ratio is not the server's own"
        )
    passed = all(c.passed for c in checks) and not lost and failures == 0
    return 0 if passed else 1


def main(args: argparse.Namespace) -> int:
    """Run 1 process and ``args.workers`` workers at saturation, ``args.rounds`` times; compare."""
    shortest_s = min(args.saturation_health_s, args.saturation_duration_s)
    problems = []
    if args.warmup_s >= shortest_s:
        problems.append(
            f"--warmup-s {args.warmup_s:g}: must be shorter than each run ({shortest_s} s)"
        )
    if args.workers < 2:
        problems.append(f"--workers {args.workers}: compare at least 2 with 1 process")
    if args.rounds < 1:
        problems.append(f"--rounds {args.rounds}: at least 1")
    if problems:
        raise SystemExit("; ".join(problems))
    locust = load.ensure_locust(args.locust_venv)
    with tempfile.TemporaryDirectory(prefix="oxy-saturation-") as tmp:
        folder = Path(tmp)
        template = folder / "template.sqlite3"
        scenario, _, _ = load._prepare_registry(f"sqlite:///{template}", folder, args)
        scenario.update(wait_min_s=0.0, wait_max_s=0.0, fast_client=True)
        (folder / "saturation-scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
        print(
            f"saturation: {args.saturation_users} users with no think time, health "
            f"{args.saturation_health_s} s then the deadline mix {args.saturation_duration_s} s "
            f"per server, first {args.warmup_s:g} s of each left out; {args.threads} threads per "
            f"process; synchronous={args.synchronous.upper()}; {args.rounds} round(s); {os.cpu_count()} cores, load average "
            f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}",
            flush=True,
        )
        runs: list[SaturationRun] = []
        started = time.perf_counter()
        for round_index in range(args.rounds):
            for workers in (1, args.workers):
                run = _run_once(args, locust, folder, template, workers, round_index)
                _print_run(run, args.warmup_s)
                runs.append(run)
        print(f"all runs in {time.perf_counter() - started:.0f} s")
        return _verdict(runs, args.workers, args.warmup_s)
