"""Suppliers' daily declarations over HTTP: submit, correct (audited), list; refusals store nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import expect_error

# Phú Mỹ: 240 t/day plant (data/regions/hcmc_suppliers.csv), 70 t/day of it medical.
PHU_MY = {
    "supplier_id": "NSV-PM",
    "name": "Nippon Sanso Việt Nam, nhà máy Phú Mỹ",
    "kind": "liquid_producer",
    "province_code": "77",
    "lon": 107.035,
    "lat": 10.595,
    "liquid_output_t_per_day": 70.0,
}
# A filling station of no region file: its record bounds its liquid (none).
STATION = {
    "supplier_id": "TRAM-1",
    "name": "Trạm nạp bình Thủ Đức",
    "kind": "filling_station",
    "province_code": "79",
    "cylinders_per_day": 500,
}
DECLARATION = {
    "supplier_id": "NSV-PM",
    "declaration_date": "2021-08-20",
    "liquid_lox_t": 40.0,
    "cylinders_filled": 0,
    "liquid_stock_t": 310.5,
    "note": "Bảo trì một dây chuyền tách khí",
}


@pytest.fixture
def admin(as_user: Any) -> Any:
    client = as_user("admin")
    for supplier in (PHU_MY, STATION):
        assert client.post("/suppliers", json=supplier).status_code == 201
    return client


def _listed(client: Any, **query: str) -> list[dict[str, Any]]:
    response = client.get("/supply-declarations", query_string=query)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["declarations"])


def test_submit_correct_and_list(admin: Any, app: Any) -> None:
    first = admin.post("/supply-declarations", json=DECLARATION)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["declared_by"] == "admin" and first.get_json()["replaced"] is None
    # Above the 70 t/day medical share, within the 240 t/day plant: a plant may give more.
    corrected = admin.post("/supply-declarations", json={**DECLARATION, "liquid_lox_t": 95.0})
    assert corrected.status_code == 200
    assert corrected.get_json()["replaced"]["liquid_lox_t"] == 40.0
    [listed] = _listed(admin, date_from="2021-08-01", date_to="2021-08-20")
    assert listed["liquid_lox_t"] == 95.0 and listed["note"] == DECLARATION["note"]
    assert _listed(admin, date_from="2021-08-21", date_to="2021-08-22") == []
    assert _listed(admin, date_from="2021-08-20", date_to="2021-08-20", supplier_id="TRAM-1") == []
    trail = app.extensions["oxyroute"].store.audit_trail(entity="supply_declarations")
    assert [(e.action, e.entity_id) for e in trail] == [
        ("create", "NSV-PM/2021-08-20"),
        ("correct", "NSV-PM/2021-08-20"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "field", "text"),
    [
        # above the plant's 240 t/day in the region's suppliers file
        ({"liquid_lox_t": 240.5}, 422, "liquid_lox_t", "plant capacity 240 t/day"),
        # a filling station has no liquid output at all
        ({"supplier_id": "TRAM-1", "liquid_lox_t": 1.0}, 422, "liquid_lox_t", "capacity 0 t/day"),
        ({"liquid_lox_t": -2.0}, 422, "liquid_lox_t", "-2.0"),
        ({"liquid_lox_t": "40 tấn"}, 400, "liquid_lox_t", "40 tấn"),
        ({"cylinders_filled": 2.5}, 400, "cylinders_filled", "2.5"),
        ({"declaration_date": "2021-02-30"}, 400, "declaration_date", "2021-02-30"),
        ({"liquid_lox_m3": 3.0}, 400, "liquid_lox_m3", "unknown field"),
    ],
)
def test_bad_declarations_name_the_field_and_store_nothing(
    admin: Any, body: dict[str, Any], status: int, field: str, text: str
) -> None:
    error = expect_error(admin.post("/supply-declarations", json={**DECLARATION, **body}), status)
    assert field in str(error["details"]) and text in str(error["details"])
    assert _listed(admin, date_from="2021-08-01", date_to="2021-08-31") == []


def test_missing_field_unknown_supplier_and_roles(admin: Any, as_user: Any) -> None:
    body = {k: v for k, v in DECLARATION.items() if k != "cylinders_filled"}
    error = expect_error(admin.post("/supply-declarations", json=body), 400)
    assert error["details"] == [{"field": "cylinders_filled", "reason": "is required"}]
    expect_error(admin.post("/supply-declarations", json={**DECLARATION, "supplier_id": "X"}), 404)
    coordinator = as_user("coord79")
    # Planners and facility officers do not record a plant's declaration; the unit's
    # coordinators and dispatchers (who take the plants' calls) and admins do.
    expect_error(as_user("planner").post("/supply-declarations", json=DECLARATION), 403)
    expect_error(as_user("repA").post("/supply-declarations", json=DECLARATION), 403)
    assert coordinator.post("/supply-declarations", json=DECLARATION).status_code == 201
    assert as_user("dispatcher").post("/supply-declarations", json=DECLARATION).status_code == 200
    assert admin.post("/supply-declarations", json=DECLARATION).status_code == 200
    assert len(_listed(coordinator, date_from="2021-08-20", date_to="2021-08-20")) == 1
    expect_error(coordinator.get("/supply-declarations?supplier_id=a%20b"), 400)
    expect_error(
        coordinator.get("/supply-declarations?date_from=2021-08-20&date_to=2021-08-19"), 422
    )
