"""Shared allocation fixtures: the hand-checkable instance and its variants."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Derandomised profile for solver-backed properties: reproducible in CI, no deadline.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def hand_document() -> dict[str, Any]:
    """Four facilities, two suppliers, two days; the optimum is worked out below.

    Suppliers: ``P`` (producer) dispatches 100 m³/day of bulk liquid; ``C`` (filling station)
    30 m³ of cylinders on day 0 and 10 m³ on day 1. Facilities (default priority = 10 x tier):

    ====  ======================  =========  ====  ========  ===========
    id    accepts                 demand/day  tier  priority  travel P, C
    ====  ======================  =========  ====  ========  ===========
    H1    bulk_liquid, cylinder   60         3     30        600, 900
    H2    bulk_liquid             50         2     20        1200, 300
    H3    cylinder                20         3     30        unreachable, 600
    H4    cylinder                15         1     10        unreachable, 300
    ====  ======================  =========  ====  ========  ===========

    Day 0: supply 130 < demand 145, all of it usable, so 15 m³ stay unmet, at the lowest
    priority: H4 (15, all of it). Cylinders: 20 to H3, 10 to H1; bulk: 50 to H1, 50 to H2.
    Day 1: supply 110, so 35 m³ unmet. The 10 m³ of cylinders go to H3 (priority 30) not H4
    (10): H3 short 10, H4 short 15; bulk 60 to H1 (30) before H2 (20): H2 short 10.
    Transport: day 0 50x600 + 50x1200 + 10x900 + 20x600 = 111,000 m³·s; day 1 60x600 + 40x1200
    + 10x600 = 90,000 m³·s; total 201,000 m³·s. Delivered 240 m³, unmet 50 m³ of 290.
    """
    return {
        "format": "oxyroute.allocation-problem",
        "version": 1,
        "start_date": "2021-08-20",
        "horizon_days": 2,
        "suppliers": [
            {
                "supplier_id": "P",
                "name": "Producer",
                "products": {"bulk_liquid": {"capacity_m3_per_day": 100}},
            },
            {
                "supplier_id": "C",
                "name": "Filling station",
                "products": {"cylinder": {"capacity_m3_per_day": [30, 10]}},
            },
        ],
        "facilities": [
            {
                "facility_id": "H1",
                "demand_m3_per_day": [60, 60],
                "accepted_products": ["bulk_liquid", "cylinder"],
                "tier": 3,
            },
            {
                "facility_id": "H2",
                "demand_m3_per_day": [50, 50],
                "accepted_products": ["bulk_liquid"],
                "tier": 2,
            },
            {
                "facility_id": "H3",
                "demand_m3_per_day": [20, 20],
                "accepted_products": ["cylinder"],
                "tier": 3,
            },
            {
                "facility_id": "H4",
                "demand_m3_per_day": [15, 15],
                "accepted_products": ["cylinder"],
                "tier": 1,
            },
        ],
        "travel_time_s": [[600, 1200, None, None], [900, 300, 600, 300]],
    }


@pytest.fixture
def document(hand_document: dict[str, Any]) -> dict[str, Any]:
    """Return a private deep copy of the hand instance, for tests that alter it."""
    return copy.deepcopy(hand_document)
