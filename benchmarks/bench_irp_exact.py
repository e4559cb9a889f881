"""Benchmark the exact route-enumeration MIP alone on the tiny inventory-routing instances.

Usage::

    python benchmarks/bench_irp_exact.py [--instances S_abs1n5_2_H3,...] [--customers 5,10]
                                         [--periods 3,6] [--per-group 2] [--sample-seed 17]
                                         [--time-limit 60] [--incumbent-iterations 0]

Reads ``$OXYROUTE_DATA_DIR/irp-benchmarks`` (default ``../shared/data`` beside the checkout).
Without ``--instances`` it draws ``--per-group`` instances (seed ``--sample-seed``) from each
(customers, periods) group of the S instances. Each instance is solved by
``routing.irp.route_mip.solve_route_mip`` over every subset route, within ``--time-limit``
seconds (the Held-Karp tours included); with ``--incumbent-iterations N`` the schedule search
(N perturbations, seed 0, deterministic) runs first and its cost is handed to the MIP as a
cutoff (its time is not counted), as ``solve_irp`` has the search's plan before the MIP. Every answer is checked by ``check_solution``. Prints one
line per instance (cost, lower bound, gap between them, gap to the best-known value, seconds,
proven) and the count of proven instances. One process: run it under ``nice``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.settings import resolve_data_dir
from routing.irp import check_solution, parse_instance, solve_baseline
from routing.irp.route_mip import all_subset_routes, mip_solution, solve_route_mip
from routing.irp.schedule_search import search_schedules


def _groups(names: list[str], customers: set[int], periods: set[int]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name in names:
        if not name.startswith("S_"):
            continue
        n = int(name.split("n")[1].split("_")[0])
        t = int(name[-1])
        if n in customers and t in periods:
            groups.setdefault(f"n{n}_T{t}", []).append(name)
    return groups


def run_one(folder: Path, name: str, best: float, limit_s: float, iterations: int) -> bool:
    """Solve one instance exactly, print its line; return whether it was proven optimal."""
    instance = parse_instance((folder / "instances" / f"{name}.dat").read_text("utf-8"), name=name)
    incumbent = None
    if iterations:
        start = solve_baseline(instance, seed=0, max_iterations=1_000)
        incumbent = search_schedules(
            instance, start, time_limit_s=3600.0, seed=0, max_iterations=iterations
        )
    started = time.perf_counter()
    pool = all_subset_routes(instance)
    left_s = limit_s - (time.perf_counter() - started)
    result = solve_route_mip(instance, pool, time_limit_s=left_s, incumbent=incumbent)
    took_s = time.perf_counter() - started
    if result is None:
        print(f"{name:18s} {best:10.2f} {'none':>10s}", flush=True)
        return False
    check = check_solution(instance, mip_solution(result))
    cost = check.total_cost
    bound = result.lower_bound
    gap = 100.0 * (cost - bound) / cost
    flag = "proven" if result.proven_optimal else ""
    if not check.feasible:
        flag = "INFEASIBLE " + "; ".join(check.violations[:2])
    print(
        f"{name:18s} {best:10.2f} {cost:10.2f} {bound:10.2f} {gap:6.2f}"
        f" {100.0 * (cost / best - 1.0):6.2f} {took_s:6.1f} {flag}",
        flush=True,
    )
    return result.proven_optimal and check.feasible


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; return the process exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", default=None, help="comma-separated names (no sampling)")
    parser.add_argument("--customers", default="5,10")
    parser.add_argument("--periods", default="3,6")
    parser.add_argument("--per-group", type=int, default=2)
    parser.add_argument("--sample-seed", type=int, default=17)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--incumbent-iterations", type=int, default=0)
    args = parser.parse_args(argv)
    folder = resolve_data_dir() / "irp-benchmarks"
    best = {
        line.split(",")[0]: float(line.split(",")[1])
        for line in (folder / "best_known.csv").read_text(encoding="utf-8").split()[1:]
    }
    if args.instances:
        names = args.instances.split(",")
    else:
        groups = _groups(
            sorted(best),
            {int(c) for c in args.customers.split(",")},
            {int(t) for t in args.periods.split(",")},
        )
        rng = random.Random(args.sample_seed)
        names = [
            name
            for key in sorted(groups, key=lambda k: (len(k), k))
            for name in sorted(rng.sample(groups[key], min(args.per_group, len(groups[key]))))
        ]
    print(
        f"{'instance':18s} {'best known':>10s} {'cost':>10s} {'bound':>10s} {'gap %':>6s}"
        f" {'vs bk %':>6s} {'s':>6s}"
    )
    proven = sum(
        run_one(folder, name, best[name], args.time_limit, args.incumbent_iterations)
        for name in names
    )
    print(f"proven optimal: {proven} of {len(names)} at {args.time_limit:g} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
