"""The allocation objective: transport cost, priority-weighted unmet demand and holding cost.

Every solve path prices with these functions, and so does the independent reference LP of the
tests: the min-cost-flow networks (one per day, or one over the horizon), the fairness mode's
networks, the single-sourcing split MIP and its local search on overloads.

Costs are integers per quantum (see :mod:`matcher.allocation`):

- transport: the travel time in seconds from the supplier to the facility
  (:func:`transport_cost`), a proxy for tanker and truck time;
- holding a quantum overnight (carry-over mode): :data:`CARRY_COST_PER_DAY`;
- unmet demand: ``priority x penalty_unit`` (:func:`unmet_cost`), where
  ``penalty_unit = (S*P*B + 1) * (max_travel_s + B + 1) + 1`` (:func:`penalty_unit`) with S
  suppliers, P products, B days in one network (:func:`days_per_network`) and the longest usable
  travel time (:func:`largest_usable_travel_s`).

The penalty unit exceeds the transport and holding cost of any simple augmenting cycle, so no
saving in transport can ever pay for leaving demand unmet that could be served: the objective
is lexicographic, first the priority-weighted unmet demand, then transport. Divided by the
penalty unit, a quantum left unmet costs its facility's priority (:func:`unmet_weight`), which
is how the single-sourcing searches weigh overloads and the split MIP values a delivery
(:func:`delivery_cost_in_penalty_units`).
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

CARRY_COST_PER_DAY = 1
"""Cost of holding one quantum overnight (carry-over mode), in seconds of travel.

Just enough that stock is not moved ahead of need without a reason (a later day short of
supply), and deterministic.
"""


def days_per_network(n_days: int, *, carry_over: bool) -> int:
    """Return the number of days B that one min-cost-flow network spans.

    Parameters
    ----------
    n_days
        Days of the horizon.
    carry_over
        Whether stock may be held overnight (one coupled network over the horizon).

    Returns
    -------
    int
        ``n_days`` with carry-over, else 1 (the days are independent networks).
    """
    return n_days if carry_over else 1


def largest_usable_travel_s(travel_s: npt.NDArray[np.int64], usable: npt.NDArray[np.bool_]) -> int:
    """Return the longest travel time of a usable supplier-facility pair, in seconds.

    Parameters
    ----------
    travel_s
        int64 array (S, F) of travel seconds.
    usable
        bool array (S, F, P): the supplier may deliver the product to the facility.

    Returns
    -------
    int
        The largest ``travel_s`` over pairs usable for some product; 0 when none is usable.
    """
    return int(travel_s[usable.any(axis=2)].max()) if usable.any() else 0


def penalty_unit(
    *, n_suppliers: int, n_products: int, days_per_network: int, max_travel_s: int
) -> int:
    """Return the cost of one quantum of unmet demand of priority 1.

    Parameters
    ----------
    n_suppliers, n_products
        S and P of the problem.
    days_per_network
        B: days in one network (:func:`days_per_network`).
    max_travel_s
        The longest usable travel time (:func:`largest_usable_travel_s`).

    Returns
    -------
    int
        ``(S*P*B + 1) * (max_travel_s + B + 1) + 1``: more than the transport and holding cost of
        any simple augmenting cycle, so serving demand always comes before saving transport.
    """
    return (n_suppliers * n_products * days_per_network + 1) * (
        max_travel_s + days_per_network + 1
    ) + 1


@overload
def unmet_cost(weight: int, penalty_unit: int) -> int: ...


@overload
def unmet_cost(weight: npt.NDArray[np.int64], penalty_unit: int) -> npt.NDArray[np.int64]: ...


def unmet_cost(
    weight: int | npt.NDArray[np.int64], penalty_unit: int
) -> int | npt.NDArray[np.int64]:
    """Return the cost per quantum of unmet demand: ``priority x penalty_unit``.

    Parameters
    ----------
    weight
        Priority weight(s) >= 1 of the facilities; a Python ``int`` is multiplied exactly (no
        int64 overflow), which range checks rely on.
    penalty_unit
        See :func:`penalty_unit`.

    Returns
    -------
    int or numpy.ndarray
        Same kind as ``weight``.
    """
    return penalty_unit * weight


def transport_cost(travel_s: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the cost of moving one quantum on each arc: its travel time in seconds.

    Parameters
    ----------
    travel_s
        int64 travel seconds of the arcs (usable pairs only: never ``UNREACHABLE_S``).

    Returns
    -------
    numpy.ndarray
        int64, same shape.
    """
    return np.asarray(travel_s, np.int64)


def unmet_weight(weight: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Return the cost of a quantum left unmet in units of the penalty unit: the priority.

    Parameters
    ----------
    weight
        Priority weights of the facilities (or items).

    Returns
    -------
    numpy.ndarray
        float64, as the local searches on overloads sum it with fractional needs.
    """
    return np.asarray(weight).astype(np.float64)


def delivery_cost_in_penalty_units(
    travel_s: npt.NDArray[np.int64], weight: npt.NDArray[np.int64], penalty_unit: int
) -> npt.NDArray[np.float64]:
    """Return the change of the objective per quantum delivered instead of left unmet.

    In units of ``penalty_unit`` (so that a MIP's coefficients stay near 1): the transport cost
    ``travel_s / penalty_unit``, minus the facility's priority saved on unmet demand. Always
    negative for a usable arc, so delivering more always pays.

    Parameters
    ----------
    travel_s
        Travel seconds of each arc.
    weight
        Priority of each arc's facility.
    penalty_unit
        See :func:`penalty_unit`.

    Returns
    -------
    numpy.ndarray
        float64, one value per arc.
    """
    value: npt.NDArray[np.float64] = transport_cost(travel_s) / penalty_unit - weight
    return value
