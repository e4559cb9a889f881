"""The coordinator's plan end to end on District 5 (hand-built reports, real roads)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from coordination.planning import (
    build_plan,
    plan_summary,
    plan_to_csv,
    plan_to_dict,
    plan_to_geojson,
    replace_request,
)
from data.schema.allocation import Product, UnmetReason
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
