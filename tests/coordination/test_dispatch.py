"""Dispatch on District 5.

A hand-checkable day, splits, unserved loads with reasons, determinism, GeoJSON order and the route
sheets in both languages.

Every answer goes through :func:`check_routes`, a validator written here from the plan document
alone (not from the solver's problem): quantities, products on the right vehicle kind, capacities,
pickup before delivery at the allocated places, time windows, shifts, home depots, local times.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import pytest

from coordination.dispatch import (
    DispatchOptions,
    FleetVehicle,
    dispatch_request_from_plan,
    plan_dispatch,
    route_sheet_html,
    routes_to_dict,
    routes_to_geojson,
    split_deliveries,
)
from data.errors import InvalidInputError
from data.schema.network import Place
from data.schema.registry import VehicleKind

NTP = "14468398"  # Bệnh viện Nguyễn Tri Phương (has a liquid tank)
HOA_HAO = "5347976523"  # Bệnh Viện Hòa Hảo
NGUYEN_TRAI = "189067626"  # Bệnh viện Nguyễn Trãi
APRIL_30 = "189067519"  # Bệnh viện 30 Tháng 4
FACILITIES = {
    NTP: ("Bệnh viện Nguyễn Tri Phương", 106.6700862, 10.7557218),
    HOA_HAO: ("Bệnh Viện Hòa Hảo", 106.6702604, 10.7626193),
    NGUYEN_TRAI: ("Bệnh viện Nguyễn Trãi", 106.6749362, 10.7567392),
    APRIL_30: ("Bệnh viện 30 Tháng 4", 106.6729739, 10.759246),
}
SUPPLIERS = {
    "ALV-SHTP": (
        "Air Liquide Việt Nam – Khu Công nghệ cao TP.HCM",  # noqa: RUF001 - en dash in a Vietnamese name
        "liquid_producer",
        106.796,
        10.846,
    ),
    "TDS": ("Thép Thủ Đức – trạm nạp oxy", "filling_station", 106.76, 10.842),  # noqa: RUF001 - en dash in a Vietnamese name
}
TANKER = FleetVehicle(
    "TK1", VehicleKind.CRYOGENIC_TANKER, "ALV-SHTP", tank_capacity_lox_kg=5000, plate="51C-123.45"
)
TRUCK = FleetVehicle("CT1", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=150)
FAST = {"max_iterations": 300, "time_limit_s": 5, "seed": 1}


def flow(supplier_id: str, facility_id: str, quantity: float, *, day: int = 0) -> dict[str, Any]:
    """Return a plan flow as ``plan.json`` stores it (tonnes of LOX or 40 L cylinders)."""
    bulk = supplier_id == "ALV-SHTP"
    return {
        "supplier_id": supplier_id,
        "facility_id": facility_id,
        "day": day,
        "product": "bulk_liquid" if bulk else "cylinder",
        "quantity_m3": quantity * (700 if bulk else 6),
        "quantity": quantity,
        "unit": "t_lox" if bulk else "cylinders_40L",
        "travel_time_s": 2000,
    }


def plan_document(
    flows: list[dict[str, Any]],
    *,
    urgent: tuple[str, ...] = (NTP, HOA_HAO),
) -> dict[str, Any]:
    """Return a stored plan (``plan.json`` shape) on District 5: 20 August 2021, three days."""
    return {
        "region": "hcmc_d5",
        "start_date": "2021-08-20",
        "horizon_days": 3,
        "dates": ["2021-08-20", "2021-08-21", "2021-08-22"],
        "facilities": [
            {
                "facility_id": fid,
                "name": name,
                "location": [lon, lat],
                "first_shortfall_day": 0 if fid in urgent else 2,
            }
            for fid, (name, lon, lat) in FACILITIES.items()
        ],
        "suppliers": [
            {"supplier_id": sid, "name": name, "kind": kind, "location": [lon, lat]}
            for sid, (name, kind, lon, lat) in SUPPLIERS.items()
        ],
        "allocation": {"flows": flows, "unmet": []},
        "attribution": "© OpenStreetMap contributors",
    }


HAND_FLOWS = [
    flow("ALV-SHTP", NTP, 1.5),
    flow("TDS", HOA_HAO, 100),
    flow("TDS", NGUYEN_TRAI, 40),
    flow("TDS", APRIL_30, 30, day=1),
]


def check_routes(
    answer: dict[str, Any], plan: dict[str, Any], vehicles: list[FleetVehicle]
) -> None:
    """Check a routes answer against its plan document, independently of the solver."""
    day = answer["day"]
    date = dt.date.fromisoformat(plan["start_date"]) + dt.timedelta(days=day)
    assert answer["date"] == date.isoformat() and answer["code"] == 0
    fleet = {v.vehicle_id: v for v in vehicles}
    loads = {load["load_id"]: load for load in answer["loads"]}
    # Every flow of the day is cut into loads that add up to it, in the vehicles' units.
    expected = {i: f for i, f in enumerate(plan["allocation"]["flows"]) if f["day"] == day}
    totals: dict[int, int] = {}
    for load in loads.values():
        source = expected[load["flow_index"]]
        assert (load["supplier_id"], load["facility_id"]) == (
            source["supplier_id"],
            source["facility_id"],
        )
        assert load["quantity"] > 0
        totals[load["flow_index"]] = totals.get(load["flow_index"], 0) + load["quantity"]
    for index, source in expected.items():
        want = (
            math.ceil(source["quantity"] * 1000 - 1e-6)
            if source["unit"] == "t_lox"
            else math.ceil(source["quantity"])
        )
        assert totals[index] == want, (index, totals, want)
    # Each load: routed once (pickup then delivery by one vehicle) or both steps unassigned.
    seen: dict[str, list[tuple[str, str]]] = {load_id: [] for load_id in loads}
    for entry in answer["unassigned"]:
        assert entry["reason"].strip()
        seen[entry["load_id"]].append(("unassigned", entry["type"]))
    for route in answer["routes"]:
        vehicle = fleet[route["vehicle"]]
        steps = route["steps"]
        assert steps[0]["type"] == "start" and steps[-1]["type"] == "end"
        assert steps[0]["place_id"] == steps[-1]["place_id"] == vehicle.home_depot_id
        start = dt.datetime.fromisoformat(steps[0]["departure"])
        end = dt.datetime.fromisoformat(steps[-1]["arrival"])
        opts = answer["options"]
        shift_start = dt.datetime.combine(
            date, dt.time.fromisoformat(opts["start_time"]), tzinfo=start.tzinfo
        )
        assert shift_start <= start and end <= shift_start + dt.timedelta(hours=opts["shift_hours"])
        on_board = {"lox_kg": 0, "cylinders": 0}
        clock = start
        for step in steps:
            arrival = dt.datetime.fromisoformat(step["arrival"])
            departure = dt.datetime.fromisoformat(step["departure"])
            assert arrival.utcoffset() == dt.timedelta(hours=7), step["arrival"]
            assert clock <= arrival <= departure
            clock = departure
            if step["type"] in ("pickup", "delivery"):
                load = loads[step["load_id"]]
                seen[step["load_id"]].append((route["vehicle"], step["type"]))
                product_kind = (
                    "cryogenic_tanker" if load["product"] == "bulk_liquid" else "cylinder_truck"
                )
                assert route["kind"] == product_kind == str(vehicle.kind)
                dimension = "lox_kg" if load["product"] == "bulk_liquid" else "cylinders"
                sign = 1 if step["type"] == "pickup" else -1
                on_board[dimension] += sign * load["quantity"]
                place = load["supplier_id"] if step["type"] == "pickup" else load["facility_id"]
                assert step["place_id"] == place
                if step["type"] == "delivery":
                    opens, closes = (dt.datetime.fromisoformat(t) for t in load["time_window"])
                    begin = arrival + dt.timedelta(seconds=step["waiting_time"])
                    assert opens <= begin <= closes, (step, load["time_window"])
            assert step["load"] == on_board
            assert 0 <= on_board["lox_kg"] <= vehicle.capacity[0]
            assert 0 <= on_board["cylinders"] <= vehicle.capacity[1]
        assert on_board == {"lox_kg": 0, "cylinders": 0}
    for load_id, events in seen.items():
        routed = [e for e in events if e[0] != "unassigned"]
        if routed:
            assert len(routed) == 2 and routed[0][0] == routed[1][0], (load_id, events)
            assert [e[1] for e in routed] == ["pickup", "delivery"], (load_id, events)
            assert len(events) == 2
        else:
            assert sorted(e[1] for e in events) == ["delivery", "pickup"], (load_id, events)
    assert answer["summary"]["unassigned"] == len(answer["unassigned"])


def run(
    plan: dict[str, Any],
    vehicles: list[FleetVehicle],
    network: Any,
    region: Any,
    *,
    day: int = 0,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    request = dispatch_request_from_plan(
        plan,
        day=day,
        vehicles=vehicles,
        options=DispatchOptions.from_mapping({**FAST, **(options or {})}),
        plan_id="p" * 32,
    )
    answer = routes_to_dict(plan_dispatch(request, network, region), routes_id="r" * 32)
    check_routes(answer, plan, vehicles)
    return answer


@pytest.fixture(scope="module")
def hand_answer(d5_network, d5_region) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Solve the hand-checkable day (20 August 2021, day 0) once.

    Tanker TK1 (5,000 kg) at Air Liquide SHTP, truck CT1 (150 cylinders) at Thép Thủ Đức; shifts
    from 06:00 for 12 h. Day 0: 1.5 t LOX to Nguyễn Tri Phương (urgent: by 12:00), 100 cylinders
    to Hòa Hảo (urgent), 40 cylinders to Nguyễn Trãi (07:00-19:00). Day 1's flow is not routed.

    Optimal answer: TK1 loads at its depot (15 + 45 min), leaves at 07:00, arrives at Nguyễn Tri
    Phương after the loaded tanker's road time T_tanker(ALV-SHTP -> NTP), fills (10 + 45 min) and returns. CT1 loads
    both cylinder orders in one visit (140 cylinders fit in one trip: one 15 min stop, paid once
    per visit since issue 15, + 140 x 20 s), then visits Hòa Hảo and Nguyễn Trãi in the cheaper
    order, one trip. Nothing is unassigned.
    """
    return run(plan_document(HAND_FLOWS), [TANKER, TRUCK], d5_network, d5_region)


def test_hand_checkable_day(hand_answer, d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    from routing.travel_time import travel_time_matrix

    answer = hand_answer
    assert answer["unassigned"] == [] and answer["summary"]["loads"] == 3
    tanker, truck = answer["routes"]
    assert [s["type"] for s in tanker["steps"]] == ["start", "pickup", "delivery", "end"]
    ids = ["ALV-SHTP", "TDS", NTP, HOA_HAO, NGUYEN_TRAI]
    coords = {
        **{k: v[2:] for k, v in SUPPLIERS.items()},
        **{k: v[1:] for k, v in FACILITIES.items()},
    }
    places = [Place(pid, *coords[pid]) for pid in ids]
    matrix = travel_time_matrix(d5_network, places, places, gateways=d5_region.gateways)
    seconds = {
        (a, b): round(float(matrix.duration_s[i, j]))
        for i, a in enumerate(ids)
        for j, b in enumerate(ids)
    }
    # The loaded tanker drives on its own profile's road times (issue 15, item 3), slower than
    # the general table's on District 5's streets.
    tanker_matrix = travel_time_matrix(
        d5_network, places, places, gateways=d5_region.gateways, profile="tanker"
    )
    tanker_s = round(float(tanker_matrix.duration_s[0, 2]))
    assert tanker_s > seconds[("ALV-SHTP", NTP)]
    at_ntp = dt.datetime(
        2021, 8, 20, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))
    ) + dt.timedelta(seconds=tanker_s)
    assert dt.datetime.fromisoformat(tanker["steps"][2]["arrival"]) == at_ntp
    assert tanker["steps"][2]["quantity"] == 1500 and tanker["steps"][2]["unit"] == "kg_lox"
    assert tanker["steps"][1]["departure"] == "2021-08-20T07:00:00+07:00"
    kinds = [s["type"] for s in truck["steps"]]
    assert kinds == ["start", "pickup", "pickup", "delivery", "delivery", "end"]
    order = [s["place_id"] for s in truck["steps"] if s["type"] == "delivery"]
    cost = {
        tuple(o): seconds[("TDS", o[0])] + seconds[(o[0], o[1])] + seconds[(o[1], "TDS")]
        for o in ([HOA_HAO, NGUYEN_TRAI], [NGUYEN_TRAI, HOA_HAO])
    }
    assert cost[tuple(order)] == min(cost.values())
    # 06:00 + one 15 min stop + 140 x 20 s; the second pickup adds no stop (issue 15)
    assert truck["steps"][2]["departure"] == "2021-08-20T07:01:40+07:00"
    assert truck["steps"][1]["service"] == 900 + 20 * truck["steps"][1]["quantity"]
    assert truck["steps"][2]["service"] == 20 * truck["steps"][2]["quantity"]
    assert max(s["load"]["cylinders"] for s in truck["steps"]) == 140


def test_split_when_larger_than_any_vehicle(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    plan = plan_document([flow("TDS", NGUYEN_TRAI, 400)], urgent=())
    answer = run(plan, [TRUCK], d5_network, d5_region)
    parts = [load for load in answer["loads"]]
    assert [p["quantity"] for p in parts] == [134, 133, 133]
    assert all(p["parts"] == 3 and "split into 3 loads" in p["note"] for p in parts)
    assert {p["load_id"] for p in parts} == {"L1.1", "L1.2", "L1.3"}
    # One truck, three trips back to the filling station: all served in the 12 h shift.
    assert answer["unassigned"] == []
    pickups = [s for s in answer["routes"][0]["steps"] if s["type"] == "pickup"]
    assert len(pickups) == 3 and all(s["place_id"] == "TDS" for s in pickups)


def test_split_deliveries_is_exact() -> None:
    from coordination.dispatch import Delivery

    delivery = Delivery(0, "TDS", NTP, "cylinder", 301, "cylinders_40L", 1806.0, False)
    loads = split_deliveries([delivery], [TRUCK])
    assert [load.quantity for load in loads] == [101, 100, 100]
    assert split_deliveries([delivery], [TANKER])[0].parts == 1  # no truck: left whole


@pytest.mark.parametrize(
    ("vehicles", "options", "reason"),
    [
        # No tanker in the fleet: bulk liquid cannot go on a cylinder truck.
        ([TRUCK], {}, "no cryogenic tanker available for bulk liquid"),
        # A one-hour shift cannot fit a trip from Thủ Đức and back with loading and unloading.
        ([TANKER, TRUCK], {"shift_hours": 1}, "cannot be served within any vehicle's shift"),
    ],
)
def test_unserved_loads_have_a_reason(d5_network, d5_region, vehicles, options, reason) -> None:  # type: ignore[no-untyped-def]
    answer = run(plan_document(HAND_FLOWS), vehicles, d5_network, d5_region, options=options)
    assert answer["unassigned"]
    assert any(reason in entry["reason"] for entry in answer["unassigned"]), answer["unassigned"]


def test_full_shifts_are_explained_with_numbers(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    flows = [flow("TDS", fid, 150) for fid in (HOA_HAO, NGUYEN_TRAI, APRIL_30, NTP)]
    answer = run(
        plan_document(flows, urgent=()), [TRUCK], d5_network, d5_region, options={"shift_hours": 8}
    )
    left = answer["unassigned"]
    assert left and answer["routes"]
    assert all(
        e["reason"].startswith("fleet time exhausted: the 1 cylinder_truck(s) spend") for e in left
    ), left


def test_urgent_window_relaxed_when_unreachable_by_noon(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    plan = plan_document([flow("TDS", HOA_HAO, 100)])
    answer = run(plan, [TRUCK], d5_network, d5_region, options={"urgent_by": "07:05"})
    (load,) = answer["loads"]
    assert load["urgent"] and load["urgent_window_missed"].startswith("cannot arrive by 07:05")
    assert load["time_window"] == ["2021-08-20T07:00:00+07:00", "2021-08-20T19:00:00+07:00"]
    assert answer["unassigned"] == []


def test_unreachable_facility_is_unassigned_with_reason(d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    from routing.network import change_roads

    _, lon, lat = FACILITIES[NGUYEN_TRAI]
    half = 0.0015  # about 160 m around Nguyễn Trãi; Nguyễn Tri Phương is 530 m away
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    box = {"type": "Polygon", "coordinates": [ring]}
    flooded = change_roads(d5_network, polygon=box)
    answer = run(plan_document(HAND_FLOWS), [TANKER, TRUCK], flooded, d5_region)
    reasons = {e["facility_id"]: e["reason"] for e in answer["unassigned"]}
    assert set(reasons) == {NGUYEN_TRAI} and reasons[NGUYEN_TRAI].startswith("unreachable by road")


def test_same_seed_and_iterations_give_the_same_routes(hand_answer, d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    flows = [flow("TDS", fid, 70) for fid in FACILITIES] + [flow("ALV-SHTP", NTP, 2.0)]
    plan = plan_document(flows)
    first = run(
        plan,
        [
            TANKER,
            TRUCK,
            FleetVehicle("CT2", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=100),
        ],
        d5_network,
        d5_region,
    )
    second = run(
        plan,
        [
            TANKER,
            TRUCK,
            FleetVehicle("CT2", VehicleKind.CYLINDER_TRUCK, "TDS", cylinder_capacity=100),
        ],
        d5_network,
        d5_region,
    )
    for answer in (first, second):
        answer["solver"].pop("runtime_s")
    assert first == second


def test_geojson_follows_the_route_in_order(hand_answer, d5_network, d5_region) -> None:  # type: ignore[no-untyped-def]
    geojson = routes_to_geojson(hand_answer, d5_network, d5_region)
    assert geojson["type"] == "FeatureCollection" and "crs" not in geojson
    features = geojson["features"]
    for route in hand_answer["routes"]:
        mine = [f for f in features if f["properties"]["vehicle"] == route["vehicle"]]
        line, stops = mine[0], mine[1:]
        assert line["geometry"]["type"] == "LineString" and line["properties"]["off_map"]
        coordinates = line["geometry"]["coordinates"]
        assert all(-180 <= lon <= 180 and 8 < lat < 24 for lon, lat in coordinates)  # [lon, lat]
        assert [f["properties"]["sequence"] for f in stops] == list(range(len(route["steps"])))
        assert [f["properties"]["arrival"] for f in stops] == [s["arrival"] for s in route["steps"]]
        assert coordinates[0] == route["steps"][0]["location"]  # off-map depot, then its gateway
        # The line passes the facilities in the route's order.
        nearest = []
        for stop in stops:
            if stop["properties"]["type"] != "delivery":
                continue
            lon, lat = stop["geometry"]["coordinates"]
            distances = [(c[0] - lon) ** 2 + (c[1] - lat) ** 2 for c in coordinates]
            best = min(range(len(distances)), key=distances.__getitem__)
            assert distances[best] ** 0.5 < 0.002  # within about 200 m
            nearest.append(best)
        assert nearest == sorted(nearest)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("vi", ["Phiếu lộ trình", "Giao hàng", "Nhận hàng", "kg oxy lỏng", "Ký nhận", "KHẨN"]),
        ("en", ["route sheet", "Deliver", "Load", "kg liquid oxygen", "Received", "URGENT"]),
    ],
)
def test_route_sheet_in_both_languages(hand_answer, lang, words) -> None:  # type: ignore[no-untyped-def]
    sheet = route_sheet_html(hand_answer, "TK1", lang=lang)
    assert sheet.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in sheet
    assert '<meta charset="utf-8">' in sheet and "@page { size: A4" in sheet
    for word in [
        *words,
        "Bệnh viện Nguyễn Tri Phương",
        "Air Liquide Việt Nam",
        "51C-123.45",
        "© OpenStreetMap contributors",
        "07:00",
    ]:
        assert word in sheet, word
    assert sheet.count('class="blank"') >= 3  # driver, phone, contact: lines to fill by hand
    truck = route_sheet_html(hand_answer, "CT1", lang=lang)
    assert "Bệnh Viện Hòa Hảo" in truck and "Bệnh viện Nguyễn Trãi" in truck


def test_route_sheet_refuses_unknown_language_and_vehicle(hand_answer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="lang: must be one of vi, en"):
        route_sheet_html(hand_answer, "TK1", lang="fr")
    with pytest.raises(InvalidInputError, match="vehicle_id: 'XX' has no route"):
        route_sheet_html(hand_answer, "XX")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"shift_hours": 0}, "options.shift_hours: must be a number in"),  # empty shift
        ({"receiving_hours": ["19:00", "07:00"]}, "options.receiving_hours: opens at 19:00"),
        ({"urgent_by": "noon"}, "options.urgent_by: must be a local time"),  # not HH:MM
        ({"service": {"tank_fill_s": -1}}, "options.service.tank_fill_s: must be a whole"),
        ({"colour": "red"}, "options.colour: unknown key"),  # typo-catching
        ({"time_limit_s": 600}, "options.time_limit_s: must be a number in"),  # costly
        (
            {"facilities": {NTP: {"receiving_hours": ["7", "9"]}}},
            f"options.facilities.{NTP}.receiving_hours\\[0\\]",
        ),
    ],
)
def test_bad_options_are_named(options, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        DispatchOptions.from_mapping(options)


def test_bad_day_and_fleet_are_refused() -> None:
    plan = plan_document(HAND_FLOWS)
    with pytest.raises(InvalidInputError, match="day: must be an integer from 0 to 2"):
        dispatch_request_from_plan(plan, day=3, vehicles=[TRUCK])
    stranger = FleetVehicle("X1", VehicleKind.CYLINDER_TRUCK, "ELSEWHERE", cylinder_capacity=10)
    with pytest.raises(InvalidInputError, match="vehicles: no vehicle has a home depot"):
        dispatch_request_from_plan(plan, day=0, vehicles=[stranger])
    request = dispatch_request_from_plan(plan, day=0, vehicles=[stranger, TRUCK])
    assert request.vehicles_excluded[0][0] == "X1"
    broken = copy.deepcopy(plan)
    del broken["suppliers"]
    with pytest.raises(InvalidInputError, match="plan: the stored plan document lacks"):
        dispatch_request_from_plan(broken, day=0, vehicles=[TRUCK])


def test_cli_dispatch_writes_routes_geojson_and_sheets(tmp_path, d5_network) -> None:  # type: ignore[no-untyped-def]
    import json

    from click.testing import CliRunner

    from cli import main

    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    plan = plan_document(HAND_FLOWS)
    (plan_dir / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    vehicles = tmp_path / "vehicles.json"
    vehicles.write_text(
        json.dumps(
            [
                {
                    "vehicle_id": "TK1",
                    "kind": "cryogenic_tanker",
                    "tank_capacity_lox_kg": 5000,
                    "home_depot_id": "ALV-SHTP",
                    "plate": "51C-123.45",
                },
                {
                    "vehicle_id": "CT1",
                    "kind": "cylinder_truck",
                    "cylinder_capacity": 150,
                    "home_depot_id": "TDS",
                },
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "dispatch",
            "--plan-dir",
            str(plan_dir),
            "--day",
            "0",
            "--out",
            str(out),
            "--vehicles",
            str(vehicles),
            "--max-iterations",
            "200",
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads((out / "routes.json").read_text(encoding="utf-8"))
    check_routes(answer, plan, [TANKER, TRUCK])
    assert (
        json.loads((out / "routes.geojson").read_text(encoding="utf-8"))["type"]
        == "FeatureCollection"
    )
    assert "Bệnh viện Nguyễn Tri Phương" in (out / "sheets" / "TK1-vi.html").read_text(
        encoding="utf-8"
    )
    # A day outside the plan is an input error (exit code 2) naming the field.
    result = CliRunner().invoke(
        main,
        [
            "dispatch",
            "--plan-dir",
            str(plan_dir),
            "--day",
            "9",
            "--out",
            str(out),
            "--vehicles",
            str(vehicles),
        ],
    )
    assert result.exit_code == 2 and "day: must be an integer from 0 to 2" in result.output


def test_cli_vrp_solve_fills_the_matrix_from_the_roads(tmp_path, d5_network) -> None:  # type: ignore[no-untyped-def]
    import json

    from click.testing import CliRunner

    from cli import main

    ntp, nguyen_trai = FACILITIES[NTP][1:], FACILITIES[NGUYEN_TRAI][1:]
    problem = {
        "vehicles": [{"id": 1, "start": list(ntp), "end": list(ntp), "capacity": [10]}],
        "jobs": [{"id": 1, "location": list(nguyen_trai), "delivery": [3]}],
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "vrp",
            "solve",
            str(path),
            "--region",
            "hcmc_d5",
            "--max-iterations",
            "50",
            "--time-limit",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output.splitlines()[0])
    assert answer["code"] == 0 and answer["summary"]["unassigned"] == 0
    assert answer["summary"]["duration"] > 0 and answer["summary"]["distance"] > 500
    # Without --region such input is still refused with VROOM's input-error code.
    result = CliRunner().invoke(main, ["vrp", "solve", str(path)])
    assert result.exit_code == 2
