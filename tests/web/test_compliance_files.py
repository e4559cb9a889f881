"""The monthly compliance table as CSV and XLSX over HTTP, like the ministry letter's appendix.

The template registry: 79-A and 79-B (Hồ Chí Minh City) and 01-C (Hà Nội) report from 1 Aug 2021;
the clock is 20 Aug 09:00. 79-A reports on 19 and 20 Aug, 01-C on 20 Aug: 79 has 2 reports of 40
expected (2 facilities x 20 days), 01 has 1 of 20. A province whose name starts with ``=`` (code
99, added for the test) checks that no cell runs as a formula in Excel.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl

from data.schema.registry import Province
from tests.web.conftest import expect_error

HOSTILE = '=HYPERLINK("http://example.invalid","Bấm vào đây")'
HEADERS = [
    "STT (No.)",
    "Mã tỉnh (Province code)",
    "Tỉnh, thành phố (Province)",
    "Tình trạng (Reported)",
    "Số báo cáo (Reports)",
    "Số báo cáo phải gửi (Expected reports)",
    "Đúng hạn (On time)",
    "Tỷ lệ báo cáo % (Reporting rate %)",
]


def _report(day: str) -> dict[str, Any]:
    return {"report_date": day, "oxygen_used_24h_m3": 300.0, "patients_cannula_mask": 20}


def _world(app: Any, as_user: Any) -> None:
    app.extensions["oxyroute"].store.upsert_provinces([Province("99", HOSTILE)])
    for user, facility_id, day in (
        ("repA", "79-A", "2021-08-19"),
        ("repA", "79-A", "2021-08-20"),
        ("repC", "01-C", "2021-08-20"),
    ):
        response = as_user(user).post(f"/facilities/{facility_id}/reports", json=_report(day))
        assert response.status_code == 201, response.get_json()


def test_monthly_table_as_csv(app: Any, as_user: Any) -> None:
    _world(app, as_user)
    response = as_user("ministry").get("/compliance/monthly?month=2021-08&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="compliance-2021-08.csv"' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the diacritics
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert len(rows) == 1 + 64  # 63 provinces of 2021 and the test's 99
    assert rows[1] == [
        "1",
        "79",
        "Thành phố Hồ Chí Minh",
        "Đã báo cáo (reported)",
        "2",
        "40",
        "1",  # the 19 Aug report came on 20 Aug: late
        "5.0",
    ]
    assert rows[2] == [
        "2",
        "01",
        "Thành phố Hà Nội",
        "Đã báo cáo (reported)",
        "1",
        "20",
        "1",
        "5.0",
    ]
    by_code = {r[1]: r for r in rows[1:]}
    # A province without facilities: not reported, nothing expected, no rate.
    assert by_code["60"][2:] == [
        "Tỉnh Bình Thuận",
        "Chưa báo cáo (not reported)",
        "0",
        "0",
        "0",
        "",
    ]
    # The formula is written as text: a leading apostrophe, which Excel shows as text.
    assert by_code["99"][2] == "'" + HOSTILE
    # The JSON default is unchanged and carries the same figures.
    table = as_user("ministry").get("/compliance/monthly?month=2021-08").get_json()
    assert table["provinces_reporting"] == 2 and table["rows"][0]["reports"] == 2


def test_monthly_table_as_xlsx(app: Any, as_user: Any) -> None:
    _world(app, as_user)
    response = as_user("ministry").get("/compliance/monthly?month=2021-08&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Tháng 2021-08", "Ghi chú"]
    rows = list(workbook["Tháng 2021-08"].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert rows[1] == (1, "79", "Thành phố Hồ Chí Minh", "Đã báo cáo (reported)", 2, 40, 1, 5)
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["99"][2] == "'" + HOSTILE
    assert "2/64" in workbook["Ghi chú"]["A1"].value
    # No cell of the workbook is a formula: the sheet XML has no <f> element.
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and all(b"<f>" not in archive.read(n) for n in sheets)


def test_coordinator_gets_its_province_and_bad_format_is_400(app: Any, as_user: Any) -> None:
    _world(app, as_user)
    response = as_user("coord79").get("/compliance/monthly?month=2021-08&format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["79"]
    error = expect_error(
        as_user("ministry").get("/compliance/monthly?month=2021-08&format=pdf"), 400
    )
    assert error["details"][0]["field"] == "format" and "'pdf'" in str(error["details"][0])
    expect_error(
        as_user("coord79").get("/compliance/monthly?month=2021-08&province_code=01&format=xlsx"),
        403,
    )


def test_daily_compliance_names_whom_to_phone(app: Any, as_user: Any, clock: Any) -> None:
    _world(app, as_user)
    clock.set_local("2021-08-20 17:00")  # after the deadline: 79-B is missing
    response = as_user("coord79").get("/compliance/daily?date_from=2021-08-19&date_to=2021-08-20")
    rows = {r["report_date"]: r for r in response.get_json()["rows"]}
    late, today = rows["2021-08-19"], rows["2021-08-20"]
    assert late["late_facility_ids"] == ["79-A"]
    assert late["late_facility_names"] == ["Bệnh viện Chợ Rẫy"]
    assert today["missing_facility_ids"] == ["79-B"]
    assert today["missing_facility_names"] == ["Bệnh viện Nhân dân Gia Định"]
    demand = as_user("coord79").get("/demand/provinces?date=2021-08-20").get_json()["rows"][0]
    assert demand["facilities_without_report_names"] == ["Bệnh viện Nhân dân Gia Định"]
    assert {d["name"] for d in demand["facility_demands"]} == {
        "Bệnh viện Chợ Rẫy",
        "Bệnh viện Nhân dân Gia Định",
    }
