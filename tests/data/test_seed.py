"""The HCMC seed and the ``oxyroute db seed`` command.

Sourced suppliers, a generated fleet, generated August 2021 reports; determinism, labels, and the
``oxyroute db seed`` command.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from data.reporting import is_on_time
from data.schema.registry import SupplierKind, VehicleKind
from data.seed import (
    LARGE_TANKER_LOX_KG,
    SEED_SUBMITTER,
    SeedData,
    SeedParameters,
    SeedSummary,
    build_seed,
    hcmc_seed,
    province_code_for,
    store_seed,
)

AUGUST = [dt.date(2021, 8, 1) + dt.timedelta(days=i) for i in range(31)]


@pytest.fixture(scope="session")
def seed(data_dir: Path) -> SeedData:
    return hcmc_seed(data_dir)


@pytest.fixture(scope="session")
def supplier_places(data_dir: Path) -> list[Any]:
    from data.region import load_region

    region = load_region("hcmc", data_dir=data_dir)
    assert region.suppliers is not None
    return region.suppliers.read()


def test_same_seed_same_rows_other_seed_other_rows(
    seed: SeedData, supplier_places: list[Any]
) -> None:
    again = build_seed(seed.facilities, supplier_places)
    assert again == seed
    other = build_seed(seed.facilities, supplier_places, parameters=SeedParameters(seed=7))
    assert other.suppliers == seed.suppliers and other.vehicles == seed.vehicles  # not random
    assert other.reports != seed.reports
    # A facility's reports do not depend on the others (draws are seeded per facility and day).
    alone = build_seed(seed.facilities[:1], supplier_places)
    first_id = seed.facilities[0].facility_id
    assert [(r, at) for r, at in seed.reports if r.facility_id == first_id][:5] != []
    # Its patients differ (its share of the city changes) but its submission pattern does not.
    assert [(r.report_date, at) for r, at in alone.reports] == [
        (r.report_date, at) for r, at in seed.reports if r.facility_id == first_id
    ]


def test_suppliers_keep_their_sources_and_placement(seed: SeedData) -> None:
    by_id = {s.supplier_id: s for s in seed.suppliers}
    assert len(by_id) == 9
    assert by_id["NSV-PM"].kind == SupplierKind.LIQUID_PRODUCER
    # Liquid output is the plant's medical share (80/274.3 of 240 t/day), not its capacity.
    assert by_id["NSV-PM"].liquid_output_t_per_day == 70.0 and by_id["NSV-PM"].province_code == "77"
    assert (
        by_id["NSV-PM"].source is not None
        and "of the plant's 240.0 t/day" in by_id["NSV-PM"].source
    )
    assert (
        by_id["MESSER-VSIP1"].cylinders_per_day == 500
        and by_id["MESSER-VSIP1"].province_code == "74"
    )
    assert by_id["TDS"].province_code == "79" and by_id["VICASA"].province_code == "75"
    assert by_id["MESSER-VSIP1"].products == ("cylinder_40L",)
    for supplier in seed.suppliers:
        assert supplier.source is not None and "capacity: http" in supplier.source
        assert "location: " in supplier.source and not supplier.source.startswith("generated")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("TP Hồ Chí Minh", "79"),
        ("Bà Rịa – Vũng Tàu", "77"),  # noqa: RUF001
        ("Đồng Nai", "75"),
        ("Tỉnh Bình Dương", "74"),
    ],
)
def test_province_names_become_codes(name: str, code: str) -> None:
    assert province_code_for(name) == code


def test_unknown_province_name_is_refused() -> None:
    from data.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="province_2021: no 2021 province named 'Sài Gòn'"):
        province_code_for("Sài Gòn")


def test_fleet_is_generated_and_homed_at_suppliers(seed: SeedData) -> None:
    supplier_ids = {s.supplier_id: s for s in seed.suppliers}
    operator_ids = {o.operator_id for o in seed.transport_operators}
    assert len(operator_ids) == 7
    kinds = Counter(v.kind for v in seed.vehicles)
    assert kinds == {VehicleKind.CRYOGENIC_TANKER: 12, VehicleKind.CYLINDER_TRUCK: 12}
    for vehicle in seed.vehicles:
        assert vehicle.source is not None and vehicle.source.startswith("generated:")
        assert vehicle.operator_id in operator_ids
        home = supplier_ids[vehicle.home_depot_id or ""]
        # Tankers at liquid producers, trucks at filling stations.
        assert (vehicle.kind == VehicleKind.CRYOGENIC_TANKER) == (
            home.kind == SupplierKind.LIQUID_PRODUCER
        )
    for operator in seed.transport_operators:
        assert operator.source is not None and operator.source.startswith("generated:")
    # Tankers are sized from the plant's capacity (240 t/day, ~29 % to hospitals = 70 t/day): two
    # 20 t tankers at 2 trips, whatever the medical figure the plan uses.
    assert [v.tank_capacity_lox_kg for v in seed.vehicles if v.home_depot_id == "NSV-PM"] == [
        LARGE_TANKER_LOX_KG,
        LARGE_TANKER_LOX_KG,
        5500.0,
    ]


def test_curve_is_anchored_on_the_sourced_demand(seed: SeedData) -> None:
    """The curve passes through 170 t/day on 19 August, the default plan's reporting day."""
    curve = dict(seed.curve)
    assert list(curve) == AUGUST
    assert curve[dt.date(2021, 8, 19)] == pytest.approx(170.0, abs=1e-3)
    # The logistic's shape: from about half its upper level (1 August) to three quarters of it
    # on 16 August; the upper level is 170 / shape(19 August) = 170 / 0.8395 = 202.5 t/day.
    upper = 170.0 / SeedParameters()._shape(dt.date(2021, 8, 19))
    assert upper == pytest.approx(202.5, abs=0.1)
    assert curve[dt.date(2021, 8, 16)] == pytest.approx(0.75 * upper, abs=1e-3)
    assert 0.5 * upper < curve[dt.date(2021, 8, 1)] < 0.52 * upper  # 15 days before the middle
    assert all(a < b for a, b in zip(list(curve.values()), list(curve.values())[1:], strict=False))


def test_curve_without_anchor_date_tends_to_the_anchor() -> None:
    """``anchor_date=None``: the anchor is the upper level (the seed before issue 13)."""
    parameters = SeedParameters(anchor_date=None)
    assert parameters.city_demand_t_per_day(dt.date(2021, 8, 16)) == pytest.approx(170.0 * 0.75)
    assert 165.0 < parameters.city_demand_t_per_day(dt.date(2021, 8, 31)) < 170.0


def test_reports_follow_the_curve_mix_and_behaviours(seed: SeedData) -> None:
    first = {}
    for report, at in seed.reports:
        first.setdefault((report.facility_id, report.report_date), (report, at))
    expected = len(seed.facilities) * len(AUGUST)
    missing = expected - len(first)
    late = sum(1 for report, at in first.values() if not is_on_time(at, report.report_date))
    corrections = len(seed.reports) - len(first)
    assert (len(first), missing, len(seed.reports)) == (2377, 227, 2474)
    assert 0.05 < late / len(first) < 0.25 and corrections > 50
    latest = {(r.facility_id, r.report_date): r for r, _ in seed.reports}  # ordered by time
    used_t: dict[dt.date, float] = defaultdict(float)
    for report in latest.values():
        used_t[report.report_date] += report.oxygen_used_24h_m3 / 700.0
    curve = dict(seed.curve)
    for day in AUGUST:
        # 60 % of the city's demand, less the missing reports (at most 20 % on any day), ± noise.
        assert 0.6 * 0.75 * curve[day] < used_t[day] < 0.6 * 1.1 * curve[day], day
    tiers = {f.facility_id: f.tier for f in seed.facilities}
    for report in latest.values():
        if tiers[report.facility_id] == 2:
            assert report.patients_invasive == report.patients_ecmo == report.patients_niv == 0
    tier3 = [r for r in latest.values() if tiers[r.facility_id] == 3]
    mask = sum(r.patients_cannula_mask for r in tier3)
    total = sum(
        r.patients_cannula_mask
        + r.patients_high_flow
        + r.patients_niv
        + r.patients_invasive
        + r.patients_ecmo
        for r in tier3
    )
    assert mask / total == pytest.approx(2464 / 3137, abs=0.02)  # the MOH bulletin's share


def test_reports_need_no_facility_outside_its_period(
    seed: SeedData, supplier_places: list[Any]
) -> None:
    facility = dataclasses.replace(seed.facilities[0], reporting_from=dt.date(2021, 8, 20))
    data = build_seed([facility], supplier_places)
    assert min(r.report_date for r, _ in data.reports) >= dt.date(2021, 8, 20)


def test_db_seed_stores_labelled_rows_once(tmp_path: Path, seed: SeedData) -> None:
    from click.testing import CliRunner

    from cli import main
    from data.db import create_db_engine
    from data.store import Store

    url = f"sqlite:///{tmp_path / 'seed.sqlite3'}"
    runner = CliRunner()
    result = runner.invoke(main, ["db", "seed", "--region", "hcmc", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "added 84 facilities" in result.output and "2474 report revisions" in result.output
    engine = create_db_engine(url)
    try:
        store = Store(engine)
        again = store_seed(store, seed)  # what a second `db seed` does: nothing new
        assert again == SeedSummary(0, 0, 0, 0, 0, facility_days_skipped=2377)
        assert store.count_report_revisions() == 2474
        latest = store.latest_reports(date_from=AUGUST[0], date_to=AUGUST[-1])
        assert all(r.generated and r.source == seed.source for r in latest)
        assert {r.submitted_by for r in latest} == {SEED_SUBMITTER}
        # Stored exactly as built: the same instants, the same content.
        built = {(r.facility_id, r.report_date): (r, at) for r, at in seed.reports}
        sample = latest[100]
        report, at = built[(sample.report.facility_id, sample.report.report_date)]
        assert (sample.report, sample.submitted_at) == (report, at)
        assert len(store.list_records("vehicles", limit=None)) == 24
    finally:
        engine.dispose()


def _supplier_row(**props: str) -> Any:
    from data.schema.network import Place

    base = {"kind": "liquid_producer", "province_2021": "Đồng Nai", "capacity_lox_t_per_day": "20"}
    return Place("P-1", 106.86, 10.93, "Plant", {**base, **props})


def test_medical_figure_is_the_liquid_output_when_present() -> None:
    from data.seed import suppliers_from_places

    medical, plain = suppliers_from_places(
        [_supplier_row(medical_lox_t_per_day="5.8"), _supplier_row()]
    )
    assert medical.liquid_output_t_per_day == 5.8 and medical.source is not None
    assert "medical_lox_t_per_day 5.8 t/day of the plant's 20 t/day" in medical.source
    assert plain.liquid_output_t_per_day == 20.0  # no medical figure: the capacity, as before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("25", "medical_lox_t_per_day: 25 exceeds capacity_lox_t_per_day 20"),  # above output
        ("-1", "medical_lox_t_per_day: must be a non-negative number, got '-1'"),  # negative
        ("lots", "could not convert string to float: 'lots'"),  # not a number
    ],
)
def test_bad_medical_figure_is_refused(value: str, message: str) -> None:
    from data.errors import InvalidInputError
    from data.seed import suppliers_from_places

    with pytest.raises(InvalidInputError, match=f"P-1: {message}"):
        suppliers_from_places([_supplier_row(medical_lox_t_per_day=value)])


def test_seeded_facilities_lie_in_their_stored_province(seed: SeedData, data_dir: Path) -> None:
    from data.provinces import province_for_point, province_shapes_2021

    shapes = province_shapes_2021(data_dir)
    outside = [
        f.name
        for f in seed.facilities
        if province_for_point(f.lon, f.lat, shapes) not in (None, f.province_code)
    ]
    assert outside == []
    by_name = {f.name: f for f in seed.facilities}
    moved = {
        "Bệnh viện Đa Khoa Đồng Nai": "75",
        "Bệnh viện Đa khoa Huyện Nhơn Trạch": "75",
        "Bệnh viên Quốc Tế Long Bình": "75",
        "Bệnh viện Dĩ An": "74",
        "Bệnh viện Đa khoa Thị xã Thuận An": "74",
        "Bệnh viện Đa khoa Quốc Tế Miền Đông": "74",
    }
    for name, code in moved.items():
        facility = by_name[name]
        assert facility.province_code == code and facility.district is None
        assert facility.source is not None and f"province {code} from point (declared 79)" in (
            facility.source
        )
    assert sum(1 for f in seed.facilities if f.province_code != "79") == len(moved)
    assert by_name["Bệnh Viện Chợ Rẫy"].province_code == "79"  # points inside keep their province


def test_seed_has_no_duplicates_left(seed: SeedData) -> None:
    from data.dedupe import DedupeCandidate, find_duplicates

    candidates = [DedupeCandidate(f.facility_id, f.name, f.lon, f.lat) for f in seed.facilities]
    assert find_duplicates(candidates) == []
    ids = {f.facility_id for f in seed.facilities}
    names = {f.name for f in seed.facilities}
    # One record kept of each pair (docs/seed.md): diacritics first, then the OSM way.
    for kept, dropped in [
        ("osm-way-158971987", "osm-node-4245280090"),  # Tim Tâm Đức
        ("osm-way-127299413", "osm-node-1001114488"),  # Gia Định
        ("osm-way-193092896", "osm-node-2230601352"),  # Viện Pasteur
        ("osm-way-263444654", "osm-node-1739970442"),  # Vạn Hạnh
        ("osm-way-321939234", "osm-node-4684538690"),  # Bệnh viện Thủ Đức / BV Thu Duc
        ("osm-node-2679753974", "osm-way-500849410"),  # Phụ sản Mekong / Benh Vien Phu San
        ("osm-way-502434932", "osm-node-5111729721"),  # Nhi đồng Thành phố
    ]:
        assert kept in ids and dropped not in ids
    assert "BV Thu Duc" not in names and "Bệnh viện Thủ Đức" in names
    assert len(seed.facilities) == 84  # 91 curated hospitals, 7 merged
