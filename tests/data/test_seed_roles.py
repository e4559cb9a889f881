"""Facility roles in the seed: demand and oxygen beds follow what a hospital did for COVID.

The rule under test (docs/seed.md, "Demand and beds by role"): a facility's share of the city's
generated demand is its role's weight x a random size factor, so an eye, maternity, dermatology,
dental or cosmetic hospital (``few_covid``, weight 0.05) never outweighs a COVID-designated
general hospital (weight 1); its beds hold its patients of the curve's highest day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

from data.errors import InvalidInputError
from data.schema.registry import Facility
from data.seed import SeedData, SeedParameters, build_seed, hcmc_seed
from data.seed_roles import (
    COVID_ROLES,
    DEFAULT_ROLE_PROFILES,
    FacilityRole,
    facility_role,
    specialty_of,
)

BED_FIELDS = ("beds_oxygen", "beds_high_flow", "beds_niv", "beds_invasive", "beds_ecmo")


@pytest.fixture(scope="module")
def seed(data_dir: Path) -> SeedData:
    return hcmc_seed(data_dir)


def _facility(name: str, tier: int = 3) -> Facility:
    return Facility("F-1", name, "79", 106.7, 10.78, tier)


@pytest.mark.parametrize(
    ("name", "tier", "role", "specialty"),
    [
        ("Bệnh viện Mắt TP. Hồ Chí Minh", 3, FacilityRole.FEW_COVID, "eye"),
        ("Benh vien mat Sai Gon", 3, FacilityRole.FEW_COVID, "eye"),  # no diacritics
        ("Bệnh viện Răng Hàm Mặt", 3, FacilityRole.FEW_COVID, "dental"),  # not "mắt" (eye)
        ("BV Quốc tế phụ sản", 3, FacilityRole.FEW_COVID, "maternity"),
        ("Bệnh viện Từ Dũ", 3, FacilityRole.FEW_COVID, "maternity"),  # name does not say it
        ("Bệnh viện Da Liễu TPHCM", 3, FacilityRole.FEW_COVID, "dermatology"),
        ("Bệnh viện Thẩm mỹ Kangnam", 3, FacilityRole.FEW_COVID, "cosmetic"),
        ("Bệnh viện dã chiến số 16", 3, FacilityRole.FIELD_HOSPITAL, None),
        ("Bệnh viện Nhiệt Đới", 3, FacilityRole.COVID_GENERAL, None),
        ("Bệnh Viện Chợ Rẫy", 3, FacilityRole.COVID_GENERAL, None),
        ("Bệnh viện Nhi Đồng 1", 3, FacilityRole.SPECIALIST, None),
        ("Bệnh viện Quận 8", 2, FacilityRole.DISTRICT, None),
        ("Trạm y tế phường 1", 1, FacilityRole.TIER1_SITE, None),
        ("Bệnh viện Đa khoa Tâm Anh", 3, FacilityRole.COVID_GENERAL, None),  # "tam" is no "tim"
    ],
)
def test_role_comes_from_the_name_and_tier(
    name: str, tier: int, role: FacilityRole, specialty: str | None
) -> None:
    assert facility_role(_facility(name, tier)) == role
    assert specialty_of(name) == specialty


def test_every_seeded_facility_has_beds_labelled_by_role(seed: SeedData) -> None:
    minimum = {p.role: p.min_oxygen_beds for p in DEFAULT_ROLE_PROFILES}
    for facility in seed.facilities:
        beds = [getattr(facility, name) for name in BED_FIELDS]
        assert None not in beds and sum(beds) >= minimum[facility_role(facility)], facility.name
        assert facility.source is not None
        assert f"oxygen beds by role {facility_role(facility).value}" in facility.source
        assert len(facility.source) <= 300  # the registry's text limit
    roles = defaultdict(list)
    for facility in seed.facilities:
        roles[facility_role(facility)].append(sum(getattr(facility, n) for n in BED_FIELDS))
    # Plausible for the role: specialty hospitals hold a handful of patients on oxygen, the
    # COVID-designated general hospitals tens to hundreds.
    assert max(roles[FacilityRole.FEW_COVID]) <= 20
    assert statistics.median(roles[FacilityRole.COVID_GENERAL]) >= 50
    assert max(roles[FacilityRole.COVID_GENERAL]) >= 150
    assert len(roles[FacilityRole.FEW_COVID]) == 21  # eye x3, maternity x4, dental x2, ...


def test_reports_never_have_more_patients_than_beds(seed: SeedData) -> None:
    by_id = {f.facility_id: f for f in seed.facilities}
    for report, _ in seed.reports:
        facility = by_id[report.facility_id]
        patients = (
            report.patients_cannula_mask
            + report.patients_high_flow
            + report.patients_niv
            + report.patients_invasive
            + report.patients_ecmo
        )
        assert patients <= sum(getattr(facility, n) for n in BED_FIELDS)
        if facility_role(facility) == FacilityRole.FEW_COVID:
            # They hold patients on masks and high flow until transfer, never on ventilators.
            assert report.patients_niv == report.patients_invasive == report.patients_ecmo == 0


def test_specialty_hospitals_never_outuse_the_covid_hospitals(seed: SeedData) -> None:
    latest = {(r.facility_id, r.report_date): r for r, _ in seed.reports}
    role_of = {f.facility_id: facility_role(f) for f in seed.facilities}
    tanks = {f.facility_id for f in seed.facilities if f.liquid_tank_capacity_l}
    days = sorted({day for _, day in latest})
    for day in days:
        used = {fid: r.oxygen_used_24h_m3 for (fid, d), r in latest.items() if d == day}
        covid_median = statistics.median(
            m3 for fid, m3 in used.items() if role_of[fid] == FacilityRole.COVID_GENERAL
        )
        few = [m3 for fid, m3 in used.items() if role_of[fid] == FacilityRole.FEW_COVID]
        assert max(few) < covid_median, day
        # The largest users with a liquid tank (the plan's liquid receivers) are COVID hospitals.
        largest = sorted((fid for fid in used if fid in tanks), key=lambda fid: -used[fid])[:10]
        assert {role_of[fid] for fid in largest} <= COVID_ROLES, day


def test_same_seed_same_beds_other_seed_other_sizes(seed: SeedData, data_dir: Path) -> None:
    again = hcmc_seed(data_dir)
    assert again.facilities == seed.facilities
    other = hcmc_seed(data_dir, parameters=SeedParameters(seed=7))
    assert [facility_role(f) for f in other.facilities] == [
        facility_role(f) for f in seed.facilities
    ]
    assert [f.beds_oxygen for f in other.facilities] != [f.beds_oxygen for f in seed.facilities]


def test_declared_beds_are_kept(seed: SeedData) -> None:
    first = dataclasses.replace(
        seed.facilities[0], **{**dict.fromkeys(BED_FIELDS), "beds_oxygen": 321}, source=None
    )
    (built,) = build_seed([first], []).facilities
    assert built.beds_oxygen == 321 and built.beds_invasive is None


def test_peak_occupancy_sets_the_beds(seed: SeedData) -> None:
    facilities = [
        dataclasses.replace(f, **dict.fromkeys(BED_FIELDS), source=None) for f in seed.facilities
    ]
    full = build_seed(facilities, [], parameters=SeedParameters(peak_oxygen_bed_occupancy=1.0))
    half = build_seed(facilities, [], parameters=SeedParameters(peak_oxygen_bed_occupancy=0.5))
    total = {
        name: sum(sum(getattr(f, n) for n in BED_FIELDS) for f in data.facilities)
        for name, data in (("full", full), ("half", half))
    }
    assert total["half"] == pytest.approx(2 * total["full"], rel=0.05)
    assert max(r.report_date for r, _ in full.reports) == dt.date(2021, 8, 31)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"peak_oxygen_bed_occupancy": 0.0}, "peak_oxygen_bed_occupancy: must be positive"),
        ({"peak_oxygen_bed_occupancy": 1.5}, "peak_oxygen_bed_occupancy: must be between 0 and 1"),
        ({"roles": DEFAULT_ROLE_PROFILES[1:]}, "roles: no profile for field_hospital"),
    ],
)
def test_bad_role_parameters_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        SeedParameters(**changes)  # type: ignore[arg-type]
