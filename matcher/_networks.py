"""Build the allocation's min-cost-flow networks as arc arrays: one per day, or one per horizon.

Arc costs come from :mod:`matcher.objective`: transport at the travel time, overnight storage at
:data:`~matcher.objective.CARRY_COST_PER_DAY`, unmet demand at ``priority x penalty_unit``. The
transport arcs are the first arcs of a network and the unmet-demand arcs the last, so a solved
flow is read back by position (:class:`Network`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher._scaling import Scaled
from matcher.objective import CARRY_COST_PER_DAY, transport_cost, unmet_cost

Arcs = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
"""Supplier, facility and product of each candidate transport arc, in ``np.nonzero`` order."""


@dataclass(frozen=True, slots=True)
class Network:
    """Arc arrays of one min-cost-flow network and what its transport and unmet arcs mean."""

    tails: npt.NDArray[np.int64]
    heads: npt.NDArray[np.int64]
    caps: npt.NDArray[np.int64]
    costs: npt.NDArray[np.int64]
    supplies: npt.NDArray[np.int64]
    # Transport arcs are arcs [0, n_transport): supplier, facility, product, day of each.
    t_s: npt.NDArray[np.int64]
    t_f: npt.NDArray[np.int64]
    t_p: npt.NDArray[np.int64]
    t_d: npt.NDArray[np.int64]
    # Unmet arcs are the last n_unmet arcs: facility and day of each.
    u_f: npt.NDArray[np.int64]
    u_d: npt.NDArray[np.int64]

    @property
    def first_unmet(self) -> int:
        """Position of the first unmet-demand arc (they are the last arcs)."""
        return len(self.tails) - len(self.u_f)


@dataclass(frozen=True, slots=True)
class TransportArcs:
    """Supplier, facility, product and day of each transport quantity of a solution."""

    s: npt.NDArray[np.int64]
    f: npt.NDArray[np.int64]
    p: npt.NDArray[np.int64]
    d: npt.NDArray[np.int64]


def usable_arcs(usable: npt.NDArray[np.bool_]) -> Arcs:
    """List the arcs of an (S, F, P) mask once, so that each day only filters them."""
    s, f, p = np.nonzero(usable)
    return s.astype(np.int64), f.astype(np.int64), p.astype(np.int64)


def build_day_network(scaled: Scaled, day: int, arcs: Arcs) -> Network:
    """Build the compact min-cost-flow network of one independent day.

    Nodes: an unmet-demand source ``U`` (supply = the day's demand), a sink ``T`` (takes every
    supplier's unused capacity), one node per supplier-product with capacity (supply = the
    capacity), one node per facility with demand (supply = -demand) and a receiving node only for
    the facility-products whose receiving limit is below the day's demand (elsewhere the limit
    cannot bind). Arcs: transport, receiving (capped by the limit), unused capacity (to ``T``),
    ``U -> T`` (demand that is served) and, last, the unmet-demand arcs ``U -> facility``.
    Compared with a source/sink layout this drops about 20,000 nodes a day on the national
    instance, which cut the solve by a quarter; the optimum is the same flow problem.
    """
    n_s, n_f, n_p = scaled.usable.shape
    demand = scaled.demand_q[:, day]
    capacity = scaled.capacity_q[:, :, day]
    limit = scaled.limit_q
    a_s, a_f, a_p = arcs
    live = (capacity[a_s, a_p] > 0) & (demand[a_f] > 0)
    t_s, t_f, t_p = a_s[live], a_f[live], a_p[live]
    s_live, p_live = np.nonzero(capacity > 0)
    f_live = np.nonzero(demand > 0)[0]
    sup_node = np.full((n_s, n_p), -1, np.int64)
    sup_node[s_live, p_live] = 2 + np.arange(len(s_live))
    fac_base = 2 + len(s_live)
    fac_node = np.full(n_f, -1, np.int64)
    fac_node[f_live] = fac_base + np.arange(len(f_live))
    has_arc = np.zeros((n_f, n_p), bool)
    has_arc[t_f, t_p] = True
    r_f, r_p = np.nonzero(has_arc & (limit < demand[:, None]))
    rec_node = np.full((n_f, n_p), -1, np.int64)
    rec_node[r_f, r_p] = fac_base + len(f_live) + np.arange(len(r_f))
    n_nodes = fac_base + len(f_live) + len(r_f)
    into = rec_node[t_f, t_p]
    total_demand = int(demand.sum())
    tails = np.concatenate(
        [
            sup_node[t_s, t_p],
            rec_node[r_f, r_p],
            sup_node[s_live, p_live],
            np.zeros(1, np.int64),
            np.zeros(len(f_live), np.int64),
        ]
    )
    heads = np.concatenate(
        [
            np.where(into >= 0, into, fac_node[t_f]),
            fac_node[r_f],
            np.ones(len(s_live), np.int64),
            np.ones(1, np.int64),
            fac_node[f_live],
        ]
    )
    caps = np.concatenate(
        [
            np.minimum(demand[t_f], limit[t_f, t_p]),
            limit[r_f, r_p],
            capacity[s_live, p_live],
            np.array([total_demand], np.int64),
            demand[f_live],
        ]
    )
    costs = np.concatenate(
        [
            transport_cost(scaled.travel_s[t_s, t_f]),
            np.zeros(len(r_f) + len(s_live) + 1, np.int64),
            unmet_cost(scaled.weight[f_live], scaled.penalty_unit),
        ]
    )
    supplies = np.zeros(n_nodes, np.int64)
    supplies[0] = total_demand
    supplies[1] = -int(capacity[s_live, p_live].sum())
    supplies[sup_node[s_live, p_live]] = capacity[s_live, p_live]
    supplies[fac_node[f_live]] = -demand[f_live]
    return Network(
        tails=tails,
        heads=heads,
        caps=caps,
        costs=costs,
        supplies=supplies,
        t_s=t_s.astype(np.int64),
        t_f=t_f.astype(np.int64),
        t_p=t_p.astype(np.int64),
        t_d=np.full(len(t_s), day, np.int64),
        u_f=f_live.astype(np.int64),
        u_d=np.full(len(f_live), day, np.int64),
    )


class _ArcLists:
    """Arcs added in groups (tails, heads, capacities, costs broadcast to the tails' shape)."""

    def __init__(self) -> None:
        self.tails: list[npt.NDArray[np.int64]] = []
        self.heads: list[npt.NDArray[np.int64]] = []
        self.caps: list[npt.NDArray[np.int64]] = []
        self.costs: list[npt.NDArray[np.int64]] = []

    def add(self, t: Any, h: Any, c: Any, w: Any) -> None:
        """Append a group of arcs; heads, capacities and costs may be scalars."""
        t = np.asarray(t, np.int64)
        self.tails.append(t)
        self.heads.append(np.broadcast_to(np.asarray(h, np.int64), t.shape).copy())
        self.caps.append(np.broadcast_to(np.asarray(c, np.int64), t.shape).copy())
        self.costs.append(np.broadcast_to(np.asarray(w, np.int64), t.shape).copy())


@dataclass(frozen=True, slots=True)
class _HorizonNodes:
    """Node numbers of the horizon network: source 0, sink 1, then four blocks by day."""

    n_s: int
    n_f: int
    n_p: int
    n_k: int

    @property
    def rec_base(self) -> int:
        return 2 + self.n_s * self.n_p * self.n_k

    @property
    def hold_base(self) -> int:
        return self.rec_base + self.n_f * self.n_p * self.n_k

    @property
    def dem_base(self) -> int:
        return self.hold_base + self.n_f * self.n_p * self.n_k

    @property
    def count(self) -> int:
        return self.dem_base + self.n_f * self.n_k

    def sup(self, s: Any, p: Any, k: Any) -> Any:
        """Supplier-product node on day ``k``."""
        return 2 + (s * self.n_p + p) * self.n_k + k

    def rec(self, f: Any, p: Any, k: Any) -> Any:
        """Receiving node of a facility-product on day ``k`` (capped by the receiving limit)."""
        return self.rec_base + (f * self.n_p + p) * self.n_k + k

    def hold(self, f: Any, p: Any, k: Any) -> Any:
        """Stock of a facility-product on day ``k`` (carried to ``k + 1``)."""
        return self.hold_base + (f * self.n_p + p) * self.n_k + k

    def dem(self, f: Any, k: Any) -> Any:
        """Demand node of a facility on day ``k``."""
        return self.dem_base + f * self.n_k + k


def build_horizon_network(scaled: Scaled, usable: npt.NDArray[np.bool_]) -> Network:
    """Build the coupled min-cost-flow network of the whole horizon (carry-over mode)."""
    n_s, n_f, n_p = scaled.usable.shape
    n_k = scaled.demand_q.shape[1]
    source, sink = 0, 1
    node = _HorizonNodes(n_s, n_f, n_p, n_k)
    demand = scaled.demand_q
    # A facility may receive on day k for any later day; the most it can use is its remaining
    # demand from k on.
    need_from = np.cumsum(demand[:, ::-1], axis=1)[:, ::-1]
    arcs = _ArcLists()
    # Transport arcs (first, so their positions are known): supplier -> facility receive node.
    day_usable = usable[:, :, :, None] if usable.ndim == 3 else np.moveaxis(usable, 0, -1)
    mask = day_usable & (scaled.capacity_q > 0)[:, None, :, :] & (need_from > 0)[None, :, None, :]
    t_s, t_f, t_p, t_k = np.nonzero(mask)
    arcs.add(
        node.sup(t_s, t_p, t_k),
        node.rec(t_f, t_p, t_k),
        np.minimum(need_from[t_f, t_k], scaled.limit_q[t_f, t_p]),
        transport_cost(scaled.travel_s[t_s, t_f]),
    )
    s_all, p_all, k_all = np.nonzero(scaled.capacity_q > 0)
    arcs.add(
        np.full(len(s_all), source),
        node.sup(s_all, p_all, k_all),
        scaled.capacity_q[s_all, p_all, k_all],
        0,
    )
    has_arc = np.zeros((n_f, n_p, n_k), bool)
    has_arc[t_f, t_p, t_k] = True
    r_f, r_p, r_k = np.nonzero(has_arc)
    arcs.add(node.rec(r_f, r_p, r_k), node.hold(r_f, r_p, r_k), scaled.limit_q[r_f, r_p], 0)
    # Holding node -> demand node, and overnight storage (capped by the same limit).
    h_f, h_p, h_k = np.nonzero(np.ones((n_f, n_p, n_k), bool))
    arcs.add(node.hold(h_f, h_p, h_k), node.dem(h_f, h_k), demand[h_f, h_k], 0)
    c_f, c_p, c_k = np.nonzero(np.ones((n_f, n_p, n_k - 1), bool))
    arcs.add(
        node.hold(c_f, c_p, c_k),
        node.hold(c_f, c_p, c_k + 1),
        scaled.limit_q[c_f, c_p],
        CARRY_COST_PER_DAY,
    )
    # Demand node -> sink, and the unmet-demand penalty arcs source -> demand node (last).
    d_f, d_k = np.nonzero(demand > 0)
    arcs.add(node.dem(d_f, d_k), np.full(len(d_f), sink), demand[d_f, d_k], 0)
    arcs.add(
        np.full(len(d_f), source),
        node.dem(d_f, d_k),
        demand[d_f, d_k],
        unmet_cost(scaled.weight[d_f], scaled.penalty_unit),
    )
    supplies = np.zeros(node.count, np.int64)
    total = int(demand.sum())
    supplies[source], supplies[sink] = total, -total
    return Network(
        tails=np.concatenate(arcs.tails),
        heads=np.concatenate(arcs.heads),
        caps=np.concatenate(arcs.caps),
        costs=np.concatenate(arcs.costs),
        supplies=supplies,
        t_s=t_s.astype(np.int64),
        t_f=t_f.astype(np.int64),
        t_p=t_p.astype(np.int64),
        t_d=t_k.astype(np.int64),
        u_f=d_f.astype(np.int64),
        u_d=d_k.astype(np.int64),
    )


def build_networks(
    scaled: Scaled, usable: npt.NDArray[np.bool_], carry_over: bool
) -> list[Network]:
    """Build one network per independent day, or one coupled network with carry-over.

    ``usable`` is (S, F, P), the same every day, or, with carry-over only, (D, S, F, P).
    """
    if carry_over:
        return [build_horizon_network(scaled, usable)]
    arcs = usable_arcs(usable)
    return [build_day_network(scaled, day, arcs) for day in range(scaled.demand_q.shape[1])]


def concat_transport(arcs: Sequence[TransportArcs]) -> TransportArcs:
    """Concatenate the transport arcs of several networks."""
    return TransportArcs(
        s=np.concatenate([a.s for a in arcs]),
        f=np.concatenate([a.f for a in arcs]),
        p=np.concatenate([a.p for a in arcs]),
        d=np.concatenate([a.d for a in arcs]),
    )


def subnetwork(network: Network, transport: npt.NDArray[np.bool_]) -> Network:
    """Keep the marked transport arcs of a network and all its other arcs (same nodes)."""
    n_t = len(network.t_s)
    keep = np.concatenate([np.nonzero(transport)[0], np.arange(n_t, len(network.tails))])
    return dataclasses.replace(
        network,
        tails=network.tails[keep],
        heads=network.heads[keep],
        caps=network.caps[keep],
        costs=network.costs[keep],
        t_s=network.t_s[transport],
        t_f=network.t_f[transport],
        t_p=network.t_p[transport],
        t_d=network.t_d[transport],
    )
