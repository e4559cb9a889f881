"""What-if scenarios on District 5: changes are exact, never leak into the base, and bad files are refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from coordination.planning import build_plan
from coordination.scenarios import (
    apply_scenario,
    compare_plans,
    load_scenario,
    scenario_from_mapping,
)
from data.errors import InvalidInputError
from data.schema.allocation import UnmetReason


def _scenario(*changes: dict, horizon_days: int = 3) -> object:
    return scenario_from_mapping(
        {
            "name": "thử nghiệm",
            "region": "hcmc_d5",
            "date": "2021-08-20",
            "horizon_days": horizon_days,
            "changes": list(changes),
        }
    )


def test_surge_outage_and_new_facility_are_applied_exactly(
    d5_network, d5_region, request_d5
) -> None:  # type: ignore[no-untyped-def]
    target = request_d5.facilities[0].facility_id
    scenario = _scenario(
        {"type": "case_surge", "scope": "facility", "ids": [target], "factor": 2.0},
        {"type": "supplier_capacity", "supplier_id": "TDS", "capacity_factor": 0.0, "days": [0, 1]},
        {
            "type": "new_facility",
            "facility_id": "FH-16",
            "name": "Bệnh viện dã chiến số 16",
            "lon": 106.6790,
            "lat": 10.7600,
            "tier": 2,
            "beds": 300,
            "district": "Quận 5",
        },
    )
    before = dataclasses.astuple(request_d5)
    request, network = apply_scenario(scenario, request_d5, d5_network)
    assert dataclasses.astuple(request_d5) == before  # the base never changes
    assert network is d5_network  # no road change, same network object
    base_plan = build_plan(request_d5, d5_network, d5_region)
    plan = build_plan(request, network, d5_region)
    surged = {f.facility_id: f for f in plan.forecasts}[target]
    original = {f.facility_id: f for f in base_plan.forecasts}[target]
    np.testing.assert_allclose(surged.demand_m3_per_day, 2 * np.array(original.demand_m3_per_day))
    others = [f.facility_id for f in request_d5.facilities[1:]]
    for fid in others:
        assert {f.facility_id: f for f in plan.forecasts}[fid].demand_m3_per_day == {
            f.facility_id: f for f in base_plan.forecasts
        }[fid].demand_m3_per_day
    tds = {s.supplier_id: s for s in request.suppliers}["TDS"]
    assert tds.capacity_factor_per_day == (0.0, 0.0, 1.0)
    assert not any(f.supplier_id == "TDS" and f.day in (0, 1) for f in plan.allocation.flows)
    new = {f.facility_id: f for f in plan.forecasts}["FH-16"]
    assert new.estimated and sum(new.demand_m3_per_day) > 0  # beds and tier, flagged estimated
    comparison = compare_plans(base_plan, plan)
    assert comparison["totals"]["demand_m3"]["change"] > 0
    assert any(r["facility_id"] == "FH-16" for r in comparison["facilities"])


def test_closure_cutting_a_facility_off_shows_as_unreachable(
    d5_network, d5_region, request_d5
) -> None:  # type: ignore[no-untyped-def]
    target = request_d5.facilities[3]
    d = 0.002
    scenario = _scenario(
        {
            "type": "road_change",
            "polygon": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [target.lon - d, target.lat - d],
                        [target.lon + d, target.lat - d],
                        [target.lon + d, target.lat + d],
                        [target.lon - d, target.lat + d],
                        [target.lon - d, target.lat - d],
                    ]
                ],
            },
        }
    )
    request, network = apply_scenario(scenario, request_d5, d5_network)
    assert network is not d5_network and not d5_network.changes
    plan = build_plan(request, network, d5_region)
    reasons = {u.reason for u in plan.allocation.unmet if u.facility_id == target.facility_id}
    assert reasons == {UnmetReason.UNREACHABLE}


def test_outage_comparison_lists_removed_flows(d5_network, d5_region, request_d5) -> None:  # type: ignore[no-untyped-def]
    base = build_plan(request_d5, d5_network, d5_region)
    busiest = max(
        {f.supplier_id for f in base.allocation.flows},
        key=lambda s: sum(f.quantity_m3 for f in base.allocation.flows if f.supplier_id == s),
    )
    request, network = apply_scenario(
        _scenario({"type": "supplier_capacity", "supplier_id": busiest, "capacity_factor": 0.0}),
        request_d5,
        d5_network,
    )
    outage = build_plan(request, network, d5_region)
    comparison = compare_plans(base, outage)
    removed = {(r["supplier_id"], r["facility_id"]) for r in comparison["flows_removed"]}
    assert {
        (f.supplier_id, f.facility_id) for f in base.allocation.flows if f.supplier_id == busiest
    } <= removed
    assert not any(f.supplier_id == busiest for f in outage.allocation.flows)
    assert comparison["totals"]["unmet_m3"]["change"] >= 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"type": "supplier_capacity", "supplier_id": "NOPE", "capacity_factor": 0.0},
            "unknown supplier 'NOPE'",
        ),  # only found when applied to a base
        (
            {
                "type": "road_change",
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [106.67, 10.75],
                            [106.68, 10.76],
                            [106.68, 10.75],
                            [106.67, 10.76],
                            [106.67, 10.75],
                        ]
                    ],
                },
            },
            "not a valid polygon",
        ),  # a self-crossing bow-tie
        ({"type": "case_surge", "factor": -1.5}, "factor: must be a number >= 0"),
        (
            {"type": "road_change", "road_names": ["Nguyễn Trãi"], "factor": -2},
            "factor: must be a number > 0",
        ),
        ({"type": "case_surge", "scope": "district", "factor": 2.0}, "ids: a district surge needs"),
        ({"type": "meteor_strike"}, "is not one of"),
        ({"type": "case_surge", "factor": 2.0, "colour": "red"}, "colour: unknown key"),
        ({"type": "road_change", "road_names": ["Đường Không Có"]}, "no road is named"),
        (
            {"type": "case_surge", "scope": "district", "ids": ["Quận 99"], "factor": 2.0},
            "no facility in district 'Quận 99'",
        ),
    ],
)
def test_bad_scenarios_are_refused_with_the_field(d5_network, request_d5, change, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        apply_scenario(_scenario(change), request_d5, d5_network)


def test_scenario_files_toml_and_json(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "Phú Mỹ dừng 3 ngày"\nregion = "hcmc"\ndate = 2021-08-20\n'
        '[[changes]]\ntype = "supplier_capacity"\nsupplier_id = "NSV-PM"\n'
        "capacity_factor = 0.0\ndays = [0, 1, 2]\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert scenario.name == "Phú Mỹ dừng 3 ngày" and scenario.horizon_days == 7
    broken = tmp_path / "b.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="malformed"):
        load_scenario(broken)
    with pytest.raises(InvalidInputError, match="date: expected YYYY-MM-DD"):
        scenario_from_mapping({"name": "x", "region": "hcmc", "date": "tomorrow"})
    # TOML reads `date = 2021-08-01T10:00:00` as a datetime: a plan starts on a day, so refused.
    instant = tmp_path / "instant.toml"
    instant.write_text(
        'name = "x"\nregion = "hcmc"\ndate = 2021-08-01T10:00:00\n', encoding="utf-8"
    )
    with pytest.raises(InvalidInputError, match="date: expected YYYY-MM-DD"):
        load_scenario(instant)


def test_route_comparison_lists_added_removed_and_changed_routes() -> None:
    from coordination.scenarios import compare_routes

    def route(vehicle: str, *places: str, duration: int = 600) -> dict:
        steps = [
            {"type": "start"},
            *({"type": "delivery", "place_id": p} for p in places),
            {"type": "end"},
        ]
        return {"vehicle": vehicle, "duration": duration, "distance": 1000, "steps": steps}

    base = {"routes": [route("T1", "S", "A", "B"), route("T2", "S", "C")], "unassigned": []}
    other = {
        "routes": [route("T1", "S", "B", "A", duration=900), route("T3", "S", "C")],
        "unassigned": [{"id": "L9"}],
    }
    comparison = compare_routes(base, other)
    assert comparison["vehicles_added"] == ["T3"] and comparison["vehicles_removed"] == ["T2"]
    assert comparison["routes_changed"] == [
        {"vehicle": "T1", "stops_base": ["S", "A", "B"], "stops_scenario": ["S", "B", "A"]}
    ]
    assert comparison["totals"]["unassigned"] == {"base": 0, "scenario": 1, "change": 1}
    assert comparison["totals"]["duration_s"]["change"] == 300
    assert compare_routes(base, base)["routes_changed"] == []
