"""Benchmark: how long a report POST holds SQLite's write lock, before and after (issue 16, item 7).

SQLite has one write lock per database; with several server processes (``oxyroute serve
--workers N``) the report POSTs queue for it, so the share of a POST spent holding it bounds what
more processes can gain. This benchmark measures, in one run, the code of a baseline commit
(``--baseline-rev``, by default the parent of the change that moved the reads and the
plausibility check out of the write transaction) and the code of this checkout:

1. One registry, filled once by this checkout's ``oxyroute db init`` and ``db seed --region hcmc``
   (every curated HCMC facility, generated August 2021 reports: a week of history per facility),
   then one facility reporter per facility with a token.
2. The baseline commit's tree, extracted with ``git archive`` into a temporary folder.
3. ``--rounds`` rounds, the two variants alternating within each round; each run gets its own copy
   of the registry and runs in its own process: the app from ``create_app`` (clock fixed at
   21 August 2021, 09:00 in Hồ Chí Minh City), then ``--reports`` POSTs through Flask's test client
   (no HTTP server, no other load), each with a new Idempotency-Key, in the deadline mix of
   ``benchmarks/locust_deadline_peak.py``: the facilities in turn, today's report (20 August),
   corrections of it, earlier days; the random figures of a large hospital, seeded.
4. Per POST: the total time, and the time spent in write transactions (from ``BEGIN IMMEDIATE``
   to the end of ``COMMIT``, its fsync included: :meth:`data.store.base.StoreBase._write` is timed
   in the child process). Alone, a write transaction holds the lock for all of that time.

    PYTHONPATH=. python benchmarks/bench_report_write.py [--reports 400] [--rounds 3]
        [--baseline-rev REV] [--warmup 40]

Prints per variant the medians over the rounds of the per-run median and p90 (ms) and the share
of a POST that holds the write lock, and the load average, since the figures are CPU times on a
shared machine. Exits 1 if a POST was not answered 201 or the stored revisions do not match.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASELINE = "bbc8f30"
"""The commit before the split write (b106774's parent): all reads inside BEGIN IMMEDIATE."""
TODAY = "2021-08-20"
CLOCK_LOCAL = "2021-08-21 09:00"
CORRECTION_SHARE = 0.3


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env.setdefault("OXYROUTE_DATA_DIR", str(REPO_ROOT.parent / "shared" / "data"))
    return env


def seed_registry(path: Path) -> None:
    """Create and seed the registry at ``path`` with this checkout's ``oxyroute db`` commands."""
    url = f"sqlite:///{path}"
    for args in (["db", "init"], ["db", "seed", "--region", "hcmc"]):
        subprocess.run(
            [sys.executable, "-c", "from cli import main; main()", *args, "--database-url", url],
            env=_env(REPO_ROOT),
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )


def extract_tree(rev: str, target: Path) -> None:
    """Write the tree of commit ``rev`` of this checkout into ``target``."""
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", rev], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


def run_variant(root: Path, database: Path, reports: int, seed: int) -> dict[str, Any]:
    """Run the child in a new process on ``root``'s code; return its JSON answer."""
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "--database",
            str(database),
            "--reports",
            str(reports),
            "--seed",
            str(seed),
        ],
        env=_env(root),
        cwd=root,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the child on {root} failed:\n{result.stdout}\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


# ---------------------------------------------------------------------------------------- child


def _report_body(rng: random.Random, day: str, note: str | None) -> dict[str, Any]:
    """Return a plausible daily report (the deadline mix's figures of a large hospital)."""
    return {
        "report_date": day,
        "oxygen_used_24h_m3": round(rng.uniform(20.0, 4000.0), 1),
        "patients_cannula_mask": rng.randint(0, 200),
        "patients_high_flow": rng.randint(0, 40),
        "patients_niv": rng.randint(0, 20),
        "patients_invasive": rng.randint(0, 30),
        "cylinders_full": {"40L": rng.randint(0, 300), "10L": rng.randint(0, 50)},
        "cylinders_empty": {"40L": rng.randint(0, 300)},
        "deliveries_expected_m3": round(rng.uniform(0.0, 3000.0), 1),
        "note": note,
    }


def _requests(
    rng: random.Random, facility_ids: list[str], count: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (facility, body) in the deadline mix: today, corrections of today, earlier days."""
    import datetime as dt

    today = dt.date.fromisoformat(TODAY)
    sent_today: set[str] = set()
    days_back = dict.fromkeys(facility_ids, 0)
    for i in range(count):
        facility_id = facility_ids[i % len(facility_ids)]
        if facility_id not in sent_today:
            sent_today.add(facility_id)
            day, note = today, None
        elif rng.random() < CORRECTION_SHARE:
            day, note = today, f"sửa lần {i}: số liệu cập nhật lúc cao điểm"
        else:
            days_back[facility_id] += 1
            day, note = today - dt.timedelta(days=days_back[facility_id]), "bổ sung báo cáo"
        yield facility_id, _report_body(rng, day.isoformat(), note)


def child(database: Path, count: int, seed: int) -> dict[str, Any]:
    """Time ``count`` report POSTs on this process's code; return the figures (run in the child)."""
    import datetime as dt

    from api import ApiConfig, create_app
    from data.db import create_db_engine
    from data.reporting import LOCAL_TZ
    from data.schema.registry import Role
    from data.store import Store
    from data.store.base import StoreBase

    now = dt.datetime.fromisoformat(CLOCK_LOCAL).replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    store = Store(engine, clock=lambda: now)
    facility_ids = sorted(f.facility_id for f in store.list_facilities())
    tokens = {}
    for facility_id in facility_ids:
        username = f"bench-{facility_id}"
        store.add_user(username, Role.FACILITY_REPORTER, facility_id=facility_id, actor="bench")
        tokens[facility_id] = store.issue_token(username)
    revisions_before = store.count_report_revisions()
    engine.dispose()

    holds: list[float] = []
    commits: list[float] = []
    original = StoreBase._write

    @contextmanager
    def timed_write(self: StoreBase) -> Iterator[Any]:
        started = time.perf_counter()
        try:
            with original(self) as connection:
                yield connection
                body_done = time.perf_counter()
            commits.append(time.perf_counter() - body_done)
        finally:
            holds.append(time.perf_counter() - started)

    StoreBase._write = timed_write  # type: ignore[assignment]
    app = create_app(ApiConfig(database_url=url, clock=lambda: now))
    client = app.test_client()
    rng = random.Random(seed)
    totals_ms, holds_ms, commits_ms, writes, failures = [], [], [], [], []
    for facility_id, body in _requests(rng, facility_ids, count):
        holds.clear()
        commits.clear()
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/facilities/{facility_id}/reports",
            json=body,
            headers={
                "Authorization": f"Bearer {tokens[facility_id]}",
                "Idempotency-Key": f"bench-{uuid.uuid4()}",
            },
        )
        totals_ms.append((time.perf_counter() - started) * 1000)
        holds_ms.append(sum(holds) * 1000)
        commits_ms.append(sum(commits) * 1000)
        writes.append(len(holds))
        if response.status_code != 201:
            failures.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")
    stored = app.extensions["oxyroute"].store.count_report_revisions() - revisions_before
    return {
        "totals_ms": totals_ms,
        "holds_ms": holds_ms,
        "commits_ms": commits_ms,
        "writes": writes,
        "failures": failures,
        "stored": stored,
    }


# --------------------------------------------------------------------------------------- parent


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(runs: list[dict[str, Any]], warmup: int) -> dict[str, float]:
    """Return the medians over runs of each run's median and p90 (ms), after the warm-up."""

    def over_runs(key: str, share: float) -> float:
        return statistics.median(_percentile(run[key][warmup:], share) for run in runs)

    hold_share = statistics.median(
        sum(run["holds_ms"][warmup:]) / sum(run["totals_ms"][warmup:]) for run in runs
    )
    return {
        "total_p50_ms": over_runs("totals_ms", 0.5),
        "total_p90_ms": over_runs("totals_ms", 0.9),
        "hold_p50_ms": over_runs("holds_ms", 0.5),
        "hold_p90_ms": over_runs("holds_ms", 0.9),
        "commit_p50_ms": over_runs("commits_ms", 0.5),
        "hold_share": hold_share,
        "writes_per_post": statistics.mean(w for run in runs for w in run["writes"][warmup:]),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 1 if a POST failed or a revision is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=40, help="POSTs left out of each run")
    parser.add_argument("--baseline-rev", default=DEFAULT_BASELINE)
    parser.add_argument("--seed", type=int, default=20210820)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.database, args.reports, args.seed)))
        return 0

    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-report-write-") as folder:
        work = Path(folder)
        seeded = work / "seeded.sqlite3"
        started = time.perf_counter()
        seed_registry(seeded)
        print(f"seeded registry in {time.perf_counter() - started:.1f} s")
        baseline = work / "baseline"
        extract_tree(args.baseline_rev, baseline)
        roots = {"before": baseline, "after": REPO_ROOT}
        for round_number in range(args.rounds):
            order = ["before", "after"] if round_number % 2 == 0 else ["after", "before"]
            for variant in order:
                database = work / f"{variant}-{round_number}.sqlite3"
                shutil.copyfile(seeded, database)
                run = run_variant(roots[variant], database, args.reports, args.seed)
                runs[variant].append(run)
                loads.append(os.getloadavg()[0])
                print(
                    f"round {round_number + 1} {variant}: median POST "
                    f"{statistics.median(run['totals_ms'][args.warmup :]):.2f} ms, write lock "
                    f"{statistics.median(run['holds_ms'][args.warmup :]):.2f} ms, "
                    f"{len(run['failures'])} failures, {run['stored']} stored"
                )
    print(
        f"\n{args.reports} report POSTs per run ({args.warmup} warm-up left out), {args.rounds} "
        f"rounds, baseline {args.baseline_rev}; load average (1 min) "
        f"{min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores"
    )
    print(
        "| code | POST p50 / p90 ms | write lock p50 / p90 ms | of which COMMIT p50 ms "
        "| lock share | writes/POST |"
    )
    print("|---|---|---|---|---|---|")
    figures = {
        variant: summarise(variant_runs, args.warmup) for variant, variant_runs in runs.items()
    }
    for variant, f in figures.items():
        print(
            f"| {variant} | {f['total_p50_ms']:.2f} / {f['total_p90_ms']:.2f} | "
            f"{f['hold_p50_ms']:.2f} / {f['hold_p90_ms']:.2f} | {f['commit_p50_ms']:.2f} | "
            f"{f['hold_share']:.0%} | "
            f"{f['writes_per_post']:.2f} |"
        )
    ratio = figures["before"]["hold_p50_ms"] / figures["after"]["hold_p50_ms"]
    print(f"write lock held per POST: {ratio:.2f}x shorter (median)")
    bad = [
        f"{variant} run {n + 1}: {len(run['failures'])} failures, {run['stored']} stored"
        for variant, variant_runs in runs.items()
        for n, run in enumerate(variant_runs)
        if run["failures"] or run["stored"] != args.reports
    ]
    for line in bad:
        print(f"FAILED {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
