"""Benchmark: an urgent request's sourcing options on the Ho Chi Minh City road network.

The whole-city region (``hcmc``: about 29,500 junctions), its 9 oxygen suppliers (the Phú Mỹ
plants through the Biên Hòa gateway) and the seed's generated fleet homed at them; today's
routes are 6 cylinder trucks (80 cylinders) with 5 planned stops of 5 cylinders each at curated
hospitals (seeded), so that every cylinder request also gets insertion options. Each request is 40 cylinders (or 3 t of liquid, one
in four) for a curated hospital, needed within 3 hours.

Figures, in one run:

- **load**: the region's network from the graph cache (once per app: web/plans.py PlanService);
- **cold**: the first request on the loaded network (builds the hierarchy's customization);
- **warm, 3 nearest**: the options of each next request (what ``GET /requests/{id}/options``
  computes), median and worst;
- **warm, all suppliers**: the same with new trips from every supplier (the baseline of the
  ``nearest`` cut).

    python benchmarks/bench_sourcing.py [--requests 40]

Goal (issue 14): warm under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coordination.sourcing import (  # noqa: E402
    RouteStop,
    SourcingProblem,
    sourcing_options,
    sourcing_vehicles,
    supplier_offers,
)
from data.region import load_region  # noqa: E402
from data.reporting import LOCAL_TZ  # noqa: E402
from data.schema.live import Product  # noqa: E402
from data.seed import build_fleet, suppliers_from_places  # noqa: E402
from data.settings import resolve_cache_dir  # noqa: E402
from routing.graph import network_for_region  # noqa: E402

NOW = dt.datetime(2021, 8, 20, 9, 0, tzinfo=LOCAL_TZ)


def _stops(hospitals: list, fleet: list, rng: random.Random) -> tuple[RouteStop, ...]:  # type: ignore[type-arg]
    """Six cylinder trucks, five stops each, an hour apart from 09:30 (5 cylinders a stop)."""
    trucks = [v for v in fleet if v.cylinder_capacity and v.cylinder_capacity >= 80][:6]
    stops = []
    number = 0
    for truck in trucks:
        for index, place in enumerate(rng.sample(hospitals, 5)):
            number += 1
            stops.append(
                RouteStop(
                    number,
                    truck.vehicle_id,
                    index,
                    place.place_id,
                    place.lon,
                    place.lat,
                    truck.home_depot_id,
                    Product.CYLINDERS,
                    5,
                    NOW + dt.timedelta(minutes=30 + 60 * index),
                )
            )
    return tuple(stops)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="warm requests to time")
    arguments = parser.parse_args()

    started = time.perf_counter()
    region = load_region("hcmc")
    network = network_for_region(region, cache_dir=resolve_cache_dir())
    load_s = time.perf_counter() - started
    assert region.suppliers is not None
    assert region.facilities is not None
    registry = suppliers_from_places(region.suppliers.read())
    _, fleet = build_fleet(registry)
    offers = supplier_offers(registry)
    vehicles = sourcing_vehicles(fleet)
    hospitals = list(region.facilities.read())
    rng = random.Random(20210820)
    stops = _stops(hospitals, fleet, rng)

    def problem(number: int, nearest: int) -> SourcingProblem:
        hospital = hospitals[number % len(hospitals)]
        liquid = number % 4 == 3
        return SourcingProblem(
            request_id=number,
            facility_id=hospital.place_id,
            lon=hospital.lon,
            lat=hospital.lat,
            product=Product.LIQUID if liquid else Product.CYLINDERS,
            quantity=3000.0 if liquid else 40.0,
            needed_by=NOW + dt.timedelta(hours=3),
            now=NOW,
            suppliers=offers,
            vehicles=vehicles,
            stops=stops,
            nearest=nearest,
        )

    def run(number: int, nearest: int) -> tuple[float, int, int]:
        began = time.perf_counter()
        answer = sourcing_options(
            problem(number, nearest),
            network,
            gateways=region.gateways,
            max_snap_m=region.max_snap_m,
        )
        kinds = [o.kind for o in answer.options]
        return time.perf_counter() - began, kinds.count("new_trip"), kinds.count("insertion")

    cold_s, _, _ = run(0, 3)
    timings: dict[str, list[float]] = {"3 nearest": [], "all suppliers": []}
    counts: dict[str, list[tuple[int, int]]] = {"3 nearest": [], "all suppliers": []}
    for number in range(1, arguments.requests + 1):
        for label, nearest in (("3 nearest", 3), ("all suppliers", len(offers))):
            seconds, trips, insertions = run(number, nearest)
            timings[label].append(seconds)
            counts[label].append((trips, insertions))

    print(
        f"network {network!r}; {len(offers)} suppliers, {len(vehicles)} vehicles, {len(stops)} stops"
    )
    print(
        f"load from the graph cache: {load_s:.2f} s (once per app; the first request pays the rest)"
    )
    print(f"cold (first request on the loaded network): {cold_s:.3f} s")
    for label, values in timings.items():
        trips = statistics.mean(t for t, _ in counts[label])
        insertions = statistics.mean(i for _, i in counts[label])
        print(
            f"warm, {label}: median {statistics.median(values) * 1000:.0f} ms, "
            f"worst {max(values) * 1000:.0f} ms over {len(values)} requests "
            f"({trips:.1f} new trips + {insertions:.1f} insertions per request)"
        )
    worst = max(timings["3 nearest"])
    print(f"goal: warm under 2 s: {'met' if worst < 2.0 else 'NOT met'} (worst {worst:.3f} s)")


if __name__ == "__main__":
    main()
