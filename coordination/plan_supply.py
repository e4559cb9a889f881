"""What a plan's suppliers can give each day: the day's declaration, else their usual figures.

Suppliers declare per day what they can give to medical use (``SupplyDeclaration`` in the
registry; docs/declarations.md). A plan day with a declaration uses the declared liquid tonnes
and filled cylinders; a day without one uses the supplier record's figures, which the seed sets
to the plant's documented medical share (docs/seed.md, "Supply"). Each day says which
(``capacity_basis``).

A declaration's plant stock (``liquid_stock_t``) is carried to the plan summary, not planned
with: it is the plant's whole storage, for its industrial customers too (Nippon Sanso held
4,000 t in its southern plants in July 2021, ``derived/vn_oxygen_supply_facts_2021.csv``), so
no medical share of it is known; the declared liquid for the day is what the plant can give to
medical use, drawing on that stock or not; and the allocation solves each day's network without
a plant inventory, so a stock could neither bound nor extend a day's figure without counting the
same tonnes twice. A plant that can send from its tanks on a day it does not produce (an outage)
declares that as the day's liquid (docs/seed.md, "Supply").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: ``capacity_basis`` of a day without a declaration: the supplier record's medical figure.
MEDICAL_SHARE_BASIS = "medical share"


@dataclass(frozen=True, slots=True)
class DeclaredSupply:
    """What a supplier declared it can give to medical use on one day (liquid t, cylinders)."""

    day: dt.date
    liquid_t: float
    cylinders: int
    #: The plant's liquid in storage when declaring, t; shown, not planned with (module docs).
    liquid_stock_t: float | None = None


def capacity_on(
    day: dt.date | None,
    usual: tuple[float, int],
    declared: Sequence[DeclaredSupply],
) -> tuple[float, int, str]:
    """Return a supplier's liquid t, cylinders and their basis on ``day``.

    The declaration for ``day`` when there is one (both quantities: a declaration states the
    whole day; basis ``"declared YYYY-MM-DD"``), else ``usual`` (basis
    :data:`MEDICAL_SHARE_BASIS`). ``day`` None gives the usual figures.
    """
    for declaration in declared:
        if declaration.day == day:
            return (
                declaration.liquid_t,
                declaration.cylinders,
                f"declared {declaration.day.isoformat()}",
            )
    return usual[0], usual[1], MEDICAL_SHARE_BASIS


def declared_supply(
    store: Any, start_date: dt.date, horizon_days: int
) -> dict[str, tuple[DeclaredSupply, ...]]:
    """Return each supplier's declarations for a plan's days (``Store.list_declarations``)."""
    declared: dict[str, list[DeclaredSupply]] = defaultdict(list)
    for stored in store.list_declarations(
        date_from=start_date, date_to=start_date + dt.timedelta(days=horizon_days - 1)
    ):
        d = stored.declaration
        declared[d.supplier_id].append(
            DeclaredSupply(d.declaration_date, d.liquid_lox_t, d.cylinders_filled, d.liquid_stock_t)
        )
    return {supplier_id: tuple(days) for supplier_id, days in declared.items()}


def declaration_on(day: dt.date, declared: Sequence[DeclaredSupply]) -> DeclaredSupply | None:
    """Return the declaration for ``day`` among ``declared``, else None."""
    return next((d for d in declared if d.day == day), None)


def capacity_columns(
    dates: Sequence[dt.date], usual: tuple[float, int], declared: Sequence[DeclaredSupply]
) -> dict[str, Any]:
    """Return a plan supplier row's ``capacity_basis`` and ``capacity_by_day`` for ``dates``.

    ``capacity_basis`` has one entry per date (``"declared YYYY-MM-DD"`` or
    ``"medical share"``); ``capacity_by_day`` gives each date's liquid t and cylinders before
    scenario factors.
    """
    days = [(day, *capacity_on(day, usual, declared)) for day in dates]
    return {
        "capacity_basis": [basis for *_, basis in days],
        "capacity_by_day": [
            {
                "date": day.isoformat(),
                "liquid_t": liquid_t,
                "cylinders": cylinders,
                "capacity_basis": basis,
            }
            for day, liquid_t, cylinders, basis in days
        ],
    }
