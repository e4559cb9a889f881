"""Choose one supplier per facility-product (single sourcing) from a relaxed flow.

Items that the relaxation serves from one supplier keep it; the items it splits are decided by a
small MIP (SCIP, per day) or placed greedily (over the horizon); items without relaxed flow get
their nearest usable supplier; a local search on the suppliers' overloads then repairs the
assignment (:mod:`matcher._assignment`). The exact min-cost flow restricted to the chosen arcs
decides the quantities (:mod:`matcher._single_sourcing`).

OR-Tools, SciPy and the numba-compiled searches are imported where they are used, so that
``import matcher`` does not load them (see :mod:`matcher`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from data.schema.allocation import PRODUCTS, AllocationOptions
from matcher._networks import Arcs, usable_arcs
from matcher._scaling import Scaled
from matcher._solving import Solution
from matcher.objective import delivery_cost_in_penalty_units, unmet_weight

_SOURCE_SEARCH_PASSES = 50
_MAX_PRIORITY_CLASSES = 64
# The weighted search keeps each supplier-day's need per priority class; with more distinct
# priorities than this (memory: suppliers x products x days x classes) it is skipped.


@dataclass(frozen=True, slots=True)
class SourceIndex:
    """What choosing single sources needs on every day, computed once per problem.

    Items are the facility-products with a usable supplier (``np.nonzero`` order of the (F, P)
    mask); pairs are every usable (item, supplier), nearest first within each item.
    """

    items_f: npt.NDArray[np.int64]
    items_p: npt.NDArray[np.int64]
    nearest: npt.NDArray[np.int64]  # nearest usable supplier of each item
    pair_item: npt.NDArray[np.int64]
    pair_s: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DayArcs:
    """Every day's candidate transport arcs, their order by item, and the source index."""

    arcs: Arcs
    by_item: npt.NDArray[np.int64]  # arc positions by facility, product, travel time, supplier
    sources: SourceIndex


def list_day_arcs(scaled: Scaled) -> DayArcs:
    """List the usable arcs once, sorted by item and travel time, with the source index."""
    a_s, a_f, a_p = arcs = usable_arcs(scaled.usable)
    by_item = np.lexsort((a_s, scaled.travel_s[a_s, a_f], a_p, a_f))
    # Items in np.nonzero order of the (F, P) mask, which is the order of ``by_item`` too.
    item_key = a_f[by_item] * len(PRODUCTS) + a_p[by_item]
    starts = np.ones(len(by_item), bool)
    starts[1:] = item_key[1:] != item_key[:-1]
    first = by_item[starts]  # each item's nearest arc
    sources = SourceIndex(
        items_f=a_f[first],
        items_p=a_p[first],
        nearest=a_s[first],
        pair_item=np.cumsum(starts) - 1,
        pair_s=a_s[by_item],
    )
    return DayArcs(arcs, by_item, sources)


@dataclass(frozen=True, slots=True)
class _RelaxedPairs:
    """The relaxed flow's positive arcs by item, and its distinct (item, supplier) pairs."""

    n_items: int
    a_s: npt.NDArray[np.int64]
    a_p: npt.NDArray[np.int64]
    a_d: npt.NDArray[np.int64]
    a_q: npt.NDArray[np.float64]
    item: npt.NDArray[np.int64]  # item of each positive arc
    pair_of_arc: npt.NDArray[np.int64]
    pair_item: npt.NDArray[np.int64]
    pair_s: npt.NDArray[np.int64]
    carried: npt.NDArray[np.float64]  # how much each pair carried


@dataclass(frozen=True, slots=True)
class _SplitItems:
    """Items the relaxation splits between suppliers, and their candidate suppliers."""

    items: npt.NDArray[np.int64]
    f: npt.NDArray[np.int64]
    p: npt.NDArray[np.int64]
    need: npt.NDArray[np.float64]  # (I, D): what each may receive per day
    c_item: npt.NDArray[np.int64]  # candidates: (item, supplier) pairs that carried it
    c_s: npt.NDArray[np.int64]
    c_carried: npt.NDArray[np.float64]
    residual: npt.NDArray[np.float64]  # (S, P, D): capacity the single-pair items leave


def choose_single_sources(
    scaled: Scaled, relaxed: Solution, options: AllocationOptions, sources: SourceIndex
) -> npt.NDArray[np.int64]:
    """Pick one supplier per facility-product (and day) from the relaxed flow.

    Returns the supplier of each facility-product, -1 where none is usable: (1, F, P) with
    ``single_sourcing_scope="horizon"``, (D, F, P) with ``"day"``. An item (a facility-product,
    or a facility-product-day) that the relaxation serves from one supplier keeps it and its
    relaxed flows, which are taken out of the suppliers' capacities. The items the relaxation
    splits between suppliers are decided on the residual capacities:

    - per day, a basic optimal flow splits at most about one item per supplier (national
      instance: about 90 a day of 13,000), so a small MIP (SCIP) over the suppliers that carried
      each split item decides them exactly: one supplier each, as much priority-weighted demand
      as possible, then the least travel;
    - over the horizon, the daily optima alternate suppliers for many more items (about 2,400 of
      13,000, too many for the MIP within a second or two); they are placed greedily in order of
      priority and size on a supplier that can still carry their whole relaxed flow on every
      day, preferring the one that carried most of it, then the nearest.

    An item without relaxed flow gets its nearest usable supplier, so the final re-solve can give
    it capacity that the others leave.
    """
    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    per_day = options.single_sourcing_scope == "day"
    pairs = _relaxed_pairs(relaxed, n_s, n_f, n_p, n_d, per_day)
    n_sources = np.bincount(pairs.pair_item, minlength=pairs.n_items)
    chosen = np.full(pairs.n_items, -1, np.int64)
    single_pair = n_sources[pairs.pair_item] == 1
    chosen[pairs.pair_item[single_pair]] = pairs.pair_s[single_pair]
    split_items = np.nonzero(n_sources > 1)[0]
    if len(split_items):
        split = _split_items(scaled, relaxed, options, pairs, single_pair, split_items)
        picked = _solve_split_mip(scaled, split, options) if per_day else None
        if picked is None:
            picked = _place_split_greedily(scaled, split)
        chosen[split_items] = picked
    # Items without relaxed flow: the nearest usable supplier.
    if per_day:
        chosen_dfp = chosen.reshape(n_f, n_p, n_d).transpose(2, 0, 1)  # (D, F, P)
    else:
        chosen_dfp = chosen.reshape(1, n_f, n_p)
    f_none, p_none = sources.items_f, sources.items_p
    for block in chosen_dfp:
        unset = block[f_none, p_none] < 0
        block[f_none[unset], p_none[unset]] = sources.nearest[unset]
    if not options.carry_over and len(chosen_dfp) == 1:
        _improve_sources(scaled, relaxed, chosen_dfp[0], sources)
    return chosen_dfp


def _relaxed_pairs(
    relaxed: Solution, n_s: int, n_f: int, n_p: int, n_d: int, per_day: bool
) -> _RelaxedPairs:
    """Group the relaxed flow's positive arcs by item and by distinct (item, supplier) pair."""
    arcs = relaxed.arcs
    positive = relaxed.transport_q > 0
    a_s, a_f, a_p, a_d = arcs.s[positive], arcs.f[positive], arcs.p[positive], arcs.d[positive]
    a_q = relaxed.transport_q[positive]
    item = (a_f * n_p + a_p) * n_d + a_d if per_day else a_f * n_p + a_p
    pairs, pair_of_arc = np.unique(item * n_s + a_s, return_inverse=True)
    return _RelaxedPairs(
        n_items=n_f * n_p * (n_d if per_day else 1),
        a_s=a_s,
        a_p=a_p,
        a_d=a_d,
        a_q=a_q,
        item=item,
        pair_of_arc=pair_of_arc,
        pair_item=pairs // n_s,
        pair_s=pairs % n_s,
        carried=np.asarray(np.bincount(pair_of_arc, weights=a_q, minlength=len(pairs)), np.float64),
    )


def _split_items(
    scaled: Scaled,
    relaxed: Solution,
    options: AllocationOptions,
    pairs: _RelaxedPairs,
    single_pair: npt.NDArray[np.bool_],
    split_items: npt.NDArray[np.int64],
) -> _SplitItems:
    """Describe the split items: their needs, candidates and the residual capacities."""
    n_p = scaled.usable.shape[2]
    n_d = scaled.demand_q.shape[1]
    per_day = options.single_sourcing_scope == "day"
    residual = scaled.capacity_q.astype(np.float64).copy()  # (S, P, D)
    fixed = single_pair[pairs.pair_of_arc]
    np.subtract.at(
        residual, (pairs.a_s[fixed], pairs.a_p[fixed], pairs.a_d[fixed]), pairs.a_q[fixed]
    )
    split_fp = split_items // n_d if per_day else split_items
    split_f, split_p = split_fp // n_p, split_fp % n_p
    # What each split item may receive per day: its relaxed delivery plus the unmet demand
    # of its facility that day (freed capacity may serve it), within the receiving limit.
    delivered = np.zeros((pairs.n_items, n_d))
    np.add.at(delivered, (pairs.item, pairs.a_d), pairs.a_q)
    need = delivered[split_items]
    if not options.carry_over:
        unmet = relaxed.unmet_q[split_f]
        if per_day:
            unmet = unmet * (np.arange(n_d)[None, :] == (split_items % n_d)[:, None])
        need = need + unmet
    need = np.minimum(need, scaled.limit_q[split_f, split_p][:, None])
    candidate = ~single_pair
    return _SplitItems(
        items=split_items,
        f=split_f,
        p=split_p,
        need=need,
        c_item=pairs.pair_item[candidate],
        c_s=pairs.pair_s[candidate],
        c_carried=pairs.carried[candidate],
        residual=residual,
    )


def chosen_usable(scaled: Scaled, chosen: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Return the usable mask of chosen sources: (S, F, P) for one block, else (D, S, F, P)."""
    n_s, n_f, n_p = scaled.usable.shape
    restricted = np.zeros((len(chosen), n_s, n_f, n_p), bool)
    k_all, f_all, p_all = np.nonzero(chosen >= 0)
    restricted[k_all, chosen[k_all, f_all, p_all], f_all, p_all] = True
    restricted &= scaled.usable[None]
    return restricted[0] if len(chosen) == 1 else restricted


def _improve_sources(
    scaled: Scaled, relaxed: Solution, chosen: npt.NDArray[np.int64], sources: SourceIndex
) -> None:
    """Move facility-products to other suppliers while that lowers the suppliers' total overload.

    ``chosen`` (F, P) holds the supplier of each facility-product (-1: none usable) and is
    updated in place. Each item's need per day is what the relaxation delivered to it; see
    :func:`matcher._assignment.reduce_overload`. (Needs that also counted a share of the
    facility's unmet demand, as first written, made the search chase demand no supplier can
    serve: on 8 generated instances, 100 to 10,000 facilities, the gap over the horizon went from
    0.10-4.49 % to 0.03-4.39 %, national 2.21 % -> 2.12 %; per day better on 7 of 8.) A second
    search weighs the overload by priority (:func:`matcher._assignment.reduce_weighted_overload`):
    on the same instances never worse, national over the horizon 2.12 % -> 1.33 %, +0.1-0.3 s.
    In that second search an item needs all it could receive (its relaxed delivery and its
    facility's unmet demand, within its receiving limit), which makes the weighted overload
    exactly what the re-solve leaves unserved for facilities with one item: national 1.33 % ->
    0.89 % (per day 0.059 % -> 0.025 %), lower on all 11 generated instances tried (300 to
    10,000 facilities, 7 seeds; e.g. 1.61 -> 1.21 % and 2.35 -> 1.76 % on two of 2,000); the
    relaxed deliveries alone, or the whole unmet demand for both items of a two-product facility,
    were worse.
    """
    from matcher._assignment import reduce_overload

    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    arcs = relaxed.arcs
    need_fp = np.zeros((n_f, n_p, n_d))
    np.add.at(need_fp, (arcs.f, arcs.p, arcs.d), relaxed.transport_q)
    # Every item has a supplier here (its nearest usable one at least).
    items_f, items_p = sources.items_f, sources.items_p
    if not len(items_f):
        return
    need = np.ascontiguousarray(need_fp[items_f, items_p])  # (I, D)
    current = chosen[items_f, items_p].astype(np.int64)
    load = np.zeros((n_s, n_p, n_d))
    np.add.at(load, (current, items_p), need)
    # Candidate moves: every usable supplier of every item, nearest first.
    capacity = scaled.capacity_q.astype(np.float64)
    reduce_overload(
        current,
        need,
        load,
        capacity,
        items_p,
        sources.pair_item,
        sources.pair_s,
        _SOURCE_SEARCH_PASSES,
    )
    _reduce_weighted_overload(scaled, relaxed, sources, current, need, capacity)
    chosen[items_f, items_p] = current


def _reduce_weighted_overload(
    scaled: Scaled,
    relaxed: Solution,
    sources: SourceIndex,
    current: npt.NDArray[np.int64],
    need: npt.NDArray[np.float64],
    capacity: npt.NDArray[np.float64],
) -> None:
    """Run the priority-weighted search of :func:`_improve_sources` on ``current`` (in place).

    It weighs what the re-solve leaves unserved, the lowest priorities first, and runs only
    when there are few priority classes. Here an item needs all it could receive: what the
    relaxation delivered plus its facility's unmet demand (half of it for each item of a
    facility with two), within its receiving limit. For a facility with one item the search
    then counts exactly what the re-solve leaves unserved.
    """
    from matcher._assignment import reduce_weighted_overload

    n_s, n_f, n_p = scaled.usable.shape
    n_d = scaled.demand_q.shape[1]
    items_f, items_p = sources.items_f, sources.items_p
    weights, item_class = np.unique(unmet_weight(scaled.weight[items_f]), return_inverse=True)
    if len(weights) > _MAX_PRIORITY_CLASSES:
        return
    items_of_facility = np.bincount(items_f, minlength=n_f)[items_f]
    need = need + relaxed.unmet_q[items_f] / items_of_facility[:, None]
    need = np.minimum(need, scaled.limit_q[items_f, items_p][:, None])
    load = np.zeros((n_s, n_p, n_d))
    np.add.at(load, (current, items_p), need)
    by_class = np.zeros((n_s, n_p, n_d, len(weights)))
    days = np.arange(n_d)[None, :]
    np.add.at(by_class, (current[:, None], items_p[:, None], days, item_class[:, None]), need)
    reduce_weighted_overload(
        current,
        need,
        item_class.astype(np.int64),
        weights,
        load,
        by_class,
        capacity,
        items_p,
        sources.pair_item,
        sources.pair_s,
        _SOURCE_SEARCH_PASSES,
    )


def _place_split_greedily(scaled: Scaled, split: _SplitItems) -> npt.NDArray[np.int64]:
    """Place split items, by priority then size, on a supplier with room on every day."""
    n_s = scaled.usable.shape[0]
    residual = split.residual.copy()
    need = split.need
    position = np.searchsorted(split.items, split.c_item)
    carried = np.zeros((len(split.items), n_s))
    carried[position, split.c_s] = split.c_carried
    picked = np.empty(len(split.items), np.int64)
    for row in np.lexsort((-need.sum(axis=1), -scaled.weight[split.f])).tolist():
        f_idx, p_idx = int(split.f[row]), int(split.p[row])
        candidates = np.nonzero(scaled.usable[:, f_idx, p_idx])[0]
        fits = (residual[candidates, p_idx, :] >= need[row] - 1e-9).all(axis=1)
        rank = np.lexsort((scaled.travel_s[candidates, f_idx], -carried[row, candidates], ~fits))
        best = int(candidates[rank[0]])
        picked[row] = best
        residual[best, p_idx] -= need[row]
    return picked


def _solve_split_mip(
    scaled: Scaled, split: _SplitItems, options: AllocationOptions
) -> npt.NDArray[np.int64] | None:
    """Assign each split item to one of the suppliers that carried it (SCIP).

    Variables: ``y[c]`` binary per candidate (item, supplier); ``x[c, d]`` the quantity it
    delivers on day d, at most ``need[item, d] * y[c]``. Rows: one supplier per item; the
    residual capacity of each supplier-product-day. Objective, in units of ``penalty_unit``:
    travel / penalty_unit - priority per quantum delivered (serve the most priority-weighted
    demand, then travel least; :func:`matcher.objective.delivery_cost_in_penalty_units`).
    Returns the supplier per split item, or ``None`` without a solution within
    ``options.single_sourcing_time_limit_s``.
    """
    from ortools.linear_solver.python import model_builder_helper as mbh

    n_c = len(split.c_item)
    position = np.searchsorted(split.items, split.c_item)  # row of each candidate in ``need``
    # Any: the stub's ndarray annotations in ortools 9.15 are malformed for mypy.
    model: Any = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(*_split_mip_data(scaled, split, position))
    for var in range(n_c):
        model.set_var_integrality(var, True)
    solver = mbh.ModelSolverHelper("scip")
    solver.set_time_limit_in_seconds(float(options.single_sourcing_time_limit_s))
    solver.solve(model)
    if not solver.has_solution():
        return None
    y = np.asarray(solver.variable_values())[:n_c]
    # One candidate per item is (numerically) 1: take the largest per item.
    order = np.lexsort((-y, position))
    first = np.ones(n_c, bool)
    first[1:] = position[order][1:] != position[order][:-1]
    picked = np.empty(len(split.items), np.int64)
    picked[position[order][first]] = split.c_s[order][first]
    return picked


def _split_mip_data(
    scaled: Scaled, split: _SplitItems, position: npt.NDArray[np.int64]
) -> tuple[Any, ...]:
    """Return the split MIP as sparse data: variable bounds, objective, row bounds, matrix."""
    import scipy.sparse as sp

    n_p = scaled.usable.shape[2]
    n_d = split.need.shape[1]
    n_c = len(split.c_item)
    n_items = len(split.items)
    c_s = split.c_s
    c_f, c_p = split.f[position], split.p[position]
    c_need = split.need[position]  # (C, D)
    x_index = n_c + np.arange(n_c * n_d).reshape(n_c, n_d)
    n_vars = n_c + n_c * n_d
    value = delivery_cost_in_penalty_units(
        scaled.travel_s[c_s, c_f], scaled.weight[c_f], scaled.penalty_unit
    )
    objective = np.concatenate([np.zeros(n_c), np.repeat(value, n_d)])
    lower = np.zeros(n_vars)
    upper = np.concatenate([np.ones(n_c), c_need.ravel()])
    # Rows: (1) one supplier per item, (2) x[c, d] - need * y[c] <= 0, (3) residual capacity.
    r2 = n_items + np.arange(n_c * n_d)
    sp_key, sp_row = np.unique(c_s * n_p + c_p, return_inverse=True)
    r3 = n_items + n_c * n_d + sp_row[:, None] * n_d + np.arange(n_d)[None, :]
    n_rows = n_items + n_c * n_d + len(sp_key) * n_d
    matrix = sp.csr_matrix(
        (
            np.concatenate([np.ones(n_c), np.ones(n_c * n_d), -c_need.ravel(), np.ones(n_c * n_d)]),
            (
                np.concatenate([position, r2, r2, r3.ravel()]),
                np.concatenate(
                    [
                        np.arange(n_c),
                        x_index.ravel(),
                        np.repeat(np.arange(n_c), n_d),
                        x_index.ravel(),
                    ]
                ),
            ),
        ),
        shape=(n_rows, n_vars),
    )
    sp_s, sp_p = sp_key // n_p, sp_key % n_p
    row_lower = np.concatenate(
        [np.ones(n_items), np.full(n_c * n_d, -np.inf), np.full(len(sp_key) * n_d, -np.inf)]
    )
    row_upper = np.concatenate(
        [
            np.ones(n_items),
            np.zeros(n_c * n_d),
            np.maximum(split.residual[sp_s, sp_p, :], 0).ravel(),
        ]
    )
    return lower, upper, objective, row_lower, row_upper, matrix
