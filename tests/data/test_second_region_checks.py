"""Region files of another city: the checks that misled (issue 16, item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.errors import InvalidInputError
from data.region import load_region

_ROADS = '[roads]\nfile = "derived/hcmc_d5_drive_service.osm.gz"\nnetwork_type = "drive_service"\n'


def _region(tmp_path: Path, text: str) -> str:
    (tmp_path / "benh_vien.csv").write_text(
        "ma_bv,ten,kinh_do,vi_do\nCT-01,Bệnh viện Đa khoa Cần Thơ,106.6760,10.7590\n",
        encoding="utf-8",
    )
    (tmp_path / "nha_cung_cap.csv").write_text(
        "id,name,lon,lat\nCT-OXY,Trạm nạp Cần Thơ,106.6800,10.7560\n", encoding="utf-8"
    )
    path = tmp_path / "can_tho.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_province_code_that_is_not_a_2021_code_is_refused(tmp_path: Path) -> None:
    # Before: "99" was accepted (it is two digits) and scoped coordinators of no province.
    path = _region(tmp_path, f'name = "Cần Thơ"\nprovince_code = "99"\n{_ROADS}')
    with pytest.raises(InvalidInputError) as caught:
        load_region(path)
    assert any(
        p.startswith("region.province_code: '99' is not a 2021 province code")
        for p in caught.value.problems
    )
    assert load_region(_region(tmp_path, f'name = "Cần Thơ"\nprovince_code = "92"\n{_ROADS}'))


def test_a_gateway_link_to_a_mistyped_place_id_is_refused(tmp_path: Path) -> None:
    text = f"""name = "Cần Thơ"
{_ROADS}
[facilities]
file = "benh_vien.csv"
id_column = "ma_bv"
name_column = "ten"
lon_column = "kinh_do"
lat_column = "vi_do"
[suppliers]
file = "nha_cung_cap.csv"
[[gateways]]
id = "ql1-cai-rang"
lon = 106.6865
lat = 10.7625
links = {{ "CT-0XY" = {{ extra_min = 30 }} }}
"""
    with pytest.raises(InvalidInputError) as caught:
        load_region(_region(tmp_path, text))
    (problem,) = caught.value.problems
    assert problem.startswith(
        "gateways[0].links.CT-0XY: gateway 'ql1-cai-rang' links to place id 'CT-0XY', which is "
        "in neither the region's facilities nor its suppliers file"
    )
    assert "did you mean 'CT-OXY'" in problem
    region = load_region(_region(tmp_path, text.replace("CT-0XY", "CT-OXY")))
    assert set(region.gateways[0].links) == {"CT-OXY"}


def test_a_missing_id_column_names_the_toml_key_and_the_columns_found(tmp_path: Path) -> None:
    # Before: "missing column(s) ['id']", with no word of the [facilities] id_column key.
    path = _region(tmp_path, f'name = "Cần Thơ"\n{_ROADS}[facilities]\nfile = "benh_vien.csv"\n')
    region = load_region(path)
    assert region.facilities is not None
    with pytest.raises(InvalidInputError) as caught:
        region.facilities.read()
    message = str(caught.value)
    assert "no column 'id' (chosen by [facilities] id_column, its default)" in message
    assert "columns found: ['ma_bv', 'ten', 'kinh_do', 'vi_do']" in message
    assert "set [facilities] id_column, lon_column, lat_column to the file's column" in message


def test_a_time_zone_other_than_vietnams_is_refused(tmp_path: Path) -> None:
    # Before: validated, then never used: every local time was Asia/Ho_Chi_Minh's anyway.
    path = _region(tmp_path, f'name = "Cần Thơ"\ntimezone = "Asia/Bangkok"\n{_ROADS}')
    with pytest.raises(InvalidInputError) as caught:
        load_region(path)
    assert any(
        p.startswith("region.timezone: 'Asia/Bangkok' is not supported; oxyroute makes every")
        for p in caught.value.problems
    )


def test_district_outlines_come_from_the_configured_file(tmp_path: Path, data_dir: Path) -> None:
    from data.districts import district_for_point, district_polygons, region_districts
    from tests.second_region_world import write_second_region

    files = write_second_region(tmp_path, data_dir)
    region = load_region(str(files["region"]))
    assert region.districts_file == files["districts"] and region.districts_name_property == "ten"
    outlines, source = region_districts(
        region.districts_file,
        name_property=region.districts_name_property,
        province_code=region.province_code,
        data_dir=data_dir,
    )
    assert source == "[districts] file quan_huyen.geojson" and outlines is not None
    names = [f["properties"]["name"] for f in outlines["features"]]
    assert names == ["Quận 1", "Quận 10", "Quận 11", "Quận 5"]
    assert district_for_point(106.6749362, 10.7567392, district_polygons(outlines)) == "Quận 5"
    # Another region of another province with no file has none, and says why.
    none, why = region_districts(None, province_code="92", data_dir=data_dir)
    assert none is None and "no [districts] file" in why


def test_a_districts_file_without_the_name_property_is_refused(
    tmp_path: Path, data_dir: Path
) -> None:
    from data.districts import districts_from_geojson
    from tests.second_region_world import write_second_region

    files = write_second_region(tmp_path, data_dir)
    with pytest.raises(InvalidInputError) as caught:
        districts_from_geojson(files["districts"])  # the names are in "ten", not "name"
    assert caught.value.problems[0] == (
        "features[0].properties.name: missing; set [districts] name_property to the property "
        "that names the district (found: ['nguon', 'ten'])"
    )
    text = 'name = "x"\n[roads]\nfile = "a.osm"\n[districts]\nname_property = "ten"\n'
    with pytest.raises(InvalidInputError, match=r"districts\.file: missing"):
        load_region(_region(tmp_path, text))


def test_a_region_given_by_path_keeps_its_path_as_reference(tmp_path: Path, data_dir: Path) -> None:
    from tests.second_region_world import write_second_region

    files = write_second_region(tmp_path, data_dir)
    region = load_region(str(files["region"]))
    assert region.region_id == "vung_thu"
    assert region.reference == str(files["region"].resolve())
    assert load_region("hcmc_d5").reference == "hcmc_d5"
