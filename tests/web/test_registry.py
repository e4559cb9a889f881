"""HTTP API: error envelope, registry CRUD, report submission, compliance, demand, OpenAPI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest

REPORT = {
    "report_date": "2021-08-20",
    "oxygen_used_24h_m3": 120.5,
    "patients_high_flow": 3,
    "cylinders_full": {"40L": 10},
    "note": "Thiếu bình 40 lít",
}
FACILITY = {
    "facility_id": "79-D",
    "name": "Bệnh viện Dã chiến số 16",
    "province_code": "79",
    "lon": 106.73,
    "lat": 10.85,
    "tier": 2,
    "beds_oxygen": 300,
    "has_manifold": True,
}


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"status", "category", "message", "details"}
    assert body["error"]["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body["error"]  # type: ignore[no-any-return]


def _fields(error: dict[str, Any]) -> list[str]:
    return [d["field"] for d in error["details"]]


def test_openapi_document_lists_every_route(app: Any, as_user: Any) -> None:
    document = as_user(None).get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    rules = {
        str(r.rule).removeprefix("/api/v1")
        for r in app.url_map.iter_rules()
        if str(r.rule).startswith("/api/v1")
    }
    documented = set(document["paths"])
    for rule in rules:
        # "/<any(...):collection>" and "/<record_id>" are spelled out per collection in the document.
        if "any(" in rule and "collection" in rule:
            continue
        templated = rule.replace("<", "{").replace(">", "}")
        # converters (<int:x>, <any(a,b):x>) are typed parameters in the document: {x}
        templated = re.sub(r"\{\w+(?:\([^)]*\))?:(\w+)\}", r"{\1}", templated)
        assert templated in documented, templated
    assert "/facilities/{record_id}" in documented and "/vehicles" in documented


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "body"),  # malformed JSON
        ({"data": "x=1", "content_type": "text/plain"}, 400, "body"),  # not JSON at all
        (
            {"json": {**REPORT, "oxygen_used_24h_m3": "nhiều"}},
            400,
            "oxygen_used_24h_m3",
        ),  # wrong type
        ({"json": {**REPORT, "liquid_stock_l": -10}}, 422, "liquid_stock_l"),  # negative stock
        ({"json": {**REPORT, "report_date": "2021-08-22"}}, 422, "report_date"),  # after tomorrow
        (
            {"json": {**REPORT, "facility_id": "79-B"}},
            422,
            "facility_id",
        ),  # body contradicts the URL
        ({"json": [1, 2]}, 400, "body"),  # not an object
    ],
)
def test_bad_reports_get_a_4xx_naming_the_field(
    as_user: Any, kwargs: dict[str, Any], status: int, field: str
) -> None:
    error = _error(as_user("repA").post("/facilities/79-A/reports", **kwargs), status)
    assert field in _fields(error)


def test_unknown_facility_and_route_are_404(as_user: Any) -> None:
    error = _error(as_user("admin").post("/facilities/nope/reports", json=REPORT), 404)
    assert "facility_id" in _fields(error)
    _error(as_user("admin").get("/no-such-thing"), 404)


def test_oversized_body_is_413(as_user: Any) -> None:
    _error(
        as_user("repA").post("/facilities/79-A/reports", json={**REPORT, "note": "x" * 300_000}),
        413,
    )


def test_internal_errors_hide_the_traceback(
    app: Any, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app.extensions["oxyroute"].store, "list_provinces", broken)
    response = as_user("admin").get("/provinces")
    error = _error(response, 500)
    assert "secret detail" not in response.get_data(as_text=True)
    assert error["category"] == "internal"


def test_registry_crud_round_trip(as_user: Any) -> None:
    admin = as_user("admin")
    created = admin.post("/facilities", json=FACILITY)
    assert created.status_code == 201 and created.headers["Location"].endswith("/facilities/79-D")
    assert created.get_json()["name"] == "Bệnh viện Dã chiến số 16"
    _error(admin.post("/facilities", json=FACILITY), 409)
    changed = admin.put("/facilities/79-D", json={**FACILITY, "beds_oxygen": 500})
    assert changed.status_code == 200 and changed.get_json()["beds_oxygen"] == 500
    assert admin.get("/facilities/79-D").get_json()["beds_oxygen"] == 500
    _error(admin.post("/facilities", json={**FACILITY, "facility_id": "79-E", "tier": 5}), 422)
    supplier = {
        "supplier_id": "S-NS-BH2",
        "name": "Nippon Sanso Việt Nam (KCN Biên Hòa 2)",
        "kind": "liquid_producer",
        "province_code": "75",
        "liquid_output_t_per_day": 34.3,
        "products": ["liquid"],
        "source": "https://new.dongnai.gov.vn/",
    }
    assert admin.post("/suppliers", json=supplier).status_code == 201
    assert (
        admin.post(
            "/transport-operators", json={"operator_id": "OP1", "name": "Vận tải A"}
        ).status_code
        == 201
    )
    vehicle = {
        "vehicle_id": "T1",
        "operator_id": "OP1",
        "kind": "cryogenic_tanker",
        "tank_capacity_lox_kg": 18000.0,
        "home_depot_id": "S-NS-BH2",
    }
    assert admin.post("/vehicles", json=vehicle).status_code == 201
    _error(admin.post("/vehicles", json={**vehicle, "vehicle_id": "T2", "operator_id": "OPX"}), 422)
    assert [v["vehicle_id"] for v in admin.get("/vehicles").get_json()["vehicles"]] == ["T1"]
    _error(admin.delete("/suppliers/S-NS-BH2"), 409)  # a vehicle's home depot
    assert admin.delete("/facilities/79-D").status_code == 204
    _error(admin.get("/facilities/79-D"), 404)


def test_submission_is_idempotent_and_corrections_are_revisions(as_user: Any) -> None:
    reporter = as_user("repA")
    first = reporter.post("/facilities/79-A/reports", json=REPORT)
    assert first.status_code == 201 and first.get_json()["revision"] == 1
    assert first.get_json()["on_time"] is True  # clock: 09:00 local
    same = reporter.post("/facilities/79-A/reports", json=REPORT)
    assert same.status_code == 200 and same.get_json()["created"] is False
    corrected = reporter.post(
        "/facilities/79-A/reports", json={**REPORT, "oxygen_used_24h_m3": 130}
    )
    assert corrected.status_code == 201 and corrected.get_json()["revision"] == 2
    history = reporter.get("/facilities/79-A/reports/2021-08-20/revisions").get_json()["revisions"]
    assert [(r["revision"], r["oxygen_used_24h_m3"]) for r in history] == [(1, 120.5), (2, 130.0)]
    latest = reporter.get("/facilities/79-A/reports/2021-08-20").get_json()
    assert (latest["revision"], latest["revisions"], latest["note"]) == (2, 2, "Thiếu bình 40 lít")
    assert latest["stock_on_hand_m3"] == 60.0


def test_idempotency_key_header(as_user: Any) -> None:
    reporter = as_user("repA")
    headers = {"Idempotency-Key": "d2f0c6c2-1"}
    first = reporter.post("/facilities/79-A/reports", json=REPORT, headers=headers)
    replay = reporter.post("/facilities/79-A/reports", json=REPORT, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    other = reporter.post(
        "/facilities/79-A/reports", json={**REPORT, "patients_niv": 1}, headers=headers
    )
    assert "Idempotency-Key" in _fields(_error(other, 422))
    _error(
        reporter.post("/facilities/79-A/reports", json=REPORT, headers={"Idempotency-Key": "a b"}),
        400,
    )


def test_late_report_and_compliance_tables(as_user: Any, clock: Any) -> None:
    clock.set_local("2021-08-20 15:59")
    as_user("repA").post("/facilities/79-A/reports", json=REPORT)
    clock.set_local("2021-08-20 16:30")
    late = as_user("repB").post("/facilities/79-B/reports", json=REPORT)
    assert late.get_json()["on_time"] is False
    clock.set_local("2021-08-20 18:00")
    as_user("repA").post(
        "/facilities/79-A/reports", json={**REPORT, "note": "sửa"}
    )  # correction stays on time
    rows = (
        as_user("coord79")
        .get("/compliance/daily?date_from=2021-08-20&date_to=2021-08-20")
        .get_json()["rows"]
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["expected_reports"], row["actual_reports_on_time"], row["late_reports"]) == (
        2,
        1,
        1,
    )
    assert row["reporting_rate"] == 100.0 and row["reporting_rate_on_time"] == 50.0
    assert row["dhis2"]["ACTUAL_REPORTS_ON_TIME"] == 1 and row["dhis2"]["EXPECTED_REPORTS"] == 2
    national = (
        as_user("ministry")
        .get("/compliance/national?date_from=2021-08-20&date_to=2021-08-20")
        .get_json()
    )
    day = national["days"][0]
    assert (day["expected_reports"], day["actual_reports"], day["missing_reports"]) == (3, 2, 1)
    monthly = as_user("ministry").get("/compliance/monthly?month=2021-08").get_json()
    assert monthly["provinces"] == 63 and monthly["provinces_reporting"] == 1
    # August counted up to today (20 Aug): 2 facilities x 20 days expected.
    assert monthly["rows"][0] == {
        "province_code": "79",
        "province_name": "Thành phố Hồ Chí Minh",
        "reported": True,
        "reports": 2,
        "expected_reports": 40,
        "actual_reports_on_time": 1,
        "reporting_rate": 5.0,
    }
    demand = as_user("ministry").get("/demand/provinces?date=2021-08-20").get_json()["rows"]
    by_code = {r["province_code"]: r for r in demand}
    assert by_code["79"]["oxygen_used_m3_per_day"] == 241.0
    assert by_code["79"]["lox_t_per_day"] == round(241.0 / 700, 4)
    assert by_code["01"]["facilities_without_report"] == ["01-C"]


def test_exports_and_imports_over_http(as_user: Any) -> None:
    admin = as_user("admin")
    admin.post("/facilities/79-A/reports", json=REPORT)
    exported = admin.get("/exports/reports.csv?date_from=2021-08-20&date_to=2021-08-20")
    assert exported.status_code == 200 and exported.data.startswith(b"\xef\xbb\xbf")
    assert "Thiếu bình 40 lít" in exported.data.decode("utf-8-sig")
    bad = "facility_id,report_date,oxygen_used_24h_m3\n79-B,2021-08-20,-1\n79-B,2021-08-19,abc\n"
    error = _error(
        admin.post("/imports/reports?format=csv", data=bad.encode(), content_type="text/csv"), 422
    )
    assert [(d["row"], d["field"]) for d in error["details"]] == [
        (2, "oxygen_used_24h_m3"),
        (3, "oxygen_used_24h_m3"),
    ]
    good = "facility_id,report_date,oxygen_used_24h_m3\n79-B,2021-08-20,50\n"
    summary = admin.post(
        "/imports/reports?format=csv", data=good.encode(), content_type="text/csv"
    ).get_json()
    assert summary["imported"] == 1
    xlsx = admin.get("/exports/facilities.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    # Kinds without a province still check the documented province_code (schemathesis found
    # vehicles.xlsx?province_code= accepted).
    bad_code = _error(admin.get("/exports/vehicles.xlsx?province_code="), 400)
    assert bad_code["details"][0]["field"] == "province_code"


def test_dates_are_local(as_user: Any, clock: Any) -> None:
    # 20 Aug 23:30 in Hồ Chí Minh City is still 20 Aug 16:30 UTC: "tomorrow" is 21 Aug locally.
    clock.now = dt.datetime(2021, 8, 20, 16, 30, tzinfo=dt.UTC)
    ok = as_user("repA").post(
        "/facilities/79-A/reports", json={**REPORT, "report_date": "2021-08-21"}
    )
    assert ok.status_code == 201


def test_facilities_in_vn2000_are_stored_in_wgs84(as_user: Any) -> None:
    # A province's file in VN-2000 / UTM zone 48N (EPSG:3405): x/y in metres, converted on import.
    import pyproj

    admin = as_user("admin")
    cho_ray = admin.get("/facilities/79-A").get_json()
    to_vn2000 = pyproj.Transformer.from_crs(4326, 3405, always_xy=True)
    x, y = to_vn2000.transform(cho_ray["lon"], cho_ray["lat"])
    assert 600_000 < x < 700_000 and 1_100_000 < y < 1_250_000  # metres, not degrees
    exported = admin.get("/exports/facilities.csv").data.decode("utf-8-sig").splitlines()
    header = exported[0].split(",")
    row = next(line for line in exported[1:] if line.startswith("79-A,"))
    fields = dict(zip(header, next(csv.reader([row])), strict=True))
    fields.update({"facility_id": "79-VN2000", "name": "Bệnh viện Dã chiến số 16 (VN-2000)"})
    fields.pop("lon"), fields.pop("lat")
    fields.update({"x": f"{x:.3f}", "y": f"{y:.3f}"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields))
    writer.writeheader()
    writer.writerow(fields)
    response = admin.post(
        "/imports/facilities?format=csv&crs=EPSG:3405",
        data=buffer.getvalue().encode(),
        content_type="text/csv",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = admin.get("/facilities/79-VN2000").get_json()
    assert stored["name"] == "Bệnh viện Dã chiến số 16 (VN-2000)"
    assert abs(stored["lon"] - cho_ray["lon"]) < 1e-6 and abs(stored["lat"] - cho_ray["lat"]) < 1e-6
    unknown = _error(
        admin.post(
            "/imports/facilities?format=csv&crs=EPSG:99999",
            data=buffer.getvalue().encode(),
            content_type="text/csv",
        ),
        422,
    )
    assert unknown["details"][0]["field"] == "crs"
    not_here = _error(
        admin.post(
            "/imports/reports?format=csv&crs=EPSG:3405",
            data=b"facility_id\n79-A\n",
            content_type="text/csv",
        ),
        422,
    )
    assert not_here["details"][0]["field"] == "crs"


def test_facility_import_over_http_checks_the_province_of_the_point(as_user: Any) -> None:
    """BV Nhơn Trạch's point lies in Đồng Nai (75), 4.7 km past Hồ Chí Minh City's outline."""
    header = "facility_id,name,province_code,lon,lat,tier\n"
    admin = as_user("admin")
    refused = _error(
        admin.post(
            "/imports/facilities?format=csv",
            data=(header + "79-NT,BV Nhơn Trạch,79,106.8235,10.9437,2\n").encode(),
            content_type="text/csv",
        ),
        422,
    )
    assert refused["details"][0]["field"] == "province_code", refused
    assert "75" in refused["details"][0]["reason"]
    assert admin.get("/facilities/79-NT").status_code == 404  # nothing stored
    stored = admin.post(
        "/imports/facilities?format=csv",
        data=(header + "75-NT,BV Nhơn Trạch,75,106.8235,10.9437,2\n").encode(),
        content_type="text/csv",
    )
    assert stored.status_code == 200, stored.get_data(as_text=True)
    assert admin.get("/facilities/75-NT").get_json()["province_code"] == "75"
