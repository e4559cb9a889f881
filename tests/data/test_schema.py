"""Registry value types: shape errors, domain errors, normalisation, hashing, round trips."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.errors import InvalidInputError, MalformedInputError
from data.schema.number_text import NumberLocale
from data.schema.registry import DailyReport, Facility, Vehicle, VehicleKind

REPORT = {"facility_id": "79-A", "report_date": "2021-08-20", "oxygen_used_24h_m3": 120.5}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {**REPORT, "oxygen_used_24h_m3": "lots"},
            "oxygen_used_24h_m3: must be a number",
        ),  # text for a number
        (
            {**REPORT, "patients_niv": 1.5},
            "patients_niv: must be a whole number",
        ),  # fraction of a patient
        (
            {**REPORT, "patients_niv": True},
            "patients_niv: must be a whole number",
        ),  # bool is not a count
        ({**REPORT, "report_date": "20/08/2021"}, "report_date: must be a date written YYYY-MM-DD"),
        ({**REPORT, "stock": 3}, "stock: unknown field"),  # typo of a field name
        ({"facility_id": "79-A", "report_date": "2021-08-20"}, "oxygen_used_24h_m3: is required"),
        ({**REPORT, "cylinders_full": [1, 2]}, "cylinders_full: must be an object"),
    ],
)
def test_malformed_report_names_the_field(body: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedInputError, match=message):
        DailyReport.from_mapping(body)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"oxygen_used_24h_m3": -1}, "oxygen_used_24h_m3: must be between 0"),  # negative use
        ({"liquid_stock_l": -5.0}, "liquid_stock_l: must be between 0"),  # negative stock
        ({"cylinders_full": {"41L": 2}}, "cylinders_full: unknown cylinder size '41L'"),
        ({"cylinders_empty": {"40L": -1}}, r"cylinders_empty\['40L'\]: must be between 0"),
        ({"facility_id": "bad id!"}, "facility_id: must be 1-64 letters"),
    ],
)
def test_report_domain_rules(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as error:
        DailyReport.from_mapping({**REPORT, **change})
    assert not isinstance(error.value, MalformedInputError)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as error:
        Facility.from_mapping(
            {
                "facility_id": "x",
                "name": "",
                "province_code": "7",
                "lon": 200.0,
                "lat": 10.0,
                "tier": 4,
            }
        )
    fields = sorted(p.split(":")[0] for p in error.value.problems)
    assert fields == ["lon", "name", "province_code", "tier"]


def test_vehicle_needs_the_capacity_of_its_kind() -> None:
    with pytest.raises(InvalidInputError, match="tank_capacity_lox_kg: is required"):
        Vehicle(vehicle_id="T1", operator_id="OP", kind=VehicleKind.CRYOGENIC_TANKER)


def test_text_is_nfc_normalised_and_equal_reports_hash_equal() -> None:
    decomposed = unicodedata.normalize("NFD", "Thiếu bình oxy")
    first = DailyReport.from_mapping({**REPORT, "note": decomposed, "oxygen_used_24h_m3": 12})
    second = DailyReport.from_mapping(
        {**REPORT, "note": "Thiếu bình oxy", "oxygen_used_24h_m3": 12.0}
    )
    assert first.note == "Thiếu bình oxy"
    assert first.content_hash() == second.content_hash()
    assert (
        DailyReport.from_mapping({**REPORT, "note": "khác"}).content_hash() != first.content_hash()
    )


def test_spreadsheet_text_is_converted() -> None:
    report = DailyReport.from_mapping(
        {**REPORT, "oxygen_used_24h_m3": "12,5", "cylinders_full": "40L=3; 10L=1", "note": ""},
        text=True,
    )
    assert report.oxygen_used_24h_m3 == 12.5
    assert dict(report.cylinders_full) == {"40L": 3, "10L": 1}
    assert report.note is None


vietnamese = st.text(
    alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíị"
    "òỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ĐƯƠ",
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    note=vietnamese.filter(lambda s: s.strip()),
    used=st.floats(0, 1e6),
    full=st.dictionaries(st.sampled_from(["40L", "10L", "2L"]), st.integers(0, 1000), max_size=3),
    day=st.dates(dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
)
def test_report_json_round_trip(note: str, used: float, full: dict[str, int], day: dt.date) -> None:
    report = DailyReport(
        facility_id="79-A", report_date=day, oxygen_used_24h_m3=used, cylinders_full=full, note=note
    )
    assert DailyReport.from_mapping(report.to_dict()) == report


def test_vietnamese_text_numbers_are_thousands_never_decimals() -> None:
    # Issue 13: "5.200" typed in a Vietnamese file was stored as 5.2 m³, "6.500" L as 6.5 L.
    cells = {
        **REPORT,
        "oxygen_used_24h_m3": "5.200",
        "liquid_stock_l": "6.500",
        "deliveries_expected_m3": "1.250,5",
        "patients_cannula_mask": "1.020",
        "cylinders_full": "40L=1.200; 10L=3",
    }
    report = DailyReport.from_mapping(cells, text=True, number_locale=NumberLocale.VI)
    assert (report.oxygen_used_24h_m3, report.liquid_stock_l) == (5200.0, 6500.0)
    assert report.deliveries_expected_m3 == 1250.5
    assert report.patients_cannula_mask == 1020
    assert dict(report.cylinders_full) == {"40L": 1200, "10L": 3}
    english = DailyReport.from_mapping(
        {**REPORT, "oxygen_used_24h_m3": "5,200.5", "liquid_stock_l": "5.200"},
        text=True,
        number_locale=NumberLocale.EN,
    )
    assert (english.oxygen_used_24h_m3, english.liquid_stock_l) == (5200.5, 5.2)


@pytest.mark.parametrize(
    ("change", "locale", "message"),
    [
        ({"oxygen_used_24h_m3": "5.200"}, None, "oxygen_used_24h_m3: '5.200' is ambiguous"),
        ({"liquid_stock_l": "6.500"}, None, "liquid_stock_l: '6.500' is ambiguous"),
        ({"patients_niv": "1.020"}, None, "patients_niv: '1.020' is ambiguous"),
        ({"cylinders_full": "40L=1.200"}, None, r"cylinders_full\['40L'\]: '1.200' is ambiguous"),
        # English separators under a Vietnamese declaration: refused with the retyped form.
        ({"oxygen_used_24h_m3": "5,200.5"}, NumberLocale.VI, "type 5.200,5"),
        ({"oxygen_used_24h_m3": "1,5"}, NumberLocale.EN, "type 1.5"),
        ({"patients_niv": "1,5"}, NumberLocale.VI, "patients_niv: must be a whole number"),
    ],
)
def test_text_numbers_that_do_not_read_one_way_are_refused(
    change: dict[str, str], locale: NumberLocale | None, message: str
) -> None:
    with pytest.raises(MalformedInputError, match=message):
        DailyReport.from_mapping({**REPORT, **change}, text=True, number_locale=locale)


def test_number_cells_are_taken_as_they_are() -> None:
    # A spreadsheet's number cell is a number whatever the declared locale.
    for locale in (None, NumberLocale.VI, NumberLocale.EN):
        report = DailyReport.from_mapping(
            {**REPORT, "oxygen_used_24h_m3": 5.2, "patients_niv": 3.0, "liquid_stock_l": 6500},
            text=True,
            number_locale=locale,
        )
        assert (report.oxygen_used_24h_m3, report.patients_niv) == (5.2, 3)
        assert report.liquid_stock_l == 6500.0
    # JSON bodies never read text as numbers, whatever the locale.
    with pytest.raises(MalformedInputError, match="must be a number"):
        DailyReport.from_mapping(
            {**REPORT, "oxygen_used_24h_m3": "5.200"}, number_locale=NumberLocale.VI
        )
