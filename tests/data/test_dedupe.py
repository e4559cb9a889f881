"""The duplicate finder: real pairs merge, near misses never do."""

from __future__ import annotations

import pytest

from data.dedupe import (
    DedupeCandidate,
    distance_m,
    duplicate_groups,
    find_duplicates,
    keeper,
    normalise_name,
)

# About 0.0009 degrees of latitude is 100 m.
BASE = (106.7000, 10.8000)


def _at(
    record_id: str, name: str, north_m: float = 0.0, osm_id: str | None = None
) -> DedupeCandidate:
    return DedupeCandidate(record_id, name, BASE[0], BASE[1] + north_m / 111_195.0, osm_id)


def test_names_lose_diacritics_abbreviations_and_generic_words() -> None:
    assert normalise_name("BV Thu Duc") == normalise_name("Bệnh viện Thủ Đức") == "thu duc"
    assert normalise_name("Bệnh viện Đa Khoa Vạn Hạnh") == "van hanh"
    assert normalise_name("Bệnh viên tim tâm đức") == "tim tam duc"  # viên for viện
    assert distance_m(*BASE, BASE[0], BASE[1] + 0.001) == pytest.approx(111.2, abs=0.1)


@pytest.mark.parametrize(
    ("a", "b", "north_m", "rule"),
    [
        ("BV Thu Duc", "Bệnh viện Thủ Đức", 3_800, "same_name"),  # as in OSM, 3.8 km apart
        ("Bệnh viện Đa Khoa Vạn Hạnh", "Bệnh viện Vạn Hạnh", 140, "same_name"),
        ("Bệnh viện Nhân dân Gia Định", "Bệnh Viện Gia Định", 40, "name_contained"),
        ("Viện Pasteur HCM", "Viện Pasteur", 120, "name_contained"),
    ],
)
def test_real_pairs_are_found(a: str, b: str, north_m: float, rule: str) -> None:
    (pair,) = find_duplicates([_at("1", a), _at("2", b, north_m)])
    assert (pair.first_id, pair.second_id, pair.rule) == ("1", "2", rule)


@pytest.mark.parametrize(
    ("a", "b", "north_m"),
    [
        ("Bệnh viện Ung Bướu", "Bệnh viện Gia Định", 90),  # neighbours, different names
        ("Bệnh viện Nhi Đồng 1", "Bệnh viện Nhi Đồng 2", 50),  # numbers differ
        ("Bệnh viện Quận 1", "Bệnh viện Quận 10", 10),  # 1 is not 10
        ("Bệnh viện Sài Gòn", "Bệnh viện Mắt Sài Gòn", 50),  # a specialty on one side only
        ("Bệnh viện Đại học Y Dược", "Bệnh viện Đại học Y dược TP. Hồ Chí Minh", 470),  # campus
        ("Bệnh viện Quận 2", "Bệnh viện Quận 2", 8_000),  # same name, too far apart
        ("Benh Vien", "Bệnh viện Phú Nhuận", 20),  # a name saying only "hospital"
    ],
)
def test_near_misses_do_not_merge(a: str, b: str, north_m: float) -> None:
    assert find_duplicates([_at("1", a), _at("2", b, north_m)]) == []


def test_same_osm_id_merges_wherever_it_lies() -> None:
    a = _at("1", "Bệnh viện A", osm_id="way/1")
    b = _at("2", "Hospital B", 50_000, osm_id="way/1")
    assert [p.rule for p in find_duplicates([a, b])] == ["same_osm_id"]


def test_groups_and_the_record_kept() -> None:
    node = _at("n", "BV Thu Duc", 0, "node/1")
    way = _at("w", "Bệnh viện Thủ Đức", 100, "way/2")
    other = _at("o", "Bệnh viện Quận 9", 100, "way/3")
    groups = duplicate_groups([node, way, other], find_duplicates([node, way, other]))
    assert groups == [[node, way]]
    assert keeper(groups[0]) == way  # diacritics, an OSM way
    plain_way = _at("w2", "Benh Vien Phu San", 0, "way/4")
    named_node = _at("n2", "Bệnh viện Phụ sản Mekong", 20, "node/5")
    assert keeper([plain_way, named_node]) == named_node  # diacritics before way
