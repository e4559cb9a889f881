"""Benchmark the route solver on 13 standard instances against their best-known solutions.

Usage::

    python benchmarks/bench_vrp.py [--long] [--workers 2] [--seed 0] [--time-limit 10]
                                   [--instances C101,R101] [--no-ortools]

Reads the instances from ``$OXYROUTE_DATA_DIR/vrp-benchmarks`` (default ``../shared/data``
beside the checkout), solves each with oxyroute's engine (PyVRP, ``--workers`` parallel searches,
best kept) at the time limit (and at 60 s with ``--long``), and with OR-Tools routing at its
default search settings in the same run (the baseline in ``benchmarks/ortools_vrp.py``). Every
plan is checked by the independent validator; a plan that breaks a rule or leaves a task
unassigned counts as missing. Prints a table of gaps to the best-known solutions, the means and
the ratio of mean gaps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ortools_vrp import solve_with_ortools
from data.schema.routes import RoutePlan, RouteProblem
from data.settings import resolve_data_dir
from data.vrp_benchmarks import BENCHMARK_INSTANCES, load_benchmark_instance
from routing.route_validation import find_plan_violations
from routing.vehicle_routes import SolverParams, solve_routes

Solver = Callable[[RouteProblem], RoutePlan]


def _pyvrp(params: SolverParams) -> Solver:
    return lambda problem: solve_routes(problem, params)


def _ortools(time_limit_s: float) -> Solver:
    return lambda problem: solve_with_ortools(problem, time_limit_s=time_limit_s)


def _run(instance_problem, solve):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    plan = solve(instance_problem)
    wall = time.perf_counter() - started
    violations = find_plan_violations(instance_problem, plan)
    ok = not violations and not plan.unassigned
    return plan, wall, ok, violations


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; return the process exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--long", action="store_true", help="also solve at 60 s")
    parser.add_argument("--workers", type=int, default=2, help="parallel searches (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--time-limit", type=float, default=10.0, help="seconds per instance (default 10)"
    )
    parser.add_argument("--instances", default=",".join(BENCHMARK_INSTANCES))
    parser.add_argument("--no-ortools", action="store_true", help="skip the OR-Tools baseline")
    args = parser.parse_args(argv)

    directory = resolve_data_dir(os.environ.get("OXYROUTE_DATA_DIR")) / "vrp-benchmarks"
    limits = [args.time_limit] + ([60.0] if args.long else [])
    columns = [
        (
            f"pyvrp@{t:g}s",
            _pyvrp(SolverParams(time_limit_s=t, seed=args.seed, num_workers=args.workers)),
        )
        for t in limits
    ]
    if not args.no_ortools:
        columns.append((f"ortools-default@{args.time_limit:g}s", _ortools(args.time_limit)))
    print(
        f"data: {directory}; workers: {args.workers}; seed: {args.seed}; "
        f"cpu count: {os.cpu_count()}"
    )
    header = f"{'instance':<12} {'BKS':>8} " + " ".join(f"{name:>26}" for name, _ in columns)
    print(header)
    print("-" * len(header))
    gaps: dict[str, list[float]] = {name: [] for name, _ in columns}
    missing: dict[str, list[str]] = {name: [] for name, _ in columns}
    for name in args.instances.split(","):
        instance = load_benchmark_instance(directory, name)
        bks = instance.best_known_cost / instance.scale
        cells = []
        for column, solve in columns:
            plan, wall, ok, violations = _run(instance.problem, solve)
            cost = plan.cost / instance.scale
            if ok:
                gap = 100.0 * (plan.cost - instance.best_known_cost) / instance.best_known_cost
                gaps[column].append(gap)
                cells.append(f"{cost:>10.1f} {gap:>6.2f}% {wall:>5.1f}s")
            else:
                missing[column].append(name)
                detail = f"{len(plan.unassigned)} unassigned" if not violations else "INVALID"
                cells.append(f"{detail:>19} {wall:>5.1f}s")
                for violation in violations[:5]:
                    print(f"  {column} {name}: {violation}", file=sys.stderr)
        print(f"{name:<12} {bks:>8.1f} " + " ".join(f"{c:>26}" for c in cells), flush=True)
    print("-" * len(header))
    means: dict[str, float] = {}
    for column, _ in columns:
        values = gaps[column]
        means[column] = statistics.fmean(values) if values else float("nan")
        note = f" (missing or infeasible: {', '.join(missing[column])})" if missing[column] else ""
        print(f"mean gap {column}: {means[column]:.3f}% over {len(values)} instance(s){note}")
    if not args.no_ortools:
        base = columns[-1][0]
        ratio = means[base] / means[columns[0][0]] if means[columns[0][0]] > 0 else float("inf")
        print(
            f"ratio of mean gaps {base} / {columns[0][0]}: {ratio:.1f}x "
            "(over the instances each solved)"
        )
    return 0 if not any(missing[c] for c, _ in columns[: len(limits)]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
