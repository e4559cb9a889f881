"""Benchmark: the coordinator's HCMC plan end to end (all curated hospitals, the region's suppliers, 7 days).

Three pipelines in one run, on the same seeded registry (sourced hospitals and suppliers, generated
August 2021 reports) and the same plan day (20 August 2021):

- **warm**: oxyroute in a process that already holds the road network (as the API server does): gather
  the reports, project demand, shortfalls, road matrix, allocation.
- **cold**: a new Python process with the graph cache in place (imports, cache load, the whole plan).
- **naive**: what a user would write with the same packages: osmnx loads the OSM file, nearest nodes,
  one networkx shortest path per supplier-hospital pair, OR-Tools' SimpleMinCostFlow per day (same
  demands and capacities as oxyroute's, from the same projection).

    python benchmarks/bench_plan.py [--skip-naive]

Goal (issue 4): warm < 1 s, cold < 5 s; the naive pipeline took about 63 s on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coordination.planning import build_plan, plan_request_from_store  # noqa: E402
from data.db import create_db_engine, upgrade_database  # noqa: E402
from data.provinces import provinces_with_2025_units  # noqa: E402
from data.region import load_region  # noqa: E402
from data.seed import hcmc_seed, store_seed  # noqa: E402
from data.settings import resolve_cache_dir, resolve_data_dir  # noqa: E402
from data.store import Store  # noqa: E402
from routing.graph import network_for_region  # noqa: E402

PLAN_DAY = dt.date(2021, 8, 20)

COLD_SCRIPT = """
import datetime as dt, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
from data.db import create_db_engine
from data.region import load_region
from data.settings import resolve_cache_dir
from data.store import Store
from coordination.planning import build_plan, plan_request_from_store  # noqa: E402
from routing.graph import network_for_region
region = load_region("hcmc")
network = network_for_region(region, cache_dir=resolve_cache_dir())
store = Store(create_db_engine({url!r}))
request = plan_request_from_store(store, region, network, start_date=dt.date(2021, 8, 20))
plan = build_plan(request, network, region)
print(time.perf_counter() - started, plan.allocation.totals.unmet_m3, plan.allocation.totals.delivered_m3)
"""


def naive_pipeline(region, request) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Osmnx + networkx per pair + OR-Tools min-cost flow, as a user would write it."""
    import networkx as nx
    import osmnx as ox
    from ortools.graph.python import min_cost_flow

    from routing.speeds import SPEEDS_KPH

    times: dict[str, float] = {}
    started = time.perf_counter()
    G = ox.graph_from_xml(region.road_file, simplify=True, retain_all=False)
    G = ox.add_edge_speeds(G, hwy_speeds=dict(SPEEDS_KPH), fallback=20.0)
    G = ox.add_edge_travel_times(G)
    times["osmnx load + speeds"] = time.perf_counter() - started

    started = time.perf_counter()
    suppliers, facilities = request.suppliers, request.facilities
    # Nearest nodes by great-circle distance (osmnx's nearest_nodes on an unprojected graph needs
    # scikit-learn, which the project does not install).
    node_ids = list(G.nodes)
    node_lon = np.array([G.nodes[n]["x"] for n in node_ids])
    node_lat = np.array([G.nodes[n]["y"] for n in node_ids])

    def nearest(lon: float, lat: float) -> int:
        return node_ids[int(np.argmin(ox.distance.great_circle(lat, lon, node_lat, node_lon)))]

    s_nodes = [nearest(s.lon, s.lat) for s in suppliers]
    f_nodes = [nearest(f.lon, f.lat) for f in facilities]
    travel = np.full((len(suppliers), len(facilities)), -1, dtype=np.int64)
    for i, s in enumerate(s_nodes):
        for j, f in enumerate(f_nodes):
            with contextlib.suppress(nx.NetworkXNoPath):
                travel[i, j] = round(nx.shortest_path_length(G, s, f, weight="travel_time"))
    times["networkx per pair"] = time.perf_counter() - started

    started = time.perf_counter()
    from matcher.demand import FacilityProfile, PatientReport, project_demand
    from matcher.shortfall import SupplyPosition, compute_shortfalls

    profiles = [FacilityProfile(f.facility_id, f.province_code, f.tier, f.beds) for f in facilities]
    reports = [PatientReport(r.facility_id, r.report_date, r.patients) for r in request.reports]
    forecasts = project_demand(profiles, reports, start_date=request.start_date, horizon_days=7)
    latest = {r.facility_id: r for r in sorted(request.reports, key=lambda r: r.report_date)}
    positions = [
        SupplyPosition(
            f.facility_id, latest[f.facility_id].stock_m3 if f.facility_id in latest else 0.0
        )
        for f in facilities
    ]
    shortfalls = compute_shortfalls(forecasts, positions)
    unmet_total = delivered_total = 0.0
    capacity = [s.liquid_t_per_day * 700 + s.cylinders_per_day * 6.0 for s in suppliers]
    for day in range(7):
        flow = min_cost_flow.SimpleMinCostFlow()
        sink = len(suppliers) + len(facilities)
        demand = [round(sf.required_m3_per_day[day] * 10) for sf in shortfalls]
        for i, cap in enumerate(capacity):
            flow.add_arc_with_capacity_and_unit_cost(sink + 1, i, round(cap * 10), 0)
            for j in range(len(facilities)):
                if 0 <= travel[i, j] <= 4 * 3600:
                    flow.add_arc_with_capacity_and_unit_cost(
                        i, len(suppliers) + j, demand[j], int(travel[i, j])
                    )
        for j, need in enumerate(demand):
            flow.add_arc_with_capacity_and_unit_cost(len(suppliers) + j, sink, need, 0)
        flow.add_arc_with_capacity_and_unit_cost(sink + 1, sink, sum(demand), 10**7)  # unmet
        flow.set_node_supply(sink + 1, sum(demand))
        flow.set_node_supply(sink, -sum(demand))
        flow.solve()
        unmet = sum(
            flow.flow(a)
            for a in range(flow.num_arcs())
            if flow.tail(a) == sink + 1 and flow.head(a) == sink
        )
        unmet_total += unmet / 10
        delivered_total += (sum(demand) - unmet) / 10
    times["demand + OR-Tools min-cost flow"] = time.perf_counter() - started
    times["unmet_m3"] = unmet_total
    times["delivered_m3"] = delivered_total
    return times


def main() -> None:
    """Run the three pipelines and print their timings (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--skip-naive", action="store_true", help="skip the ~60 s naive pipeline")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data_dir = resolve_data_dir()
    region = load_region("hcmc")
    network = network_for_region(region, cache_dir=resolve_cache_dir())  # also fills the cache
    with tempfile.TemporaryDirectory(prefix="oxyroute-bench-plan-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'registry.sqlite3'}"
        engine = create_db_engine(url)
        upgrade_database(engine)
        store = Store(engine)
        store.upsert_provinces(provinces_with_2025_units(data_dir))
        store_seed(store, hcmc_seed(data_dir))
        print(f"HCMC plan benchmark, {PLAN_DAY} + 7 days")

        build_plan(
            plan_request_from_store(store, region, network, start_date=PLAN_DAY), network, region
        )  # first call compiles nothing new, but warms the OS file cache
        warm = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            request = plan_request_from_store(store, region, network, start_date=PLAN_DAY)
            plan = build_plan(request, network, region)
            warm.append(time.perf_counter() - started)
        totals = plan.allocation.totals
        print(
            f"  warm (network in memory), median of {args.repeat}: {statistics.median(warm):.3f} s "
            f"(goal < 1 s); {len(request.facilities)} hospitals, {len(request.suppliers)} suppliers; "
            f"phases {{{', '.join(f'{k}: {v:.3f}' for k, v in plan.timings_s.items())}}}"
        )
        print(
            f"    delivered {totals.delivered_m3:,.0f} m³, unmet {totals.unmet_m3:,.0f} m³, "
            f"{plan.allocation.solver} {plan.allocation.solver_status}"
        )

        cold = []
        for _ in range(3):
            started = time.perf_counter()
            output = subprocess.run(
                [sys.executable, "-c", COLD_SCRIPT.format(root=str(ROOT), url=url)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            cold.append(time.perf_counter() - started)
        print(
            f"  cold (new process, graph cache in place), median of 3: {statistics.median(cold):.2f} s "
            f"(goal < 5 s; {float(output[0]):.2f} s inside the process after start-up)"
        )

        if not args.skip_naive:
            naive = naive_pipeline(region, request)
            total = sum(v for k, v in naive.items() if not k.endswith("_m3"))
            print(f"  naive (osmnx + networkx per pair + OR-Tools): {total:.1f} s")
            for key, value in naive.items():
                unit = "m³" if key.endswith("_m3") else "s"
                print(f"    {key:<36} {value:>12,.1f} {unit}")
            print(
                f"  ratios: naive / warm = {total / statistics.median(warm):,.0f}x, "
                f"naive / cold = {total / statistics.median(cold):,.0f}x"
            )
            print(
                "  (the naive plan is not the same plan: it snaps to the nearest junction however far, "
                "ignores products, tank and cylinder limits and booked deliveries)"
            )


if __name__ == "__main__":
    main()
