"""Benchmark: the seeded HCMC week, the two-step plan against the inventory-routing plan (issue 17).

Both plans start from the same registry state: the plan of ``--date`` over ``--horizon`` days
(``coordination.planning.build_plan``) and the live status at that date's local midnight (tank
levels and burns, ``coordination.status``).

- **two-step**: the allocation's liquid flows, then each day dispatched on its own with the
  registry's cryogenic tankers (``coordination.dispatch``: company rules, shifts, receiving hours,
  reloads at the allocated plant), seeded, ``--iterations`` iterations a day;
- **irp**: ``coordination.irp_plan`` over the same tanks, plants and tankers (one problem per
  plant, the allocation's main plant per tank), ``--time-limit`` seconds in all.

Both sets of deliveries are then simulated on the same tanks (``evaluate_tanks``: the level now,
plus each arrival at the start of its period, less the burn) to count facility-days below the
floor (``--floor-h`` hours of burn), those ending with the tank empty, and the lowest hours to
empty at a period's end. Periods are each tank's in the IRP plan (a day, or 12, 8 or 6 hours
where its plant's problem has a tank lasting less than a day; ``coordination.irp_periods``), for
both plans, so facility-periods below the floor are counted on the same grid. Tanker km and hours are the routes'
own (the dispatch's driving plus service; the IRP's driving on the tanker's roads plus one plant
load and one tank fill per stop, at the dispatch's service times). A trip is one tanker load;
its load factor is what it leaves over its capacity. Tankers used: those with at least one trip.

    python benchmarks/bench_irp_hcmc.py [--database-url URL] [--date 2021-08-20] [--horizon 7]
                                        [--time-limit 60] [--seed 0] [--iterations 2000]
                                        [--max-iterations N]

``--max-iterations N`` gives the IRP core an iteration budget (``IrpParams.max_iterations``):
the same seed then gives the same IRP plan however busy the machine (the time limit still caps
it); without it every plant's solve stops on the clock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from collections.abc import Sequence
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
from coordination.irp_plan import TankDelivery, evaluate_tanks  # noqa: E402
from coordination.irp_plan_io import irp_plan_for_plan, plan_figures  # noqa: E402
from coordination.planning import build_plan, plan_request_from_store, plan_to_dict  # noqa: E402
from data.db import create_db_engine, resolve_database_url, upgrade_database  # noqa: E402
from data.region import load_region  # noqa: E402
from data.schema.registry import VehicleKind  # noqa: E402
from data.settings import resolve_cache_dir  # noqa: E402
from data.store import Store  # noqa: E402
from routing.graph import network_for_region  # noqa: E402

DEFAULT_DB = f"sqlite:///{ROOT / '.cache' / 'run' / 'oxyroute.sqlite3'}"


def _trips(route: dict[str, Any]) -> list[float]:
    """Return the kg loaded on each trip of a dispatch route (a run of pickups starts a trip)."""
    loads: list[float] = []
    previous = None
    for step in route["steps"][1:-1]:
        if step["type"] == "pickup" and step.get("product") == "bulk_liquid":
            if previous != "pickup":
                loads.append(0.0)
            loads[-1] += float(step["quantity"])
        previous = step["type"]
    return loads


def two_step(
    plan: Any, fleet: Sequence[FleetVehicle], network: Any, region: Any, args: argparse.Namespace
) -> tuple[dict[str, Any], list[TankDelivery]]:
    """Dispatch each day of the plan with the tankers; return figures and the deliveries."""
    document = plan_to_dict(plan)
    options = DispatchOptions.from_mapping(
        {"seed": args.seed, "max_iterations": args.iterations, "time_limit_s": 60}
    )
    deliveries: list[TankDelivery] = []
    km = hours = 0.0
    factors: list[float] = []
    unassigned = 0
    over_shift = 0
    longest_s = 0.0
    used: set[str] = set()
    for day in range(args.horizon):
        request = dispatch_request_from_plan(document, day=day, vehicles=fleet, options=options)
        answer = routes_to_dict(plan_dispatch(request, network, region))
        unassigned += len(
            {u["load_id"] for u in answer["unassigned"] if u.get("product") == "bulk_liquid"}
        )
        for route in answer["routes"]:
            used.add(route["vehicle"])
            km += route["distance"] / 1000.0
            hours += (route["duration"] + route["service"]) / 3600.0
            capacity = route["capacity"]["lox_kg"]
            factors += [load / capacity for load in _trips(route)]
            over_shift += (route["duration"] + route["service"]) > options.shift_s
            longest_s = max(longest_s, route["duration"] + route["service"])
            for step in route["steps"]:
                if step["type"] == "delivery" and step.get("product") == "bulk_liquid":
                    deliveries.append(
                        TankDelivery(
                            day,
                            step["facility_id"],
                            step["supplier_id"],
                            route["vehicle"],
                            float(step["quantity"]),
                        )
                    )
    visits = {(d.day, d.facility_id, d.vehicle_id) for d in deliveries}
    return {
        "tankers_used": len(used),
        "tanker_km": km,
        "tanker_h": hours,
        "trips": len(factors),
        "load_factor": sum(factors) / len(factors) if factors else math.nan,
        "trips_over_shift": over_shift,
        "longest_tanker_day_h": longest_s / 3600.0,
        "deliveries": len(visits),
        "delivered_t": sum(d.quantity_kg for d in deliveries) / 1000.0,
        "loads_unassigned": unassigned,
    }, deliveries


def main() -> None:
    """Plan the week both ways and print the side-by-side table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--region", default="hcmc")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2021, 8, 20))
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--floor-h", type=float, default=12.0)
    parser.add_argument("--max-iterations", type=int, default=None)
    args = parser.parse_args()
    engine = create_db_engine(resolve_database_url(args.database_url))
    upgrade_database(engine)
    store = Store(engine)
    region = load_region(args.region)
    network = network_for_region(region, cache_dir=resolve_cache_dir())
    request = plan_request_from_store(
        store, region, network, start_date=args.date, horizon_days=args.horizon
    )
    plan = build_plan(request, network, region)
    started = time.perf_counter()
    problem, irp = irp_plan_for_plan(
        store,
        plan,
        network,
        region,
        floor_h=args.floor_h,
        time_limit_s=args.time_limit,
        seed=args.seed,
        max_iterations=args.max_iterations,
    )
    irp_s = time.perf_counter() - started
    fleet = [
        FleetVehicle.from_registry(v)
        for v in store.list_records("vehicles", limit=None)
        if v.kind == VehicleKind.CRYOGENIC_TANKER and v.home_depot_id
    ]
    started = time.perf_counter()
    two, two_deliveries = two_step(plan, fleet, network, region, args)
    two_s = time.perf_counter() - started
    tank_ids = {t.facility_id for t in problem.tanks}
    simulated = evaluate_tanks(
        problem.tanks,
        [d for d in two_deliveries if d.facility_id in tank_ids],
        args.horizon,
        period_h=irp.period_h,
    )
    two["facility_days_below_floor"] = len(simulated.below_floor)
    two["facility_periods_below_floor"] = len(simulated.periods_below_floor)
    two["facility_days_empty"] = simulated.empty_days
    two["lowest_hours_to_empty"] = simulated.lowest_hours_to_empty
    mine = plan_figures(irp)
    mine["tankers_used"] = len({route.vehicle_id for route in irp.routes})
    for figures in (two, mine):
        figures["km_per_t"] = figures["tanker_km"] / max(figures["delivered_t"], 1e-9)
    print(
        f"{args.region} from {args.date}, {args.horizon} days: {len(problem.tanks)} tanks, "
        f"{len(fleet)} tankers, floor {args.floor_h:g} h; two-step {two_s:.0f} s "
        f"({args.iterations} iterations a day, seed {args.seed}), irp {irp_s:.0f} s "
        f"(limit {args.time_limit:g} s, max_iterations {args.max_iterations})"
    )
    periods = {irp.assignment[f]: h for f, h in sorted(irp.period_h.items())}
    shortest = min(
        (t.capacity_kg / t.burn_kg_per_day * 24.0 for t in problem.tanks if t.burn_kg_per_day),
        default=float("inf"),
    )
    print(
        f"irp tanks planned {len(irp.period_h)} of {len(problem.tanks)}; period per plant (h) "
        f"{periods}; the smallest tank holds {shortest:.1f} h of its burn"
    )
    print("\n| figure | two-step | irp | change |\n|---|---:|---:|---:|")
    for key in (
        "tankers_used",
        "tanker_km",
        "tanker_h",
        "trips",
        "deliveries",
        "delivered_t",
        "km_per_t",
        "load_factor",
        "trips_over_shift",
        "longest_tanker_day_h",
        "facility_days_below_floor",
        "facility_periods_below_floor",
        "facility_days_empty",
        "lowest_hours_to_empty",
    ):
        a, b = float(two[key]), float(mine[key])
        change = f"{(b - a) / a * 100:+.1f} %" if a and math.isfinite(a) else ""
        print(f"| {key} | {a:,.2f} | {b:,.2f} | {change} |")
    print(f"\ntwo-step liquid loads unassigned by the dispatch: {two['loads_unassigned']}")
    print(f"irp deliveries per day: {mine['deliveries_per_day']}")
    print(f"irp plants: {irp.solver['plants']}")
    print(f"irp unused tankers: {list(irp.unused_tankers)}")
    reasons: dict[str, int] = {}
    for shortfall in irp.shortfalls:
        reasons[shortfall.reason] = reasons.get(shortfall.reason, 0) + 1
    print(f"irp shortfalls by reason: {reasons}")


if __name__ == "__main__":
    main()
