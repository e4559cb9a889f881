"""What a region's plan takes from the national registry, and what it lists as left out."""

from __future__ import annotations

import math

from coordination.region_scope import distance_to_bbox_m, scope_registry
from data.region import load_region
from data.schema.registry import Facility, Supplier, SupplierKind

# District 5's map (hcmc_d5), [west, south, east, north].
BBOX = (106.6691849, 10.7524418, 106.687015, 10.7668408)


def _facility(facility_id: str, province: str, lon: float, lat: float) -> Facility:
    return Facility(
        facility_id=facility_id, name=facility_id, province_code=province, lon=lon, lat=lat, tier=2
    )


def _supplier(supplier_id: str, lon: float | None, lat: float | None) -> Supplier:
    return Supplier(
        supplier_id=supplier_id,
        name=supplier_id,
        kind=SupplierKind.FILLING_STATION,
        province_code="79",
        lon=lon,
        lat=lat,
    )


def test_distance_to_the_map() -> None:
    assert distance_to_bbox_m(106.675, 10.76, BBOX) == 0.0
    # 0.01° of latitude due north of the box: 1,112 m on the sphere.
    assert math.isclose(distance_to_bbox_m(106.675, 10.7768408, BBOX), 1111.95, abs_tol=0.5)


def test_the_scope_keeps_the_map_and_lists_the_rest() -> None:
    region = load_region("hcmc_d5")
    scope = scope_registry(
        [
            _facility("ON-MAP", "79", 106.675, 10.76),
            _facility("AT-EDGE", "79", 106.70, 10.76),  # 1.4 km east: inside the 0.02° margin
            _facility("GIA-DINH", "79", 106.694, 10.8043),  # same province, 4.2 km off: listed
            _facility("BACH-MAI", "01", 105.8412, 21.0012),  # another province: counted
        ],
        [
            _supplier("ON-MAP-S", 106.68, 10.755),
            _supplier("TDS", 106.76, 10.842),  # off the map but linked by the gateways
            _supplier("FAR-S", 106.76, 10.90),
            _supplier("NOWHERE", None, None),
        ],
        region,
        BBOX,
    )
    assert [f.facility_id for f in scope.facilities] == ["ON-MAP", "AT-EDGE"]
    assert [s.supplier_id for s in scope.suppliers] == ["ON-MAP-S", "TDS"]
    left = {e.record_id: e for e in scope.left_out}
    assert set(left) == {"GIA-DINH", "FAR-S", "NOWHERE"} and scope.other_provinces_off_map == 1
    assert left["GIA-DINH"].reason.startswith("4.2 km off the map of Quận 5")
    assert "linked by none of its gateways" in left["FAR-S"].reason
    assert left["NOWHERE"].reason.startswith("no position in the registry")
    assert left["NOWHERE"].to_dict()["location"] is None


def test_without_a_province_every_facility_off_the_map_is_listed() -> None:
    from dataclasses import replace

    region = replace(load_region("hcmc_d5"), province_code=None)
    scope = scope_registry([_facility("BACH-MAI", "01", 105.8412, 21.0012)], [], region, BBOX)
    assert [e.record_id for e in scope.left_out] == ["BACH-MAI"]
    assert scope.other_provinces_off_map == 0
