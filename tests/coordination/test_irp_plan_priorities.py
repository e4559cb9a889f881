"""Priorities in the region's inventory routing (issue 17): who is short when the plant is.

The instance: ``_region`` of ``test_irp_plan`` cut to one day, plant P holding 2,000 kg and
producing nothing; tanks A and B each hold 1,000 kg (their 12 h floor) and burn 2,000 kg a day,
so each needs 2,000 kg today and only one can have it. The one with the higher priority is
served; the other is short by 2,000 kg (reason ``depot``), whichever order they come in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest

from coordination.irp_plan import IrpPlant, RegionIrpInput, plan_region_irp
from coordination.irp_plan_io import facility_priorities
from data.errors import InvalidInputError
from data.flows import OxygenNeed
from tests.coordination.test_irp_plan import _region


def _short_plant(priority_a: float, priority_b: float) -> RegionIrpInput:
    region = _region(
        horizon_days=1,
        plants=(IrpPlant("P", "Nhà máy Phú Mỹ", 0, 2_000, 107.03, 10.59),),
    )
    a, b = region.tanks
    return dataclasses.replace(
        region,
        tanks=(
            dataclasses.replace(a, level_kg=1_000, priority=priority_a),
            dataclasses.replace(b, level_kg=1_000, priority=priority_b),
        ),
    )


@pytest.mark.parametrize(("priority_a", "priority_b", "served"), [(32, 10, "A"), (10, 32, "B")])
def test_the_higher_priority_tank_is_served_when_the_plant_runs_short(
    priority_a: float, priority_b: float, served: str
) -> None:
    plan = plan_region_irp(_short_plant(priority_a, priority_b), time_limit_s=2, seed=0)
    delivered = {d.facility_id: d.quantity_kg for d in plan.deliveries}
    assert delivered == {served: pytest.approx(2_000, abs=1)}
    short = {s.facility_id for s in plan.shortfalls if s.reason == "depot"}
    assert short == {"AB".replace(served, "")}
    assert {f for f, _ in plan.figures.below_floor} == short


def test_a_priority_not_above_zero_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan_region_irp(_short_plant(0, 10))
    assert "tanks[0] (A).priority: 0 must be a finite number above 0" in str(caught.value)


def test_facility_priorities_follow_the_allocation() -> None:
    start = dt.date(2021, 8, 20)

    def report(facility_id: str, day: dt.date, invasive: int, other: int) -> SimpleNamespace:
        patients = ((OxygenNeed.INVASIVE, invasive), (OxygenNeed.CANNULA_MASK, other))
        return SimpleNamespace(facility_id=facility_id, report_date=day, patients=patients)

    request = SimpleNamespace(
        start_date=start,
        facilities=(
            SimpleNamespace(facility_id="H3", tier=3),
            SimpleNamespace(facility_id="H1", tier=1),
        ),
        reports=(
            report("H3", start - dt.timedelta(days=2), 0, 5),
            report("H3", start - dt.timedelta(days=1), 1, 4),  # the last before the start
            report("H3", start, 5, 0),  # on the start date: not used
        ),
    )
    # Tier 3 with 1 critical patient of 5: 10 x 3 + round(10 x 0.2) = 32; tier 1, no report: 10.
    assert facility_priorities(request) == {"H3": 32.0, "H1": 10.0}
