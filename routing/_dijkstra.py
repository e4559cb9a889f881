"""Compiled many-to-many Dijkstra (numba): one search per origin, origins in parallel threads.

Each search stops as soon as every destination node is settled. Besides the fastest time it
carries the length of that fastest path, so times and distances come from one search.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

# Annotations are for mypy only: numba infers the kernels' types from the arguments it is given.
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@numba.njit(cache=True, inline="always")
def _heap_push(keys: np.ndarray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        vals[parent], vals[i] = vals[i], vals[parent]
        i = parent
    return size + 1


@numba.njit(cache=True, inline="always")
def _heap_pop(keys: np.ndarray, vals: np.ndarray, size: int) -> int:
    # Moves the last entry to the root and sifts it down; the caller read keys[0], vals[0] before.
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        right = left + 1
        if right < size and keys[right] < keys[left]:
            child = right
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        vals[child], vals[i] = vals[i], vals[child]
        i = child
    return size


@numba.njit(cache=True, nogil=True)
def _one_search(
    indptr: IntArray,
    heads: IntArray,
    w_time: FloatArray,
    w_len: FloatArray,
    source: int,
    target_ptr: IntArray,
    target_cols: IntArray,
    n_target_nodes: int,
    out_t: FloatArray,
    out_d: FloatArray,
) -> None:
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    length = np.zeros(n)
    done = np.zeros(n, dtype=np.bool_)
    keys = np.empty(heads.shape[0] + 1)
    vals = np.empty(heads.shape[0] + 1, dtype=np.int64)
    dist[source] = 0.0
    size = _heap_push(keys, vals, 0, 0.0, source)
    remaining = n_target_nodes
    while size > 0:
        d = keys[0]
        u = vals[0]
        size = _heap_pop(keys, vals, size)
        if done[u]:
            continue
        done[u] = True
        first = target_ptr[u]
        last = target_ptr[u + 1]
        if last > first:
            for k in range(first, last):
                out_t[target_cols[k]] = d
                out_d[target_cols[k]] = length[u]
            remaining -= 1
            if remaining == 0:
                break
        for k in range(indptr[u], indptr[u + 1]):
            v = heads[k]
            nd = d + w_time[k]
            if nd < dist[v]:
                dist[v] = nd
                length[v] = length[u] + w_len[k]
                size = _heap_push(keys, vals, size, nd, v)


@numba.njit(cache=True, parallel=True)
def _many_to_many(
    indptr: IntArray,
    heads: IntArray,
    w_time: FloatArray,
    w_len: FloatArray,
    sources: IntArray,
    target_ptr: IntArray,
    target_cols: IntArray,
    n_targets: int,
    n_target_nodes: int,
) -> tuple[FloatArray, FloatArray]:
    out_t = np.full((sources.shape[0], n_targets), np.inf)
    out_d = np.full((sources.shape[0], n_targets), np.inf)
    for i in numba.prange(sources.shape[0]):
        _one_search(
            indptr,
            heads,
            w_time,
            w_len,
            sources[i],
            target_ptr,
            target_cols,
            n_target_nodes,
            out_t[i],
            out_d[i],
        )
    return out_t, out_d


def many_to_many(
    indptr: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    w_time: npt.NDArray[np.float64],
    w_len: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int64],
    targets: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return fastest times and their path lengths from every source node to every target node.

    Parameters
    ----------
    indptr, heads, w_time, w_len
        CSR adjacency: edges of node ``u`` are ``indptr[u]:indptr[u + 1]``, going to ``heads``, with
        travel time (s) and length (m). Times must be non-negative.
    sources, targets
        Node positions (repeats allowed).

    Returns
    -------
    duration_s, distance_m
        Arrays of shape ``(len(sources), len(targets))``; ``inf`` where no path exists.
    """
    n = indptr.shape[0] - 1
    order = np.argsort(targets, kind="stable")
    counts = np.bincount(targets, minlength=n)
    target_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=target_ptr[1:])
    target_cols = order.astype(np.int64)
    n_target_nodes = int(np.count_nonzero(counts))
    return _many_to_many(
        indptr,
        heads,
        w_time,
        w_len,
        sources.astype(np.int64),
        target_ptr,
        target_cols,
        int(targets.shape[0]),
        n_target_nodes,
    )
