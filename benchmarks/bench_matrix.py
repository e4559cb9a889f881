"""Benchmark: many-to-many travel times on the whole Ho Chi Minh City network.

Two tasks on fixed-seed random junctions: 30 origins x 2,000 destinations and 2,000 x 2,000. Timed in one
run: oxyroute's matrix (contraction hierarchy, compiled Dijkstra, one scipy csgraph call), per-source
``networkx.single_source_dijkstra_path_length`` (the baseline), and OSRM's CH table through
``osrm-bindings`` where it installs (its wheels need Python >= 3.12). Also: cold build, warm load, peak
memory, and exactness against networkx and scipy.

    python benchmarks/bench_matrix.py [--full-networkx] [--seed 7]

Without ``--full-networkx`` the 2,000 x 2,000 networkx time is measured on 200 sources and scaled to
2,000 (each source is an independent search, so time is linear in the number of sources); the output
says so.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.region import load_region
from data.schema.network import Place
from routing.graph import load_or_build_network
from routing.travel_time import travel_time_matrix

#: OSRM CH figures measured by the team on this machine (issue 2), used when OSRM cannot be installed.
OSRM_REFERENCE_S = {"2000x2000": 1.2}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(label: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call ``func(*args, **kwargs)``, print its wall time and peak RSS; return (result, seconds)."""
    started = time.perf_counter()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"  {label:<46} {elapsed:8.3f} s   (peak RSS {peak_rss_mb():,.0f} MB)", flush=True)
    return result, elapsed


def networkx_rows(G, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Return the networkx travel times (s) from each source to each target; ``inf`` if unreachable."""
    import networkx as nx

    out = np.full((sources.size, targets.size), np.inf)
    for i, s in enumerate(sources.tolist()):
        lengths = nx.single_source_dijkstra_path_length(G, s, weight="time_s")
        out[i] = [lengths.get(t, math.inf) for t in targets.tolist()]
    return out


def _on_own_junction(network, places: list[Place]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Return True for places (put on a junction) that the snapping attaches to that same junction."""
    from routing.snapping import snap_places

    _, anchors = snap_places(network, places)
    edge = anchors.edge_idx
    along = anchors.fraction * network.edge_length_m[edge]
    junction = np.where(
        along < 0.5,
        network.edge_from[edge],
        np.where(network.edge_length_m[edge] - along < 0.5, network.edge_to[edge], -1),
    )
    return junction == np.array([int(p.place_id[1:]) for p in places])


def try_osrm() -> str:
    """Return a line saying whether OSRM could be compared, and which figure stands in if not."""
    try:
        import osrm  # noqa: F401
    except ImportError:
        return (
            f"osrm-bindings not installable on Python {sys.version_info.major}."
            f"{sys.version_info.minor} (wheels need >= 3.12): compared with the team's "
            f"measurement on this machine, {OSRM_REFERENCE_S['2000x2000']} s for 2,000 x 2,000"
        )
    return "osrm-bindings importable, but building an OSRM dataset is not automated here"


def main() -> None:
    """Run the benchmark and print its timings (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--full-networkx",
        action="store_true",
        help="run networkx on all 2,000 sources (about 150 s) instead of 200",
    )
    args = parser.parse_args()

    region = load_region("hcmc")
    print(f"oxyroute matrix benchmark on {region.road_file.name}")
    with tempfile.TemporaryDirectory(prefix="oxyroute-bench-") as tmp:
        cache = Path(tmp)
        network, cold_s = timed(
            "cold build (osmnx + CCH, no cache)",
            load_or_build_network,
            region.road_file,
            name=region.name,
            cache_dir=cache,
        )
        _, warm_s = timed(
            "warm load from the .npz cache",
            load_or_build_network,
            region.road_file,
            name=region.name,
            cache_dir=cache,
        )
    print(f"  network: {network.node_count:,} junctions, {network.edge_count:,} directed edges")

    rng = np.random.default_rng(args.seed)
    nodes = rng.choice(network.node_count, size=2000, replace=False)
    places = [Place(f"n{n}", float(network.node_lon[n]), float(network.node_lat[n])) for n in nodes]

    import networkx as nx

    G = nx.DiGraph()
    for e in np.flatnonzero(np.isfinite(network.edge_time_s)).tolist():
        u, v, t = int(network.edge_from[e]), int(network.edge_to[e]), float(network.edge_time_s[e])
        if not G.has_edge(u, v) or G[u][v]["time_s"] > t:
            G.add_edge(u, v, time_s=t)

    # Compile the numba kernels outside the timings (their machine code is cached on disk anyway).
    for backend in ("cch", "numba"):
        travel_time_matrix(network, places[:3], places[:3], backend=backend)  # type: ignore[arg-type]

    results: dict[str, dict[str, float]] = {}
    for task, n_sources in (("30x2000", 30), ("2000x2000", 2000)):
        print(f"\ntask {task}")
        origins = places[:n_sources]
        row: dict[str, float] = {}
        cch, row["oxyroute cch"] = timed(
            "oxyroute matrix, CCH (default, end to end)",
            travel_time_matrix,
            network,
            origins,
            places,
            backend="cch",
        )
        _, row["oxyroute numba dijkstra"] = timed(
            "oxyroute matrix, compiled Dijkstra",
            travel_time_matrix,
            network,
            origins,
            places,
            backend="numba",
        )
        scipy_result, row["scipy csgraph"] = timed(
            "oxyroute matrix, one scipy csgraph call",
            travel_time_matrix,
            network,
            origins,
            places,
            backend="scipy",
        )
        sample = n_sources if (n_sources <= 200 or args.full_networkx) else 200
        reference, nx_s = timed(
            f"networkx per source ({sample} sources)", networkx_rows, G, nodes[:sample], nodes
        )
        row["networkx"] = nx_s * n_sources / sample
        if sample < n_sources:
            print(
                f"  {'networkx scaled to ' + str(n_sources) + ' sources':<46} {row['networkx']:8.3f} s"
            )
        own = _on_own_junction(network, places)
        rows = own[:sample]
        err_nx = float(
            np.max(np.abs(cch.duration_s[:sample][rows][:, own] - reference[rows][:, own]))
        )
        err_scipy = float(np.max(np.abs(cch.duration_s - scipy_result.duration_s)))
        err_len = float(np.max(np.abs(cch.distance_m - scipy_result.distance_m)))
        print(
            f"  exactness: max |CCH - networkx| = {err_nx:.2e} s over the {int(own.sum())} junctions "
            f"whose point snaps onto themselves ({int((~own).sum())} lie on a bridge or under one and "
            f"snap onto the other road); |CCH - scipy| = {err_scipy:.2e} s, distances {err_len:.2e} m"
        )
        results[task] = row

    print("\nsummary (seconds; ratio = networkx time / this time)")
    for task, row in results.items():
        for label, seconds in row.items():
            print(f"  {task:<10} {label:<26} {seconds:8.3f} s   x{row['networkx'] / seconds:7.1f}")
    big = results["2000x2000"]["oxyroute cch"]
    print(
        f"\n2,000 x 2,000: {results['2000x2000']['networkx'] / big:.0f}x faster than networkx "
        f"(goal >= 35x); {big / OSRM_REFERENCE_S['2000x2000']:.2f}x OSRM CH's "
        f"{OSRM_REFERENCE_S['2000x2000']} s (goal <= 2x)"
    )
    print(
        f"cold build {cold_s:.1f} s, warm load {warm_s:.3f} s (goal < 1 s), peak RSS {peak_rss_mb():,.0f} MB"
    )
    print(f"OSRM: {try_osrm()}")


if __name__ == "__main__":
    main()
