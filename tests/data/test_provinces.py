"""Provinces of 2021 and their 2025 units, computed by polygon overlay of the shared shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.provinces import PROVINCES_2021, map_provinces_to_2025, provinces_with_2025_units


@pytest.fixture(scope="module")
def mappings(data_dir: Path):  # type: ignore[no-untyped-def]
    return {m.province_code: m for m in map_provinces_to_2025(data_dir)}


def test_63_units_with_unique_codes() -> None:
    assert len(PROVINCES_2021) == 63
    assert len({code for code, _, _ in PROVINCES_2021}) == 63


def test_every_province_maps_to_one_of_34_units(mappings) -> None:  # type: ignore[no-untyped-def]
    assert len(mappings) == 63
    assert len({m.unit_2025_code for m in mappings.values()}) == 34
    assert min(m.area_share for m in mappings.values()) > 0.999


@pytest.mark.parametrize(
    ("old", "new_code", "new_name"),
    [
        ("74", "79", "TP HCM"),  # Bình Dương joined Hồ Chí Minh City
        ("77", "79", "TP HCM"),  # so did Bà Rịa - Vũng Tàu
        ("80", "80", "Tây Ninh"),  # Long An merged into (new) Tây Ninh, which took code 80
        ("46", "46", "TP Huế"),  # Thừa Thiên Huế: unchanged territory
        ("67", "68", "Lâm Đồng"),  # Đắk Nông
    ],
)
def test_known_mergers(mappings, old: str, new_code: str, new_name: str) -> None:  # type: ignore[no-untyped-def]
    assert (mappings[old].unit_2025_code, mappings[old].unit_2025_name) == (new_code, new_name)


def test_provinces_keep_their_2021_names(data_dir: Path) -> None:
    by_code = {p.province_code: p for p in provinces_with_2025_units(data_dir)}
    assert by_code["46"].name == "Tỉnh Thừa Thiên Huế"
    assert by_code["79"].name == "Thành phố Hồ Chí Minh"
