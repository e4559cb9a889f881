"""DHIS2 dataValueSets: export (JSON, CSV), import as an upsert with dryRun, counts and conflicts."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from data.exchange.dhis2 import CSV_COLUMNS, DATA_ELEMENTS

REPORT = {
    "report_date": "2021-08-19",
    "oxygen_used_24h_m3": 120.5,
    "patients_cannula_mask": 7,
    "patients_high_flow": 2,
    "liquid_stock_l": 1000.0,
    "cylinders_full": {"40L": 10},
    "note": "Thiếu bình 40 lít",
}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def _values(document: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {
        (v["dataElement"], v["period"], v["orgUnit"]): v["value"] for v in document["dataValues"]
    }


def test_export_uses_codes_periods_and_string_values(as_user: Any, clock: Any) -> None:
    clock.set_local("2021-08-19 15:30")
    _ok(as_user("repA").post("/facilities/79-A/reports", json=REPORT), 201)
    clock.set_local("2021-08-19 18:00")
    _ok(
        as_user("repA").post(
            "/facilities/79-A/reports", json={**REPORT, "oxygen_used_24h_m3": 121}
        ),
        201,
    )
    document = _ok(
        as_user("coord79").get("/dhis2/dataValueSets.json?startDate=2021-08-19&endDate=2021-08-19")
    )
    assert document["dataSet"] == "OXY_DAILY"
    assert _values(document) == {
        ("O2_USED_24H_M3", "20210819", "79-A"): "121",
        ("O2_STOCK_M3", "20210819", "79-A"): "858.7",  # 1000 L x 1.141 kg/L x 0.7 m3/kg + 10 x 6 m3
        ("O2_LIQUID_STOCK_L", "20210819", "79-A"): "1000",
        ("PAT_O2_MASK", "20210819", "79-A"): "7",
        ("PAT_O2_HFNC", "20210819", "79-A"): "2",
        ("PAT_O2_NIV", "20210819", "79-A"): "0",
        ("PAT_O2_IMV", "20210819", "79-A"): "0",
        ("PAT_O2_ECMO", "20210819", "79-A"): "0",
        ("CYL_FULL_40L", "20210819", "79-A"): "10",
        ("O2_REPORT_NOTE", "20210819", "79-A"): "Thiếu bình 40 lít",
    }
    value = document["dataValues"][0]
    # created = first submission (15:30 local, on time), lastUpdated = the correction.
    assert (value["created"], value["lastUpdated"]) == (
        "2021-08-19T08:30:00Z",
        "2021-08-19T11:00:00Z",
    )
    assert value["storedBy"] == "repA" and value["comment"] == ""
    assert all(isinstance(v["value"], str) for v in document["dataValues"])
    assert document["completeDataSetRegistrations"] == [
        {
            "dataSet": "OXY_DAILY",
            "period": "20210819",
            "organisationUnit": "79-A",
            "date": "2021-08-19T08:30:00Z",
            "storedBy": "repA",
            "completed": True,
        }
    ]


def test_csv_export_has_dhis2_columns_and_a_bom(as_user: Any) -> None:
    _ok(as_user("repA").post("/facilities/79-A/reports", json=REPORT), 201)
    response = as_user("admin").get("/dhis2/dataValueSets.csv?orgUnit=79-A&period=20210819")
    _ok(response)
    content = response.get_data()
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[-1][:6] == ["O2_REPORT_NOTE", "20210819", "79-A", "", "", "Thiếu bình 40 lít"]


def test_reimporting_an_export_stores_nothing(as_user: Any) -> None:
    admin = as_user("admin")
    _ok(as_user("repA").post("/facilities/79-A/reports", json=REPORT), 201)
    _ok(as_user("repB").post("/facilities/79-B/reports", json={**REPORT, "note": None}), 201)
    document = _ok(admin.get("/dhis2/dataValueSets.json?startDate=2021-08-19&endDate=2021-08-19"))
    summary = _ok(admin.post("/dhis2/dataValueSets", json=document))
    assert summary["status"] == "SUCCESS"
    assert summary["importCount"] == {
        "imported": 0,
        "updated": 0,
        "ignored": len(document["dataValues"]),
        "deleted": 0,
    }
    csv_export = admin.get(
        "/dhis2/dataValueSets.csv?startDate=2021-08-19&endDate=2021-08-19"
    ).get_data()
    summary = _ok(admin.post("/dhis2/dataValueSets", data=csv_export, content_type="text/csv"))
    assert summary["importCount"]["imported"] + summary["importCount"]["updated"] == 0
    revisions = _ok(admin.get("/facilities/79-A/reports/2021-08-19/revisions"))["revisions"]
    assert len(revisions) == 1


def _dvs(org_unit: str, period: str, **values: str) -> dict[str, Any]:
    return {
        "dataSet": "OXY_DAILY",
        "period": period,
        "orgUnit": org_unit,
        "dataValues": [{"dataElement": k, "value": v} for k, v in values.items()],
    }


def test_import_is_an_upsert_with_dry_run(as_user: Any) -> None:
    coord = as_user("coord79")
    payload = _dvs("79-A", "20210819", O2_USED_24H_M3="35", PAT_O2_MASK="3", CYL_FULL_40L="4")
    dry = _ok(coord.post("/dhis2/dataValueSets?dryRun=true", json=payload))
    assert dry["dryRun"] is True and dry["importCount"] == {
        "imported": 3,
        "updated": 0,
        "ignored": 0,
        "deleted": 0,
    }
    assert (
        as_user("admin").get("/facilities/79-A/reports/2021-08-19").status_code == 404
    )  # nothing stored
    first = _ok(coord.post("/dhis2/dataValueSets", json=payload))
    assert first["importCount"] == dry["importCount"] and first["status"] == "SUCCESS"
    again = _ok(coord.post("/dhis2/dataValueSets", json=payload))
    assert again["importCount"] == {"imported": 0, "updated": 0, "ignored": 3, "deleted": 0}
    changed = _ok(
        coord.post(
            "/dhis2/dataValueSets",
            json=_dvs("79-A", "20210819", O2_USED_24H_M3="36.5", PAT_O2_NIV="1"),
        )
    )
    assert changed["importCount"] == {"imported": 0, "updated": 2, "ignored": 0, "deleted": 0}
    # PAT_O2_NIV was 0 (a value), so it is updated; the other values are kept from revision 1.
    latest = _ok(coord.get("/facilities/79-A/reports/2021-08-19"))
    assert (
        latest["revision"],
        latest["oxygen_used_24h_m3"],
        latest["patients_cannula_mask"],
        latest["patients_niv"],
        latest["cylinders_full"],
    ) == (2, 36.5, 3, 1, {"40L": 4})
    assert latest["submitted_by"] == "coord79"
    deletion = {
        "dataValues": [
            {
                "dataElement": "CYL_FULL_40L",
                "period": "20210819",
                "orgUnit": "79-A",
                "value": "",
                "deleted": True,
            }
        ]
    }
    deleted = _ok(coord.post("/dhis2/dataValueSets", json=deletion))
    assert deleted["importCount"] == {"imported": 0, "updated": 0, "ignored": 0, "deleted": 1}
    assert _ok(coord.get("/facilities/79-A/reports/2021-08-19"))["cylinders_full"] == {}


def test_conflicts_are_listed_and_the_rest_imported(as_user: Any) -> None:
    _ok(as_user("admin").post("/approvals/79/2021-08-18"), 201)
    values = [
        {
            "dataElement": "O2_USED_24H_M3",
            "period": "20210819",
            "orgUnit": "79-A",
            "value": "40",
        },  # ok
        {
            "dataElement": "O2_NOPE",
            "period": "20210819",
            "orgUnit": "79-A",
            "value": "1",
        },  # unknown element
        {
            "dataElement": "PAT_O2_MASK",
            "period": "20210819",
            "orgUnit": "79-A",
            "value": "-2",
        },  # negative
        {
            "dataElement": "PAT_O2_HFNC",
            "period": "20210819",
            "orgUnit": "79-A",
            "value": "1.5",
        },  # not whole
        {
            "dataElement": "O2_USED_24H_M3",
            "period": "20210819",
            "orgUnit": "79-Z",
            "value": "1",
        },  # no facility
        {
            "dataElement": "O2_USED_24H_M3",
            "period": "20210819",
            "orgUnit": "01-C",
            "value": "1",
        },  # other province
        {
            "dataElement": "O2_USED_24H_M3",
            "period": "20210818",
            "orgUnit": "79-B",
            "value": "1",
        },  # locked day
        {
            "dataElement": "O2_USED_24H_M3",
            "period": "20210832",
            "orgUnit": "79-B",
            "value": "1",
        },  # no such day
        {
            "dataElement": "O2_USED_24H_M3",
            "period": "20210825",
            "orgUnit": "79-B",
            "value": "1",
        },  # after tomorrow
        {
            "dataElement": "PAT_O2_MASK",
            "period": "20210819",
            "orgUnit": "79-B",
            "value": "4",
        },  # no O2 use
    ]
    summary = _ok(as_user("coord79").post("/dhis2/dataValueSets", json={"dataValues": values}))
    assert summary["status"] == "WARNING"
    assert summary["importCount"] == {"imported": 1, "updated": 0, "ignored": 9, "deleted": 0}
    by_index = {tuple(c["indexes"]): c for c in summary["conflicts"]}
    assert {k: v["property"] for k, v in by_index.items()} == {
        (0,): "oxygen_used_24h_m3",  # 40 m³ with no patient: imported, flagged (a warning)
        (1,): "dataElement",
        (2,): "value",
        (3,): "value",
        (4,): "orgUnit",
        (5,): "orgUnit",
        (6,): "period",
        (7,): "period",
        (8,): "period",
        (9,): "dataValues",
    }
    assert "oxygen_used_24h_m3: is required" in by_index[(9,)]["value"]
    assert "locks" in by_index[(6,)]["value"]
    assert (
        _ok(as_user("admin").get("/facilities/79-A/reports/2021-08-19"))["oxygen_used_24h_m3"]
        == 40.0
    )


def test_csv_import(as_user: Any) -> None:
    content = (
        "\ufeffdataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,followup\r\n"
        "O2_USED_24H_M3,20210819,79-A,,,52.25,,,,false\r\n"
        'O2_REPORT_NOTE,20210819,79-A,,,"Còn 3 bình, cần thêm",,,,false\r\n'
    ).encode()
    summary = _ok(
        as_user("repA").post("/dhis2/dataValueSets", data=content, content_type="text/csv")
    )
    assert summary["importCount"]["imported"] == 2
    latest = _ok(as_user("repA").get("/facilities/79-A/reports/2021-08-19"))
    assert (latest["oxygen_used_24h_m3"], latest["note"]) == (52.25, "Còn 3 bình, cần thêm")


ADX_NS = {"adx": "urn:ihe:qrph:adx:2015"}


def test_adx_export_matches_json_and_reimports_as_nothing(as_user: Any) -> None:
    import xml.etree.ElementTree as ET

    admin = as_user("admin")
    _ok(as_user("repA").post("/facilities/79-A/reports", json=REPORT), 201)
    query = "?startDate=2021-08-19&endDate=2021-08-19"
    response = admin.get("/dhis2/dataValueSets.adx" + query)
    assert response.status_code == 200 and response.mimetype == "application/adx+xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "{urn:ihe:qrph:adx:2015}adx"
    (group,) = root.findall("adx:group", ADX_NS)
    assert (group.get("dataSet"), group.get("orgUnit"), group.get("period")) == (
        "OXY_DAILY",
        "79-A",
        "2021-08-19/P1D",
    )
    adx_values = {
        v.get("dataElement"): v.get("value") if v.get("value") is not None else v.text
        for v in group.findall("adx:dataValue", ADX_NS)
    }
    json_values = {
        k[0]: v for k, v in _values(_ok(admin.get("/dhis2/dataValueSets.json" + query))).items()
    }
    assert adx_values == json_values
    assert adx_values["O2_REPORT_NOTE"] == "Thiếu bình 40 lít"  # text as content, diacritics kept
    summary = _ok(
        admin.post(
            "/dhis2/dataValueSets", data=response.get_data(), content_type="application/adx+xml"
        )
    )
    assert summary["importCount"] == {
        "imported": 0,
        "updated": 0,
        "ignored": len(json_values),
        "deleted": 0,
    }


def test_adx_import_upserts_with_conflicts(as_user: Any) -> None:
    adx = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<adx xmlns="urn:ihe:qrph:adx:2015" exported="2021-08-19T09:00:00Z">'
        '<group dataSet="OXY_DAILY" orgUnit="79-A" period="2021-08-19/P1D">'
        '<dataValue dataElement="O2_USED_24H_M3" value="61.5"/>'
        '<dataValue dataElement="PAT_O2_HFNC" value="3"/>'
        '<dataValue dataElement="O2_REPORT_NOTE">Cần thêm 20 bình</dataValue>'
        '<dataValue dataElement="O2_NOPE" value="1"/>'
        "</group></adx>"
    ).encode()
    coord = as_user("coord79")
    dry = _ok(
        coord.post("/dhis2/dataValueSets?dryRun=true", data=adx, content_type="application/adx+xml")
    )
    assert dry["importCount"] == {"imported": 3, "updated": 0, "ignored": 1, "deleted": 0}
    assert [c["indexes"] for c in dry["conflicts"]] == [[3]]
    _ok(coord.post("/dhis2/dataValueSets", data=adx, content_type="application/adx+xml"))
    latest = _ok(coord.get("/facilities/79-A/reports/2021-08-19"))
    assert (latest["oxygen_used_24h_m3"], latest["patients_high_flow"], latest["note"]) == (
        61.5,
        3,
        "Cần thêm 20 bình",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<adx", "well-formed"),  # broken XML
        (
            b'<?xml version="1.0"?><dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0"/>',
            "root element",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE adx [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<adx xmlns="urn:ihe:qrph:adx:2015"><group orgUnit="79-A" period="2021-08-19/P1D">'
            b'<dataValue dataElement="O2_REPORT_NOTE">&x;</dataValue></group></adx>',
            "unsafe",
        ),  # XXE
        (
            b'<adx xmlns="urn:ihe:qrph:adx:2015"><group period="2021-08-19/P1D">'
            b'<dataValue value="1"/></group></adx>',
            "orgUnit",
        ),  # attributes missing
    ],
)
def test_adx_refusals_name_the_problem(as_user: Any, body: bytes, reason: str) -> None:
    response = as_user("admin").post(
        "/dhis2/dataValueSets", data=body, content_type="application/adx+xml"
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert any(reason in d["reason"] or reason in d["field"] for d in error["details"]), error


def test_last_updated_pulls_only_changes(as_user: Any, clock: Any) -> None:
    clock.set_local("2021-08-19 10:00")
    _ok(as_user("repA").post("/facilities/79-A/reports", json=REPORT), 201)
    clock.set_local("2021-08-19 12:00")
    _ok(as_user("repB").post("/facilities/79-B/reports", json=REPORT), 201)
    path = "/dhis2/dataValueSets.json?orgUnit=79&period=20210819&lastUpdated=2021-08-19T04:00:00Z"
    document = _ok(as_user("ministry").get(path))
    assert {v["orgUnit"] for v in document["dataValues"]} == {"79-B"}


@pytest.mark.parametrize(
    ("user", "method", "path", "kwargs", "status"),
    [
        (
            "ministry",
            "post",
            "/dhis2/dataValueSets",
            {"json": {"dataValues": []}},
            403,
        ),  # reads only
        ("coord01", "get", "/dhis2/dataValueSets.json?orgUnit=79", {}, 403),  # another province
        ("coord01", "get", "/dhis2/dataValueSets.json?orgUnit=79-A", {}, 403),  # its facility
        ("repA", "get", "/dhis2/dataValueSets.json?orgUnit=79-B", {}, 403),  # another facility
        ("repA", "get", "/dhis2/dataValueSets.json?orgUnit=79", {}, 403),  # the whole province
        ("coord79", "get", "/dhis2/dataValueSets.json", {}, 200),  # its own province by default
        ("admin", "get", "/dhis2/dataValueSets.json?idScheme=uid", {}, 400),  # only codes
        ("admin", "get", "/dhis2/dataValueSets.json?period=2021-08-19", {}, 400),  # not yyyyMMdd
        ("admin", "post", "/dhis2/dataValueSets", {"json": {"dataValues": {}}}, 400),  # not a list
        (
            "admin",
            "post",
            "/dhis2/dataValueSets",
            {"json": {"dataSet": "X", "dataValues": []}},
            400,
        ),  # other set
        (
            "admin",
            "post",
            "/dhis2/dataValueSets?dryRun=maybe",
            {"json": {"dataValues": []}},
            400,
        ),  # bad flag
        (
            "admin",
            "post",
            "/dhis2/dataValueSets",
            {"data": b"value\r\n1\r\n", "content_type": "text/csv"},
            422,
        ),
    ],
)
def test_dhis2_refusals(
    as_user: Any, user: str, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = getattr(as_user(user), method)(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)


def test_every_data_element_code_is_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "registry.md").read_text(
        encoding="utf-8"
    )
    for element in DATA_ELEMENTS:
        if element.cylinder_size is None:
            assert f"`{element.code}`" in text, element.code
    assert "`CYL_FULL_<size>`" in text and "`CYL_EMPTY_<size>`" in text


def test_a_dry_run_shows_the_plausibility_warnings_and_stores_nothing(as_user: Any) -> None:
    coord = as_user("coord79")
    no_patients = _dvs("79-A", "20210819", O2_USED_24H_M3="40")  # flagged: no patient on oxygen
    dry = _ok(coord.post("/dhis2/dataValueSets?dryRun=true", json=no_patients))
    assert dry["status"] == "WARNING" and dry["dryRun"] is True
    assert [c["errorCode"] for c in dry["conflicts"]] == ["WARNING"]
    assert as_user("admin").get("/facilities/79-A/reports/2021-08-19").status_code == 404
    impossible = _dvs("79-A", "20210819", O2_USED_24H_M3="1e9", PAT_O2_MASK="3")
    refused = coord.post("/dhis2/dataValueSets?dryRun=true", json=impossible)
    assert refused.status_code == 422 and "oxygen_used_24h_m3" in refused.get_data(as_text=True)
