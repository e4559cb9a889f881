"""The "Act first" block of a plan summary: who runs dry first, and what the plan sends them.

Issue 14: a coordinator reads a plan from the top, so its first block lists the facilities by
hours to empty (:func:`coordination.status.act_first_lines`) with what the plan sends each on
its first day. The status is taken at :func:`status_moment`: the start of the plan's first day,
or now if that is later than now (a plan for tomorrow starts from what is known now). A day-0
delivery is shown arriving at :data:`DISPATCH_START` local time plus its road travel time, the
time a vehicle sent at the start of the shift would arrive (the allocation decides quantities,
not hours; routes do).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from coordination.status import act_first_lines, current_statuses
from data.reporting import LOCAL_TZ

if TYPE_CHECKING:
    from coordination.planning import CoordinatorPlan
    from data.region import Region

DISPATCH_START = dt.time(6, 0)
"""Local time at which day-0 deliveries are assumed to leave (the dispatch's shift start)."""


def status_moment(start_date: dt.date, now: dt.datetime) -> dt.datetime:
    """Return when a plan's status is taken: its first day's start, or now if that is earlier."""
    start = dt.datetime.combine(start_date, dt.time(0, 0), tzinfo=LOCAL_TZ)
    return min(start, now.astimezone(LOCAL_TZ))


def planned_arrivals(plan: CoordinatorPlan) -> dict[str, list[tuple[dt.datetime, float]]]:
    """Return, per facility, the plan's day-0 deliveries as ``(arrival, m³ of gas)``."""
    leave = dt.datetime.combine(plan.request.start_date, DISPATCH_START, tzinfo=LOCAL_TZ)
    out: dict[str, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for flow in plan.allocation.flows:
        if flow.day == 0 and flow.quantity_m3 > 0:
            arrival = leave + dt.timedelta(seconds=flow.travel_time_s)
            out[flow.facility_id].append((arrival, flow.quantity_m3))
    return {k: sorted(v) for k, v in out.items()}


def act_first_for_plan(
    store: Any, plan: CoordinatorPlan, region: Region, *, now: dt.datetime, limit: int = 10
) -> list[str]:
    """Return the "Act first" lines of ``plan``: the plan's facilities by hours to empty."""
    at = status_moment(plan.request.start_date, now)
    facility_ids = {f.facility_id for f in plan.request.facilities}
    statuses = [
        s
        for s in current_statuses(store, at, region.status, province_code=region.province_code)
        if s.facility_id in facility_ids
    ]
    return act_first_lines(statuses, planned_arrivals(plan), limit=limit)


def with_act_first(summary: str, lines: Sequence[str]) -> str:
    """Return a summary with the "Act first" block after its first line (its title)."""
    if not lines:
        return summary
    title, _, rest = summary.partition("\n")
    block = "\n".join(lines)
    return f"{title}\n\n{block}\n\n{rest}" if rest else f"{title}\n\n{block}"
