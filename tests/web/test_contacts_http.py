"""Contacts over HTTP: a phone typed as people do is stored normalised; a bad one stores nothing."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import expect_error

FACILITY = {
    "facility_id": "79-T",
    "name": "Bệnh viện Dã chiến Thu dung số 3",
    "province_code": "79",
    "lon": 106.66,
    "lat": 10.77,
    "tier": 2,
    "contact_name": "Lê Thị Hồng Nhung",
    "contact_phone": "+84 28 3855 4137",
    "contact_email": "dieuphoi.oxy@SYT.hochiminhcity.gov.vn",
}


def test_contacts_round_trip_over_http(as_user: Any) -> None:
    admin = as_user("admin")
    created = admin.post("/facilities", json=FACILITY)
    assert created.status_code == 201, created.get_json()
    stored = admin.get("/facilities/79-T").get_json()
    assert stored["contact_name"] == "Lê Thị Hồng Nhung"
    assert stored["contact_phone"] == "028 3855 4137"
    assert stored["contact_email"] == "dieuphoi.oxy@syt.hochiminhcity.gov.vn"
    # Sending back what was read changes nothing.
    assert admin.put("/facilities/79-T", json=stored).get_json() == stored


def test_bad_phone_is_422_naming_field_and_value_and_stores_nothing(as_user: Any) -> None:
    admin = as_user("admin")
    error = expect_error(
        admin.post("/facilities", json={**FACILITY, "contact_phone": "0903 123 45"}), 422
    )
    (detail,) = error["details"]
    assert detail["field"] == "contact_phone" and "'0903 123 45'" in str(detail)
    assert "Vietnamese phone" in str(detail) and "điện thoại" in str(detail)
    expect_error(admin.get("/facilities/79-T"), 404)
