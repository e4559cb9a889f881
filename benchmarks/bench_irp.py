"""Benchmark the inventory-routing solver and the baseline on the Archetti et al. instances.

Usage::

    python benchmarks/bench_irp.py [--classes tiny,small,large] [--per-class 3,6,3]
                                   [--time-limits 10,30,120] [--seed 0] [--workers 2]
                                   [--sample-seed 17] [--max-iterations N]
                                   [--instances S_abs1n5_2_H3,...]

Reads ``$OXYROUTE_DATA_DIR/irp-benchmarks`` (default ``../shared/data`` beside the checkout).
Size classes: ``tiny`` (S instances, n <= 10), ``small`` (S instances, n = 15..50, T = 3 or 6),
``large`` (L instances, n = 50..200, T = 6). From each class the sample is drawn from the
instances with a fixed seed (``--sample-seed``). Each instance is solved by ``solve_irp`` at the
class's time limit and by the refill-when-needed baseline in the same run; every answer is checked
by ``routing.irp.check_solution`` and an infeasible one counts as missing. Prints one line per
instance, then per class the mean and worst gap to the best-known value of both, the ratio of mean
gaps, and how many tiny instances were proven optimal. With ``--max-iterations`` the solver
counts search iterations instead of stopping on the clock (``IrpParams.max_iterations``): the
run is then reproducible, and the time limits only bound the exact MIP. The default run takes about 9 minutes with
2 workers (one solve per core).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.settings import resolve_data_dir
from routing.irp import IrpParams, check_solution, parse_instance, solve_baseline, solve_irp

CLASSES = ("tiny", "small", "large")


@dataclass(frozen=True)
class Outcome:
    """One instance's result: costs (None when infeasible), gaps in %, times in s."""

    name: str
    size_class: str
    best_known: float
    solver_cost: float | None
    baseline_cost: float | None
    solver_s: float
    baseline_s: float
    proven: bool

    def gap(self, cost: float | None) -> float | None:
        """Return the gap of ``cost`` to the best-known value, in %; None when infeasible."""
        return None if cost is None else 100.0 * (cost / self.best_known - 1.0)


def size_class(name: str) -> str:
    """Return the class of an instance from its name (``S_abs1n5_2_H3`` -> tiny)."""
    n = int(name.split("n")[1].split("_")[0])
    if name.startswith("L_"):
        return "large"
    return "tiny" if n <= 10 else "small"


def sample(names: list[str], count: int, seed: int) -> list[str]:
    """Return ``count`` names drawn with a fixed seed, sorted by (customers, name)."""
    chosen = random.Random(seed).sample(sorted(names), min(count, len(names)))
    return sorted(chosen, key=lambda s: (int(s.split("n")[1].split("_")[0]), s))


def run_one(
    folder: str,
    name: str,
    klass: str,
    best: float,
    limit_s: float,
    seed: int,
    max_iterations: int | None = None,
) -> Outcome:
    """Solve one instance with the solver and the baseline; check and price both."""
    path = Path(folder) / "instances" / f"{name}.dat"
    instance = parse_instance(path.read_text(encoding="utf-8"), name=name)
    started = time.perf_counter()
    params = IrpParams(time_limit_s=limit_s, seed=seed, max_iterations=max_iterations)
    solution = solve_irp(instance, params)
    solver_s = time.perf_counter() - started
    check = check_solution(instance, solution)
    started = time.perf_counter()
    base = solve_baseline(instance, seed=seed)
    baseline_s = time.perf_counter() - started
    base_check = check_solution(instance, base)
    return Outcome(
        name,
        klass,
        best,
        check.total_cost if check.feasible and not solution.shortfalls else None,
        base_check.total_cost if base_check.feasible and not base.shortfalls else None,
        solver_s,
        baseline_s,
        bool(solution.extras.get("proven_optimal")),
    )


def _fmt(value: float | None, digits: int = 2) -> str:
    return "infeasible" if value is None else f"{value:.{digits}f}"


def _summary(outcomes: list[Outcome], klass: str, limit_s: float) -> None:
    chosen = [o for o in outcomes if o.size_class == klass]
    if not chosen:
        return
    print(f"\n{klass}: {len(chosen)} instance(s) at {limit_s:g} s")
    for label, attr in (("solver", "solver_cost"), ("baseline", "baseline_cost")):
        gaps = [o.gap(getattr(o, attr)) for o in chosen]
        found = [g for g in gaps if g is not None]
        missing = len(gaps) - len(found)
        if found:
            print(
                f"  {label:9s} mean gap {statistics.mean(found):6.2f} %  worst {max(found):6.2f} %"
                f"  infeasible {missing}"
            )
    solver = [g for o in chosen if (g := o.gap(o.solver_cost)) is not None]
    base = [g for o in chosen if (g := o.gap(o.baseline_cost)) is not None]
    complete = len(solver) == len(base) == len(chosen)
    if complete and statistics.mean(solver) > 0:
        ratio = statistics.mean(base) / statistics.mean(solver)
        print(f"  baseline mean gap / solver mean gap = {ratio:.1f}")
    if klass == "tiny":
        print(f"  proven optimal: {sum(o.proven for o in chosen)} of {len(chosen)}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; return the process exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--classes", default="tiny,small,large")
    parser.add_argument("--per-class", default="3,6,3", help="sample size per class, in order")
    parser.add_argument("--time-limits", default="10,30,120", help="seconds per class, in order")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-seed", type=int, default=17, help="seed of the sample")
    parser.add_argument("--instances", default=None, help="comma-separated names (no sampling)")
    parser.add_argument(
        "--max-iterations", type=int, default=None, help="search iterations (deterministic)"
    )
    args = parser.parse_args(argv)
    folder = resolve_data_dir() / "irp-benchmarks"
    best = {
        line.split(",")[0]: float(line.split(",")[1])
        for line in (folder / "best_known.csv").read_text(encoding="utf-8").split()[1:]
    }
    counts = dict(zip(CLASSES, (int(c) for c in args.per_class.split(",")), strict=True))
    limits = dict(zip(CLASSES, (float(s) for s in args.time_limits.split(",")), strict=True))
    if args.instances:
        names = args.instances.split(",")
    else:
        wanted = args.classes.split(",")
        names = [
            name
            for klass in wanted
            for name in sample(
                [b for b in best if size_class(b) == klass], counts[klass], args.sample_seed
            )
        ]
    jobs = [
        (
            str(folder),
            name,
            size_class(name),
            best[name],
            limits[size_class(name)],
            args.seed,
            args.max_iterations,
        )
        for name in names
    ]
    print(
        f"{'instance':22s} {'best known':>10s} {'solver':>10s} {'gap %':>6s} {'s':>5s}"
        f" {'baseline':>10s} {'gap %':>6s} {'s':>5s}"
    )
    outcomes = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for outcome in pool.map(run_one, *zip(*jobs, strict=True)):
            outcomes.append(outcome)
            proven = " proven" if outcome.proven else ""
            print(
                f"{outcome.name:22s} {outcome.best_known:10.2f}"
                f" {_fmt(outcome.solver_cost):>10s} {_fmt(outcome.gap(outcome.solver_cost)):>6s}"
                f" {outcome.solver_s:5.1f} {_fmt(outcome.baseline_cost):>10s}"
                f" {_fmt(outcome.gap(outcome.baseline_cost)):>6s} {outcome.baseline_s:5.1f}"
                f"{proven}",
                flush=True,
            )
    for klass in CLASSES:
        _summary(outcomes, klass, limits[klass])
    return 0 if all(o.solver_cost is not None for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
