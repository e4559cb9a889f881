"""Benchmark: the HCMC investment portfolio under three surge scenarios (issue 18).

The seeded HCMC registry (sourced hospitals and suppliers, generated August 2021 reports), plan day
20 August 2021, 7 days; scenarios x1.5 (weight 0.5), x2 (0.3) and x3 (0.2) on every facility's
patients (``examples/investment_surges_hcmc.json``); the bundled candidates
(``data/investment_candidates_hcmc.csv``); a budget of 20 billion đồng and a 12-week deadline.
The process is pinned to two cores.

Prints: the time to a proven optimum (or the certified gap), the unmet demand per scenario before
and after, the greedy baseline's unmet demand in the same run, and the cost curve for six budgets.

    python benchmarks/bench_invest.py [--budget-vnd 20e9] [--deadline-weeks 12] [--gap 0]

Goal (issue 18): a proven optimum or a gap under 1 % in under 60 s on two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coordination.investment import (  # noqa: E402
    build_investment_case,
    load_investment_scenarios,
)
from coordination.planning import plan_request_from_store  # noqa: E402
from data.db import create_db_engine, upgrade_database  # noqa: E402
from data.provinces import provinces_with_2025_units  # noqa: E402
from data.region import load_region  # noqa: E402
from data.schema.investment import InvestmentOptions, candidates_from_csv_text  # noqa: E402
from data.seed import hcmc_seed, store_seed  # noqa: E402
from data.settings import resolve_cache_dir, resolve_data_dir  # noqa: E402
from data.store import Store  # noqa: E402
from matcher.investment import (  # noqa: E402
    cost_curve,
    evaluate_portfolio,
    greedy_portfolio,
    optimise_portfolio,
)
from routing.graph import network_for_region  # noqa: E402

PLAN_DAY = dt.date(2021, 8, 20)
CURVE_SHARES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


def main() -> None:
    """Build the HCMC case, solve it, print the figures (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--budget-vnd", type=float, default=20e9)
    parser.add_argument("--deadline-weeks", type=float, default=12.0)
    parser.add_argument("--gap", type=float, default=0.0, help="relative MIP gap (0 = prove)")
    parser.add_argument("--time-limit-s", type=float, default=120.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    data_dir = resolve_data_dir()
    region = load_region("hcmc")
    network = network_for_region(region, cache_dir=resolve_cache_dir())
    with tempfile.TemporaryDirectory(prefix="oxyroute-bench-invest-") as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'registry.sqlite3'}")
        upgrade_database(engine)
        store = Store(engine)
        store.upsert_provinces(provinces_with_2025_units(data_dir))
        store_seed(store, hcmc_seed(data_dir))
        base = plan_request_from_store(store, region, network, start_date=PLAN_DAY)
        engine.dispose()
    scenarios = load_investment_scenarios(
        ROOT / "examples" / "investment_surges_hcmc.json", region="hcmc", start_date=PLAN_DAY
    )
    candidates = candidates_from_csv_text(
        (ROOT / "data" / "investment_candidates_hcmc.csv").read_text(encoding="utf-8"),
        name="investment_candidates_hcmc.csv",
    )
    started = time.perf_counter()
    case = build_investment_case(
        base,
        network,
        region,
        scenarios,
        candidates,
        budget_vnd=args.budget_vnd,
        deadline_weeks=args.deadline_weeks,
    )
    problem = case.problem
    print(
        f"HCMC investment benchmark, {PLAN_DAY} + {problem.horizon_days} days, {cores} cores: "
        f"{len(problem.facility_ids)} facilities, {len(problem.supplier_ids)} suppliers, "
        f"{len(problem.candidates)} candidates, {len(scenarios)} scenarios; budget "
        f"{args.budget_vnd / 1e9:g} billion đồng, deadline {args.deadline_weeks:g} weeks"
    )
    print(f"  scenario plans and problem: {time.perf_counter() - started:.1f} s")
    options = InvestmentOptions(time_limit_s=args.time_limit_s, mip_rel_gap=args.gap)

    before = evaluate_portfolio(problem, [0] * len(problem.candidates), method="none")
    started = time.perf_counter()
    optimum = optimise_portfolio(problem, options=options)
    optimum_s = time.perf_counter() - started
    print(
        f"  optimum: {optimum.status}, gap {optimum.mip_gap:.3%}, {optimum_s:.1f} s "
        f"(goal < 60 s); capex {optimum.capex_vnd / 1e9:.2f} billion đồng, "
        f"{sum(c.units for c in optimum.chosen)} units of {len(optimum.chosen)} candidates"
    )
    started = time.perf_counter()
    greedy = greedy_portfolio(problem, options=options)
    greedy_s = time.perf_counter() - started
    print(
        f"  greedy (largest unmet first): {greedy_s:.1f} s; capex "
        f"{greedy.capex_vnd / 1e9:.2f} billion đồng"
    )
    print(f"  {'unmet m³':<28} {'before':>11} {'optimum':>11} {'greedy':>11}")
    for row in zip(before.scenarios, optimum.scenarios, greedy.scenarios, strict=True):
        print(f"  {row[0].scenario[:28]:<28} " + " ".join(f"{s.unmet_m3:>11,.0f}" for s in row))
    print(
        f"  {'expected':<28} {before.expected_unmet_m3:>11,.0f} "
        f"{optimum.expected_unmet_m3:>11,.0f} {greedy.expected_unmet_m3:>11,.0f}"
    )
    print(
        f"  {'expected, priority-weighted':<28} {before.expected_weighted_unmet:>11,.0f} "
        f"{optimum.expected_weighted_unmet:>11,.0f} {greedy.expected_weighted_unmet:>11,.0f}"
    )
    for chosen in optimum.chosen:
        print(
            f"    {chosen.units:>4} x {chosen.candidate_id:<36} "
            f"{chosen.capex_vnd / 1e9:>6.2f} billion đồng  +{chosen.capacity_m3_per_day:,.0f} m³/day"
        )
    started = time.perf_counter()
    curve = cost_curve(
        problem, [share * args.budget_vnd for share in CURVE_SHARES], options=options
    )
    print(f"  cost curve ({time.perf_counter() - started:.1f} s for {len(curve)} budgets):")
    for point in curve:
        print(
            f"    {point.budget_vnd / 1e9:>6.1f} billion đồng -> expected unmet "
            f"{point.expected_unmet_m3:>9,.0f} m³ (spent {point.capex_vnd / 1e9:.2f}; "
            f"{point.status}, gap {point.mip_gap:.2%})"
        )


if __name__ == "__main__":
    main()
