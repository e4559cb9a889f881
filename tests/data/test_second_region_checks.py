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
