"""Contacts on facilities and suppliers: phone and e-mail rules, and every round trip.

The numbers are real formats: Chợ Rẫy's switchboard ``028 3855 4137`` (written ``0283 855 4137``
in the ministry's letters), a Viettel mobile, Đồng Nai's three-digit area code 251, a 1900 hotline.
Migration 0004 goes down to 0003 and up again on SQLite and, when ``OXYROUTE_TEST_POSTGRES_URL``
names an empty database the test may fill (``.ci/run`` sets it), on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from data.db import upgrade_database
from data.db.migrate import alembic_config, current_revision, head_revision
from data.errors import InvalidInputError, MalformedInputError
from data.exchange.exporters import export_file
from data.exchange.importers import parse_records, read_csv_rows, read_xlsx_rows
from data.provinces import provinces_with_2025_units
from data.schema.contacts import normalise_phone, phone_e164
from data.schema.registry import Facility, Supplier, SupplierKind
from data.store import Store
from tests.registry_world import FACILITY_A, Clock

DAY = dt.date(2021, 8, 20)

CONTACTS = {
    "contact_name": "Nguyễn Thị Ánh Tuyết",
    "contact_phone": "0283 855 4137",
    "contact_email": "Khoa.Duoc@ChoRay.VN",
}
FACILITY = dataclasses.replace(FACILITY_A, facility_id="79-K", **CONTACTS)
SUPPLIER = Supplier(
    supplier_id="S-MV",
    name="Công ty Khí Miền Việt (trạm chiết nạp)",
    kind=SupplierKind.FILLING_STATION,
    province_code="79",
    lon=106.62,
    lat=10.80,
    contact_name="Trần Văn Đức",
    contact_phone="+84 903 123 456",
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0283 855 4137", "028 3855 4137"),  # as the ministry letter writes it
        ("+84 28 3855 4137", "028 3855 4137"),  # international
        ("(028) 3855-4137", "028 3855 4137"),
        ("0084 28 38554137", "028 3855 4137"),
        ("842838554137", "028 3855 4137"),  # 84 without the plus, full significant number
        ("0903 123 456", "0903 123 456"),  # mobile
        ("0903.123.456", "0903 123 456"),
        ("+84903123456", "0903 123 456"),
        ("0251 3822 345", "0251 382 2345"),  # Đồng Nai, three-digit area code
        ("1900 9095", "1900 9095"),  # hotline
        ("1800599920", "1800 599 920"),
    ],
)
def test_phone_numbers_are_stored_in_one_form(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored
    assert normalise_phone(stored) == stored  # idempotent: stored values read back unchanged
    record = dataclasses.replace(FACILITY, contact_phone=typed)
    assert record.contact_phone == stored


def test_e164_form() -> None:
    assert phone_e164("0283 855 4137") == "+842838554137"
    assert phone_e164("0903 123 456") == "+84903123456"
    assert phone_e164("1900 9095") is None  # hotlines cannot be called from abroad


@pytest.mark.parametrize(
    "typed",
    [
        "5.200",  # a number, not a phone
        "0903 123 45",  # mobile one digit short
        "01649 123 456",  # an old 11-digit mobile number (moved to 10 digits in 2018)
        "0603 123 456",  # no mobile prefix 06
        "+1 415 555 0100",  # not Vietnamese
        "028 3855 413x",  # a letter
        "=HYPERLINK(1)",  # formula text
        "0283 855 4137 ext 2",
    ],
)
def test_bad_phone_numbers_are_refused_naming_field_and_value(typed: str) -> None:
    with pytest.raises(InvalidInputError, match=r"contact_phone: .*not a Vietnamese phone") as e:
        dataclasses.replace(FACILITY, contact_phone=typed)
    assert repr(typed) in str(e.value)


@pytest.mark.parametrize(
    "typed",
    [
        "khoa.duoc",  # no domain
        "khoa duoc@choray.vn",  # space
        "khoa@choray",  # no top-level domain
        "khoa..duoc@choray.vn",
        "@choray.vn",
    ],
)
def test_bad_emails_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInputError, match=r"contact_email: .*not an e-mail address"):
        dataclasses.replace(FACILITY, contact_email=typed)


def test_contacts_are_optional_and_normalised() -> None:
    assert (FACILITY_A.contact_name, FACILITY_A.contact_phone, FACILITY_A.contact_email) == (
        None,
        None,
        None,
    )
    assert FACILITY.contact_email == "Khoa.Duoc@choray.vn"  # domain lower case, mailbox kept
    assert SUPPLIER.contact_phone == "0903 123 456" and SUPPLIER.contact_email is None


def test_json_round_trip_keeps_vietnamese_names() -> None:
    body = FACILITY.to_dict()
    assert body["contact_name"] == "Nguyễn Thị Ánh Tuyết"
    assert Facility.from_mapping(body) == FACILITY
    assert Supplier.from_mapping(SUPPLIER.to_dict()) == SUPPLIER
    # NFD-typed diacritics (macOS) compare equal once stored.
    nfd = Facility.from_mapping({**body, "contact_name": "Nguye\u0302\u0303n Thị Ánh Tuyết"})
    assert nfd == FACILITY


def test_a_wrong_type_is_malformed() -> None:
    with pytest.raises(MalformedInputError, match="contact_phone"):
        Facility.from_mapping({**FACILITY.to_dict(), "contact_phone": 2838554137})


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_contacts_survive_the_store_and_export_import(store: Store, ext: str) -> None:
    store.create_records([FACILITY, SUPPLIER], actor="test")
    assert store.get_record("facilities", "79-K") == FACILITY
    assert store.get_record("suppliers", "S-MV") == SUPPLIER
    for kind, record in (("facilities", FACILITY), ("suppliers", SUPPLIER)):
        content, _ = export_file(store, kind, ext, province_code=None, date_from=DAY, date_to=DAY)
        rows = read_csv_rows(content) if ext == "csv" else read_xlsx_rows(content)
        parsed, problems = parse_records(kind, rows)
        assert problems == []
        assert record in [r for _, r in parsed]


def test_contacts_migrate_down_and_up(empty_database: Any, data_dir: Path) -> None:
    from alembic import command

    engine = empty_database
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(data_dir))
    store.create_records([FACILITY, SUPPLIER], actor="fixture")
    assert store.get_record("facilities", "79-K") == FACILITY
    command.downgrade(alembic_config(engine), "0003")
    for table in ("facilities", "suppliers"):
        columns = {c["name"] for c in inspect(engine).get_columns(table)}
        assert not columns & set(CONTACTS)
    with engine.connect() as connection:  # the records themselves stay
        assert connection.execute(text("SELECT count(*) FROM facilities")).scalar() == 1
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    again = Store(engine, clock=Clock()).get_record("facilities", "79-K")
    assert again == dataclasses.replace(
        FACILITY, contact_name=None, contact_phone=None, contact_email=None
    )  # a downgrade loses the contacts; nothing else
