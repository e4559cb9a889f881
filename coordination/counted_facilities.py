"""Which registry facilities count in a day's demand: not closed ones, not merged duplicates.

A merge (``Store.merge_facilities``, docs/registry.md "Duplicates") copies every report of the
duplicate under the facility kept, ends the duplicate's reporting period the day before the merge
(``reporting_until``) and starts its ``source`` with ``merged into <kept id>``; the duplicate's
own reports stay where they were. Counting both facilities would count those reports twice, and
on the days after the merge would carry the duplicate's last report forward beside its copy. So
plans (``coordination.planning.plan_request_from_store``) and ``/demand/provinces``
(``coordination.compliance.demand_by_province``) leave out, for a day D:

- a facility whose reporting period ended before D (``reporting_until < D``): it is closed or
  merged, and its last report is not carried forward;
- a merged duplicate on every day, when the facility it was merged into is among the facilities
  counted (its reports are there). Without it (another map), the duplicate counts once, alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from data.dedupe import merged_into
from data.schema.registry import Facility


def facilities_counted_on(facilities: Iterable[Facility], day: dt.date) -> list[Facility]:
    """Return the facilities whose reports count on ``day``, in their order (see the module).

    Left out: those whose ``reporting_until`` is before ``day``, and merged duplicates whose kept
    facility is in ``facilities`` (and itself counted).
    """
    open_on_day = [f for f in facilities if f.reporting_until is None or f.reporting_until >= day]
    ids = {f.facility_id for f in open_on_day}
    return [
        f
        for f in open_on_day
        if (kept := merged_into(f)) is None or kept == f.facility_id or kept not in ids
    ]
