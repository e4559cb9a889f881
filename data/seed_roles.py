"""Roles of seeded facilities in the COVID response of 2021, and the oxygen beds they imply.

A facility's **role** says how much of the city's COVID oxygen demand it takes: a field hospital or
a COVID-designated general hospital many patients on oxygen, an eye, maternity, dermatology,
dental or cosmetic hospital few (it screens, stabilises and transfers). :func:`facility_role`
reads it from the facility's name (specialty words, with or without diacritics) and its COVID
treatment tier (:func:`data.exchange.importers.hcmc_tier`); :class:`RoleProfile` holds what the
seed does with it. Every figure here is a generated assumption, labelled so in docs/seed.md and
in each seeded facility's ``source``; the anchors (the city's 170 t/day, the MOH severity mix,
the QĐ 4111 tier model) are in :mod:`data.seed` and oxygen-parameters.md.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from data.errors import InvalidInputError
from data.schema.registry import Facility


class FacilityRole(StrEnum):
    """What a facility did for COVID patients on oxygen in August 2021 (seed assumption)."""

    FIELD_HOSPITAL = "field_hospital"  # dã chiến, COVID treatment or resuscitation centres
    COVID_GENERAL = "covid_general"  # tier-3 general hospitals, tropical diseases, lung
    DISTRICT = "district"  # tier-2 district hospitals and health centres, converted
    SPECIALIST = "specialist"  # children, heart, oncology, haematology: their own COVID patients
    FEW_COVID = "few_covid"  # eye, maternity, skin, dental, cosmetic, ENT, rehabilitation, ...
    TIER1_SITE = "tier1_site"  # tier-1 sites: mild patients, oxygen while awaiting transfer


COVID_ROLES = frozenset({FacilityRole.FIELD_HOSPITAL, FacilityRole.COVID_GENERAL})
"""Roles whose facilities treat many COVID patients on oxygen."""

# Phrases are matched as whole words on the name without diacritics ("đ" as "d"), casefolded.
# The first table that matches wins, so "Răng Hàm Mặt" (dental) is read before "mắt" (eye).
_FIELD_PHRASES = (
    "da chien",
    "field hospital",
    "dieu tri covid",
    "hoi suc covid",
    "thu dung",
)
_COVID_CORE_PHRASES = ("nhiet doi", "pham ngoc thach", "phoi", "lao")  # infectious and lung
_FEW_COVID_PHRASES: tuple[tuple[str, str], ...] = (
    ("rang ham mat", "dental"),
    ("nha khoa", "dental"),
    ("dental", "dental"),
    ("tham my", "cosmetic"),
    ("cosmetic", "cosmetic"),
    ("mat", "eye"),
    ("eye", "eye"),
    ("phu san", "maternity"),
    ("san phu", "maternity"),
    ("maternity", "maternity"),
    # Maternity hospitals whose names do not say so (common knowledge, not a shared source).
    ("tu du", "maternity"),
    ("hung vuong", "maternity"),
    ("da lieu", "dermatology"),
    ("skin", "dermatology"),
    ("tai mui hong", "ENT"),
    ("phuc hoi chuc nang", "rehabilitation"),
    ("chinh hinh", "orthopaedics"),
    ("y hoc co truyen", "traditional medicine"),
    ("y duoc hoc dan toc", "traditional medicine"),
    ("truyen mau", "blood transfusion"),
    ("dieu duong", "convalescence"),
    ("tam than", "psychiatry"),
    ("ve sinh y te", "public-health institute"),
    ("pasteur", "public-health institute"),
)
_SPECIALIST_PHRASES = ("nhi", "tim", "ung buou", "huyet hoc")


@dataclass(frozen=True, slots=True)
class RoleProfile:
    """What the seed generates for the facilities of one role (every figure an assumption).

    Parameters
    ----------
    role
        The role.
    weight
        Share of the city's COVID oxygen demand per facility, relative to a COVID-designated
        general hospital (1.0), before the facility's random size factor.
    severity_tier
        Tier whose severity mix its patients follow (:data:`data.seed.TIER_SEVERITY_MIX`); None:
        the facility's own tier. Hospitals that treat few COVID patients hold them on masks and
        high-flow cannulas until transfer (tier 2's mix), never on ventilators.
    min_oxygen_beds
        Oxygen beds (all levels) a facility of the role has at least.
    """

    role: FacilityRole
    weight: float
    severity_tier: int | None
    min_oxygen_beds: int

    def __post_init__(self) -> None:
        problems = []
        if not self.weight > 0:
            problems.append(f"weight: must be positive, got {self.weight!r}")
        if self.severity_tier not in (None, 1, 2, 3):
            problems.append(f"severity_tier: must be 1, 2, 3 or None, got {self.severity_tier!r}")
        if not (isinstance(self.min_oxygen_beds, int) and self.min_oxygen_beds >= 1):
            problems.append(
                f"min_oxygen_beds: must be an integer >= 1, got {self.min_oxygen_beds!r}"
            )
        if problems:
            raise InvalidInputError.from_problems(f"role profile {self.role}", problems)


DEFAULT_ROLE_PROFILES: tuple[RoleProfile, ...] = (
    RoleProfile(FacilityRole.FIELD_HOSPITAL, 1.5, None, 100),
    RoleProfile(FacilityRole.COVID_GENERAL, 1.0, None, 20),
    # A third of a tier-3 hospital, as the seed's former tier weights (tier 3 = 3 x tier 2).
    RoleProfile(FacilityRole.DISTRICT, 1 / 3, None, 20),
    RoleProfile(FacilityRole.SPECIALIST, 0.25, None, 10),
    RoleProfile(FacilityRole.FEW_COVID, 0.05, 2, 4),
    RoleProfile(FacilityRole.TIER1_SITE, 0.1, 1, 10),
)
"""The seed's role profiles (docs/seed.md, "Demand and beds by role")."""


def plain_name(name: str) -> str:
    """Return ``name`` casefolded, without diacritics (``đ`` as ``d``), words split by spaces."""
    text = unicodedata.normalize("NFD", name.casefold().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def _has(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


def specialty_of(name: str) -> str | None:
    """Return the low-COVID specialty a hospital's name shows ("eye", "maternity", ...), or None."""
    words = plain_name(name)
    return next((label for phrase, label in _FEW_COVID_PHRASES if _has(words, phrase)), None)


def facility_role(facility: Facility) -> FacilityRole:
    """Return a facility's role from its name and tier (rule in docs/seed.md).

    In order: a field hospital or COVID treatment centre by name; a tropical-diseases or lung
    hospital (COVID-designated general); a low-COVID specialty (:func:`specialty_of`); a
    children's, heart, oncology or haematology hospital (specialist); else by tier: 3 a
    COVID-designated general hospital, 2 a district hospital, 1 a tier-1 site.
    """
    words = plain_name(facility.name)
    if any(_has(words, phrase) for phrase in _FIELD_PHRASES):
        return FacilityRole.FIELD_HOSPITAL
    if any(_has(words, phrase) for phrase in _COVID_CORE_PHRASES):
        return FacilityRole.COVID_GENERAL
    if specialty_of(facility.name) is not None:
        return FacilityRole.FEW_COVID
    if any(_has(words, phrase) for phrase in _SPECIALIST_PHRASES):
        return FacilityRole.SPECIALIST
    return {
        3: FacilityRole.COVID_GENERAL,
        2: FacilityRole.DISTRICT,
    }.get(facility.tier, FacilityRole.TIER1_SITE)


def role_profile(role: FacilityRole, profiles: tuple[RoleProfile, ...]) -> RoleProfile:
    """Return the profile of ``role`` among ``profiles``.

    Raises
    ------
    InvalidInputError
        If ``profiles`` has none for ``role``.
    """
    for profile in profiles:
        if profile.role == role:
            return profile
    raise InvalidInputError(f"roles: no profile for role {role.value!r}; add one")
