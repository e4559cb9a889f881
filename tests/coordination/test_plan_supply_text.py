"""The plan summary says, per plan day, whose declaration was used and who fell back.

The world of ``tests/coordination/test_supply_declarations_plan.py``: Chợ Rẫy on the District 5
map and one plant, Nippon Sanso Biên Hòa 2 (NSV-BH2, medical figure 10 t/day), planned for 20-21
August 2021. A declaration of 2 t for 20 August (with the plant's stock) is used that day; 21
August falls back to the medical share. The stock is shown and said not to be planned with: the
plan's figures are those of a declaration without a stock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coordination.plan_text import STOCK_NOTE, summary_text
from data.schema.registry import SupplyDeclaration
from data.store import Store
from tests.coordination.test_supply_declarations_plan import START, _plan, world

__all__ = ["world"]  # a fixture, used by name

NAME = "Nippon Sanso Việt Nam, nhà máy KCN Biên Hòa 2 [NSV-BH2]"


def _declare(store: Store, liquid_t: float, stock_t: float | None) -> None:
    store.submit_declaration(
        SupplyDeclaration(
            "NSV-BH2", START, liquid_lox_t=liquid_t, cylinders_filled=0, liquid_stock_t=stock_t
        ),
        actor="admin",
        plant_capacity_t=34.3,
    )


def test_without_declarations_one_line_says_every_supplier_is_at_its_share(
    world: Store, d5_region: Any, d5_network: Any
) -> None:
    plan, _ = _plan(world, d5_region, d5_network)
    text = summary_text(plan)
    assert "supply: no supplier declared for these days; all 1 at their documented" in text
    assert "supply by plan day" not in text


def test_each_day_names_the_declared_and_the_fallen_back_suppliers(
    world: Store, d5_region: Any, d5_network: Any
) -> None:
    _declare(world, 2.0, 900.0)
    plan, _ = _plan(world, d5_region, d5_network)
    lines = summary_text(plan).splitlines()
    day0 = next(line for line in lines if line.startswith("  2021-08-20:"))
    day1 = next(line for line in lines if line.startswith("  2021-08-21:"))
    assert day0 == (
        f"  2021-08-20: declared 1 ({NAME} 2.0 t, 0 cylinders, plant stock 900.0 t); "
        "medical share 0"
    )
    assert day1 == f"  2021-08-21: declared 0; medical share 1 ({NAME})"
    assert STOCK_NOTE in lines
    # The plan used the declared 2 t on day 0 and the 10 t medical share on day 1.
    by_day = {d.day: d for d in plan.request.suppliers[0].declared}
    assert by_day[START].liquid_stock_t == 900.0
    assert plan.request.suppliers[0].capacity_on(START)[:2] == (2.0, 0)
    assert plan.request.suppliers[0].capacity_on(START + dt.timedelta(days=1))[:2] == (10.0, 0)


def test_a_declared_stock_changes_nothing_in_the_plan(
    world: Store, d5_region: Any, d5_network: Any
) -> None:
    _declare(world, 2.0, None)
    without, doc_without = _plan(world, d5_region, d5_network)
    assert STOCK_NOTE not in summary_text(without)
    _declare(world, 2.0, 900.0)
    with_stock, doc_with = _plan(world, d5_region, d5_network)
    assert with_stock.allocation.totals == without.allocation.totals
    assert doc_with["allocation"]["flows"] == doc_without["allocation"]["flows"]
