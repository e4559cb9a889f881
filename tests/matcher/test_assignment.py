"""The local search that repairs single-source assignments (``matcher._assignment``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher._assignment import reduce_overload


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


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_never_raises_the_overload_and_keeps_loads_consistent(seed: int) -> None:
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
    before = _overload(load, capacity)
    usable = rng.random((n_i, n_s)) < 0.7
    usable[np.arange(n_i), current] = True
    pair_item, pair_supplier = np.nonzero(usable)
    reduce_overload(
        current,
        need,
        load,
        capacity,
        item_product,
        pair_item.astype(np.int64),
        pair_supplier.astype(np.int64),
        50,
    )
    assert usable[np.arange(n_i), current].all()  # only usable suppliers
    expected = np.zeros((n_s, n_p, n_d))
    np.add.at(expected, (current, item_product), need)
    np.testing.assert_allclose(load, expected, atol=1e-9)
    assert _overload(load, capacity) <= before + 1e-9
