"""Tests of coordination/sourcing.py: options on a hand-built road and on District 5's roads."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from coordination.sourcing import (
    RouteStop,
    SourcingProblem,
    SourcingVehicle,
    SupplierOffer,
    sourcing_options,
    sourcing_vehicles,
    supplier_offers,
)
from data.errors import InvalidInputError
from data.reporting import LOCAL_TZ
from data.schema.live import Product
from data.schema.registry import Supplier, SupplierKind, SupplyDeclaration, VehicleKind
from routing.network import RoadNetwork

LONS = (106.60, 106.61, 106.62, 106.63)  # junctions P0..P3 on one road, at latitude 10.0
NOW = dt.datetime(2021, 8, 20, 8, 0, tzinfo=LOCAL_TZ)
CYLINDERS = frozenset({Product.CYLINDERS})


def _line_network() -> RoadNetwork:
    """One two-way road P0 - P1 - P2 - P3 taking 600, 300 and 900 s (either way)."""
    legs = [(0, 1, 600.0), (1, 2, 300.0), (2, 3, 900.0)]
    edges = [(a, b, t) for x, y, t in legs for a, b in ((x, y), (y, x))]
    geometry = [[(LONS[a], 10.0), (LONS[b], 10.0)] for a, b, _ in edges]
    flat = np.array([p for g in geometry for p in g])
    count = len(edges)
    return RoadNetwork(
        name="Đường thẳng (test)",
        node_osmid=np.arange(4),
        node_lon=np.array(LONS),
        node_lat=np.full(4, 10.0),
        edge_from=np.array([a for a, _, _ in edges]),
        edge_to=np.array([b for _, b, _ in edges]),
        edge_length_m=np.full(count, 1000.0),
        edge_time_s=np.array([t for _, _, t in edges]),
        edge_class=np.zeros(count, dtype=np.int64),
        edge_name=np.zeros(count, dtype=np.int64),
        edge_ref=np.zeros(count, dtype=np.int64),
        edge_twin=np.array([i + 1 if i % 2 == 0 else i - 1 for i in range(count)]),
        geom_offsets=np.arange(0, 2 * count + 1, 2),
        geom_lon=flat[:, 0],
        geom_lat=flat[:, 1],
        road_classes=("primary",),
        labels=("",),
        metric_epsg=32648,
    )


def _supplier(
    supplier_id: str, junction: int | None, products: frozenset[Product]
) -> SupplierOffer:
    lon = None if junction is None else LONS[junction]
    return SupplierOffer(
        supplier_id, f"Trạm {supplier_id}", lon, None if lon is None else 10.0, products
    )


def _problem(**changes: object) -> SourcingProblem:
    """40 cylinders for facility F at P2 by 09:00, at 08:00.

    Suppliers: depot DEP at P0 (gives nothing), filling stations S1 at P1 and S2 at P3, S3 not
    placed. Trucks: CT-A (80) at DEP, CT-B (80) at S2, CT-S (10, too small) at DEP, CT-R (80)
    at DEP on today's route: G1 at P1 at 08:10 (20 cylinders), then G0 at P0 at 09:00 (20).
    """
    stops = (
        RouteStop(
            11,
            "CT-R",
            0,
            "G1",
            LONS[1],
            10.0,
            "S1",
            Product.CYLINDERS,
            20,
            NOW + dt.timedelta(minutes=10),
        ),
        RouteStop(
            12,
            "CT-R",
            1,
            "G0",
            LONS[0],
            10.0,
            "S1",
            Product.CYLINDERS,
            20,
            NOW + dt.timedelta(hours=1),
        ),
    )
    fields: dict[str, object] = {
        "request_id": 1,
        "facility_id": "F",
        "lon": LONS[2],
        "lat": 10.0,
        "product": Product.CYLINDERS,
        "quantity": 40.0,
        "needed_by": NOW + dt.timedelta(hours=1),
        "now": NOW,
        "suppliers": (
            _supplier("DEP", 0, frozenset()),
            _supplier("S1", 1, CYLINDERS),
            _supplier("S2", 3, CYLINDERS),
            _supplier("S3", None, CYLINDERS),
        ),
        "vehicles": (
            SourcingVehicle("CT-A", VehicleKind.CYLINDER_TRUCK, 80, "DEP"),
            SourcingVehicle("CT-B", VehicleKind.CYLINDER_TRUCK, 80, "S2"),
            SourcingVehicle("CT-S", VehicleKind.CYLINDER_TRUCK, 10, "DEP"),
            SourcingVehicle("CT-R", VehicleKind.CYLINDER_TRUCK, 80, "DEP"),
            SourcingVehicle("TK-1", VehicleKind.CRYOGENIC_TANKER, 5500, "DEP"),
        ),
        "stops": stops,
        "nearest": 1,
    }
    fields.update(changes)
    return SourcingProblem(**fields)  # type: ignore[arg-type]


def test_new_trip_and_insertion_etas_checked_by_hand() -> None:
    answer = sourcing_options(_problem(), _line_network())
    # Insertion (CT-R, 40 spare of 80): after G1 (P1) the detour is P1->F 300 + unloading
    # 10 min + 40 x 30 s = 1,800 + F->G0 900 - P1->G0 600 = 2,400 s (after G0, the last stop:
    # 900 + 1,800 + back to DEP 900 = 3,600 s). CT-R leaves G1 at 08:10 + 10 min + 20 x 30 s
    # = 08:30 and is at F at 08:35; G0 waits 40 min.
    # New trip from S1, the nearest station (300 s from F): CT-A, DEP->S1 600 + loading
    # 15 min + 40 x 20 s = 1,700 + S1->F 300 = 2,600 s: ETA 08:43:20 (CT-B from S2: 3,200 s).
    assert [o.option_id for o in answer.options] == ["insert:CT-R:11", "trip:S1:CT-A"]
    insertion, trip = answer.options
    assert insertion.eta == NOW + dt.timedelta(minutes=35)
    assert (insertion.detour_min, insertion.after_stop_index) == (40.0, 0)
    assert [(d.facility_id, d.delay_min) for d in insertion.delays] == [("G0", 40.0)]
    assert insertion.delays[0].eta_after == NOW + dt.timedelta(hours=1, minutes=40)
    assert insertion.meets_needed_by and insertion.margin_min == 25.0
    assert trip.eta == NOW + dt.timedelta(seconds=2600)
    assert (trip.to_supplier_min, trip.loading_min, trip.to_facility_min) == (10.0, 28.3, 5.0)
    assert trip.meets_needed_by and trip.margin_min == pytest.approx(16.7)
    # Names beside ids: the supplier loaded at (an insertion's: its stop's supplier).
    assert (trip.supplier_name, trip.vehicle_plate) == ("Trạm S1", None)
    assert answer.to_dict()["options"][1]["supplier_name"] == "Trạm S1"
    assert answer.nearest_supplier_ids == ("S1",)
    assert {(u.item_id, u.reason) for u in answer.unavailable} == {
        ("S3", "no position"),
        ("CT-S", "carries 10, the request needs 40"),
    }


def test_more_suppliers_and_a_deadline_that_cannot_be_met() -> None:
    answer = sourcing_options(
        _problem(nearest=2, needed_by=NOW + dt.timedelta(minutes=40)), _line_network()
    )
    # S2 (P3, 900 s from F) with its own truck CT-B: 0 + 1,700 + 900 = 2,600 s, the same ETA
    # as S1's CT-A (ties by option id); both are 3.3 min late, the insertion is in time.
    assert [(o.option_id, o.meets_needed_by) for o in answer.options] == [
        ("insert:CT-R:11", True),
        ("trip:S1:CT-A", False),
        ("trip:S2:CT-B", False),
    ]
    assert answer.options[1].margin_min == pytest.approx(-3.3)


def test_a_full_truck_is_not_offered_for_insertion() -> None:
    stops = _problem().stops
    heavy = tuple(
        RouteStop(
            s.delivery_id,
            s.vehicle_id,
            s.stop_index,
            s.facility_id,
            s.lon,
            s.lat,
            s.supplier_id,
            s.product,
            30,
            s.eta,
        )
        for s in stops
    )
    answer = sourcing_options(_problem(stops=heavy), _line_network())
    assert [o.kind for o in answer.options] == ["new_trip"]
    assert ("CT-R", "on today's route with 20 spare, the request needs 40") in {
        (u.item_id, u.reason) for u in answer.unavailable
    }


def test_liquid_goes_by_tanker_only() -> None:
    liquid = frozenset({Product.LIQUID})
    answer = sourcing_options(
        _problem(
            product=Product.LIQUID,
            quantity=3000.0,
            suppliers=(_supplier("DEP", 0, liquid), _supplier("S1", 1, CYLINDERS)),
        ),
        _line_network(),
    )
    # TK-1 fills at DEP (its depot): 15 + 45 min, then P0->F 900 s
    assert [o.option_id for o in answer.options] == ["trip:DEP:TK-1"]
    assert answer.options[0].duration_s == 900 + 2700 + 900


def test_bad_problems_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="quantity: must be more than 0"):
        _problem(quantity=0.0)
    with pytest.raises(InvalidInputError, match="now: must be timezone-aware"):
        _problem(now=dt.datetime(2021, 8, 20, 8, 0))


def test_declarations_of_the_day_decide_what_a_supplier_gives() -> None:
    station = Supplier(
        supplier_id="TDS",
        name="Thép Thủ Đức",
        kind=SupplierKind.FILLING_STATION,
        province_code="79",
        lon=106.76,
        lat=10.842,
        cylinders_per_day=300,
    )
    plant = Supplier(
        supplier_id="ALV-SHTP",
        name="Air Liquide",
        kind=SupplierKind.LIQUID_PRODUCER,
        province_code="79",
        liquid_output_t_per_day=6.8,
    )
    declared = SupplyDeclaration(
        supplier_id="TDS",
        declaration_date=dt.date(2021, 8, 20),
        liquid_lox_t=0.0,
        cylinders_filled=0,
    )
    registry = {o.supplier_id: o for o in supplier_offers([station, plant])}
    assert registry["TDS"].products == CYLINDERS and registry["ALV-SHTP"].products == {
        Product.LIQUID
    }
    today = {o.supplier_id: o for o in supplier_offers([station, plant], [declared])}
    assert today["TDS"].products == frozenset() and today["TDS"].basis == "declaration 2021-08-20"


# --------------------------------------------------------------------------- on real roads


def test_district_5_hospital_gets_its_cylinders_from_the_nearest_stations(
    d5_network, d5_region
) -> None:  # type: ignore[no-untyped-def]
    from data.seed import build_fleet, suppliers_from_places

    registry = suppliers_from_places(d5_region.suppliers.read())
    _, fleet = build_fleet(registry)
    hospital = next(p for p in d5_region.facilities.read() if "Nguyễn Tri Phương" in p.name)
    problem = SourcingProblem(
        request_id=7,
        facility_id=hospital.place_id,
        lon=hospital.lon,
        lat=hospital.lat,
        product=Product.CYLINDERS,
        quantity=60,
        needed_by=NOW + dt.timedelta(hours=1),
        now=NOW,
        suppliers=supplier_offers(registry),
        vehicles=sourcing_vehicles(fleet),
    )
    answer = sourcing_options(
        problem, d5_network, gateways=d5_region.gateways, max_snap_m=d5_region.max_snap_m
    )
    # The filling stations nearest by road, through District 5's gateways (hcmc_d5.toml):
    # BV175-PSA 20.3 min, TDS 25.3 min, Messer VSIP 1 42.6 min, VICASA 43.5 min.
    assert answer.nearest_supplier_ids == ("BV175-PSA", "TDS", "MESSER-VSIP1")
    by_supplier = {o.supplier_id: o for o in answer.options}
    for supplier_id, gateway_min in (("BV175-PSA", 20.3), ("TDS", 25.3), ("MESSER-VSIP1", 42.6)):
        option = by_supplier[supplier_id]
        assert option.vehicle_id.startswith(f"GEN-{supplier_id}-")  # its own truck: no empty leg
        assert option.to_supplier_min == 0.0
        assert option.loading_min == 35.0  # 15 min + 60 x 20 s
        assert gateway_min < option.to_facility_min < gateway_min + 10  # the last streets of D5
    assert [o.supplier_id for o in answer.options] == ["BV175-PSA", "TDS", "MESSER-VSIP1"]
    # BV175-PSA: 35 min loading + 23.9 min on the road = 58.9 min, in time for 09:00 + 1 h
    assert [(o.meets_needed_by, o.margin_min) for o in answer.options] == [
        (True, 1.1),
        (False, -5.2),
        (False, -21.2),
    ]
