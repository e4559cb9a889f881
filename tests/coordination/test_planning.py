"""The coordinator's plan end to end on District 5 (hand-built reports, real roads)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import math
from typing import Any, cast

import pytest

from coordination.planning import (
    build_plan,
    plan_summary,
    plan_to_csv,
    plan_to_dict,
    plan_to_geojson,
    replace_request,
    suppliers_from_places,
)
from data.places import read_places
from data.schema.allocation import Product, UnmetReason
from data.schema.network import Place
from routing.network import change_roads

START = dt.date(2021, 8, 20)


def test_plan_balances_and_serves_within_capacity(d5_network, d5_region, request_d5) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(request_d5, d5_network, d5_region)
    totals = plan.allocation.totals
    assert totals.demand_m3 > 0
    assert totals.delivered_m3 + totals.unmet_m3 == pytest.approx(totals.demand_m3, abs=1.0)
    capacity = {s.supplier_id: s for s in request_d5.suppliers}
    used: dict[tuple[str, int, str], float] = {}
    for flow in plan.allocation.flows:
        key = (flow.supplier_id, flow.day, str(flow.product))
        used[key] = used.get(key, 0.0) + flow.quantity_m3
        assert flow.quantity_m3 > 0 and flow.travel_time_s > 0
        if flow.product == Product.BULK_LIQUID:  # only the hospital with a tank takes liquid
            assert (
                "Nguyễn Tri Phương"
                in {f.facility_id: f.name for f in request_d5.facilities}[flow.facility_id]
            )
    for (supplier_id, _day, product), quantity in used.items():
        s = capacity[supplier_id]
        limit = s.liquid_t_per_day * 700 if product == "bulk_liquid" else s.cylinders_per_day * 6.0
        assert quantity <= limit + 1e-6
    # Suppliers outside District 5 are reached through its gateways.
    assert all(plan.matrix.snaps[s.supplier_id].gateway_id for s in request_d5.suppliers)


def test_cut_off_facility_is_unmet_with_reason_unreachable(
    d5_network, d5_region, request_d5
) -> None:  # type: ignore[no-untyped-def]
    target = request_d5.facilities[3]
    box = {
        "type": "Polygon",
        "coordinates": [
            [
                [target.lon - 0.002, target.lat - 0.002],
                [target.lon + 0.002, target.lat - 0.002],
                [target.lon + 0.002, target.lat + 0.002],
                [target.lon - 0.002, target.lat + 0.002],
                [target.lon - 0.002, target.lat - 0.002],
            ]
        ],
    }
    flooded = change_roads(d5_network, polygon=box)
    plan = build_plan(request_d5, flooded, d5_region)
    mine = [u for u in plan.allocation.unmet if u.facility_id == target.facility_id]
    assert mine and all(u.reason == UnmetReason.UNREACHABLE for u in mine)
    assert not any(f.facility_id == target.facility_id for f in plan.allocation.flows)


def test_outage_raises_unmet_and_never_changes_the_base(d5_network, d5_region, request_d5) -> None:  # type: ignore[no-untyped-def]
    base = build_plan(request_d5, d5_network, d5_region)
    outage = replace_request(request_d5, suppliers=request_d5.suppliers[:1])
    less = build_plan(outage, d5_network, d5_region)
    assert less.allocation.totals.unmet_m3 >= base.allocation.totals.unmet_m3
    assert len(request_d5.suppliers) > 1  # the base request is untouched


def test_outputs_json_geojson_csv_and_summary(d5_network, d5_region, request_d5) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(request_d5, d5_network, d5_region)
    document = json.loads(json.dumps(plan_to_dict(plan), ensure_ascii=False))
    assert document["start_date"] == "2021-08-20" and len(document["facilities"]) == 6
    assert "Bệnh viện Nguyễn Tri Phương" in {f["name"] for f in document["facilities"]}
    geojson = plan_to_geojson(plan)
    kinds = {f["properties"]["kind"] for f in geojson["features"]}
    assert kinds == {"facility", "supplier", "flow"}
    for feature in geojson["features"]:
        lon, lat = (
            feature["geometry"]["coordinates"][0]
            if feature["geometry"]["type"] == "LineString"
            else feature["geometry"]["coordinates"]
        )
        assert 100 < lon < 110 and 8 < lat < 12
    csvs = plan_to_csv(plan)
    assert csvs["flows.csv"].splitlines()[0].startswith("date,supplier_id")
    assert len(csvs["facilities.csv"].splitlines()) == 7
    summary = plan_summary(plan)
    assert "facilities short within the horizon" in summary and "Quận 5" in summary
    assert not math.isnan(plan.allocation.totals.delivered_m3)


# ------------------------------------------------------------- issue 13: missing is never zero


def test_plan_without_reports_for_its_date_never_reads_all_fine(
    d5_network, d5_region, request_d5
) -> None:  # type: ignore[no-untyped-def]
    # Every report is 5 days old (beyond the carry-forward) and no facility has beds recorded.
    old = tuple(
        dataclasses.replace(r, report_date=START - dt.timedelta(days=5)) for r in request_d5.reports
    )
    bedless = tuple(dataclasses.replace(f, beds=0) for f in request_d5.facilities)
    plan = build_plan(
        replace_request(request_d5, reports=old, facilities=bedless), d5_network, d5_region
    )
    summary = plan_summary(plan)
    first = summary.splitlines()[0]
    assert "NO REPORTS for 2021-08-19" in first
    assert "latest day with reports is 2021-08-15 (6 facilities)" in first
    assert "demand UNKNOWN for 6 facilities, not included" in summary
    assert "UNKNOWN 6" in summary
    assert "facilities short within the horizon: 0 (and 6 facilities with unknown demand" in summary
    unknown_at = summary.index("facilities with unknown or stale demand: 6")
    assert unknown_at < summary.index("facilities short within the horizon")
    document = plan_to_dict(plan)
    # The plan document says it first too, for API clients (the map shows it at the top).
    assert document["headline"].startswith("NO REPORTS for 2021-08-19")
    assert document["headline"] in first
    for row in document["facilities"]:
        assert row["demand_m3"] is None and row["shortfall_m3"] == 0.0
        extra = cast(dict[str, Any], row)
        assert extra["demand_basis"] == "unknown" and extra["demand_known"] is False
        assert extra["last_report_date"] == "2021-08-15" and extra["report_date"] is None
    header, *lines = csv.reader(io.StringIO(plan_to_csv(plan)["facilities.csv"]))
    assert header[: len(header) - 2][-9:] == [
        "demand_basis",
        "demand_known",
        "report_date",
        "report_age_days",
        "carried_forward_days",
        "last_report_date",
        "demand_note",
        "report_review_status",
        "replaced_values",
    ]
    assert {line[header.index("demand_m3")] for line in lines} == {""}  # empty, never 0


def test_stale_and_estimated_facilities_come_first_with_their_age(
    d5_network, d5_region, request_d5
) -> None:  # type: ignore[no-untyped-def]
    reports = list(request_d5.reports)
    stale_id, gone_id = reports[0].facility_id, reports[1].facility_id
    reports[0] = dataclasses.replace(reports[0], report_date=START - dt.timedelta(days=3))
    del reports[1]  # no report at all: estimated from its 100 beds
    plan = build_plan(replace_request(request_d5, reports=tuple(reports)), d5_network, d5_region)
    summary = plan_summary(plan)
    assert "reports of 2021-08-19: 4 of 6 facilities" in summary.splitlines()[0]
    names = {f.facility_id: f.name for f in request_d5.facilities}
    stale_section = summary[summary.index("facilities with unknown or stale demand: 2") :]
    estimated_at = stale_section.index(names[gone_id][:44])
    carried_at = stale_section.index(names[stale_id][:44])
    assert estimated_at < carried_at < stale_section.index("facilities short within")
    assert "patients_x_flows carried forward 2 d" in stale_section
    rows = {r["facility_id"]: cast(dict[str, Any], r) for r in plan_to_dict(plan)["facilities"]}
    assert (rows[stale_id]["report_age_days"], rows[stale_id]["carried_forward_days"]) == (3, 2)
    assert rows[gone_id]["demand_basis"] == "estimated" and rows[gone_id]["demand_m3"] > 0
    assert rows[gone_id]["last_report_date"] is None


def test_declared_use_drives_the_plan_when_plausible(d5_network, d5_region, request_d5) -> None:  # type: ignore[no-untyped-def]
    # 30 mask + 5 HFNC + 2 IMV: 30 x 14.4 + 7 x 43.2 = 734.4 m³/day by patients x flows.
    target = request_d5.reports[0]
    reports = (dataclasses.replace(target, declared_use_m3=900.0), *request_d5.reports[1:])
    plan = build_plan(
        replace_request(request_d5, reports=reports, horizon_days=1), d5_network, d5_region
    )
    row = next(
        cast(dict[str, Any], r)
        for r in plan_to_dict(plan)["facilities"]
        if r["facility_id"] == target.facility_id
    )
    assert (row["demand_m3"], row["demand_basis"]) == (900.0, "declared_use")
    assert "declared use 1, patients x flows 5" in plan_summary(plan)


SUPPLIERS_CSV = """id,name,kind,lon,lat,capacity_lox_t_per_day,capacity_cylinders_per_day,medical_lox_t_per_day,medical_basis
AL,Air Liquide - Phú Mỹ,liquid_producer,107.03,10.59,190,,40.5,"O2 share of the O2/N2/Ar figure"
NS,Nippon Sanso - Phú Mỹ,liquid_producer,107.04,10.60,240,,,
ZE,Nhà máy Zero,liquid_producer,107.05,10.61,100,,0,"declares nothing for medical use"
CY,Trạm nạp chai Quận 8,cylinder_station,106.65,10.72,,500,,
"""


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_suppliers_use_the_medical_liquid_column_when_given(tmp_path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(SUPPLIERS_CSV)))
    path = tmp_path / f"suppliers{suffix}"
    if suffix == ".csv":
        path.write_text(SUPPLIERS_CSV, encoding="utf-8")
    else:
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
                "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
            }
            for r in rows
        ]
        collection = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    suppliers = {s.supplier_id: s for s in suppliers_from_places(read_places(path))}
    assert suppliers["AL"].liquid_t_per_day == 40.5  # medical figure, not the 190 t/day plant
    assert suppliers["NS"].liquid_t_per_day == 240.0  # empty medical cell: plant capacity
    assert suppliers["ZE"].liquid_t_per_day == 0.0  # a declared 0 is 0, not the plant's 100
    assert (suppliers["CY"].liquid_t_per_day, suppliers["CY"].cylinders_per_day) == (0.0, 500)
    assert suppliers["AL"].name == "Air Liquide - Phú Mỹ"


def test_suppliers_without_the_medical_column_keep_the_plant_capacity() -> None:
    place = Place("AL", 107.03, 10.59, "Air Liquide", {"capacity_lox_t_per_day": "190"})
    assert suppliers_from_places([place])[0].liquid_t_per_day == 190.0
