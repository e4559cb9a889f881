"""Benchmark: the seeded HCMC day's routes before and after issue 15's loads that make sense.

On the plan of 20 August 2021 (day 0; ``oxyroute run --region hcmc --date 2021-08-20 --out out``)
and the registry's generated fleet, dispatch the day twice per seed:

- **before**: one fixed stop per load (``merge_visits=False``), any vehicle loading at any
  company's plant (``cross_company_loading``) and no minimum drop, the behaviour before issue 15;
- **after**: one fixed stop per visit, each company's vehicles at its own plants and the minimum
  useful drops (the defaults).

For each: routes, visits per route (consecutive steps at one place count once), loading visits,
km driven, service and driving hours, loads unassigned, and how late urgent loads arrive (minutes
after the shift start, mean; windows are hard, so lateness past a window is always 0).

    python benchmarks/bench_dispatch_day.py [--plan-dir out] [--database-url URL]
                                            [--seeds 0 1 2] [--iterations 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coordination.dispatch import (  # noqa: E402
    DispatchOptions,
    FleetVehicle,
    dispatch_request_from_plan,
    plan_dispatch,
    routes_to_dict,
)
from data.db import create_db_engine, resolve_database_url  # noqa: E402
from data.errors import InvalidInputError  # noqa: E402
from data.region import load_region  # noqa: E402
from data.settings import resolve_cache_dir  # noqa: E402
from data.store import Store  # noqa: E402
from routing.graph import network_for_region  # noqa: E402

DEFAULT_DB = f"sqlite:///{ROOT / '.cache' / 'run' / 'oxyroute.sqlite3'}"


def _fleet(database_url: str) -> list[FleetVehicle]:
    store = Store(create_db_engine(resolve_database_url(database_url)))
    fleet = []
    for record in store.list_records("vehicles", limit=None):
        try:
            fleet.append(FleetVehicle.from_registry(record))
        except InvalidInputError:
            continue
    store.engine.dispose()
    return fleet


def _figures(answer: dict[str, Any]) -> dict[str, float]:
    """Figures of one routes document (see the module docstring)."""
    visits = loading = 0
    for route in answer["routes"]:
        previous = None
        for step in route["steps"][1:-1]:
            if step["place_id"] != previous:
                visits += 1
                loading += step["type"] == "pickup"
            previous = step["place_id"]
    start = dt.datetime.fromisoformat(
        f"{answer['date']}T{answer['options']['start_time']}:00+07:00"
    )
    urgent = {load["load_id"] for load in answer["loads"] if load["urgent"]}
    urgent_min = [
        (dt.datetime.fromisoformat(step["arrival"]) - start).total_seconds() / 60
        for route in answer["routes"]
        for step in route["steps"]
        if step["type"] == "delivery" and step["load_id"] in urgent
    ]
    routes = max(1, len(answer["routes"]))
    return {
        "routes": len(answer["routes"]),
        "steps/route": sum(len(r["steps"]) - 2 for r in answer["routes"]) / routes,
        "visits/route": visits / routes,
        "loading visits": loading,
        "km": answer["summary"]["distance"] / 1000,
        "service h": answer["summary"]["service"] / 3600,
        "driving h": answer["summary"]["duration"] / 3600,
        "loads unassigned": answer["summary"]["loads_unassigned"],
        "urgent arrival min": statistics.fmean(urgent_min) if urgent_min else 0.0,
    }


def main() -> None:
    """Dispatch the seeded day before and after; print a table of the mean figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan-dir", type=Path, default=ROOT / "out")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--day", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    plan = json.loads((args.plan_dir / "plan.json").read_text(encoding="utf-8"))
    fleet = _fleet(args.database_url)
    region = load_region(plan["region"])
    network = network_for_region(region, cache_dir=resolve_cache_dir())
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for seed in args.seeds:
        for name, merge, cross in (("before", False, True), ("after", True, False)):
            options = DispatchOptions.from_mapping(
                {
                    "seed": seed,
                    "max_iterations": args.iterations,
                    "time_limit_s": 60,
                    "cross_company_loading": cross,
                    **({} if merge else {"min_drop_lox_share": 0, "min_drop_cylinders": 0}),
                }
            )
            request = dispatch_request_from_plan(
                plan, day=args.day, vehicles=fleet, options=options
            )
            result = plan_dispatch(request, network, region, merge_visits=merge)
            results[name].append(_figures(routes_to_dict(result)))
    keys = list(results["before"][0])
    print(
        f"{plan['start_date']} day {args.day}, {len(fleet)} vehicles, seeds {args.seeds}, "
        f"{args.iterations} iterations (means)"
    )
    print(f"{'figure':<20}{'before':>10}{'after':>10}")
    for key in keys:
        before = statistics.fmean(r[key] for r in results["before"])
        after = statistics.fmean(r[key] for r in results["after"])
        print(f"{key:<20}{before:>10.2f}{after:>10.2f}")


if __name__ == "__main__":
    main()
