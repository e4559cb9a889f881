"""Customizable contraction hierarchy (CCH) for fast, exact many-to-many travel times.

Three phases, as in Dibbelt, Strasser and Wagner (2016), "Customizable Contraction Hierarchies":

1. *Order* (metric-independent): a nested-dissection order of the junctions, from RoutingKit's
   inertial-flow orderer (package ``routingkit-cch``). Without it, the other back ends are used.
2. *Contraction* (metric-independent, about 0.05 s for the city): eliminating junctions in that
   order gives a chordal supergraph; its arcs are stored once per junction towards higher-ranked
   neighbours.
3. *Customization* (per set of travel times, about 0.01 s): lower-triangle relaxation gives every
   arc its exact time, and the length of that fastest path, so road closures need only a new
   customization.

Queries are PHAST sweeps: an upward search along the source's elimination-tree ancestors, then one
linear downward pass over all junctions in rank order; origins run in parallel. Exactness is tested
against networkx and scipy. The compiled kernels are in ``routing/_cch_kernels.py``, imported on
first use so that importing this module does not load numba.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def hierarchy_available() -> bool:
    """Return True when the orderer (``routingkit_cch``) can be imported."""
    try:
        import routingkit_cch  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """The metric-independent part of a CCH, in rank space (rank 0 is contracted first).

    ``up_head[up_ptr[r]:up_ptr[r + 1]]`` are the ranks of the higher neighbours of rank ``r``
    (sorted); ``parent[r]`` is its elimination-tree parent (-1 at a root). Network edge ``e`` lies
    on arc ``edge_arc[e]``, in the upward direction when ``edge_up[e]``.
    """

    rank: IntArray
    up_ptr: IntArray
    up_head: IntArray
    parent: IntArray
    edge_arc: IntArray
    edge_up: BoolArray


@dataclass(frozen=True, slots=True)
class Metric:
    """Customized arc weights: time (s) and path length (m), both directions of every arc."""

    up_time_s: FloatArray
    down_time_s: FloatArray
    up_length_m: FloatArray
    down_length_m: FloatArray


def build_hierarchy(
    node_lon: FloatArray, node_lat: FloatArray, edge_from: IntArray, edge_to: IntArray
) -> Hierarchy:
    """Order the junctions by nested dissection and contract them (metric-independent)."""
    import routingkit_cch

    n = int(node_lon.shape[0])
    order = np.asarray(
        routingkit_cch.compute_order_inertial(
            n, edge_from.tolist(), edge_to.tolist(), node_lat.tolist(), node_lon.tolist()
        ),
        dtype=np.int64,
    )
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ru, rv = rank[edge_from], rank[edge_to]
    low, high = np.minimum(ru, rv), np.maximum(ru, rv)
    upper: list[set[int]] = [set() for _ in range(n)]
    for a, b in zip(low[low != high].tolist(), high[low != high].tolist(), strict=True):
        upper[a].add(b)
    parent = np.full(n, -1, dtype=np.int64)
    for v in range(n):
        neighbours = upper[v]
        if neighbours:
            p = min(neighbours)
            parent[v] = p
            # Eliminating v makes its higher neighbours a clique: all of them become p's neighbours.
            upper[p] |= neighbours - {p}
    sizes = np.fromiter((len(u) for u in upper), dtype=np.int64, count=n)
    up_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=up_ptr[1:])
    up_head = np.fromiter(
        (h for u in upper for h in sorted(u)), dtype=np.int64, count=int(up_ptr[-1])
    )
    from routing._cch_kernels import find_arcs

    edge_arc = find_arcs(up_ptr, up_head, low, high)
    return Hierarchy(rank, up_ptr, up_head, parent, edge_arc, ru < rv)


def customize(hierarchy: Hierarchy, edge_time_s: FloatArray, edge_length_m: FloatArray) -> Metric:
    """Give every arc its exact travel time (``inf`` edges are closed) and fastest-path length."""
    from routing._cch_kernels import customize_arcs

    up_t, down_t, up_l, down_l = customize_arcs(
        hierarchy.up_ptr,
        hierarchy.up_head,
        hierarchy.edge_arc,
        hierarchy.edge_up,
        edge_time_s,
        edge_length_m,
    )
    return Metric(up_t, down_t, up_l, down_l)


@dataclass(frozen=True, slots=True)
class Entries:
    """How places join the network: place ``p`` owns entries ``ptr[p]:ptr[p + 1]``.

    Each entry is a junction (network node position) and the time (s) and distance (m) between the
    place and that junction, in the direction of travel the entries are for.
    """

    ptr: IntArray
    node: IntArray
    time_s: FloatArray
    length_m: FloatArray


def many_to_many(
    hierarchy: Hierarchy,
    metric: Metric,
    sources: Entries,
    targets: Entries,
) -> tuple[FloatArray, FloatArray]:
    """Return times (s) and fastest-path lengths (m) from every source place to every target place.

    ``sources`` entries are place-to-junction legs, ``targets`` entries junction-to-place legs.
    Pairs with no path are ``inf``.
    """
    import numba

    from routing._cch_kernels import many_to_many_sweeps

    t_counts = np.diff(targets.ptr)
    t_col = np.repeat(np.arange(t_counts.size, dtype=np.int64), t_counts)
    return many_to_many_sweeps(
        hierarchy.up_ptr,
        hierarchy.up_head,
        hierarchy.parent,
        metric.up_time_s,
        metric.down_time_s,
        metric.up_length_m,
        metric.down_length_m,
        sources.ptr,
        hierarchy.rank[sources.node],
        sources.time_s,
        sources.length_m,
        hierarchy.rank[targets.node],
        targets.time_s,
        targets.length_m,
        t_col,
        int(t_counts.size),
        numba.get_num_threads(),
    )
