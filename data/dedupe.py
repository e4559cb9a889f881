"""Find duplicate facilities: the same OSM id, or the same normalised name close by (pure).

Rules (documented in docs/seed.md, "Duplicates"), checked for every pair:

1. **Same OSM id** (``osm_id``, for example ``way/127299413``): a duplicate wherever it lies.
2. **Same name**: names equal once normalised (:func:`normalise_name`: no diacritics, ``đ`` as
   ``d``, lower case, punctuation as spaces, ``BV`` read as "bệnh viện" and ``TP`` as "thành phố";
   the words "bệnh viện" and "đa khoa" dropped), within ``same_name_max_m`` (5 km: "BV Thu Duc"
   and "Bệnh viện Thủ Đức" are 3.8 km apart in OSM).
3. **One name inside the other**: the words of one normalised name are all in the other (the
   shorter has at least one word), with the same numbers ("Quận 1" is not "Quận 10", "Nhi Đồng 1"
   is not "Nhi Đồng 2") and the same specialty words ("Mắt Sài Gòn" is not "Sài Gòn"), within
   ``contained_name_max_m`` (300 m: "Bệnh viện Đa Khoa Vạn Hạnh" and "Bệnh viện Vạn Hạnh" are 142 m
   apart; "Bệnh viện Đại học Y Dược" and its namesake 470 m away are two campuses).

Two hospitals side by side with different names (Ung Bướu and Gia Định, 90 m) are never merged.
Distances are great-circle metres on WGS84 coordinates.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.schema.registry import Facility

SAME_NAME_MAX_M = 5_000.0
CONTAINED_NAME_MAX_M = 300.0
EARTH_RADIUS_M = 6_371_008.8

# Read before comparing (whole words, after removing diacritics).
_ABBREVIATIONS = {"bv": "benh vien", "tp": "thanh pho", "tphcm": "thanh pho ho chi minh"}
# Words that say "hospital" and nothing about which one.
_GENERIC_PHRASES = ("benh vien", "da khoa")
# Words naming a specialty: two names must have the same ones to be one facility.
SPECIALTY_WORDS = frozenset(
    {
        "mat",  # mắt: eye
        "nhi",  # nhi: children
        "tim",  # tim: heart
        "san",  # sản: maternity
        "rang",  # răng hàm mặt: dental
        "lieu",  # da liễu: dermatology
        "buou",  # ung bướu: oncology
        "mui",  # tai mũi họng: ENT
        "truyen",  # truyền máu: blood
        "nhiet",  # nhiệt đới: tropical diseases
        "chinh",  # chỉnh hình: orthopaedics
        "phuc",  # phục hồi chức năng: rehabilitation
        "lao",  # lao: tuberculosis
        "than",  # thần kinh, tâm thần: neurology, psychiatry
        "duong",  # điều dưỡng: nursing
    }
)


@dataclass(frozen=True, slots=True)
class DedupeCandidate:
    """A facility as the matcher sees it: id, name, WGS84 position and its OSM id, if any."""

    record_id: str
    name: str
    lon: float
    lat: float
    osm_id: str | None = None


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Two records found to be one facility, by which rule, and how far apart (metres)."""

    first_id: str
    second_id: str
    rule: str
    distance_m: float


def normalise_name(name: str) -> str:
    """Return a name without diacritics, case, punctuation, abbreviations or generic words.

    Examples
    --------
    >>> normalise_name("BV Thu Duc") == normalise_name("Bệnh viện Thủ Đức")
    True
    >>> normalise_name("Bệnh viện Đa Khoa Vạn Hạnh")
    'van hanh'
    """
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = "".join(c if c.isalnum() else " " for c in text).split()
    text = " ".join(_ABBREVIATIONS.get(word, word) for word in words)
    for phrase in _GENERIC_PHRASES:
        text = f" {text} ".replace(f" {phrase} ", " ").strip()
    return " ".join(text.split())


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _contained(short: set[str], long: set[str]) -> bool:
    numbers = {w for w in short | long if w.isdigit()}
    if not short or not short <= long or not short - numbers:
        return False
    return {w for w in short if w.isdigit()} == {w for w in long if w.isdigit()} and (
        short & SPECIALTY_WORDS == long & SPECIALTY_WORDS
    )


def _rule(
    a: DedupeCandidate,
    b: DedupeCandidate,
    distance: float,
    same_name_max_m: float,
    contained_name_max_m: float,
) -> str | None:
    if a.osm_id and a.osm_id == b.osm_id:
        return "same_osm_id"
    name_a, name_b = normalise_name(a.name), normalise_name(b.name)
    if name_a and name_a == name_b and distance <= same_name_max_m:
        return "same_name"
    words_a, words_b = set(name_a.split()), set(name_b.split())
    short, long = sorted((words_a, words_b), key=len)
    if distance <= contained_name_max_m and _contained(short, long):
        return "name_contained"
    return None


def find_duplicates(
    candidates: Sequence[DedupeCandidate],
    *,
    same_name_max_m: float = SAME_NAME_MAX_M,
    contained_name_max_m: float = CONTAINED_NAME_MAX_M,
) -> list[DuplicatePair]:
    """Return every pair of candidates that the rules (module docs) find to be one facility.

    Pairs are in input order (``first_id`` comes before ``second_id`` in ``candidates``).
    Quadratic in the number of candidates: fine for a city's few hundred hospitals.
    """
    pairs = []
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            distance = distance_m(a.lon, a.lat, b.lon, b.lat)
            rule = _rule(a, b, distance, same_name_max_m, contained_name_max_m)
            if rule is not None:
                pairs.append(DuplicatePair(a.record_id, b.record_id, rule, round(distance, 1)))
    return pairs


def duplicate_groups(
    candidates: Sequence[DedupeCandidate], pairs: Sequence[DuplicatePair]
) -> list[list[DedupeCandidate]]:
    """Group candidates linked by pairs (transitively), in input order; singles are left out."""
    parent = {c.record_id: c.record_id for c in candidates}

    def root(record_id: str) -> str:
        while parent[record_id] != record_id:
            record_id = parent[record_id]
        return record_id

    for pair in pairs:
        parent[root(pair.second_id)] = root(pair.first_id)
    groups: dict[str, list[DedupeCandidate]] = {}
    for candidate in candidates:
        groups.setdefault(root(candidate.record_id), []).append(candidate)
    return [group for group in groups.values() if len(group) > 1]


def keeper(group: Sequence[DedupeCandidate]) -> DedupeCandidate:
    """Pick the record to keep: a name with Vietnamese diacritics, then an OSM way, then longer.

    A name written with its diacritics is the one an officer recognises (and it was typed with
    care); an OSM way outlines the building, a node is only a pin; a longer name says more.
    """

    def rank(c: DedupeCandidate) -> tuple[bool, bool, int, str]:
        return (
            c.name.isascii(),
            not (c.osm_id or "").startswith("way"),
            -len(c.name),
            c.record_id,
        )

    return min(group, key=rank)


MERGED_INTO_PREFIX = "merged into "
"""How the store's merge starts a duplicate's ``source`` (``data.store.registry``)."""


def merged_into(facility: Facility) -> str | None:
    """Return the id of the facility ``facility`` was merged into (None: not a merged duplicate).

    Examples
    --------
    >>> from data.schema.registry import Facility
    >>> twin = Facility(
    ...     facility_id="79-A2", name="BV Cho Ray", province_code="79", lon=106.66, lat=10.76,
    ...     tier=3, source="merged into 79-A; OSM",
    ... )
    >>> merged_into(twin)
    '79-A'
    """
    source = facility.source or ""
    if not source.startswith(MERGED_INTO_PREFIX):
        return None
    kept = source[len(MERGED_INTO_PREFIX) :].split(";", 1)[0].strip()
    return kept or None
