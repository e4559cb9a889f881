"""Facility imports set the district from the point; a declared one that differs is flagged.

Real points of the curated HCMC hospitals (derived/hcmc_2018_hospitals_curated.csv), in the OSM
district outlines of 2018 (raw/hcmc_2018-01-01_hcm_province.osm.pbf): Bệnh viện Từ Dũ
(106.6853432, 10.7688907) lies in Quận 1, Bệnh viện Hùng Vương (106.6616591, 10.7558823) in
Quận 5, Bệnh viện Mắt (106.6847966, 10.7786348) in Quận 3; Dĩ An (106.766, 10.9035) lies in
Bình Dương, outside every city district.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from data.access import Principal
from data.districts import district_for_point, same_district
from data.exchange.importers import import_file
from data.schema.registry import Role

ADMIN = Principal(user_id=1, username="admin", role=Role.ADMIN)
HEADER = "facility_id,name,province_code,lon,lat,tier,district\n"
TU_DU = "79-TUDU,Bệnh viện Từ Dũ,79,106.6853432,10.7688907,2"
HUNG_VUONG = "79-HV,Bệnh viện Hùng Vương,79,106.6616591,10.7558823,2"


@pytest.fixture(scope="module")
def districts(data_dir: Path) -> list[tuple[str, Any]]:
    from data.districts import district_shapes

    return district_shapes(data_dir)


def _import(store: Any, text: str, **options: Any) -> dict[str, Any]:
    return import_file(
        store,
        "facilities",
        text.encode("utf-8"),
        file_format="csv",
        principal=ADMIN,
        **({"locale": "en"} | options),
    )


def _stored(store: Any, facility_id: str) -> Any:
    return next(f for f in store.list_facilities() if f.facility_id == facility_id)


def test_the_district_is_set_from_the_point(store: Any, districts: Any) -> None:
    summary = _import(store, HEADER + TU_DU + ",\n", district_shapes=districts)
    assert summary["imported"] == 1 and summary["warnings"] == []
    assert summary["districts_from_points"] == [
        {"row": 2, "facility_id": "79-TUDU", "district": "Quận 1"}
    ]
    assert _stored(store, "79-TUDU").district == "Quận 1"  # diacritics kept


def test_a_dry_run_shows_the_district_and_stores_nothing(store: Any, districts: Any) -> None:
    before = len(store.list_facilities())
    summary = _import(store, HEADER + HUNG_VUONG + ",\n", district_shapes=districts, dry_run=True)
    assert summary["districts_from_points"][0]["district"] == "Quận 5"
    assert len(store.list_facilities()) == before


@pytest.mark.parametrize("declared", ["Quận 5", "Q.5", "quan 5", "District 05"])
def test_a_declared_district_that_agrees_is_kept_without_warning(
    store: Any, districts: Any, declared: str
) -> None:
    summary = _import(store, HEADER + HUNG_VUONG + f",{declared}\n", district_shapes=districts)
    assert summary["warnings"] == [] and summary["districts_from_points"] == []
    assert _stored(store, "79-HV").district == declared


def test_a_declared_district_that_disagrees_is_flagged(store: Any, districts: Any) -> None:
    summary = _import(store, HEADER + TU_DU + ",Quận 3\n", district_shapes=districts)
    [warning] = summary["warnings"]
    assert warning["field"] == "district" and warning["row"] == 2
    assert (warning["declared"], warning["found"]) == ("Quận 3", "Quận 1")
    assert "lies in 'Quận 1'" in warning["message_en"]
    assert "nằm trong 'Quận 1'" in warning["message_vi"]
    assert _stored(store, "79-TUDU").district == "Quận 3"  # kept as declared, flagged


def test_a_point_outside_the_city_districts_is_left_alone(store: Any, districts: Any) -> None:
    summary = _import(
        store,
        HEADER + "74-DIAN,BV Đa khoa Dĩ An,74,106.766,10.9035,2,\n",
        district_shapes=districts,
    )
    assert summary["warnings"] == [] and summary["districts_from_points"] == []
    assert _stored(store, "74-DIAN").district in (None, "")


def test_without_district_shapes_nothing_is_set(store: Any) -> None:
    summary = _import(store, HEADER + TU_DU + ",\n")
    assert summary["districts_from_points"] == []
    assert _stored(store, "79-TUDU").district in (None, "")


def test_district_names_compare_without_their_kind_word(districts: Any) -> None:
    assert district_for_point(106.6847966, 10.7786348, districts) == "Quận 3"
    assert same_district("Thành phố Thủ Đức", "Quận Thủ Đức")
    assert same_district("Q.10", "Quận 10")
    assert not same_district("Quận 1", "Quận 10")
    assert not same_district("Quận 3", "Quận 5")
