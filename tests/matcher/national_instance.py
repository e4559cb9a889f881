"""A generated national-scale allocation instance, imitating Vietnam in August 2021.

Facilities and suppliers spread along the country's spine with weight on Hanoi and Ho Chi Minh
City; 26 % of suppliers are liquid-oxygen producers, the rest cylinder filling stations; 30 % of
facilities have a tank (accept bulk liquid and cylinders), the rest take cylinders only; demand
grows 3 %/day; travel times are great-circle distance x 1.3 (road detour) at 40 km/h (loaded
cryogenic tanker, oxygen-parameters.md). Used by the allocation tests and by
``benchmarks/bench_allocation.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from data.schema.allocation import PRODUCTS, UNREACHABLE_S

# Country spine (lon, lat) from Lao Cai to Ca Mau, with a population weight per stretch.
_SPINE = np.array(
    [
        (103.9, 22.4),
        (105.8, 21.0),
        (106.3, 20.4),
        (105.7, 18.7),
        (106.6, 17.5),
        (108.2, 16.05),
        (108.8, 15.1),
        (109.2, 13.8),
        (109.2, 12.2),
        (108.4, 11.6),
        (106.7, 10.8),
        (105.8, 10.0),
        (105.1, 9.2),
    ]
)
_WEIGHT = np.array([1.0, 4.0, 2.0, 1.0, 1.0, 1.5, 1.0, 1.0, 1.0, 1.5, 5.0, 2.0])
_KM_PER_DEG = 111.2
_DETOUR = 1.3
_TANKER_KPH = 40.0


def _points(rng: np.random.Generator, count: int, spread_deg: float) -> npt.NDArray[np.float64]:
    segment = rng.choice(len(_WEIGHT), size=count, p=_WEIGHT / _WEIGHT.sum())
    along = rng.random(count)[:, None]
    base = _SPINE[segment] * (1 - along) + _SPINE[segment + 1] * along
    return base + rng.normal(0.0, spread_deg, size=(count, 2))


def generate_instance(
    *, n_facilities: int, n_suppliers: int, n_days: int, seed: int, max_delivery_time_s: int
) -> dict[str, Any]:
    """Generate a national-scale instance as matrix-core arrays (fixed seed, reproducible)."""
    rng = np.random.default_rng(seed)
    facilities = _points(rng, n_facilities, 0.25)
    suppliers = _points(rng, n_suppliers, 0.15)
    lon_scale = np.cos(np.radians(15.0))
    d_lon = (suppliers[:, None, 0] - facilities[None, :, 0]) * lon_scale
    d_lat = suppliers[:, None, 1] - facilities[None, :, 1]
    km = np.hypot(d_lon, d_lat) * _KM_PER_DEG * _DETOUR
    travel_s = np.rint(km / _TANKER_KPH * 3600).astype(np.int64)
    travel_s[rng.random(travel_s.shape) < 0.01] = UNREACHABLE_S  # a few cut roads

    has_tank = rng.random(n_facilities) < 0.30
    accepted = np.stack([has_tank, np.ones(n_facilities, bool)], axis=1)  # PRODUCTS order
    base = np.where(has_tank, rng.uniform(50, 800, n_facilities), rng.uniform(5, 60, n_facilities))
    growth = 1.03 ** np.arange(n_days)
    demand_m3 = np.round(base[:, None] * growth[None, :], 1)
    limits = np.full((n_facilities, len(PRODUCTS)), np.inf)
    limits[:, 0] = np.where(has_tank, base * rng.uniform(1.0, 3.0, n_facilities), 0.0)
    limits[:, 1] = np.round(rng.uniform(40, 200, n_facilities) * 6.0, 1)  # cylinder storage

    is_producer = np.arange(n_suppliers) < round(0.26 * n_suppliers)
    total_bulk = float((demand_m3 * has_tank[:, None]).sum(axis=0).mean())
    total_cyl = float((demand_m3 * ~has_tank[:, None]).sum(axis=0).mean())
    capacity_m3 = np.zeros((n_suppliers, len(PRODUCTS), n_days))
    share = rng.uniform(0.5, 1.5, n_suppliers)
    bulk_share = np.where(is_producer, share, 0) / np.where(is_producer, share, 0).sum()
    cyl_share = np.where(~is_producer, share, 0) / np.where(~is_producer, share, 0).sum()
    day_factor = rng.uniform(0.9, 1.1, (n_suppliers, n_days))
    capacity_m3[:, 0, :] = np.round(0.98 * total_bulk * bulk_share[:, None] * day_factor, 1)
    capacity_m3[:, 1, :] = np.round(1.00 * total_cyl * cyl_share[:, None] * day_factor, 1)
    tier = rng.choice([1, 2, 3], size=n_facilities, p=[0.5, 0.35, 0.15])
    priority = (10 * tier + rng.integers(0, 11, n_facilities)).astype(np.int64)
    return {
        "supplier_ids": [f"S{i:03d}" for i in range(n_suppliers)],
        "facility_ids": [f"F{i:05d}" for i in range(n_facilities)],
        "travel_time_s": travel_s,
        "capacity_m3": capacity_m3,
        "demand_m3": demand_m3,
        "accepted": accepted,
        "receiving_limit_m3": limits,
        "priority": priority,
        "max_delivery_time_s": max_delivery_time_s,
    }
