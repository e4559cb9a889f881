"""DHIS2 import: plan an upsert of data values over the latest reports, then store it."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from data.access import Principal, authorize
from data.errors import InvalidInputError, PermissionDeniedError
from data.exchange.dhis2.elements import (
    DATA_ELEMENTS_BY_CODE,
    DEFAULT_COMBOS,
    DataElement,
    element_value,
    parse_period,
    period_of,
    value_text,
)
from data.exchange.dhis2.parsing import IncomingValue
from data.plausibility import Finding
from data.schema.registry import DailyReport, Facility

# --------------------------------------------------------------------------- import: planning


@dataclass(frozen=True, slots=True)
class Conflict:
    """A value (or values) not imported: what it is about and why (DHIS2's conflict)."""

    object: str
    property: str
    value: str
    indexes: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (DHIS2 names)."""
        return {
            "object": self.object,
            "property": self.property,
            "value": self.value,
            "indexes": list(self.indexes),
        }


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import would do: the reports to store and the DHIS2 counts and conflicts."""

    reports: tuple[DailyReport, ...]
    imported: int
    updated: int
    ignored: int
    deleted: int
    conflicts: tuple[Conflict, ...] = field(default_factory=tuple)
    report_indexes: tuple[tuple[int, ...], ...] = ()
    """Per report (same order), the indexes of the values sent for it (for its warnings)."""


def _parse_value(element: DataElement, raw: Any) -> Any:
    """Return the typed value of ``raw`` for ``element``, or raise InvalidInputError."""
    if element.value_type == "LONG_TEXT":
        if not isinstance(raw, str):
            raise InvalidInputError(f"value: must be text, got {raw!r}")
        return raw
    text = raw if isinstance(raw, str) else None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        text = value_text(raw)  # DHIS2 wants strings; numbers are accepted as they read the same
    if text is None:
        raise InvalidInputError(f"value: must be a number written as text, got {raw!r}")
    text = text.strip()
    if element.value_type == "INTEGER_ZERO_OR_POSITIVE":
        if not re.fullmatch(r"\+?[0-9]{1,9}", text):
            raise InvalidInputError(f"value: must be a whole number >= 0, got {raw!r}")
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise InvalidInputError(f"value: must be a number, got {raw!r}") from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInputError(f"value: must be a finite number >= 0, got {raw!r}")
    return number


# (facility, day) -> element code -> (index, typed value or None, is a deletion)
_Groups = dict[tuple[str, dt.date], dict[str, tuple[int, Any, bool]]]


def plan_import(
    values: Sequence[IncomingValue],
    *,
    facilities: Mapping[str, Facility],
    latest: Mapping[tuple[str, dt.date], DailyReport],
    locked_days: frozenset[tuple[str, dt.date]],
    principal: Principal,
    tomorrow: dt.date,
) -> ImportPlan:
    """Decide what an import does, without touching any store (pure).

    Parameters
    ----------
    values
        The values sent.
    facilities
        Facilities by id (org units are facility ids).
    latest
        Latest stored report of each facility-day the values touch.
    locked_days
        (province code, day) pairs approved and locked.
    principal
        Who imports: values outside its scope are conflicts.
    tomorrow
        The last day a report may be for (Asia/Ho_Chi_Minh).

    Returns
    -------
    ImportPlan
        Reports to store (each a full new content for one facility-day) and the counts.
    """
    conflicts: list[Conflict] = []
    ignored = 0
    groups: _Groups = {}
    for incoming in values:
        try:
            element, facility, day = _check_value(
                incoming,
                facilities=facilities,
                locked_days=locked_days,
                principal=principal,
                tomorrow=tomorrow,
            )
            if element.derived:
                ignored += 1  # computed from the other values; a re-import of an export sends it
                continue
            typed = _typed_value(element, incoming)
        except _RefusedError as refused:
            ignored += 1
            conflicts.append(
                Conflict(
                    str(incoming.org_unit), refused.property, refused.reason, (incoming.index,)
                )
            )
            continue
        group = groups.setdefault((facility.facility_id, day), {})
        if element.code in group:
            ignored += 1
            earlier = group[element.code][0]
            conflicts.append(
                Conflict(
                    facility.facility_id,
                    "dataElement",
                    f"{element.code} for {period_of(day)} sent twice; the last value is kept",
                    (earlier,),
                )
            )
        group[element.code] = (incoming.index, typed, incoming.deleted)
    return _plan_reports(groups, latest, ignored=ignored, conflicts=conflicts)


def _check_value(
    incoming: IncomingValue,
    *,
    facilities: Mapping[str, Facility],
    locked_days: frozenset[tuple[str, dt.date]],
    principal: Principal,
    tomorrow: dt.date,
) -> tuple[DataElement, Facility, dt.date]:
    """Return the data element, facility and day of an incoming value (see :func:`plan_import`).

    Raises
    ------
    _RefusedError
        If the element, combo, period or org unit is unknown, out of the principal's scope, after
        tomorrow or in a locked day.
    """
    element = DATA_ELEMENTS_BY_CODE.get(incoming.data_element)
    if element is None:
        raise _RefusedError(
            "dataElement",
            f"unknown data element {incoming.data_element!r}; see docs/registry.md for the codes",
        )
    if incoming.category_option_combo not in DEFAULT_COMBOS or (
        incoming.attribute_option_combo not in DEFAULT_COMBOS
    ):
        raise _RefusedError("categoryOptionCombo", "only the default category option combo is used")
    try:
        day = parse_period(incoming.period)
    except InvalidInputError as error:
        raise _RefusedError("period", str(error).partition(": ")[2]) from None
    facility = facilities.get(incoming.org_unit) if isinstance(incoming.org_unit, str) else None
    if facility is None:
        raise _RefusedError("orgUnit", f"no facility {incoming.org_unit!r}")
    try:
        authorize(
            principal,
            "reports:write",
            facility_id=facility.facility_id,
            province_code=facility.province_code,
        )
    except PermissionDeniedError as error:
        raise _RefusedError("orgUnit", str(error)) from None
    if day > tomorrow:
        raise _RefusedError("period", f"must not be after tomorrow ({period_of(tomorrow)})")
    if (facility.province_code, day) in locked_days:
        raise _RefusedError(
            "period",
            f"province {facility.province_code} approved {day}, "
            "which locks it; ask for an unlock first",
        )
    return element, facility, day


def _typed_value(element: DataElement, incoming: IncomingValue) -> Any:
    """Return the typed value of an incoming value (None for a deletion)."""
    if incoming.deleted:
        return None
    try:
        return _parse_value(element, incoming.value)
    except InvalidInputError as error:
        raise _RefusedError("value", str(error).partition(": ")[2]) from None


def _plan_reports(
    groups: _Groups,
    latest: Mapping[tuple[str, dt.date], DailyReport],
    *,
    ignored: int,
    conflicts: list[Conflict],
) -> ImportPlan:
    """Merge each facility-day's values into its latest report and count what changes."""
    reports = []
    indexes: list[tuple[int, ...]] = []
    imported = updated = deleted = 0
    for (facility_id, day), group in sorted(groups.items()):
        base = latest.get((facility_id, day))
        content, counts = _merged_content(facility_id, day, group, base)
        try:
            report = DailyReport.from_mapping(content)
        except InvalidInputError as error:
            ignored += len(group)
            conflicts.append(
                Conflict(
                    facility_id,
                    "dataValues",
                    f"{period_of(day)}: " + "; ".join(error.problems),
                    tuple(sorted(i for i, _, _ in group.values())),
                )
            )
            continue
        ignored += counts["ignored"]
        if base is not None and report.content_hash() == base.content_hash():
            continue
        imported += counts["imported"]
        updated += counts["updated"]
        deleted += counts["deleted"]
        reports.append(report)
        indexes.append(tuple(sorted(i for i, _, _ in group.values())))
    return ImportPlan(
        tuple(reports), imported, updated, ignored, deleted, tuple(conflicts), tuple(indexes)
    )


def _merged_content(
    facility_id: str,
    day: dt.date,
    group: dict[str, tuple[int, Any, bool]],
    base: DailyReport | None,
) -> tuple[dict[str, Any], dict[str, int]]:
    """Return a report's content with a group's values applied, and the DHIS2 counts per value."""
    content: dict[str, Any] = (
        base.to_dict()
        if base is not None
        else {"facility_id": facility_id, "report_date": day.isoformat()}
    )
    counts = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
    for code, (_, typed, is_deletion) in group.items():
        element = DATA_ELEMENTS_BY_CODE[code]
        old = None if base is None else element_value(element, base)
        if is_deletion:
            counts["ignored" if old is None else "deleted"] += 1
            _reset(content, element)
            continue
        counts["imported" if old is None else "updated" if old != typed else "ignored"] += 1
        _assign(content, element, typed)
    return content, counts


class _RefusedError(Exception):
    def __init__(self, property_name: str, reason: str) -> None:
        self.property = property_name
        self.reason = reason
        super().__init__(reason)


def _assign(content: dict[str, Any], element: DataElement, value: Any) -> None:
    if element.cylinder_size is not None:
        content[element.field] = {**content.get(element.field, {}), element.cylinder_size: value}
    else:
        content[element.field] = value


def _reset(content: dict[str, Any], element: DataElement) -> None:
    if element.cylinder_size is not None:
        counts = dict(content.get(element.field, {}))
        counts.pop(element.cylinder_size, None)
        content[element.field] = counts
    elif element.field.startswith("patients_"):
        content[element.field] = 0
    else:
        # Deleting the required oxygen use leaves it missing: the report is then refused.
        content[element.field] = None


# --------------------------------------------------------------------------- import: adapter


def import_data_values(
    store: Any,
    values: Sequence[IncomingValue],
    *,
    principal: Principal,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import data values into ``store`` (a :class:`~data.store.Store`), or only plan it.

    The accepted reports are stored in one transaction (all or none) as new revisions by
    ``principal``.

    Returns
    -------
    dict
        DHIS2's import summary: ``status`` (``SUCCESS``, or ``WARNING`` with conflicts),
        ``importCount`` (``imported``, ``updated``, ``ignored``, ``deleted``), ``conflicts`` and
        ``dryRun``.

    Raises
    ------
    PermissionDeniedError
        If the principal may not write reports at all.
    LockedError
        If a day was approved between planning and storing (nothing is stored; send again).
    """
    from data.access import ROLE_PERMISSIONS
    from data.reporting import local_date

    if "reports:write" not in ROLE_PERMISSIONS[principal.role]:
        raise PermissionDeniedError(f"role {principal.role.value!r} may not use 'reports:write'")
    facilities = {f.facility_id: f for f in store.list_facilities()}
    days = []
    for incoming in values:
        try:
            days.append(parse_period(incoming.period))
        except InvalidInputError:
            continue
    latest: dict[tuple[str, dt.date], DailyReport] = {}
    locked: frozenset[tuple[str, dt.date]] = frozenset()
    if days:
        latest = {
            (r.report.facility_id, r.report.report_date): r.report
            for r in store.latest_reports(date_from=min(days), date_to=max(days))
        }
        locked = frozenset(
            (a.province_code, a.report_date)
            for a in store.list_approvals(date_from=min(days), date_to=max(days))
            if a.locked
        )
    plan = plan_import(
        values,
        facilities=facilities,
        latest=latest,
        locked_days=locked,
        principal=principal,
        tomorrow=local_date(store.clock()) + dt.timedelta(days=1),
    )
    warnings: list[dict[str, Any]] = []
    if plan.reports:  # a dry run runs the same checks, then stores nothing
        results = store.submit_reports(
            list(plan.reports), submitted_by=principal.username, dry_run=dry_run
        )
        warnings = [
            _warning(result.revision.report, finding, indexes)
            for result, indexes in zip(results, plan.report_indexes, strict=True)
            for finding in result.flags
        ]
    conflicts = [c.to_dict() for c in plan.conflicts] + warnings
    return {
        "responseType": "ImportSummary",
        "status": "WARNING" if conflicts else "SUCCESS",
        "description": (
            "dry run: nothing was stored"
            if dry_run
            else f"{len(plan.reports)} facility-day report(s) stored as new revisions"
        ),
        "importOptions": {"dryRun": dry_run, "idSchemes": {"idScheme": "CODE"}},
        "importCount": {
            "imported": plan.imported,
            "updated": plan.updated,
            "ignored": plan.ignored,
            "deleted": plan.deleted,
        },
        "conflicts": conflicts,
        "dryRun": dry_run,
    }


def _warning(report: DailyReport, finding: Finding, indexes: tuple[int, ...]) -> dict[str, Any]:
    """Return a stored report's plausibility flag as a DHIS2 conflict of type ``WARNING``.

    The values were imported (they count in ``importCount``); the conflict says why a province
    officer will review them: ``value`` holds the English then the Vietnamese message, and the
    flag itself is under ``warning`` (rule, field, value, limit, messages).
    """
    return {
        "object": report.facility_id,
        "property": finding.field,
        "value": (
            f"{period_of(report.report_date)}: {finding.message_en} (value {finding.value:g}, "
            f"limit {finding.limit:g}, rule {finding.rule_id}) / {finding.message_vi}"
        ),
        "indexes": list(indexes),
        "errorCode": "WARNING",
        "warning": finding.to_dict(),
    }
