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
against networkx and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
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
    edge_arc = _find_arcs(up_ptr, up_head, low, high)
    return Hierarchy(rank, up_ptr, up_head, parent, edge_arc, ru < rv)


@numba.njit(cache=True)
def _find_arc(up_ptr: IntArray, up_head: IntArray, low: int, high: int) -> int:
    lo, hi = up_ptr[low], up_ptr[low + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if up_head[mid] < high:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < up_ptr[low + 1] and up_head[lo] == high else -1


@numba.njit(cache=True)
def _find_arcs(up_ptr: IntArray, up_head: IntArray, low: IntArray, high: IntArray) -> IntArray:
    out = np.empty(low.shape[0], dtype=np.int64)
    for i in range(low.shape[0]):
        out[i] = _find_arc(up_ptr, up_head, low[i], high[i]) if low[i] != high[i] else -1
    return out


@numba.njit(cache=True)
def _customize(
    up_ptr: IntArray,
    up_head: IntArray,
    edge_arc: IntArray,
    edge_up: BoolArray,
    edge_time: FloatArray,
    edge_len: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    arcs = up_head.shape[0]
    up_t = np.full(arcs, np.inf)
    down_t = np.full(arcs, np.inf)
    up_l = np.zeros(arcs)
    down_l = np.zeros(arcs)
    for e in range(edge_arc.shape[0]):
        k = edge_arc[e]
        if k < 0 or not np.isfinite(edge_time[e]):
            continue
        if edge_up[e]:
            if edge_time[e] < up_t[k]:
                up_t[k] = edge_time[e]
                up_l[k] = edge_len[e]
        elif edge_time[e] < down_t[k]:
            down_t[k] = edge_time[e]
            down_l[k] = edge_len[e]
    n = up_ptr.shape[0] - 1
    for v in range(n):
        first, last = up_ptr[v], up_ptr[v + 1]
        for i in range(first, last):
            x = up_head[i]
            for j in range(i + 1, last):
                k = _find_arc(up_ptr, up_head, x, up_head[j])
                # x -> v -> y improves x -> y; y -> v -> x improves y -> x.
                via = down_t[i] + up_t[j]
                if via < up_t[k]:
                    up_t[k] = via
                    up_l[k] = down_l[i] + up_l[j]
                via = down_t[j] + up_t[i]
                if via < down_t[k]:
                    down_t[k] = via
                    down_l[k] = down_l[j] + up_l[i]
    return up_t, down_t, up_l, down_l


def customize(hierarchy: Hierarchy, edge_time_s: FloatArray, edge_length_m: FloatArray) -> Metric:
    """Give every arc its exact travel time (``inf`` edges are closed) and fastest-path length."""
    up_t, down_t, up_l, down_l = _customize(
        hierarchy.up_ptr,
        hierarchy.up_head,
        hierarchy.edge_arc,
        hierarchy.edge_up,
        edge_time_s,
        edge_length_m,
    )
    return Metric(up_t, down_t, up_l, down_l)


#: Origins swept together: the arc arrays are streamed once per batch instead of once per origin.
BATCH = 16


@numba.njit(cache=True, nogil=True)
def _sweep_batch(
    up_ptr: IntArray,
    up_head: IntArray,
    parent: IntArray,
    up_t: FloatArray,
    down_t: FloatArray,
    up_l: FloatArray,
    down_l: FloatArray,
    s_ptr: IntArray,
    s_node: IntArray,
    s_time: FloatArray,
    s_len: FloatArray,
    first_source: int,
    batch: int,
    t_node: IntArray,
    t_time: FloatArray,
    t_len: FloatArray,
    t_col: IntArray,
    out_t: FloatArray,
    out_l: FloatArray,
    dist: FloatArray,
    length: FloatArray,
) -> None:
    n = up_ptr.shape[0] - 1
    dist[:, :] = np.inf
    length[:, :] = 0.0
    for b in range(batch):
        source = first_source + b
        # Upward: the ancestors of every entry junction, in increasing rank (chains to the root).
        first, last = s_ptr[source], s_ptr[source + 1]
        cursors = np.empty(last - first, dtype=np.int64)
        for k in range(first, last):
            node = s_node[k]
            cursors[k - first] = node
            if s_time[k] < dist[node, b]:
                dist[node, b] = s_time[k]
                length[node, b] = s_len[k]
        while True:
            x = n
            for c in range(cursors.shape[0]):
                if 0 <= cursors[c] < x:
                    x = cursors[c]
            if x == n:
                break
            for c in range(cursors.shape[0]):
                if cursors[c] == x:
                    cursors[c] = parent[x]
            dx = dist[x, b]
            if dx < np.inf:
                for k in range(up_ptr[x], up_ptr[x + 1]):
                    y = up_head[k]
                    via = dx + up_t[k]
                    if via < dist[y, b]:
                        dist[y, b] = via
                        length[y, b] = length[x, b] + up_l[k]
    # Downward: one pass over all junctions from the top rank down, for the whole batch at once.
    for v in range(n - 1, -1, -1):
        for k in range(up_ptr[v], up_ptr[v + 1]):
            x = up_head[k]
            w = down_t[k]
            wl = down_l[k]
            for b in range(batch):
                via = dist[x, b] + w
                if via < dist[v, b]:
                    dist[v, b] = via
                    length[v, b] = length[x, b] + wl
    for k in range(t_node.shape[0]):
        node = t_node[k]
        col = t_col[k]
        for b in range(batch):
            via = dist[node, b] + t_time[k]
            if via < out_t[first_source + b, col]:
                out_t[first_source + b, col] = via
                out_l[first_source + b, col] = length[node, b] + t_len[k]


@numba.njit(cache=True, parallel=True)
def _many_to_many(
    up_ptr: IntArray,
    up_head: IntArray,
    parent: IntArray,
    up_t: FloatArray,
    down_t: FloatArray,
    up_l: FloatArray,
    down_l: FloatArray,
    s_ptr: IntArray,
    s_node: IntArray,
    s_time: FloatArray,
    s_len: FloatArray,
    t_node: IntArray,
    t_time: FloatArray,
    t_len: FloatArray,
    t_col: IntArray,
    n_targets: int,
    threads: int,
) -> tuple[FloatArray, FloatArray]:
    n_sources = s_ptr.shape[0] - 1
    out_t = np.full((n_sources, n_targets), np.inf)
    out_l = np.full((n_sources, n_targets), np.inf)
    n = up_ptr.shape[0] - 1
    batches = (n_sources + BATCH - 1) // BATCH
    per_thread = (batches + threads - 1) // threads
    for chunk in numba.prange(threads):
        dist = np.empty((n, BATCH))
        length = np.empty((n, BATCH))
        for batch in range(chunk * per_thread, min(batches, (chunk + 1) * per_thread)):
            first = batch * BATCH
            _sweep_batch(
                up_ptr,
                up_head,
                parent,
                up_t,
                down_t,
                up_l,
                down_l,
                s_ptr,
                s_node,
                s_time,
                s_len,
                first,
                min(BATCH, n_sources - first),
                t_node,
                t_time,
                t_len,
                t_col,
                out_t,
                out_l,
                dist,
                length,
            )
    return out_t, out_l


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
    t_counts = np.diff(targets.ptr)
    t_col = np.repeat(np.arange(t_counts.size, dtype=np.int64), t_counts)
    return _many_to_many(
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
