"""Facilities sent as JSON get the import's checks (issue 13).

Province and district come from the point, duplicates are refused; nothing is stored on refusal.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import expect_error


def _facility(**changes: Any) -> dict[str, Any]:
    return {
        "facility_id": "79-NEW",
        "name": "Bệnh viện Từ Dũ",
        "province_code": "79",
        "lon": 106.68497,
        "lat": 10.76867,
        "tier": 2,
        "reporting_from": "2021-08-01",
    } | changes


def test_the_district_comes_from_the_point(as_user: Any) -> None:
    answer = as_user("admin").post("/facilities", json=_facility())
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["district"] == "Quận 1"


def test_a_point_in_another_province_is_refused(as_user: Any) -> None:
    admin = as_user("admin")
    bien_hoa = _facility(name="Bệnh viện Đa khoa Đồng Nai", lon=106.8436, lat=10.9574)
    error = expect_error(admin.post("/facilities", json=bien_hoa), 422)
    assert "province_code" in str(error) and "75" in str(error)
    expect_error(admin.get("/facilities/79-NEW"), 404)


def test_a_duplicate_of_a_stored_facility_is_refused(as_user: Any) -> None:
    admin = as_user("admin")
    again = _facility(name="Bệnh viện Chợ Rẫy", lon=106.6600, lat=10.7580)
    error = expect_error(admin.post("/facilities", json=again), 422)
    assert "79-A" in str(error)
    expect_error(admin.get("/facilities/79-NEW"), 404)


def test_replacing_a_facility_is_not_its_own_duplicate(as_user: Any) -> None:
    admin = as_user("admin")
    stored = admin.get("/facilities/79-A").get_json()
    answer = admin.put("/facilities/79-A", json={**stored, "beds_oxygen": 120})
    assert answer.status_code == 200, answer.get_json()
