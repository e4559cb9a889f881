"""The whole Ho Chi Minh City network: size, hospitals, suppliers through gateways."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routing.network import RoadNetwork, change_roads
from routing.snapping import snap_places
from routing.travel_time import travel_time_matrix

pytestmark = pytest.mark.slow


def test_network_size_matches_the_documented_figures(hcmc_network: RoadNetwork) -> None:
    # SOURCES.md: roughly 29,600 nodes and 76,800 edges after simplification; the largest strongly
    # connected component is a little smaller.
    assert 28_500 < hcmc_network.node_count < 30_000
    assert 74_000 < hcmc_network.edge_count < 78_000


@pytest.mark.parametrize(
    "name",
    ["Bệnh Viện Chợ Rẫy", "Bệnh viện Nguyễn Tri Phương", "Bệnh viện 175", "Bệnh viện Thống Nhất"],
)
def test_known_hospitals_snap_within_a_few_hundred_metres(hcmc_network, hcmc_region, name) -> None:  # type: ignore[no-untyped-def]
    (hospital,) = [f for f in hcmc_region.facilities.read() if f.name == name]
    (snap,), _ = snap_places(hcmc_network, [hospital])
    assert snap.reachable
    assert snap.snap_distance_m < 300


def test_most_hospitals_snap_close_and_far_ones_are_flagged(hcmc_network, hcmc_region) -> None:  # type: ignore[no-untyped-def]
    facilities = hcmc_region.facilities.read()
    snaps, _ = snap_places(hcmc_network, facilities)
    distances = np.array([s.snap_distance_m for s in snaps])
    assert np.median(distances) < 100
    unreachable = [s for s in snaps if not s.reachable]
    # Nhon Trach district hospital (Dong Nai) lies across the river, 8 km from the city's roads.
    assert [s.place_id for s in unreachable] == ["258862562"]
    assert all(s.snap_distance_m > 2000 for s in unreachable)


def test_suppliers_reach_hospitals_in_plausible_times(hcmc_network, hcmc_region) -> None:  # type: ignore[no-untyped-def]
    suppliers = hcmc_region.suppliers.read()
    (cho_ray,) = [f for f in hcmc_region.facilities.read() if f.name == "Bệnh Viện Chợ Rẫy"]
    matrix = travel_time_matrix(hcmc_network, suppliers, [cho_ray], gateways=hcmc_region.gateways)
    minutes = dict(zip(matrix.origin_ids, matrix.duration_s[:, 0] / 60, strict=True))
    km = dict(zip(matrix.origin_ids, matrix.distance_m[:, 0] / 1000, strict=True))
    # Saigon Hi-Tech Park is about 17 km from Cho Ray as the crow flies; Phu My about 75 km.
    assert 20 < minutes["ALV-SHTP"] < 60 and 17 < km["ALV-SHTP"] < 30
    assert matrix.snaps["NSV-PM"].gateway_id == "ql51-bien-hoa"
    assert 100 < minutes["NSV-PM"] < 180 and 70 < km["NSV-PM"] < 110
    assert minutes["BV175-PSA"] < minutes["NSV-BH2"] < minutes["NSV-PM"]


def test_closing_the_hanoi_highway_slows_trips_from_bien_hoa(hcmc_network, hcmc_region) -> None:  # type: ignore[no-untyped-def]
    suppliers = [s for s in hcmc_region.suppliers.read() if s.place_id in ("NSV-BH2", "ALV-SHTP")]
    hospitals = hcmc_region.facilities.read()[:20]
    before = travel_time_matrix(hcmc_network, suppliers, hospitals, gateways=hcmc_region.gateways)
    closed = change_roads(hcmc_network, road_names=["Xa Lộ Hà Nội"])
    after = travel_time_matrix(closed, suppliers, hospitals, gateways=hcmc_region.gateways)
    ok = np.isfinite(after.duration_s) & np.isfinite(before.duration_s)
    assert np.all(after.duration_s[ok] >= before.duration_s[ok] - 1e-6)
    assert (after.duration_s[ok] > before.duration_s[ok] + 60).any()
    assert not math.isnan(after.duration_s[ok].sum())
