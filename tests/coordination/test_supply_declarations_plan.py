"""Plans take a supplier's declaration for a day, else its medical share (issue 13, real supply).

The hand-checkable world, on the District 5 map: one hospital (Chợ Rẫy, 79-A, in District 5,
a 10,000 L tank, no stock) declared 3,000 m³ used on 19 August; one plant (Nippon Sanso Biên Hòa
2, reached through the District 5 gateways) with a medical figure of 10 t/day, 10 x 700 = 7,000
m³ gas. The plan for 20-21 August needs 6,000 m³ on day 0 (the day's 3,000 m³ and one day of
safety stock, NFPA 99) and 3,000 m³ on day 1: the plant covers both, nothing is unmet.
Declaring 2 t (1,400 m³) for 20 August leaves 6,000 - 1,400 = 4,600 m³ unmet on day 0 and
changes nothing on day 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from data.schema.registry import DailyReport, Supplier, SupplierKind, SupplyDeclaration
from data.store import Store
from data.units import OxygenConversions
from tests.registry_world import FACILITY_A

START = dt.date(2021, 8, 20)
PLANT = Supplier(
    supplier_id="NSV-BH2",  # the id the District 5 gateways link
    name="Nippon Sanso Việt Nam, nhà máy KCN Biên Hòa 2",
    kind=SupplierKind.LIQUID_PRODUCER,
    province_code="75",
    lon=106.865,
    lat=10.929,
    liquid_output_t_per_day=10.0,
)


@pytest.fixture
def world(store: Store) -> Store:
    store.replace_record(
        dataclasses.replace(FACILITY_A, liquid_tank_capacity_l=10_000.0), actor="fixture"
    )
    store.create_record(PLANT, actor="fixture")
    store.submit_report(
        DailyReport(
            facility_id="79-A",
            report_date=START - dt.timedelta(days=1),
            oxygen_used_24h_m3=3000.0,
            patients_cannula_mask=20,
            patients_high_flow=40,
            liquid_stock_l=0.0,
        ),
        submitted_by="repA",
    )
    return store


def _plan(store: Store, region: Any, network: Any) -> tuple[Any, dict[str, Any]]:
    from coordination.planning import build_plan, plan_request_from_store, plan_to_dict

    request = plan_request_from_store(store, region, network, start_date=START, horizon_days=2)
    plan = build_plan(request, network, region)
    return plan, dict(plan_to_dict(plan))


def _unmet_by_day(plan: Any) -> dict[int, float]:
    unmet = {0: 0.0, 1: 0.0}
    for entry in plan.allocation.unmet:
        unmet[entry.day] += entry.unmet_m3
    return unmet


def _declare(store: Store, day: dt.date, liquid_t: float) -> None:
    store.submit_declaration(
        SupplyDeclaration("NSV-BH2", day, liquid_lox_t=liquid_t, cylinders_filled=0),
        actor="admin",
        plant_capacity_t=34.3,
    )


def test_a_declaration_lowers_its_day_and_unmet_rises_by_the_difference(
    world: Store, d5_region: Any, d5_network: Any
) -> None:
    per_t_m3 = OxygenConversions().lox_t_to_gas_m3(1.0)
    base, base_doc = _plan(world, d5_region, d5_network)
    required = base.shortfalls[0].required_m3_per_day
    assert required == pytest.approx((6000.0, 3000.0))
    assert 10 * per_t_m3 >= required[0]  # the medical share covers day 0
    assert _unmet_by_day(base) == {0: 0.0, 1: 0.0}
    [row] = base_doc["suppliers"]
    assert row["capacity_basis"] == ["medical share", "medical share"]

    _declare(world, START, 2.0)
    declared, declared_doc = _plan(world, d5_region, d5_network)
    assert _unmet_by_day(declared) == pytest.approx({0: required[0] - 2 * per_t_m3, 1: 0.0})
    assert _unmet_by_day(declared)[0] == pytest.approx(4600.0)
    [row] = declared_doc["suppliers"]
    assert row["capacity_basis"] == ["declared 2021-08-20", "medical share"]
    assert [d["liquid_t"] for d in row["capacity_by_day"]] == [2.0, 10.0]
    assert row["liquid_t_per_day"] == 10.0  # the record's figure stays in the row


def test_declarations_outside_the_plan_days_change_nothing(
    world: Store, d5_region: Any, d5_network: Any
) -> None:
    base, base_doc = _plan(world, d5_region, d5_network)
    _declare(world, START - dt.timedelta(days=1), 0.0)  # the day before the plan
    _declare(world, START + dt.timedelta(days=2), 0.0)  # after its two days
    after, after_doc = _plan(world, d5_region, d5_network)
    assert after_doc["suppliers"] == base_doc["suppliers"]
    assert after_doc["allocation"]["flows"] == base_doc["allocation"]["flows"]
    assert _unmet_by_day(after) == _unmet_by_day(base) == {0: 0.0, 1: 0.0}


def test_a_declared_day_takes_both_products_and_outages_still_apply() -> None:
    from coordination.plan_supply import DeclaredSupply
    from coordination.planning import PlanSupplier, _supplier_capacities
    from data.schema.allocation import Product

    conversions = OxygenConversions()
    station = PlanSupplier(
        "S",
        "Trạm nạp",
        106.7,
        10.8,
        "liquid_producer",
        liquid_t_per_day=10.0,
        cylinders_per_day=100,
        capacity_factor_per_day=(1.0, 0.0),
        declared=(DeclaredSupply(START, liquid_t=4.0, cylinders=0),),
    )
    capacities = {
        c.product: c.capacity_m3_per_day
        for c in _supplier_capacities(station, 3, conversions, START)
    }
    liquid_t = conversions.lox_t_to_gas_m3(1.0)
    cylinder = conversions.cylinders_to_gas_m3(1)
    # Day 0 declared (4 t, no cylinders); day 1 the outage's factor 0; day 2 the usual figures.
    assert capacities[Product.BULK_LIQUID] == pytest.approx((4 * liquid_t, 0.0, 10 * liquid_t))
    assert capacities[Product.CYLINDER] == pytest.approx((0.0, 0.0, 100 * cylinder))
    # Without a start date (no calendar) the usual figures hold, as before declarations.
    usual = {
        c.product: c.capacity_m3_per_day for c in _supplier_capacities(station, 1, conversions)
    }
    assert usual[Product.BULK_LIQUID] == pytest.approx((10 * liquid_t,))
