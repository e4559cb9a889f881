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
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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


def run_variant(
    root: Path, database: Path, reports: int, seed: int, threads: int
) -> dict[str, Any]:
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
            "--threads",
            str(threads),
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


def child(database: Path, count: int, seed: int, threads: int) -> dict[str, Any]:
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
    every_hold: list[float] = []
    original = StoreBase._write

    @contextmanager
    def timed_write(self: StoreBase) -> Iterator[Any]:
        # From the end of BEGIN IMMEDIATE (the lock is taken) to the end of COMMIT.
        with original(self) as connection:
            begun = time.perf_counter()
            yield connection
            body_done = time.perf_counter()
        ended = time.perf_counter()
        holds.append(ended - begun)  # list.append is atomic: threads may share the lists
        every_hold.append(ended - begun)
        commits.append(ended - body_done)

    StoreBase._write = timed_write  # type: ignore[assignment]
    app = create_app(ApiConfig(database_url=url, clock=lambda: now))
    requests = list(_requests(random.Random(seed), facility_ids, count))
    totals_ms = [0.0] * count
    holds_ms: list[float] = []
    commits_ms: list[float] = []
    failures: list[str] = []

    def post(client: Any, position: int) -> None:
        facility_id, body = requests[position]
        if threads == 1:
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
        totals_ms[position] = (time.perf_counter() - started) * 1000
        if threads == 1:
            holds_ms.append(sum(holds) * 1000)
            commits_ms.append(sum(commits) * 1000)
        if response.status_code != 201:
            failures.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")

    def work(worker: int) -> None:
        client = app.test_client()
        for position in range(worker, count, threads):
            post(client, position)

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall_s = time.perf_counter() - started
    stored = app.extensions["oxyroute"].store.count_report_revisions() - revisions_before
    return {
        "totals_ms": totals_ms,
        "holds_ms": holds_ms,
        "commits_ms": commits_ms,
        "write_transactions": len(every_hold),
        "lock_ms": sum(every_hold) * 1000,
        "posts_per_s": count / wall_s,
        "failures": failures,
        "stored": stored,
    }


# --------------------------------------------------------------------------------------- parent


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(runs: list[dict[str, Any]], warmup: int) -> dict[str, float]:
    """Return the medians over runs: POST p50 and p90 (after the warm-up), throughput, lock.

    The per-POST lock figures (p50, p90, COMMIT) exist only with one thread (NaN otherwise);
    ``lock_ms_per_post`` and ``writes_per_post`` are totals over the run divided by its POSTs.
    """

    def over_runs(key: str, share: float) -> float:
        if not runs[0][key]:
            return math.nan
        return statistics.median(_percentile(run[key][warmup:], share) for run in runs)

    def median_of(function: Any) -> float:
        return float(statistics.median(function(run) for run in runs))

    return {
        "total_p50_ms": over_runs("totals_ms", 0.5),
        "total_p90_ms": over_runs("totals_ms", 0.9),
        "hold_p50_ms": over_runs("holds_ms", 0.5),
        "hold_p90_ms": over_runs("holds_ms", 0.9),
        "commit_p50_ms": over_runs("commits_ms", 0.5),
        "posts_per_s": median_of(lambda run: run["posts_per_s"]),
        "lock_ms_per_post": median_of(lambda run: run["lock_ms"] / len(run["totals_ms"])),
        "writes_per_post": median_of(lambda run: run["write_transactions"] / len(run["totals_ms"])),
    }


def run_all(args: argparse.Namespace) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Seed once, extract the baseline, run every (variant, threads) ``args.rounds`` times."""
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
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
            for threads in args.threads:
                for variant in order:
                    database = work / f"{variant}-{threads}-{round_number}.sqlite3"
                    shutil.copyfile(seeded, database)
                    run = run_variant(roots[variant], database, args.reports, args.seed, threads)
                    runs.setdefault((variant, threads), []).append(run)
                    args.loads.append(os.getloadavg()[0])
                    print(
                        f"round {round_number + 1} {variant}, {threads} thread(s): "
                        f"{run['posts_per_s']:.1f} POSTs/s, median POST "
                        f"{statistics.median(run['totals_ms'][args.warmup :]):.2f} ms, "
                        f"{run['write_transactions']} write transactions, "
                        f"{len(run['failures'])} failures, {run['stored']} stored"
                    )
    return runs


def print_figures(figures: dict[tuple[str, int], dict[str, float]]) -> None:
    """Print the table of figures and the before/after ratios."""
    print(
        "| code | threads | POSTs/s | POST p50 / p90 ms | write lock p50 / p90 ms "
        "| of which COMMIT p50 ms | lock held per POST ms | write transactions per POST |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (variant, threads), f in sorted(figures.items(), key=lambda item: item[0][1]):
        print(
            f"| {variant} | {threads} | {f['posts_per_s']:.1f} | "
            f"{f['total_p50_ms']:.2f} / {f['total_p90_ms']:.2f} | "
            f"{f['hold_p50_ms']:.2f} / {f['hold_p90_ms']:.2f} | {f['commit_p50_ms']:.2f} | "
            f"{f['lock_ms_per_post']:.2f} | {f['writes_per_post']:.2f} |"
        )
    for threads in sorted({threads for _, threads in figures}):
        before, after = figures[("before", threads)], figures[("after", threads)]
        print(
            f"{threads} thread(s): write lock held per POST "
            f"{before['lock_ms_per_post'] / after['lock_ms_per_post']:.2f}x shorter, "
            f"throughput {after['posts_per_s'] / before['posts_per_s']:.2f}x"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 1 if a POST failed or a revision is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--warmup", type=int, default=40, help="POSTs left out of each run")
    parser.add_argument("--baseline-rev", default=DEFAULT_BASELINE)
    parser.add_argument("--seed", type=int, default=20210820)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        threads = args.threads[0]
        print(json.dumps(child(args.database, args.reports, args.seed, threads)))
        return 0
    args.loads = [os.getloadavg()[0]]
    runs = run_all(args)
    print(
        f"\n{args.reports} report POSTs per run ({args.warmup} warm-up left out), {args.rounds} "
        f"rounds, baseline {args.baseline_rev}; load average (1 min) "
        f"{min(args.loads):.2f}-{max(args.loads):.2f} on {os.cpu_count()} cores"
    )
    print_figures({key: summarise(value, args.warmup) for key, value in runs.items()})
    bad = [
        f"{variant} with {threads} thread(s), run {n + 1}: {len(run['failures'])} failures, "
        f"{run['stored']} stored"
        for (variant, threads), variant_runs in runs.items()
        for n, run in enumerate(variant_runs)
        if run["failures"] or run["stored"] != args.reports
    ]
    for line in bad:
        print(f"FAILED {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
