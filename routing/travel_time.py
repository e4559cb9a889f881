"""Many-to-many road travel times and distances, and the road path between two places.

Places are snapped onto their nearest edge, which is split at that point (both directions of a
two-way road), so a hospital in the middle of a long street is reached in the middle, not at the
nearer junction. Searches run on CSR arrays: a compiled parallel Dijkstra (``"numba"``, the
default) or one call of ``scipy.sparse.csgraph.dijkstra`` (``"scipy"``), or PHAST sweeps over a
customizable contraction hierarchy (``"cch"``, see :mod:`routing.hierarchy`; the default when
available). All are exact.

Every function takes a vehicle ``profile`` (:mod:`routing.profiles`): ``"general"`` (the network
as given, the default) or ``"tanker"`` (a loaded cryogenic tanker: its own speeds, and the roads
it may not use closed). With ``cache=True`` a matrix is kept per network family, keyed by the
profile, the travel times, the places and the settings, so asking again costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError, NoRouteError
from data.schema.network import Gateway, Place, RoadPath, SnapResult, TravelMatrix, validate_places
from routing.hierarchy import Entries, hierarchy_available
from routing.network import RoadNetwork
from routing.profiles import GENERAL, VehicleProfile, network_for_profile
from routing.snapping import DEFAULT_MAX_SNAP_M, Anchors, snap_places

Backend = Literal["auto", "cch", "numba", "scipy"]
BACKENDS: tuple[str, ...] = ("auto", "cch", "numba", "scipy")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: A place snapped closer than this (m) to the end of its edge is joined to that junction.
_JUNCTION_M = 0.5

#: How many matrices (``cache=True``) a network family keeps in memory.
_KEPT_MATRICES = 16


@dataclass(frozen=True, slots=True)
class _Augmented:
    """The network's open edges plus the split edges through snapped places, as CSR arrays.

    Place ``i`` (with an anchor) is node ``node_count + i``. ``base_edge``, ``f0``, ``f1`` say which
    stretch of which network edge each CSR edge covers (for drawing paths).
    """

    indptr: IntArray
    heads: IntArray
    tails: IntArray
    time_s: FloatArray
    length_m: FloatArray
    base_edge: IntArray
    f0: FloatArray
    f1: FloatArray
    node_count: int


def _augment(network: RoadNetwork, anchors: Anchors) -> _Augmented:
    n = network.node_count
    open_edges = np.flatnonzero(np.isfinite(network.edge_time_s))
    tails = [network.edge_from[open_edges]]
    heads = [network.edge_to[open_edges]]
    times = [network.edge_time_s[open_edges]]
    lengths = [network.edge_length_m[open_edges]]
    base = [open_edges]
    f0 = [np.zeros(open_edges.size)]
    f1 = [np.ones(open_edges.size)]

    placed = np.flatnonzero(anchors.edge_idx >= 0)
    # A place that snaps onto a junction joins that junction itself (both ways, no time), so it can
    # leave by any road there, not only along the edge it happened to snap to.
    along_m = anchors.fraction[placed] * network.edge_length_m[anchors.edge_idx[placed]]
    back_m = network.edge_length_m[anchors.edge_idx[placed]] - along_m
    at_start = along_m < _JUNCTION_M
    at_end = ~at_start & (back_m < _JUNCTION_M)
    for mask, ends in ((at_start, network.edge_from), (at_end, network.edge_to)):
        junction = ends[anchors.edge_idx[placed[mask]]]
        place_node = n + placed[mask]
        for frm, to in ((place_node, junction), (junction, place_node)):
            tails.append(frm)
            heads.append(to)
            times.append(np.zeros(frm.size))
            lengths.append(np.zeros(frm.size))
            base.append(anchors.edge_idx[placed[mask]])
            f0.append(np.zeros(frm.size))
            f1.append(np.zeros(frm.size))
    placed = placed[~(at_start | at_end)]
    if placed.size:
        edge = anchors.edge_idx[placed]
        twin = network.edge_twin[edge]
        # Measure every place along one canonical direction of its road, so places on both
        # directions of one two-way road end up on one chain.
        canonical = np.where((twin >= 0) & (twin < edge), twin, edge)
        fraction = np.where(
            canonical == edge, anchors.fraction[placed], 1.0 - anchors.fraction[placed]
        )
        order = np.lexsort((fraction, canonical))
        placed, canonical, fraction = placed[order], canonical[order], fraction[order]
        starts = np.flatnonzero(np.r_[True, canonical[1:] != canonical[:-1]])
        ends = np.r_[starts[1:], placed.size]
        for start, end in zip(starts, ends, strict=True):
            e = int(canonical[start])
            chain = np.r_[network.edge_from[e], n + placed[start:end], network.edge_to[e]]
            cut = np.r_[0.0, fraction[start:end], 1.0]
            step = np.diff(cut)
            directions = [(e, chain[:-1], chain[1:], cut[:-1], cut[1:])]
            t = int(network.edge_twin[e])
            if t >= 0:
                directions.append((t, chain[1:], chain[:-1], 1.0 - cut[1:], 1.0 - cut[:-1]))
            for road, frm, to, c0, c1 in directions:
                if not np.isfinite(network.edge_time_s[road]):
                    continue
                tails.append(frm)
                heads.append(to)
                times.append(step * network.edge_time_s[road])
                lengths.append(step * network.edge_length_m[road])
                base.append(np.full(step.size, road))
                f0.append(c0)
                f1.append(c1)

    all_tails = np.concatenate(tails).astype(np.int64)
    order = np.argsort(all_tails, kind="stable")
    node_total = n + anchors.edge_idx.size
    indptr = np.zeros(node_total + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_tails, minlength=node_total), out=indptr[1:])
    return _Augmented(
        indptr=indptr,
        heads=np.concatenate(heads).astype(np.int64)[order],
        tails=all_tails[order],
        time_s=np.concatenate(times)[order],
        length_m=np.concatenate(lengths)[order],
        base_edge=np.concatenate(base).astype(np.int64)[order],
        f0=np.concatenate(f0)[order],
        f1=np.concatenate(f1)[order],
        node_count=node_total,
    )


def _entries(
    network: RoadNetwork, anchors: Anchors, places: IntArray, *, outgoing: bool
) -> Entries:
    """Return how each of ``places`` (positions in ``anchors``) joins the network's junctions.

    Outgoing entries are legs from the place to a junction, incoming ones from a junction to the
    place; a place on a junction (see ``_JUNCTION_M``) has one zero-cost entry, an unreachable place
    none.
    """
    nodes: list[int] = []
    times: list[float] = []
    lengths: list[float] = []
    ptr = [0]
    for i in places.tolist():
        e = int(anchors.edge_idx[i])
        if e >= 0:
            f = float(anchors.fraction[i])
            length = float(network.edge_length_m[e])
            if f * length < _JUNCTION_M:
                legs = [(int(network.edge_from[e]), 0.0, 0.0)]
            elif (1.0 - f) * length < _JUNCTION_M:
                legs = [(int(network.edge_to[e]), 0.0, 0.0)]
            else:
                legs = []
                forward, twin = float(network.edge_time_s[e]), int(network.edge_twin[e])
                if np.isfinite(forward):
                    share = (1.0 - f) if outgoing else f
                    end = network.edge_to[e] if outgoing else network.edge_from[e]
                    legs.append((int(end), share * forward, share * length))
                if twin >= 0 and np.isfinite(network.edge_time_s[twin]):
                    share = f if outgoing else (1.0 - f)
                    end = network.edge_from[e] if outgoing else network.edge_to[e]
                    legs.append(
                        (
                            int(end),
                            share * float(network.edge_time_s[twin]),
                            share * float(network.edge_length_m[twin]),
                        )
                    )
            for node, seconds, metres in legs:
                nodes.append(node)
                times.append(seconds)
                lengths.append(metres)
        ptr.append(len(nodes))
    return Entries(
        np.array(ptr, dtype=np.int64),
        np.array(nodes, dtype=np.int64),
        np.array(times, dtype=np.float64),
        np.array(lengths, dtype=np.float64),
    )


def _same_road_shortcuts(
    network: RoadNetwork,
    anchors: Anchors,
    sources: IntArray,
    targets: IntArray,
    duration: FloatArray,
    distance: FloatArray,
) -> None:
    """Lower the pairs whose places share one road to the direct drive along it (in place)."""

    def canonical(points: IntArray) -> tuple[IntArray, FloatArray]:
        edge = anchors.edge_idx[points]
        twin = np.where(edge >= 0, network.edge_twin[np.maximum(edge, 0)], -1)
        flip = (twin >= 0) & (twin < edge)
        return np.where(flip, twin, edge), np.where(
            flip, 1.0 - anchors.fraction[points], anchors.fraction[points]
        )

    def mid_street(points: IntArray) -> npt.NDArray[np.bool_]:
        # Places on a junction join it directly: their entries already give the exact times.
        edge = np.maximum(anchors.edge_idx[points], 0)
        along = anchors.fraction[points] * network.edge_length_m[edge]
        return (
            (anchors.edge_idx[points] >= 0)
            & (along >= _JUNCTION_M)
            & (network.edge_length_m[edge] - along >= _JUNCTION_M)
        )

    s_edge, s_frac = canonical(sources)
    t_edge, t_frac = canonical(targets)
    s_edge = np.where(mid_street(sources), s_edge, -1)
    t_edge = np.where(mid_street(targets), t_edge, -2)
    for road in np.intersect1d(s_edge[s_edge >= 0], t_edge[t_edge >= 0]).tolist():
        rows, cols = np.flatnonzero(s_edge == road), np.flatnonzero(t_edge == road)
        ahead = t_frac[cols][None, :] - s_frac[rows][:, None]
        time_s = np.full(ahead.shape, np.inf)
        length_m = np.full(ahead.shape, np.inf)
        if np.isfinite(network.edge_time_s[road]):
            ok = ahead >= 0
            time_s[ok] = ahead[ok] * network.edge_time_s[road]
            length_m[ok] = ahead[ok] * network.edge_length_m[road]
        twin = int(network.edge_twin[road])
        if twin >= 0 and np.isfinite(network.edge_time_s[twin]):
            back = -ahead * network.edge_time_s[twin]
            better = (ahead <= 0) & (back < time_s)
            time_s[better] = back[better]
            length_m[better] = -ahead[better] * network.edge_length_m[twin]
        block = np.ix_(rows, cols)
        improve = time_s < duration[block]
        duration[block] = np.where(improve, time_s, duration[block])
        distance[block] = np.where(improve, length_m, distance[block])


def _search_cch(
    network: RoadNetwork,
    anchors: Anchors,
    sources: IntArray,
    targets: IntArray,
) -> tuple[FloatArray, FloatArray]:
    from routing.hierarchy import many_to_many

    hierarchy, metric = network.contraction_hierarchy()
    duration, distance = many_to_many(
        hierarchy,
        metric,
        _entries(network, anchors, sources, outgoing=True),
        _entries(network, anchors, targets, outgoing=False),
    )
    _same_road_shortcuts(network, anchors, sources, targets, duration, distance)
    return duration, distance


def _scipy_graph(aug: _Augmented) -> tuple[object, IntArray]:
    """Return a CSR matrix keeping the fastest of parallel edges, and the kept edges' positions."""
    from scipy.sparse import csr_matrix

    order = np.lexsort((aug.time_s, aug.heads, aug.tails))
    keep = order[np.r_[True, (np.diff(aug.tails[order]) != 0) | (np.diff(aug.heads[order]) != 0)]]
    # csgraph drops explicit zeros; a zero-length split edge must stay an edge.
    weights = np.maximum(aug.time_s[keep], 1e-9)
    matrix = csr_matrix(
        (weights, (aug.tails[keep], aug.heads[keep])), shape=(aug.node_count, aug.node_count)
    )
    lookup = csr_matrix(
        (keep + 1, (aug.tails[keep], aug.heads[keep])), shape=(aug.node_count, aug.node_count)
    )
    return matrix, lookup


def _search(
    aug: _Augmented,
    sources: IntArray,
    targets: IntArray,
    backend: str,
) -> tuple[FloatArray, FloatArray]:
    if backend == "numba":
        from routing._dijkstra import many_to_many

        return many_to_many(aug.indptr, aug.heads, aug.time_s, aug.length_m, sources, targets)
    from scipy.sparse.csgraph import dijkstra

    matrix, lookup = _scipy_graph(aug)
    unique_sources, inverse = np.unique(sources, return_inverse=True)
    times, predecessors = dijkstra(matrix, indices=unique_sources, return_predecessors=True)
    duration = times[np.ix_(inverse, targets)] if sources.size else np.empty((0, targets.size))
    # Lengths of the fastest paths: walk every (source, target) pair back along the predecessors.
    distance = np.zeros(duration.shape)
    rows = np.repeat(inverse, targets.size).reshape(duration.shape)
    current = np.broadcast_to(targets, duration.shape).copy()
    active = np.isfinite(duration) & (current != unique_sources[rows])
    while active.any():
        r, c = np.nonzero(active)
        node = current[r, c]
        prev = predecessors[rows[r, c], node]
        edge = np.asarray(lookup[prev, node]).ravel() - 1
        distance[r, c] += aug.length_m[edge]
        current[r, c] = prev
        active[r, c] = prev != unique_sources[rows[r, c]]
    distance[~np.isfinite(duration)] = np.inf
    return duration, distance


def _access_points(
    places: Sequence[Place], gateways: Sequence[Gateway]
) -> tuple[list[Place], IntArray, FloatArray, FloatArray, list[str | None]]:
    """Expand places into the points actually snapped: the place itself, or its gateways.

    Returns the points, the place each point belongs to, the extra seconds and metres to add, and
    the gateway id of each point (None for direct points).
    """
    # A place without gateway links is snapped directly: one point, nothing extra.
    direct: list[tuple[Gateway | None, float, float]] = [(None, 0.0, 0.0)]
    links: dict[str, list[tuple[Gateway | None, float, float]]] = {}
    for gateway in gateways:
        for place_id, link in gateway.links.items():
            link_m = link.extra_m if link.extra_m is not None else 0.0
            links.setdefault(place_id, []).append((gateway, link.extra_s, link_m))
    points: list[Place] = []
    owner: list[int] = []
    extra_s: list[float] = []
    extra_m: list[float] = []
    via: list[str | None] = []
    for i, place in enumerate(places):
        for via_gateway, seconds, metres in links.get(place.place_id, direct):
            if via_gateway is None:
                points.append(place)
                via.append(None)
            else:
                points.append(
                    Place(
                        f"{place.place_id}@{via_gateway.gateway_id}",
                        via_gateway.lon,
                        via_gateway.lat,
                    )
                )
                via.append(via_gateway.gateway_id)
            owner.append(i)
            extra_s.append(seconds)
            extra_m.append(metres)
    return points, np.array(owner, dtype=np.int64), np.array(extra_s), np.array(extra_m), via


def _place_snaps(
    places: Sequence[Place], point_snaps: list[SnapResult], owner: IntArray, via: list[str | None]
) -> dict[str, SnapResult]:
    snaps: dict[str, SnapResult] = {}
    for i, place in enumerate(places):
        mine = [k for k in np.flatnonzero(owner == i)]
        if via[mine[0]] is None:
            snaps[place.place_id] = point_snaps[mine[0]]
            continue
        usable = [k for k in mine if point_snaps[k].reachable]
        best = usable[0] if usable else mine[0]
        gateway_snap = point_snaps[best]
        snaps[place.place_id] = SnapResult(
            place.place_id,
            place.lon,
            place.lat,
            bool(usable),
            gateway_snap.snap_distance_m,
            gateway_snap.snapped_lon,
            gateway_snap.snapped_lat,
            gateway_snap.road_name,
            gateway_id=via[best],
            reason="" if usable else f"no gateway reaches the network: {gateway_snap.reason}",
        )
    return snaps


def _reduce_min(
    duration: FloatArray,
    distance: FloatArray,
    groups: IntArray,
    count: int,
    axis: int,
) -> tuple[FloatArray, FloatArray]:
    """Keep, per group of rows (axis 0) or columns (axis 1), the fastest entry and its distance."""
    if groups.size == count and np.array_equal(groups, np.arange(count)):
        return duration, distance
    d = duration if axis == 0 else duration.T
    m = distance if axis == 0 else distance.T
    out_d = np.full((count, d.shape[1]), np.inf)
    out_m = np.full((count, d.shape[1]), np.inf)
    for g in range(count):
        rows = np.flatnonzero(groups == g)
        best = rows[np.argmin(d[rows], axis=0)]
        cols = np.arange(d.shape[1])
        out_d[g] = d[best, cols]
        out_m[g] = m[best, cols]
    return (out_d, out_m) if axis == 0 else (out_d.T, out_m.T)


def travel_time_matrix(
    network: RoadNetwork,
    origins: Sequence[Place],
    destinations: Sequence[Place],
    *,
    gateways: Sequence[Gateway] = (),
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    backend: Backend = "auto",
    profile: str | VehicleProfile = GENERAL,
    cache: bool = False,
) -> TravelMatrix:
    """Compute road travel times (s) and distances (m) from every origin to every destination.

    Parameters
    ----------
    network
        The road network (with any closures already applied).
    origins, destinations
        Places with unique ids within each list (WGS84).
    gateways
        Gateways through which places outside the map are reached (see :class:`Gateway`).
    max_snap_m
        Places farther than this from any road are unreachable (default 2 km).
    backend
        ``"cch"`` (contraction hierarchy, the fastest), ``"numba"`` (compiled parallel Dijkstra),
        ``"scipy"`` (``scipy.sparse.csgraph``), or ``"auto"`` (default: ``"cch"`` when its orderer
        is installed, else ``"numba"``). All are exact; distances are those of the fastest path.
    profile
        ``"general"`` (default: the network's own times), ``"tanker"`` (a loaded cryogenic
        tanker) or a :class:`routing.profiles.VehicleProfile`; a place whose nearest road the
        profile may not use is unreachable, with the reason.
    cache
        True keeps the answer (read-only arrays) and returns it again for the same profile,
        travel times, places, gateways and settings; False (default) always computes.

    Returns
    -------
    TravelMatrix
        ``inf`` for every pair involving an unreachable place or with no road path; ``snaps`` says
        why.

    Raises
    ------
    InvalidInputError
        If a list is empty, has duplicate ids, the backend or the profile is unknown.
    """
    validate_places(origins, "origins")
    validate_places(destinations, "destinations")
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    network = network_for_profile(network, profile)
    if not cache:
        return _matrix(network, origins, destinations, gateways, max_snap_m, backend)
    key = (
        network.profile,
        network.time_digest(),
        tuple((p.place_id, p.lon, p.lat) for p in origins),
        tuple((p.place_id, p.lon, p.lat) for p in destinations),
        repr(tuple(gateways)),
        float(max_snap_m),
        backend,
    )
    kept: dict[tuple[object, ...], TravelMatrix] = network._shared.setdefault("matrices", {})
    matrix = kept.get(key)
    if matrix is None:
        matrix = _matrix(network, origins, destinations, gateways, max_snap_m, backend)
        if len(kept) >= _KEPT_MATRICES:
            kept.pop(next(iter(kept)))
        kept[key] = matrix
    return matrix


def _matrix(
    network: RoadNetwork,
    origins: Sequence[Place],
    destinations: Sequence[Place],
    gateways: Sequence[Gateway],
    max_snap_m: float,
    backend: str,
) -> TravelMatrix:
    """Compute a matrix on ``network`` as it is (its profile already applied)."""
    o_points, o_owner, o_extra_s, o_extra_m, o_via = _access_points(origins, gateways)
    d_points, d_owner, d_extra_s, d_extra_m, d_via = _access_points(destinations, gateways)
    point_snaps, anchors = snap_places(network, [*o_points, *d_points], max_snap_m=max_snap_m)
    if backend == "auto":
        backend = "cch" if hierarchy_available() else "numba"
    o_all = np.arange(len(o_points))
    d_all = len(o_points) + np.arange(len(d_points))
    o_ok = anchors.edge_idx[o_all] >= 0
    d_ok = anchors.edge_idx[d_all] >= 0

    if o_ok.any() and d_ok.any():
        if backend == "cch":
            t, m = _search_cch(network, anchors, o_all[o_ok], d_all[d_ok])
        else:
            nodes = network.node_count + np.arange(len(o_points) + len(d_points))
            t, m = _search(
                _augment(network, anchors), nodes[o_all[o_ok]], nodes[d_all[d_ok]], backend
            )
    if o_ok.all() and d_ok.all():
        duration, distance = t, m
    else:
        duration = np.full((len(o_points), len(d_points)), np.inf)
        distance = np.full_like(duration, np.inf)
        if o_ok.any() and d_ok.any():
            duration[np.ix_(o_ok, d_ok)] = t
            distance[np.ix_(o_ok, d_ok)] = m
    duration += o_extra_s[:, None] + d_extra_s[None, :]
    distance += o_extra_m[:, None] + d_extra_m[None, :]
    duration, distance = _reduce_min(duration, distance, o_owner, len(origins), axis=0)
    duration, distance = _reduce_min(duration, distance, d_owner, len(destinations), axis=1)
    snaps = _place_snaps(origins, point_snaps[: len(o_points)], o_owner, o_via)
    snaps.update(_place_snaps(destinations, point_snaps[len(o_points) :], d_owner, d_via))
    # A place is at zero distance from itself (also when reached through a gateway).
    column = {d.place_id: j for j, d in enumerate(destinations)}
    for i, origin in enumerate(origins):
        j = column.get(origin.place_id)
        if j is not None and np.isfinite(duration[i, j]):
            duration[i, j] = distance[i, j] = 0.0
    return TravelMatrix(
        origin_ids=tuple(p.place_id for p in origins),
        destination_ids=tuple(p.place_id for p in destinations),
        duration_s=duration,
        distance_m=distance,
        snaps=snaps,
    )


def _edge_stretch(
    network: RoadNetwork, edge: int, f0: float, f1: float
) -> list[tuple[float, float]]:
    """Return the part of an edge's geometry between two fractions of its length, as (lon, lat)."""
    geometry = network.geometry
    start, end = int(network.geom_offsets[edge]), int(network.geom_offsets[edge + 1])
    lon = network.geom_lon[start:end]
    lat = network.geom_lat[start:end]
    cum = geometry.cum_m[start:end] - geometry.cum_m[start]
    total = cum[-1]
    if total <= 0:
        return [(float(lon[0]), float(lat[0])), (float(lon[-1]), float(lat[-1]))]
    at = np.array([f0, f1]) * total
    inner = np.flatnonzero((cum > at[0]) & (cum < at[1]))
    out_lon = np.r_[np.interp(at[0], cum, lon), lon[inner], np.interp(at[1], cum, lon)]
    out_lat = np.r_[np.interp(at[0], cum, lat), lat[inner], np.interp(at[1], cum, lat)]
    return list(zip(out_lon.tolist(), out_lat.tolist(), strict=True))


def road_path(
    network: RoadNetwork,
    origin: Place,
    destination: Place,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    profile: str | VehicleProfile = GENERAL,
) -> RoadPath:
    """Return the fastest road path between two places, with its geometry, time and length.

    ``profile`` is the vehicle profile driving it (see :func:`travel_time_matrix`).

    Raises
    ------
    NoRouteError
        If a place cannot be snapped (the reason is given) or no road path joins them.
    InvalidInputError
        If the profile is unknown.
    """
    network = network_for_profile(network, profile)
    snaps, anchors = snap_places(network, [origin, destination], max_snap_m=max_snap_m)
    for snap in snaps:
        if not snap.reachable:
            raise NoRouteError(f"place {snap.place_id!r} is unreachable: {snap.reason}")
    from scipy.sparse.csgraph import dijkstra

    aug = _augment(network, anchors)
    matrix, lookup = _scipy_graph(aug)
    source, target = network.node_count, network.node_count + 1
    times, predecessors = dijkstra(matrix, indices=source, return_predecessors=True)
    if not np.isfinite(times[target]):
        raise NoRouteError(
            f"no road path from {origin.place_id!r} to {destination.place_id!r} in {network.name} "
            f"(changes: {', '.join(network.changes) or 'none'})"
        )
    hops: list[int] = []
    node = target
    while node != source:
        prev = int(predecessors[node])
        hops.append(int(lookup[prev, node]) - 1)
        node = prev
    hops.reverse()
    coordinates: list[tuple[float, float]] = []
    names: list[str] = []
    distance_m = 0.0
    duration_s = 0.0
    for k in hops:
        if aug.f1[k] > aug.f0[k]:  # junction connectors have no extent
            stretch = _edge_stretch(
                network, int(aug.base_edge[k]), float(aug.f0[k]), float(aug.f1[k])
            )
            coordinates.extend(stretch if not coordinates else stretch[1:])
        distance_m += float(aug.length_m[k])
        duration_s += float(aug.time_s[k])
        label = network.edge_label(int(aug.base_edge[k]))
        if label and (not names or names[-1] != label):
            names.append(label)
    if len(coordinates) < 2:  # origin and destination snapped to the same point
        point = (snaps[0].snapped_lon or origin.lon, snaps[0].snapped_lat or origin.lat)
        coordinates = [point, point]
    return RoadPath(snaps[0], snaps[1], duration_s, distance_m, tuple(coordinates), tuple(names))
