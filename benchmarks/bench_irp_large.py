"""Benchmark the regional regrouping step against today's solver on large IRP instances.

Usage::

    python benchmarks/bench_irp_large.py [--instances L_abs5n200_3_H,...] [--time-limit 120]
                                         [--seed 0] [--max-iterations N] [--skip-solver]

Reads ``$OXYROUTE_DATA_DIR/irp-benchmarks`` (default ``../shared/data`` beside the checkout).
Default sample: the three large instances ``bench_irp.py`` draws (``L_abs5n200_3_H``,
``L_abs6n200_4_L``, ``L_abs9n200_5_H``) and two of 50 and 100 customers. For each instance,
one process at a time (run it under ``nice -n 19`` on a shared machine):

- **solver**: today's ``solve_irp`` at the time limit;
- **regroup**: the same baseline (``solve_baseline``, PyVRP 1 s a period, or 1,000 iterations
  with ``--max-iterations``), then ``regroup_by_region`` with the rest of the time limit: what
  ``solve_irp`` does for n > 50 once wired (docs/irp.md, "Large instances").

Every answer is checked by ``routing.irp.check_solution``; an infeasible one counts as missing.
Prints per instance the best-known value, both costs, their gaps in %, the best split's cost
before the search and the seconds taken; then the mean and worst gap of each. With
``--max-iterations`` both searches stop after that many perturbations (reproducible; the time
limit then only bounds the clock-driven steps).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.settings import resolve_data_dir
from routing.irp import IrpParams, check_solution, parse_instance, solve_baseline, solve_irp
from routing.irp.cluster_search import regroup_by_region
from routing.irp.instance import IrpInstance
from routing.irp.solution import IrpSolution

DEFAULT_INSTANCES = "L_abs1n50_3_H,L_abs3n100_4_L,L_abs5n200_3_H,L_abs6n200_4_L,L_abs9n200_5_H"  # first two: n 50-100
_BASELINE_ITERATIONS = 1_000  # PyVRP per period when counting, as solve_irp does


def _cost(instance: IrpInstance, solution: IrpSolution) -> float | None:
    check = check_solution(instance, solution)
    return check.total_cost if check.feasible and not solution.shortfalls else None


def regroup(
    instance: IrpInstance, *, time_limit_s: float, seed: int, max_iterations: int | None
) -> IrpSolution:
    """Run the baseline then the regrouping step within ``time_limit_s`` (as solve_irp would)."""
    started = time.monotonic()
    counted = max_iterations is not None
    start = solve_baseline(
        instance,
        time_limit_s=min(1.0, time_limit_s / (20 * instance.num_periods)),
        seed=seed,
        max_iterations=_BASELINE_ITERATIONS if counted else None,
    )
    if start.shortfalls:
        return start
    left_s = max(time_limit_s - (time.monotonic() - started), 0.1)
    return regroup_by_region(
        instance, start, time_limit_s=left_s, seed=seed, max_iterations=max_iterations
    )


def _gap(cost: float | None, best: float) -> str:
    return "-" if cost is None else f"{100.0 * (cost / best - 1.0):.2f}"


def _money(cost: float | None) -> str:
    return "infeasible" if cost is None else f"{cost:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table; return the process exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", default=DEFAULT_INSTANCES)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iterations", type=int, default=None)
    parser.add_argument("--skip-solver", action="store_true", help="run the regrouping only")
    args = parser.parse_args(argv)
    folder = resolve_data_dir() / "irp-benchmarks"
    best_known = {
        line.split(",")[0]: float(line.split(",")[1])
        for line in (folder / "best_known.csv").read_text(encoding="utf-8").split()[1:]
    }
    print(
        f"{'instance':16s} {'best known':>10s} {'solver':>10s} {'gap %':>6s} {'s':>5s}"
        f" {'regroup':>10s} {'gap %':>6s} {'s':>5s} {'split':>10s}",
        flush=True,
    )
    gaps: dict[str, list[float]] = {"solver": [], "regroup": []}
    failed = False
    for name in args.instances.split(","):
        text = (folder / "instances" / f"{name}.dat").read_text(encoding="utf-8")
        instance = parse_instance(text, name=name)
        best = best_known[name]
        solver_cost, solver_s = None, 0.0
        if not args.skip_solver:
            started = time.perf_counter()
            params = IrpParams(
                time_limit_s=args.time_limit, seed=args.seed, max_iterations=args.max_iterations
            )
            solver_cost = _cost(instance, solve_irp(instance, params))
            solver_s = time.perf_counter() - started
        started = time.perf_counter()
        mine = regroup(
            instance,
            time_limit_s=args.time_limit,
            seed=args.seed,
            max_iterations=args.max_iterations,
        )
        regroup_s = time.perf_counter() - started
        regroup_cost = _cost(instance, mine)
        failed = failed or regroup_cost is None
        for label, cost in (("solver", solver_cost), ("regroup", regroup_cost)):
            if cost is not None:
                gaps[label].append(100.0 * (cost / best - 1.0))
        split = mine.extras.get("split_cost")
        print(
            f"{name:16s} {best:10.2f} {_money(solver_cost) if not args.skip_solver else '-':>10s}"
            f" {_gap(solver_cost, best):>6s} {solver_s:5.1f} {_money(regroup_cost):>10s}"
            f" {_gap(regroup_cost, best):>6s} {regroup_s:5.1f}"
            f" {'-' if split is None else f'{split:.2f}':>10s}",
            flush=True,
        )
    for label, found in gaps.items():
        if found:
            print(
                f"{label:8s} mean gap {statistics.mean(found):6.2f} %  worst {max(found):6.2f} %"
                f"  ({len(found)} instance(s))"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
