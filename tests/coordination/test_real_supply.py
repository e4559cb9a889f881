"""Real supply on the seeded HCMC registry: plants give hospitals their medical share, not capacity.

The registry is built as ``make plan`` builds it (migrations, the 63 provinces, ``db seed``'s
:func:`data.seed.store_seed` of :func:`data.seed.hcmc_seed`) and planned for 20 August 2021 as
``oxyroute run`` plans it (:func:`coordination.planning.plan_request_from_store`). Before the medical
figures of ``data/regions/hcmc_suppliers.csv``, the plants offered 584.3 t/day, liquid oxygen was
used at about a tenth of that, and the Phú Mỹ plants carried no flow, so their outage changed
nothing (issue 13).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from data.units import OxygenConversions

PHU_MY = ("NSV-PM", "ALV-PM")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "phu_my_outage.toml"


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Any:
    from data.db import create_db_engine, upgrade_database
    from data.provinces import provinces_with_2025_units
    from data.seed import hcmc_seed, store_seed
    from data.store import Store

    path = tmp_path_factory.mktemp("real-supply") / "registry.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    store = Store(engine)
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store_seed(store, hcmc_seed(data_dir))
    yield store
    engine.dispose()


@pytest.fixture(scope="module")
def outage(seeded_store: Any, hcmc_region: Any, hcmc_network: Any) -> tuple[Any, Any]:
    """Plan 20 August as is and with only the example's plant outages applied.

    Only the ``supplier_capacity`` changes are kept (the example also surges cases and opens a
    field hospital, which would change the plan whatever the plants did).
    """
    from coordination.planning import build_plan, plan_request_from_store
    from coordination.scenarios import apply_scenario, load_scenario

    scenario = load_scenario(EXAMPLE)
    scenario = dataclasses.replace(
        scenario,
        changes=tuple(c for c in scenario.changes if c["type"] == "supplier_capacity"),
    )
    assert {c["supplier_id"] for c in scenario.changes} == set(PHU_MY)
    base_request = plan_request_from_store(
        seeded_store,
        hcmc_region,
        hcmc_network,
        start_date=scenario.start_date,
        horizon_days=scenario.horizon_days,
    )
    request, network = apply_scenario(scenario, base_request, hcmc_network)
    return (
        build_plan(base_request, hcmc_network, hcmc_region),
        build_plan(request, network, hcmc_region),
    )


def test_seeded_plants_offer_their_medical_liquid_not_their_capacity(seeded_store: Any) -> None:
    liquid = {
        s.supplier_id: s.liquid_output_t_per_day
        for s in seeded_store.list_records("suppliers", limit=None)
        if s.liquid_output_t_per_day
    }
    # 80/274.3 of Nippon Sanso's plants; Air Liquide's combined O2/N2/Ar x 23.1 % O2 x 80/274.3.
    assert liquid == {
        "NSV-BH2": 10.0,
        "NSV-PM": 70.0,
        "OXY-DN": 5.8,
        "ALV-SHTP": 6.8,
        "ALV-PM": 12.8,
    }
    assert sum(liquid.values()) == pytest.approx(105.4)  # was 584.3 t/day of capacity


def _delivered_t(plan: Any, product: str, *, suppliers: tuple[str, ...] = ()) -> dict[int, float]:
    per_m3 = 1.0 / OxygenConversions().lox_t_to_gas_m3(1.0)
    totals: dict[int, float] = defaultdict(float)
    for flow in plan.allocation.flows:
        if str(flow.product) == product and (not suppliers or flow.supplier_id in suppliers):
            totals[flow.day] += flow.quantity_m3 * per_m3
    return totals


def test_default_day_shows_the_tension_of_august_2021(outage: tuple[Any, Any]) -> None:
    base, _ = outage
    assert base.request.start_date == dt.date(2021, 8, 20)
    conversions = OxygenConversions()
    cylinders_t = sum(
        conversions.cylinders_to_gas_m3(s.cylinders_per_day) for s in base.request.suppliers
    ) / conversions.lox_t_to_gas_m3(1.0)
    liquid_t = sum(s.liquid_t_per_day for s in base.request.suppliers)
    cylinder_days = _delivered_t(base, "cylinder")
    # Every cylinder the filling stations can fill is taken on some day of the week...
    assert max(cylinder_days.values()) == pytest.approx(cylinders_t, rel=0.01)
    # ...and the week ends using more than half of the plants' medical liquid (it used under a
    # tenth of their 584 t/day of capacity before).
    assert max(_delivered_t(base, "bulk_liquid").values()) > 0.5 * liquid_t


def test_phu_my_outage_changes_the_plan(outage: tuple[Any, Any]) -> None:
    from coordination.scenarios import compare_plans

    base, scenario = outage
    # The Phú Mỹ plants carry most of the medical liquid: the base plan uses them...
    assert sum(_delivered_t(base, "bulk_liquid", suppliers=PHU_MY).values()) > 0
    # ...the outage moves their deliveries of days 0-2 elsewhere or later.
    assert not any(
        f.supplier_id in PHU_MY and f.day in (0, 1, 2) for f in scenario.allocation.flows
    )
    comparison = compare_plans(base, scenario)
    changed = comparison["flows_added"] + comparison["flows_removed"] + comparison["flows_changed"]
    assert changed or comparison["totals"]["unmet_m3"]["change"] > 0


def test_largest_liquid_receivers_are_covid_hospitals(
    outage: tuple[Any, Any], seeded_store: Any
) -> None:
    """Rule: the ten largest liquid receivers of the week are field or COVID general hospitals.

    The generated demand follows each facility's role (docs/seed.md, "Demand and beds by role");
    before it, an eye and a maternity hospital were among the largest receivers (issue 13).
    """
    from data.seed_roles import COVID_ROLES, facility_role

    base, _ = outage
    role_of = {
        f.facility_id: facility_role(f) for f in seeded_store.list_records("facilities", limit=None)
    }
    received: dict[str, float] = defaultdict(float)
    for flow in base.allocation.flows:
        if str(flow.product) == "bulk_liquid":
            received[flow.facility_id] += flow.quantity_m3
    largest = sorted(received, key=lambda fid: -received[fid])[:10]
    assert len(largest) == 10
    assert {role_of[fid] for fid in largest} <= COVID_ROLES, [
        (fid, role_of[fid]) for fid in largest
    ]


def test_day_without_reports_is_estimated_from_seeded_beds(
    seeded_store: Any, hcmc_region: Any, hcmc_network: Any
) -> None:
    """A day with no recent report is estimated from the seeded beds, never unknown.

    Ten days after the seeded month every facility's demand is beds x tier (before the seed had
    beds, every one was unknown).
    """
    from coordination.planning import build_plan, plan_request_from_store
    from matcher.demand import DemandBasis

    request = plan_request_from_store(
        seeded_store, hcmc_region, hcmc_network, start_date=dt.date(2021, 9, 10)
    )
    forecasts = build_plan(request, hcmc_network, hcmc_region).forecasts
    assert len(forecasts) == len(request.facilities) > 0
    assert {f.demand_basis for f in forecasts} == {DemandBasis.ESTIMATED}
    assert all(f.demand_m3_per_day[0] > 0 for f in forecasts)
