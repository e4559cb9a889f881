"""Loads that make sense (issue 15): own-company loading, one visit per station per trip.

Built on the hand-checkable District 5 day of :mod:`tests.coordination.test_dispatch`; every
answer still goes through its independent :func:`check_routes`.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordination.dispatch import DispatchOptions, FleetVehicle, company_of, route_sheet_html
from data.schema.registry import VehicleKind
from tests.coordination.test_dispatch import (
    APRIL_30,
    FAST,
    HAND_FLOWS,
    HOA_HAO,
    NGUYEN_TRAI,
    NTP,
    SUPPLIERS,
    TANKER,
    TRUCK,
    flow,
    plan_document,
    run,
)

OTHER = "PSA-D5"  # a second filling station, of another company, inside District 5
OTHER_TRUCK = FleetVehicle("CT9", VehicleKind.CYLINDER_TRUCK, OTHER, cylinder_capacity=150)


def _with_other_station(flows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the District 5 plan with a second filling station, of another company."""
    plan = plan_document(flows)
    plan["suppliers"].append(
        {
            "supplier_id": OTHER,
            "name": "Trạm PSA Quận 5 – Bệnh viện Chợ Rẫy",  # noqa: RUF001 - en dash in a Vietnamese name
            "kind": "filling_station",
            "location": [106.6598, 10.7579],
        }
    )
    return plan


def test_company_is_the_name_before_the_dash() -> None:
    assert company_of(SUPPLIERS["TDS"][0]) == "Thép Thủ Đức"
    assert company_of("Công ty TNHH Oxy Đồng Nai") == "Công ty TNHH Oxy Đồng Nai"


def test_a_vehicle_never_loads_at_another_companys_station(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    # Only the other company's truck is on duty: TDS's cylinders wait, with the reason.
    plan = _with_other_station([flow("TDS", HOA_HAO, 40)])
    answer = run(plan, [TANKER, OTHER_TRUCK], d5_network, d5_region)
    assert answer["routes"] == [] or all(r["vehicle"] != "CT9" for r in answer["routes"])
    (reason,) = {entry["reason"] for entry in answer["unassigned"]}
    assert reason.startswith("no cylinder_truck of Thép Thủ Đức available to load at TDS"), reason
    assert "options.cross_company_loading" in reason


def test_cross_company_loading_is_an_explicit_setting(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    plan = _with_other_station([flow("TDS", HOA_HAO, 40)])
    answer = run(
        plan,
        [TANKER, OTHER_TRUCK],
        d5_network,
        d5_region,
        options={
            "cross_company_loading": True,
            "min_drop_lox_share": 0.25,
            "min_drop_cylinders": 2,
        },
    )
    assert answer["unassigned"] == []
    (route,) = answer["routes"]
    assert route["vehicle"] == "CT9"
    assert [s["place_id"] for s in route["steps"] if s["type"] == "pickup"] == ["TDS"]
    # The routes document says which loading rules it ran with (issue 15).
    echo = answer["options"]
    assert echo["cross_company_loading"] is True
    assert (echo["min_drop_lox_share"], echo["min_drop_cylinders"]) == (0.25, 2)


def test_options_echo_shows_the_default_loading_rules(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    answer = run(plan_document([flow("TDS", HOA_HAO, 40)]), [TRUCK], d5_network, d5_region)
    echo = answer["options"]
    assert echo["cross_company_loading"] is False
    assert echo["min_drop_lox_share"] == DispatchOptions().min_drop_lox_share == 0.1
    assert echo["min_drop_cylinders"] == DispatchOptions().min_drop_cylinders == 5


def test_each_company_loads_its_own(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    plan = _with_other_station([flow("TDS", HOA_HAO, 40), flow(OTHER, NGUYEN_TRAI, 30)])
    answer = run(plan, [TRUCK, OTHER_TRUCK], d5_network, d5_region)
    assert answer["unassigned"] == []
    home = {"CT1": "TDS", "CT9": OTHER}
    for route in answer["routes"]:
        pickups = {s["place_id"] for s in route["steps"] if s["type"] == "pickup"}
        assert pickups == {home[route["vehicle"]]}, route["steps"]


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_cross_company_loading_must_be_a_boolean(value: Any) -> None:
    from data.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"options.cross_company_loading: must be true"):
        DispatchOptions.from_mapping({"cross_company_loading": value})


# --------------------------------------------------------------------------- one visit per place


def _visits_of(route: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Group a route's consecutive steps at one place (what the driver sees as one visit)."""
    groups: list[list[dict[str, Any]]] = []
    for step in route["steps"][1:-1]:
        if groups and groups[-1][-1]["place_id"] == step["place_id"]:
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def _check_visits(answer: dict[str, Any]) -> None:
    """Each visit pays its fixed stop once: on its first step, none on the others."""
    service = answer["options"]["service"]
    for route in answer["routes"]:
        for visit in _visits_of(route):
            first = visit[0]
            per_unit = (
                service["per_cylinder_load_s"]
                if first["type"] == "pickup"
                else service["per_cylinder_unload_s"]
            )
            stop = service["supplier_stop_s" if first["type"] == "pickup" else "facility_stop_s"]
            assert first["service"] == stop + per_unit * first["quantity"], first
            for step in visit[1:]:
                assert step["service"] == per_unit * step["quantity"], step
                assert step["arrival"] == visit[visit.index(step) - 1]["departure"]


def test_a_station_is_visited_once_per_trip(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    facilities = [HOA_HAO, NGUYEN_TRAI, APRIL_30, NTP]
    station = SUPPLIERS["TDS"][0]

    @settings(max_examples=6, deadline=None, derandomize=True)
    @given(quantities=st.lists(st.integers(min_value=5, max_value=60), min_size=2, max_size=4))
    def check(quantities: list[int]) -> None:
        flows = [flow("TDS", fid, q) for fid, q in zip(facilities, quantities, strict=False)]
        answer = run(plan_document(flows, urgent=()), [TRUCK], d5_network, d5_region)
        assert answer["unassigned"] == []
        _check_visits(answer)
        sheet = route_sheet_html(answer, "CT1", lang="en")
        rows = sheet.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
        places = [r.split("<b>")[1].split("</b>")[0] for r in rows]
        loading = [p for p, r in zip(places, rows, strict=True) if ">Load<" in r]
        # no row follows another at the same station but start and first loading
        assert all(a != b or k == 0 for k, (a, b) in enumerate(itertools.pairwise(places))), places
        # at most 4 x 60 cylinders on a 150-cylinder truck: one loading visit per trip
        assert len(loading) == (1 if sum(quantities) <= 150 else len(loading)), places
        assert set(loading) == {station}

    check()


def test_merged_visit_is_cheaper_than_one_stop_per_load(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    from coordination.dispatch import dispatch_request_from_plan, plan_dispatch, routes_to_dict

    flows = [flow("TDS", fid, 30) for fid in (HOA_HAO, NGUYEN_TRAI, APRIL_30)]
    plan = plan_document(flows, urgent=())
    request = dispatch_request_from_plan(
        plan, day=0, vehicles=[TRUCK], options=DispatchOptions.from_mapping(FAST)
    )
    merged = routes_to_dict(plan_dispatch(request, d5_network, d5_region))
    apart = routes_to_dict(plan_dispatch(request, d5_network, d5_region, merge_visits=False))
    # three pickups at TDS: one 15 min stop instead of three; same loads, same roads
    assert apart["summary"]["service"] - merged["summary"]["service"] >= 2 * 900
    assert merged["unassigned"] == apart["unassigned"] == []
    _check_visits(merged)


def test_sheet_names_the_facility_of_each_pickup(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    answer = run(plan_document(HAND_FLOWS), [TANKER, TRUCK], d5_network, d5_region)
    for lang, word in (("vi", "cho "), ("en", "for ")):
        sheet = route_sheet_html(answer, "CT1", lang=lang)
        assert sheet.count("Nhận hàng" if lang == "vi" else ">Load") == 1  # one loading visit
        assert f"{word}Bệnh Viện Hòa Hảo: 100" in sheet, sheet
        assert f"{word}Bệnh viện Nguyễn Trãi: 40" in sheet
        assert "140 " in sheet  # the whole load of the visit
    style = route_sheet_html(answer, "TK1").split("<style>")[1]
    # the KHẨN badge sits in its own inline box, so its border does not cross the text around it
    assert ".urgent { display: inline-block;" in style and "line-height" in style


def test_fleet_time_names_the_receiving_window(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    flows = [flow("TDS", fid, 150) for fid in (HOA_HAO, NGUYEN_TRAI, APRIL_30, NTP)]
    answer = run(
        plan_document(flows, urgent=()),
        [TRUCK],
        d5_network,
        d5_region,
        options={"receiving_hours": ["07:00", "10:00"]},
    )
    assert answer["unassigned"]
    for entry in answer["unassigned"]:
        assert entry["reason"].startswith("fleet time exhausted: the 1 cylinder_truck(s) spend")
        assert "the real limit is the receiving window 07:00-10:00" in entry["reason"]
        assert "of their 4.0 h between the shift start (06:00) and 10:00" in entry["reason"]


# --------------------------------------------------------------------------- minimum drops


def test_no_drop_below_the_minimum_unless_urgent(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    facilities = [HOA_HAO, NGUYEN_TRAI, APRIL_30, NTP]

    @settings(max_examples=8, deadline=None, derandomize=True)
    @given(
        cylinders=st.lists(st.integers(min_value=1, max_value=12), min_size=4, max_size=4),
        urgent=st.sets(st.sampled_from(facilities)),
        lox_t=st.sampled_from([0.035, 0.139, 0.6]),
    )
    def check(cylinders: list[int], urgent: set[str], lox_t: float) -> None:
        flows = [flow("TDS", fid, q) for fid, q in zip(facilities, cylinders, strict=True)]
        flows.append(flow("ALV-SHTP", NTP, lox_t))
        plan = plan_document(flows, urgent=tuple(urgent))
        answer = run(plan, [TANKER, TRUCK], d5_network, d5_region)
        loads = {load["load_id"]: load for load in answer["loads"]}
        least = {"bulk_liquid": 500, "cylinder": 5}  # 10 % of TK1's 5,000 kg; 5 cylinders
        for route in answer["routes"]:
            for step in route["steps"]:
                if step["type"] == "delivery":
                    load = loads[step["load_id"]]
                    assert load["urgent"] or step["quantity"] >= least[load["product"]], step
        for entry in answer["unassigned"]:
            load = loads[entry["load_id"]]
            if load["quantity"] < least[load["product"]] and not load["urgent"]:
                assert entry["reason"].startswith("below the minimum useful drop"), entry
        # every small, non-urgent drop is listed with that reason, none is lost
        small = {
            k for k, v in loads.items() if v["quantity"] < least[v["product"]] and not v["urgent"]
        }
        assert small <= {e["load_id"] for e in answer["unassigned"]}

    check()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"min_drop_lox_share": 1.5}, "options.min_drop_lox_share"),  # more than a full tanker
        ({"min_drop_cylinders": 2.5}, "options.min_drop_cylinders"),  # half a cylinder
        ({"min_drop_cylinders": -1}, "options.min_drop_cylinders"),
    ],
)
def test_bad_minimum_drops_are_named(options: dict[str, Any], field: str) -> None:
    from data.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=field):
        DispatchOptions.from_mapping(options)
    assert DispatchOptions.from_mapping({"min_drop_cylinders": 3.0}).min_drop_cylinders == 3
