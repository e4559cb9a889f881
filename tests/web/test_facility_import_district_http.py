"""A facility imported over HTTP gets its district from its point (issue 13, registry)."""

from __future__ import annotations

from typing import Any

CSV = (
    "facility_id,name,province_code,lon,lat,tier,reporting_from\r\n"
    "79-TUDU,Bệnh viện Từ Dũ,79,106.68497,10.76867,2,2021-08-01\r\n"
)


def test_the_district_comes_from_the_point(as_user: Any) -> None:
    admin = as_user("admin")
    answer = admin.post("/imports/facilities", data=CSV.encode("utf-8"), content_type="text/csv")
    assert answer.status_code in (200, 201), answer.get_json()
    stored = admin.get("/facilities/79-TUDU").get_json()
    assert stored["district"] == "Quận 1", stored
    assert answer.get_json().get("districts_from_points"), answer.get_json()
