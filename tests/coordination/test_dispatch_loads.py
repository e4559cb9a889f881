"""Loads that make sense (issue 15): own-company loading, one visit per station per trip.

Built on the hand-checkable District 5 day of :mod:`tests.coordination.test_dispatch`; every
answer still goes through its independent :func:`check_routes`.
"""

from __future__ import annotations

from typing import Any

import pytest

from coordination.dispatch import FleetVehicle, company_of
from data.schema.registry import VehicleKind
from tests.coordination.test_dispatch import (
    HOA_HAO,
    NGUYEN_TRAI,
    SUPPLIERS,
    TANKER,
    TRUCK,
    flow,
    plan_document,
    run,
)

OTHER = "PSA-D5"  # a second filling station, of another company, inside District 5
OTHER_TRUCK = FleetVehicle("CT9", VehicleKind.CYLINDER_TRUCK, OTHER, cylinder_capacity=150)


def _with_other_station(flows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the District 5 plan with a second filling station, of another company."""
    plan = plan_document(flows)
    plan["suppliers"].append(
        {
            "supplier_id": OTHER,
            "name": "Trạm PSA Quận 5 – Bệnh viện Chợ Rẫy",  # noqa: RUF001 - en dash in a Vietnamese name
            "kind": "filling_station",
            "location": [106.6598, 10.7579],
        }
    )
    return plan


def test_company_is_the_name_before_the_dash() -> None:
    assert company_of(SUPPLIERS["TDS"][0]) == "Thép Thủ Đức"
    assert company_of("Công ty TNHH Oxy Đồng Nai") == "Công ty TNHH Oxy Đồng Nai"


def test_a_vehicle_never_loads_at_another_companys_station(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    # Only the other company's truck is on duty: TDS's cylinders wait, with the reason.
    plan = _with_other_station([flow("TDS", HOA_HAO, 40)])
    answer = run(plan, [TANKER, OTHER_TRUCK], d5_network, d5_region)
    assert answer["routes"] == [] or all(r["vehicle"] != "CT9" for r in answer["routes"])
    (reason,) = {entry["reason"] for entry in answer["unassigned"]}
    assert reason.startswith("no cylinder_truck of Thép Thủ Đức available to load at TDS"), reason
    assert "options.cross_company_loading" in reason


def test_cross_company_loading_is_an_explicit_setting(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    plan = _with_other_station([flow("TDS", HOA_HAO, 40)])
    answer = run(
        plan,
        [TANKER, OTHER_TRUCK],
        d5_network,
        d5_region,
        options={"cross_company_loading": True},
    )
    assert answer["unassigned"] == []
    (route,) = answer["routes"]
    assert route["vehicle"] == "CT9"
    assert [s["place_id"] for s in route["steps"] if s["type"] == "pickup"] == ["TDS"]


def test_each_company_loads_its_own(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    plan = _with_other_station([flow("TDS", HOA_HAO, 40), flow(OTHER, NGUYEN_TRAI, 30)])
    answer = run(plan, [TRUCK, OTHER_TRUCK], d5_network, d5_region)
    assert answer["unassigned"] == []
    home = {"CT1": "TDS", "CT9": OTHER}
    for route in answer["routes"]:
        pickups = {s["place_id"] for s in route["steps"] if s["type"] == "pickup"}
        assert pickups == {home[route["vehicle"]]}, route["steps"]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_cross_company_loading_must_be_a_boolean(value: Any) -> None:
    from coordination.dispatch import DispatchOptions
    from data.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"options.cross_company_loading: must be true"):
        DispatchOptions.from_mapping({"cross_company_loading": value})
