"""Benchmark: the loaded-tanker profile on the whole Ho Chi Minh City network.

Figures, per profile (``general`` and ``tanker``): matrix times cold (a network freshly loaded
from the graph cache: the profile's times derived and its contraction hierarchy customized, then
the query) and warm (the same call again: the profile and its customization are kept; the
places are snapped and the query run), and a hit of the matrix cache (``cache=True``); for the
plant -> hospital pairs, the mean and median ratio of tanker to general travel time (all
pairs, then only plants on the map, without a gateway's fixed extra time); how many pairs a
tanker cannot drive; how many edges a tanker may not use, by reason.

    python benchmarks/bench_tanker_profile.py [--region hcmc] [--repeat 3]

The graph is built on a cold cache first (about a minute), then loaded from it.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.region import load_region
from data.schema.network import Place
from data.settings import resolve_cache_dir
from routing.graph import cache_key, file_sha256, load_network, network_for_region
from routing.profiles import PROFILE_NAMES, barred_edge_count, network_for_profile
from routing.speeds import merge_speeds
from routing.travel_time import travel_time_matrix


def plants(region_id: str) -> list[Place]:
    """Return the region's liquid-oxygen plants (suppliers of kind ``liquid_producer``)."""
    region = load_region(region_id)
    assert region.suppliers is not None
    with region.suppliers.path.open(encoding="utf-8") as handle:
        kinds = {row["id"]: row["kind"] for row in csv.DictReader(handle)}
    return [p for p in region.suppliers.read() if kinds.get(p.place_id) == "liquid_producer"]


def timed(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Return ``func(*args, **kwargs)`` and its wall time in seconds."""
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    """Print the figures (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="hcmc")
    parser.add_argument("--repeat", type=int, default=3, help="warm calls per profile (best kept)")
    args = parser.parse_args()

    region = load_region(args.region)
    cache_dir = resolve_cache_dir()
    network, build_s = timed(network_for_region, region, cache_dir=cache_dir)
    assert region.road_file is not None
    key = cache_key(
        file_sha256(region.road_file), region.network_type, merge_speeds(region.speeds_kph)
    )
    cached = cache_dir / "graphs" / f"{region.road_file.name.split('.')[0]}-{key}.npz"
    print(f"{network!r}: first load or build {build_s:.1f} s ({cached.name})")

    sources = plants(args.region)
    assert region.facilities is not None
    hospitals = region.facilities.read()
    settings = {"gateways": region.gateways, "max_snap_m": region.max_snap_m}
    print(f"{len(sources)} plants x {len(hospitals)} hospitals; gateways: {len(region.gateways)}")

    # Compile the kernels and import the projections once, so that "cold" is the profile's own
    # cost (derive, customize, snap on a freshly loaded graph), not the process's first call.
    travel_time_matrix(load_network(cached), sources[:1], hospitals[:1], **settings)
    matrices = {}
    print(f"\n{'profile':<9} {'cold s':>8} {'warm s':>8} {'cached s':>9}")
    for profile in PROFILE_NAMES:
        fresh, _ = timed(load_network, cached)  # no profile, no customization kept yet
        matrix, cold_s = timed(
            travel_time_matrix, fresh, sources, hospitals, profile=profile, **settings
        )
        warm_s = min(
            timed(travel_time_matrix, fresh, sources, hospitals, profile=profile, **settings)[1]
            for _ in range(args.repeat)
        )
        travel_time_matrix(fresh, sources, hospitals, profile=profile, cache=True, **settings)
        _, hit_s = timed(
            travel_time_matrix, fresh, sources, hospitals, profile=profile, cache=True, **settings
        )
        matrices[profile] = matrix
        print(f"{profile:<9} {cold_s:8.3f} {warm_s:8.3f} {hit_s:9.5f}")

    general, tanker = matrices["general"].duration_s, matrices["tanker"].duration_s
    both = np.isfinite(general) & np.isfinite(tanker)
    ratio = tanker[both] / general[both]
    on_map = np.array([not any(p.place_id in g.links for g in region.gateways) for p in sources])
    mask = both & on_map[:, None]
    print(
        f"\nplant -> hospital, tanker / general travel time: mean {ratio.mean():.3f}, "
        f"median {float(np.median(ratio)):.3f}, min {ratio.min():.3f}, max {ratio.max():.3f} "
        f"over {int(both.sum())} pairs"
    )
    if mask.any():
        local = tanker[mask] / general[mask]
        print(
            f"  plants on the map ({', '.join(p.place_id for p, m in zip(sources, on_map, strict=True) if m)}): "
            f"mean {local.mean():.3f}, median {statistics.median(local.tolist()):.3f} over {int(mask.sum())} pairs"
        )
    lost = np.isfinite(general) & ~np.isfinite(tanker)
    print(f"  pairs a general truck drives and a tanker cannot: {int(lost.sum())}")
    unreachable = [
        f"{pid}: {snap.reason}"
        for pid, snap in matrices["tanker"].snaps.items()
        if not snap.reachable
    ]
    print(
        f"  places a tanker cannot reach: {len(unreachable)}"
        + "".join(f"\n    {u}" for u in unreachable)
    )

    counts = barred_edge_count(network, "tanker")
    print(f"\nedges a tanker may not use: {counts['total']} of {network.edge_count:,} ({counts})")
    tanker_net = network_for_profile(network, "tanker")
    names = sorted(
        {network.edge_label(int(e)) or "(unnamed)" for e in np.flatnonzero(tanker_net.edge_bars)}
    )
    print(f"  roads: {'; '.join(names)}")


if __name__ == "__main__":
    main()
