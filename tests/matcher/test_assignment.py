"""The single-sourcing local searches on a hand-checkable case."""

from __future__ import annotations

import numpy as np

from matcher._assignment import reduce_overload, reduce_weighted_overload


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
