"""Shortfall per facility and day: stock + deliveries + generation - use - safety stock.

The safety-stock rule is a documented setting: :data:`NFPA99_ONE_DAY` (a reserve of one average
day of use, NFPA 99 reserve header) or :data:`NTF_BUFFER_20` (20 % above each day's use, India's
National Task Force allocation buffer); see ``../shared/oxygen-parameters.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from data.errors import InvalidInputError
from matcher.demand import DemandForecast


@dataclass(frozen=True, slots=True)
class SafetyStockRule:
    """How much stock a facility must keep in reserve each day.

    Parameters
    ----------
    kind
        ``"average_days"``: ``days`` x the average projected daily use over the horizon;
        ``"buffer_share"``: ``share`` x that day's projected use.
    days
        Days of average use kept in reserve (kind ``average_days``; default 1, NFPA 99).
    share
        Buffer share of daily use (kind ``buffer_share``; default 0.2, India NTF).
    """

    kind: Literal["average_days", "buffer_share"] = "average_days"
    days: float = 1.0
    share: float = 0.2

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in ("average_days", "buffer_share"):
            problems.append(f"kind: {self.kind!r}; use 'average_days' or 'buffer_share'")
        if not (math.isfinite(self.days) and self.days >= 0):
            problems.append(f"days: must be >= 0, got {self.days!r}")
        if not (math.isfinite(self.share) and self.share >= 0):
            problems.append(f"share: must be >= 0, got {self.share!r}")
        if problems:
            raise InvalidInputError.from_problems("safety stock rule", problems)

    def safety_m3(self, use_m3_per_day: tuple[float, ...]) -> tuple[float, ...]:
        """Return the reserve (m³) required at the end of each day."""
        if self.kind == "buffer_share":
            return tuple(self.share * use for use in use_m3_per_day)
        average = sum(use_m3_per_day) / len(use_m3_per_day) if use_m3_per_day else 0.0
        return tuple(self.days * average for _ in use_m3_per_day)


NFPA99_ONE_DAY = SafetyStockRule("average_days", days=1.0)
"""Reserve of one average day of use (NFPA 99 reserve header; medigasservice.com)."""

NTF_BUFFER_20 = SafetyStockRule("buffer_share", share=0.2)
"""20 % above each day's use (India National Task Force allocation buffer)."""


@dataclass(frozen=True, slots=True)
class SupplyPosition:
    """What a facility has and expects, besides new allocations.

    Parameters
    ----------
    facility_id
        Business id.
    stock_m3
        Gas m³ on hand at the start of day 0 (tank + full cylinders).
    expected_deliveries_m3_per_day
        Deliveries already booked for each horizon day (shorter tuples mean 0 afterwards).
    generation_m3_per_day
        On-site production (PSA plant, concentrators) per day.
    """

    facility_id: str
    stock_m3: float
    expected_deliveries_m3_per_day: tuple[float, ...] = ()
    generation_m3_per_day: float = 0.0

    def __post_init__(self) -> None:
        values = [self.stock_m3, self.generation_m3_per_day, *self.expected_deliveries_m3_per_day]
        if not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values):
            raise InvalidInputError(
                f"supply position of {self.facility_id!r}: stock, deliveries and generation must "
                f"be finite numbers >= 0 (m³), got {values!r}"
            )


@dataclass(frozen=True, slots=True)
class FacilityShortfall:
    """Shortfall of one facility over the horizon.

    Parameters
    ----------
    facility_id
        Business id.
    projected_stock_m3_per_day
        End-of-day stock with no new allocation (negative = already run out).
    required_m3_per_day
        New delivery needed each day to stay at the safety stock (the allocation demand).
    first_shortfall_day
        First day with a requirement, ``None`` if none in the horizon.
    shortfall_m3
        Total requirement over the horizon.
    days_of_supply
        Stock on hand / average projected net daily use (use - generation); ``None`` when net
        use is zero or negative (never runs out).
    estimated
        Copied from the forecast: demand estimated from beds and tier.
    stock_known
        False when no supply position was given (stock taken as 0).
    demand_known
        Copied from the forecast: False when the demand is unknown (no usable report, no beds);
        then nothing is required here, and that means "unknown", not "fine".
    """

    facility_id: str
    projected_stock_m3_per_day: tuple[float, ...]
    required_m3_per_day: tuple[float, ...]
    first_shortfall_day: int | None
    shortfall_m3: float
    days_of_supply: float | None
    estimated: bool
    stock_known: bool
    demand_known: bool = True


def compute_shortfalls(
    forecasts: Iterable[DemandForecast],
    positions: Iterable[SupplyPosition],
    *,
    rule: SafetyStockRule = NFPA99_ONE_DAY,
) -> tuple[FacilityShortfall, ...]:
    """Compute each facility's shortfall per day.

    Each day: ``balance += deliveries + generation - use``; the requirement is
    ``max(0, safety - balance)``, and is assumed delivered (added to the balance) so that later
    days only count what is newly missing.

    Parameters
    ----------
    forecasts
        Projected use per facility.
    positions
        Stock, expected deliveries and generation per facility; a facility without one is taken
        with 0 stock and flagged ``stock_known=False``.
    rule
        Safety-stock rule (default :data:`NFPA99_ONE_DAY`).

    Returns
    -------
    tuple of FacilityShortfall
        One per forecast, in forecast order.

    Raises
    ------
    InvalidInputError
        If a position names a facility without a forecast, or lists more delivery days than
        the horizon.
    """
    forecasts = tuple(forecasts)
    by_id = {p.facility_id: p for p in positions}
    problems = [
        f"positions[{fid!r}]: no forecast for this facility"
        for fid in by_id
        if fid not in {f.facility_id for f in forecasts}
    ]
    for forecast in forecasts:
        position = by_id.get(forecast.facility_id)
        if position and len(position.expected_deliveries_m3_per_day) > len(
            forecast.demand_m3_per_day
        ):
            problems.append(
                f"positions[{forecast.facility_id!r}].expected_deliveries_m3_per_day: longer "
                "than the horizon"
            )
    if problems:
        raise InvalidInputError.from_problems("shortfall inputs", problems)
    results = []
    for forecast in forecasts:
        use = forecast.demand_m3_per_day
        position = by_id.get(forecast.facility_id)
        stock = position.stock_m3 if position else 0.0
        generation = position.generation_m3_per_day if position else 0.0
        deliveries = position.expected_deliveries_m3_per_day if position else ()
        safety = rule.safety_m3(use)
        projected, required = [], []
        without_new, balance = stock, stock
        for day, use_m3 in enumerate(use):
            inflow = (deliveries[day] if day < len(deliveries) else 0.0) + generation
            without_new += inflow - use_m3
            balance += inflow - use_m3
            need = max(0.0, safety[day] - balance)
            balance += need
            projected.append(round(without_new, 6))
            required.append(round(need, 6))
        net_use = sum(use) / len(use) - generation if use else 0.0
        first = next((day for day, need in enumerate(required) if need > 0), None)
        results.append(
            FacilityShortfall(
                facility_id=forecast.facility_id,
                projected_stock_m3_per_day=tuple(projected),
                required_m3_per_day=tuple(required),
                first_shortfall_day=first,
                shortfall_m3=round(sum(required), 6),
                days_of_supply=round(stock / net_use, 3) if net_use > 0 else None,
                estimated=forecast.estimated,
                stock_known=position is not None,
                demand_known=forecast.demand_known,
            )
        )
    return tuple(results)
