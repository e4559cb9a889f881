"""The local searches that repair single-source assignments (``matcher._assignment``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher._assignment import reduce_overload, reduce_weighted_overload


def _overload(load: np.ndarray, capacity: np.ndarray) -> float:
    return float(np.maximum(load - capacity, 0.0).sum())


def test_moves_an_item_to_the_supplier_with_room() -> None:
    # Two items of 8 m3 on supplier 0 (capacity 10): 6 m3 would go unserved; supplier 1 is idle.
    current = np.array([0, 0], np.int64)
    need = np.array([[8.0], [8.0]])
    capacity = np.full((2, 1, 1), 10.0)
    load = np.zeros((2, 1, 1))
    load[0, 0, 0] = 16.0
    moves = reduce_overload(
        current,
        need,
        load,
        capacity,
        np.zeros(2, np.int64),
        np.array([0, 0, 1, 1], np.int64),
        np.array([0, 1, 0, 1], np.int64),
        10,
    )
    assert moves == 1
    assert current.tolist() == [1, 0]  # the first item tried moves; the second then fits
    assert load[:, 0, 0].tolist() == [8.0, 8.0]


@dataclass
class _Random:
    """A random search problem: items on suppliers, and the usable (item, supplier) pairs."""

    need: np.ndarray
    capacity: np.ndarray
    item_product: np.ndarray
    current: np.ndarray
    load: np.ndarray
    usable: np.ndarray
    pair_item: np.ndarray
    pair_supplier: np.ndarray
    rng: np.random.Generator


def _random_case(seed: int) -> _Random:
    rng = np.random.default_rng(seed)
    n_s, n_p, n_d, n_i = (
        int(rng.integers(1, 5)),
        int(rng.integers(1, 3)),
        3,
        int(rng.integers(1, 30)),
    )
    need = rng.uniform(0, 10, (n_i, n_d)).round(1)
    capacity = rng.uniform(0, 40, (n_s, n_p, n_d)).round(1)
    item_product = rng.integers(0, n_p, n_i).astype(np.int64)
    current = rng.integers(0, n_s, n_i).astype(np.int64)
    load = np.zeros((n_s, n_p, n_d))
    np.add.at(load, (current, item_product), need)
    usable = rng.random((n_i, n_s)) < 0.7
    usable[np.arange(n_i), current] = True
    pair_item, pair_supplier = np.nonzero(usable)
    return _Random(
        need,
        capacity,
        item_product,
        current,
        load,
        usable,
        pair_item.astype(np.int64),
        pair_supplier.astype(np.int64),
        rng,
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_never_raises_the_overload_and_keeps_loads_consistent(seed: int) -> None:
    c = _random_case(seed)
    before = _overload(c.load, c.capacity)
    reduce_overload(
        c.current, c.need, c.load, c.capacity, c.item_product, c.pair_item, c.pair_supplier, 50
    )
    assert c.usable[np.arange(len(c.current)), c.current].all()  # only usable suppliers
    expected = np.zeros(c.load.shape)
    np.add.at(expected, (c.current, c.item_product), c.need)
    np.testing.assert_allclose(c.load, expected, atol=1e-9)
    assert _overload(c.load, c.capacity) <= before + 1e-9


def _case() -> dict[str, np.ndarray]:
    """Suppliers A (0) and B (1), capacity 10 each, one product, one day.

    Items: X (priority 30, needs 10) and Y (priority 10, needs 4) at A; Z (priority 5, needs 10)
    at B; Y may also use B. A is 4 over: the re-solve leaves 4 of Y unserved (cost 4 x 10 = 40).
    Moving Y to B leaves B 4 over, shed from Z (4 x 5 = 20): the same excess (4), a lower
    priority-weighted one.
    """
    need = np.array([[10.0], [4.0], [10.0]])
    current = np.array([0, 0, 1], np.int64)
    load = np.zeros((2, 1, 1))
    np.add.at(load, (current, np.zeros(3, np.int64)), need)
    return {
        "current": current,
        "need": need,
        "load": load,
        "capacity": np.full((2, 1, 1), 10.0),
        "product": np.zeros(3, np.int64),
        "pair_item": np.array([0, 1, 1, 2], np.int64),
        "pair_s": np.array([0, 0, 1, 1], np.int64),
    }


def test_unweighted_search_keeps_an_equal_excess() -> None:
    c = _case()
    moves = reduce_overload(
        c["current"],
        c["need"],
        c["load"],
        c["capacity"],
        c["product"],
        c["pair_item"],
        c["pair_s"],
        10,
    )
    assert moves == 0
    assert c["current"].tolist() == [0, 0, 1]


def test_weighted_search_sheds_the_lowest_priority() -> None:
    c = _case()
    weights = np.array([5.0, 10.0, 30.0])  # priority classes, ascending
    item_class = np.array([2, 1, 0], np.int64)  # X: 30, Y: 10, Z: 5
    by_class = np.zeros((2, 1, 1, 3))
    zeros = np.zeros(3, np.int64)
    np.add.at(by_class, (c["current"], zeros, zeros, item_class), c["need"][:, 0])
    moves = reduce_weighted_overload(
        c["current"],
        c["need"],
        item_class,
        weights,
        c["load"],
        by_class,
        c["capacity"],
        c["product"],
        c["pair_item"],
        c["pair_s"],
        10,
    )
    assert moves == 1
    assert c["current"].tolist() == [0, 1, 1]  # Y moved to B
    assert c["load"][:, 0, 0].tolist() == [10.0, 14.0]
    assert by_class[1, 0, 0].tolist() == [10.0, 4.0, 0.0]


def _weighted_overload(
    by_class: np.ndarray, load: np.ndarray, capacity: np.ndarray, weights: np.ndarray
) -> float:
    """Excess of each supplier-day taken from its lowest classes first, weighted."""
    total = 0.0
    for index in np.ndindex(load.shape):
        excess = load[index] - capacity[index]
        for k, weight in enumerate(weights):
            if excess <= 1e-9:
                break
            take = min(by_class[index][k], excess)
            total += take * weight
            excess -= take
    return total


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_weighted_search_never_raises_the_weighted_overload(seed: int) -> None:
    c = _random_case(seed)
    n_i, n_d = c.need.shape
    weights, item_class = np.unique(c.rng.integers(1, 5, n_i) * 10.0, return_inverse=True)
    item_class = item_class.astype(np.int64)
    by_class = np.zeros((*c.load.shape, len(weights)))
    days = np.arange(n_d)[None, :]
    at = (c.current[:, None], c.item_product[:, None], days, item_class[:, None])
    np.add.at(by_class, at, c.need)
    before = _weighted_overload(by_class, c.load, c.capacity, weights)
    reduce_weighted_overload(
        c.current,
        c.need,
        item_class,
        weights,
        c.load,
        by_class,
        c.capacity,
        c.item_product,
        c.pair_item,
        c.pair_supplier,
        1_000,
    )
    assert c.usable[np.arange(n_i), c.current].all()
    expected = np.zeros(by_class.shape)
    np.add.at(
        expected, (c.current[:, None], c.item_product[:, None], days, item_class[:, None]), c.need
    )
    np.testing.assert_allclose(by_class, expected, atol=1e-9)
    np.testing.assert_allclose(c.load, expected.sum(axis=3), atol=1e-9)
    after = _weighted_overload(by_class, c.load, c.capacity, weights)
    assert after <= before + 1e-6
    # A local optimum: no single move to a usable supplier lowers the weighted overload.
    for i, to in zip(c.pair_item, c.pair_supplier, strict=True):
        at, p, k = c.current[i], c.item_product[i], item_class[i]
        moved_class, moved_load = by_class.copy(), c.load.copy()
        moved_class[at, p, :, k] -= c.need[i]
        moved_class[to, p, :, k] += c.need[i]
        moved_load[at, p] -= c.need[i]
        moved_load[to, p] += c.need[i]
        assert _weighted_overload(moved_class, moved_load, c.capacity, weights) >= after - 1e-5


def test_weighted_search_makes_only_improving_moves() -> None:
    # Item X (needs 5) sits on A, which has no capacity; B has room for it, C for 2 only.
    # Candidates in order B, C: X moves to B and stays (moving on to C would shed 3 again).
    need = np.array([[5.0]])
    current = np.array([0], np.int64)
    capacity = np.array([0.0, 10.0, 2.0]).reshape(3, 1, 1)
    load = np.zeros((3, 1, 1))
    load[0, 0, 0] = 5.0
    by_class = load[..., None].copy()
    moves = reduce_weighted_overload(
        current,
        need,
        np.zeros(1, np.int64),
        np.array([10.0]),
        load,
        by_class,
        capacity,
        np.zeros(1, np.int64),
        np.array([0, 0], np.int64),
        np.array([1, 2], np.int64),
        10,
    )
    assert moves == 1
    assert current.tolist() == [1]
    assert load[:, 0, 0].tolist() == [0.0, 5.0, 0.0]
