"""Suppliers' daily declarations: the record, the store, migration 0005 on SQLite and PostgreSQL.

PostgreSQL runs when ``OXYROUTE_TEST_POSTGRES_URL`` names an empty database the test may fill
(``.ci/run`` sets it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from data.db import upgrade_database
from data.db.migrate import alembic_config, current_revision, head_revision
from data.errors import InvalidInputError, MalformedInputError, RecordNotFoundError
from data.provinces import provinces_with_2025_units
from data.schema.registry import Supplier, SupplierKind, SupplyDeclaration
from data.store import Store
from tests.registry_world import Clock

DAY = dt.date(2021, 8, 20)
PHU_MY = Supplier(
    supplier_id="NSV-PM",
    name="Nippon Sanso Việt Nam, nhà máy Phú Mỹ",
    kind=SupplierKind.LIQUID_PRODUCER,
    province_code="77",
    lon=107.035,
    lat=10.595,
    liquid_output_t_per_day=70.0,  # the medical share of a 240 t/day plant
    cylinders_per_day=0,
)


def _declaration(**changes: Any) -> SupplyDeclaration:
    values: dict[str, Any] = {
        "supplier_id": "NSV-PM",
        "declaration_date": DAY,
        "liquid_lox_t": 40.0,
        "cylinders_filled": 0,
        "liquid_stock_t": 310.5,
        "note": "Bảo trì một dây chuyền",
    }
    return SupplyDeclaration(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"liquid_lox_t": -1.0}, r"liquid_lox_t: must be between 0 and 1e\+06, got -1.0"),
        ({"liquid_lox_t": float("nan")}, r"liquid_lox_t: must be between"),
        ({"cylinders_filled": -3}, r"cylinders_filled: must be between 0 and 1e\+06, got -3"),
        ({"liquid_stock_t": -0.5}, r"liquid_stock_t: must be between"),
        ({"declaration_date": dt.date(1999, 12, 31)}, r"declaration_date: must not be before"),
        ({"supplier_id": "bad id!"}, r"supplier_id: must be 1-64 letters"),
    ],
)
def test_bad_declarations_are_refused_naming_the_field(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        _declaration(**changes)


def test_a_declaration_reads_from_json_with_units_in_names() -> None:
    record = SupplyDeclaration.from_mapping(
        {
            "supplier_id": "NSV-PM",
            "declaration_date": "2021-08-20",
            "liquid_lox_t": 40,
            "cylinders_filled": 0,
            "note": "Bảo trì",
        }
    )
    assert record.liquid_lox_t == 40.0 and record.declaration_date == DAY
    with pytest.raises(MalformedInputError, match=r"liquid_lox_t: is required"):
        SupplyDeclaration.from_mapping(
            {"supplier_id": "NSV-PM", "declaration_date": "2021-08-20", "cylinders_filled": 0}
        )
    with pytest.raises(MalformedInputError, match=r"liquid_lox_m3: unknown field"):
        SupplyDeclaration.from_mapping(
            {
                "supplier_id": "NSV-PM",
                "declaration_date": "2021-08-20",
                "liquid_lox_m3": 3,
                "liquid_lox_t": 1,
                "cylinders_filled": 0,
            }
        )


def test_a_correction_replaces_the_day_and_is_audited(store: Store) -> None:
    store.create_record(PHU_MY, actor="fixture")
    first = store.submit_declaration(_declaration(), actor="admin", plant_capacity_t=240.0)
    assert first.created and first.replaced is None
    again = store.submit_declaration(_declaration(), actor="admin", plant_capacity_t=240.0)
    assert not again.created and again.replaced is None  # same content: nothing changes
    corrected = store.submit_declaration(
        _declaration(liquid_lox_t=25.0), actor="admin", plant_capacity_t=240.0
    )
    assert not corrected.created and corrected.replaced == _declaration()
    stored = store.list_declarations(date_from=DAY, date_to=DAY)
    assert [s.declaration.liquid_lox_t for s in stored] == [25.0]
    assert stored[0].declaration.note == "Bảo trì một dây chuyền"
    trail = store.audit_trail(entity="supply_declarations", entity_id="NSV-PM/2021-08-20")
    assert [e.action for e in trail] == ["create", "correct"]
    assert trail[1].detail == {"liquid_lox_t": [40.0, 25.0]}
    other_day = store.list_declarations(date_from=DAY + dt.timedelta(days=1), date_to=DAY)
    assert other_day == []


def test_liquid_above_the_plant_capacity_is_refused_and_nothing_stored(store: Store) -> None:
    store.create_record(PHU_MY, actor="fixture")
    with pytest.raises(InvalidInputError, match=r"liquid_lox_t: must be at most the plant"):
        store.submit_declaration(
            _declaration(liquid_lox_t=240.5), actor="admin", plant_capacity_t=240.0
        )
    # Without a plant capacity, the record's own liquid output bounds it.
    with pytest.raises(InvalidInputError, match=r"capacity 70 t/day of NSV-PM .*, got 70.5"):
        store.submit_declaration(_declaration(liquid_lox_t=70.5), actor="admin")
    with pytest.raises(RecordNotFoundError, match=r"supplier_id: no suppliers record 'XX'"):
        store.submit_declaration(_declaration(supplier_id="XX"), actor="admin")
    assert store.list_declarations(date_from=DAY, date_to=DAY) == []
    assert store.audit_trail(entity="supply_declarations") == []
    # At the capacity itself it is accepted (a plant may give all its output to hospitals).
    assert store.submit_declaration(
        _declaration(liquid_lox_t=240.0), actor="admin", plant_capacity_t=240.0
    ).created


def test_declarations_migrate_down_and_up(empty_database: Any, data_dir: Path) -> None:
    from alembic import command

    engine = empty_database
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store.create_record(PHU_MY, actor="fixture")
    store.submit_declaration(_declaration(), actor="admin", plant_capacity_t=240.0)
    [stored] = store.list_declarations(date_from=DAY, date_to=DAY)
    assert stored.declaration == _declaration()
    assert stored.declared_at == Clock()() and stored.declared_by == "admin"
    command.downgrade(alembic_config(engine), "0004")
    assert "supply_declarations" not in inspect(engine).get_table_names()
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    assert Store(engine, clock=Clock()).list_declarations(date_from=DAY, date_to=DAY) == []
