"""DHIS2 ``dataValueSets`` for daily reports: JSON, CSV or ADX export; import with upsert, dryRun.

Conventions (INTEROP.md): values are addressed by stable codes (``idScheme=code``): the data set
``OXY_DAILY``, one data element per report field (:data:`DATA_ELEMENTS`), the period of a day as
``yyyyMMdd`` and the org unit as the facility id. Values are strings. The export is DHIS2's bulk
form (``period`` and ``orgUnit`` on each value); ``created`` is the first submission (the exact
completion time, since DHIS2's ``timelyDays`` cannot say "before 16:00"), ``lastUpdated`` the
latest revision's, ``storedBy`` its submitter, and ``comment`` labels generated (seed) data.

An import is an upsert keyed on (data element, period, org unit): each facility-day's values are
applied over its latest revision and, if anything changed, stored as a new revision. Re-sending a
payload stores nothing. Per-value problems (unknown element or org unit, bad value, a day out of
scope or locked) are **conflicts**: those values are ignored and the rest imported, as DHIS2 does.
``deleted: true`` resets a value (a new revision; revisions themselves are never deleted).
Counts follow DHIS2: ``imported`` (values that had none), ``updated``, ``ignored`` (unchanged or
in conflict) and ``deleted``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import xml.etree.ElementTree as ET  # writing only; reading goes through defusedxml
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from data.access import Principal, authorize
from data.errors import InvalidInputError, MalformedInputError, PermissionDeniedError
from data.schema.registry import CYLINDER_SIZES, DailyReport, Facility, ReportRevision
from data.units import OxygenConversions

DATA_SET = "OXY_DAILY"
CSV_COLUMNS = (
    "dataelement",
    "period",
    "orgunit",
    "catoptcombo",
    "attroptcombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
)
"""DHIS2's CSV columns, in DHIS2's order; an import also accepts a ``deleted`` column."""
MAX_VALUES = 200_000
# DHIS2's default category option combo (UID and code): accepted, as is an empty cell.
DEFAULT_COMBOS = frozenset({"", "default", "HllvX50cXC0"})
PERIOD_PATTERN = re.compile(r"^[0-9]{8}$")


@dataclass(frozen=True, slots=True)
class DataElement:
    """One DHIS2 data element of the daily report.

    Parameters
    ----------
    code
        Stable code (``idScheme=code``).
    field
        The :class:`~data.schema.registry.DailyReport` field it carries ("" when derived).
    value_type
        DHIS2 value type: ``NUMBER``, ``INTEGER_ZERO_OR_POSITIVE`` or ``LONG_TEXT``.
    description
        What it means, with its unit.
    cylinder_size
        For per-size cylinder counts, the size label (the key in ``field``'s mapping).
    """

    code: str
    field: str
    value_type: str
    description: str
    cylinder_size: str | None = None

    @property
    def derived(self) -> bool:
        """Whether the value is computed from others (exported, ignored on import)."""
        return not self.field


def _data_elements() -> tuple[DataElement, ...]:
    elements = [
        DataElement(
            "O2_USED_24H_M3",
            "oxygen_used_24h_m3",
            "NUMBER",
            "Oxygen used in the last 24 h, m³ gas (required)",
        ),
        DataElement(
            "O2_STOCK_M3",
            "",
            "NUMBER",
            "Oxygen on hand, m³ gas: liquid stock plus full cylinders (derived; export only)",
        ),
        DataElement(
            "O2_LIQUID_STOCK_L",
            "liquid_stock_l",
            "NUMBER",
            "Liquid oxygen in the tank, litres of liquid",
        ),
        DataElement(
            "O2_DELIVERIES_EXPECTED_M3",
            "deliveries_expected_m3",
            "NUMBER",
            "Deliveries expected in the next 24 h, m³ gas",
        ),
        DataElement(
            "PAT_O2_MASK",
            "patients_cannula_mask",
            "INTEGER_ZERO_OR_POSITIVE",
            "Patients on nasal cannula or mask",
        ),
        DataElement(
            "PAT_O2_HFNC",
            "patients_high_flow",
            "INTEGER_ZERO_OR_POSITIVE",
            "Patients on high-flow nasal cannula",
        ),
        DataElement(
            "PAT_O2_NIV",
            "patients_niv",
            "INTEGER_ZERO_OR_POSITIVE",
            "Patients on non-invasive ventilation",
        ),
        DataElement(
            "PAT_O2_IMV",
            "patients_invasive",
            "INTEGER_ZERO_OR_POSITIVE",
            "Patients on invasive ventilation",
        ),
        DataElement("PAT_O2_ECMO", "patients_ecmo", "INTEGER_ZERO_OR_POSITIVE", "Patients on ECMO"),
    ]
    for size in sorted(CYLINDER_SIZES, key=lambda s: float(s.removesuffix("L"))):
        elements.append(
            DataElement(
                f"CYL_FULL_{size}",
                "cylinders_full",
                "INTEGER_ZERO_OR_POSITIVE",
                f"Full {size} cylinders on hand",
                cylinder_size=size,
            )
        )
        elements.append(
            DataElement(
                f"CYL_EMPTY_{size}",
                "cylinders_empty",
                "INTEGER_ZERO_OR_POSITIVE",
                f"Empty {size} cylinders on hand",
                cylinder_size=size,
            )
        )
    elements.append(DataElement("O2_REPORT_NOTE", "note", "LONG_TEXT", "Note for the coordinator"))
    return tuple(elements)


DATA_ELEMENTS: tuple[DataElement, ...] = _data_elements()
"""Every data element of ``OXY_DAILY``, in export order (documented in docs/registry.md)."""
DATA_ELEMENTS_BY_CODE: dict[str, DataElement] = {e.code: e for e in DATA_ELEMENTS}


# --------------------------------------------------------------------------- values and periods


def period_of(day: dt.date) -> str:
    """Return DHIS2's daily period ``yyyyMMdd`` of a date."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"  # strftime drops zeros before 1000


def parse_period(period: str) -> dt.date:
    """Return the date of a DHIS2 daily period ``yyyyMMdd``.

    Raises
    ------
    InvalidInputError
        If it is not eight digits naming a real day.
    """
    if not isinstance(period, str) or not PERIOD_PATTERN.fullmatch(period):
        raise InvalidInputError(f"period: must be a day written yyyyMMdd, got {period!r}")
    try:
        return dt.datetime.strptime(period, "%Y%m%d").date()
    except ValueError:
        raise InvalidInputError(f"period: no such day {period!r}") from None


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # The shortest text that reads back as the same float; whole numbers without ".0".
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _element_value(element: DataElement, report: DailyReport) -> Any:
    value = getattr(report, element.field)
    if element.cylinder_size is not None:
        return value.get(element.cylinder_size)
    return value


# --------------------------------------------------------------------------- export


def data_values(
    revisions: Iterable[ReportRevision],
    first_submitted: Mapping[tuple[str, dt.date], dt.datetime],
    *,
    conversions: OxygenConversions,
) -> list[dict[str, Any]]:
    """Return the DHIS2 data values (bulk form) of the latest revisions given.

    Parameters
    ----------
    revisions
        The latest revision of each facility-day to export.
    first_submitted
        First submission instant of each (facility, day); defaults to the revision's own.
    conversions
        Unit factors for the derived ``O2_STOCK_M3``.

    Returns
    -------
    list of dict
        One value per data element present (None fields and absent cylinder sizes are left out;
        patient counts are always there, zero is significant).
    """
    out = []
    for revision in revisions:
        report = revision.report
        created = first_submitted.get(
            (report.facility_id, report.report_date), revision.submitted_at
        )
        common = {
            "period": period_of(report.report_date),
            "orgUnit": report.facility_id,
            "storedBy": revision.submitted_by,
            "created": _instant(created),
            "lastUpdated": _instant(revision.submitted_at),
            "comment": revision.source or "",
            "followup": False,
        }
        for element in DATA_ELEMENTS:
            if element.derived:
                value: Any = round(report.stock_on_hand_m3(conversions), 3)
            else:
                value = _element_value(element, report)
            if value is None:
                continue
            out.append({"dataElement": element.code, "value": _value_text(value), **common})
    return out


def data_value_set(values: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap data values as a DHIS2 ``dataValueSet`` document (bulk form).

    Adds the ``completeDataSetRegistrations`` of each facility-day (completed at its first
    submission).
    """
    registrations: dict[tuple[str, str], dict[str, Any]] = {}
    for value in values:
        key = (value["orgUnit"], value["period"])
        registrations.setdefault(
            key,
            {
                "dataSet": DATA_SET,
                "period": value["period"],
                "organisationUnit": value["orgUnit"],
                "date": value["created"],
                "storedBy": value["storedBy"],
                "completed": True,
            },
        )
    return {
        "dataSet": DATA_SET,
        "dataValues": values,
        "completeDataSetRegistrations": list(registrations.values()),
    }


def data_values_csv(values: list[dict[str, Any]]) -> bytes:
    """Write data values as DHIS2 CSV (header row, UTF-8 with a byte-order mark)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for value in values:
        writer.writerow(
            [
                value["dataElement"],
                value["period"],
                value["orgUnit"],
                "",
                "",
                value["value"],
                value["storedBy"],
                value["lastUpdated"],
                value["comment"],
                "false",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
ADX_MEDIA_TYPE = "application/adx+xml"
_ADX_PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})/P1D$")


def adx_period(period: str) -> str:
    """Return the ADX (ISO 8601 start/duration) form ``yyyy-MM-dd/P1D`` of a ``yyyyMMdd`` day."""
    return f"{period[:4]}-{period[4:6]}-{period[6:8]}/P1D"


def data_values_adx(values: list[dict[str, Any]], *, exported: dt.datetime) -> bytes:
    """Write data values as ADX (IHE QRPH, DHIS2's ADX data format), UTF-8 XML.

    One ``group`` per facility-day (``dataSet``, ``orgUnit``, ``period`` as
    ``yyyy-MM-dd/P1D``, ``completeDate`` = the first submission); numeric values in the
    ``value`` attribute, text values (``O2_REPORT_NOTE``) as the element's content, and a
    non-empty ``comment`` as an ``annotation``.
    """
    root = ET.Element("adx", {"xmlns": ADX_NAMESPACE, "exported": _instant(exported)})
    groups: dict[tuple[str, str], ET.Element] = {}
    for value in values:
        key = (value["orgUnit"], value["period"])
        group = groups.get(key)
        if group is None:
            group = ET.SubElement(
                root,
                "group",
                {
                    "dataSet": DATA_SET,
                    "orgUnit": value["orgUnit"],
                    "period": adx_period(value["period"]),
                    "completeDate": value["created"],
                },
            )
            groups[key] = group
        element = DATA_ELEMENTS_BY_CODE[value["dataElement"]]
        if element.value_type == "LONG_TEXT":
            data_value = ET.SubElement(group, "dataValue", {"dataElement": element.code})
            data_value.text = value["value"]
        else:
            data_value = ET.SubElement(
                group, "dataValue", {"dataElement": element.code, "value": value["value"]}
            )
        if value.get("comment"):
            ET.SubElement(data_value, "annotation").text = value["comment"]
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


# --------------------------------------------------------------------------- import: parsing


@dataclass(frozen=True, slots=True)
class IncomingValue:
    """One data value of an import, as sent.

    ``index`` is its position: 0-based in JSON, the row number in CSV (header = row 1).
    """

    index: int
    data_element: Any
    period: Any
    org_unit: Any
    value: Any
    category_option_combo: Any = ""
    attribute_option_combo: Any = ""
    deleted: bool = False


def parse_data_value_set_json(document: Any) -> list[IncomingValue]:
    """Read a ``dataValueSet`` JSON document (per-org-unit or bulk form).

    Top-level ``period``, ``orgUnit`` and ``attributeOptionCombo`` apply to values without their
    own. Per-value problems are left for the import to report as conflicts.

    Raises
    ------
    MalformedInputError
        If the document is not an object with a ``dataValues`` list of objects, or holds more
        than 200,000 values.
    """
    if not isinstance(document, Mapping):
        raise MalformedInputError(
            "body: must be a dataValueSet object", ["body: must be a JSON object with dataValues"]
        )
    raw = document.get("dataValues")
    if not isinstance(raw, list) or not all(isinstance(v, Mapping) for v in raw):
        raise MalformedInputError(
            "dataValues: must be a list", ["dataValues: must be a list of objects"]
        )
    if len(raw) > MAX_VALUES:
        raise MalformedInputError(
            "dataValues: too many", [f"dataValues: at most {MAX_VALUES} values per import"]
        )
    problems = []
    data_set = document.get("dataSet")
    if "dataSet" in document and data_set != DATA_SET:
        problems.append(f"dataSet: must be {DATA_SET!r}, got {data_set!r}")
    for name in ("period", "orgUnit", "completeDate", "attributeOptionCombo"):
        if name in document and not isinstance(document[name], str):
            problems.append(f"{name}: must be text, got {document[name]!r}")
    for index, value in enumerate(raw):
        problems.extend(_data_value_problems(f"dataValues[{index}]", value))
        if len(problems) > 100:
            break
    if problems:
        raise MalformedInputError.from_problems("dataValueSet", problems)
    out = []
    for index, value in enumerate(raw):
        out.append(
            IncomingValue(
                index=index,
                data_element=value.get("dataElement"),
                period=value.get("period", document.get("period")),
                org_unit=value.get("orgUnit", document.get("orgUnit")),
                value=value.get("value"),
                category_option_combo=value.get("categoryOptionCombo", ""),
                attribute_option_combo=value.get(
                    "attributeOptionCombo", document.get("attributeOptionCombo", "")
                ),
                deleted=value.get("deleted", False),
            )
        )
    return out


def _data_value_problems(where: str, value: Mapping[str, Any]) -> list[str]:
    """List the problems of one JSON data value (missing keys, wrong types), each at ``where``."""
    problems = []
    for name in ("dataElement", "value"):
        if name not in value:
            problems.append(f"{where}.{name}: is required")
    for name in _TEXT_KEYS:
        if name in value and not isinstance(value[name], str):
            problems.append(f"{where}.{name}: must be text, got {value[name]!r}")
    if "value" in value and (
        isinstance(value["value"], bool) or not isinstance(value["value"], str | int | float)
    ):
        problems.append(f"{where}.value: must be text (or a number), got {value['value']!r}")
    for name in ("followup", "deleted"):
        if name in value and not isinstance(value[name], bool):
            problems.append(f"{where}.{name}: must be true or false, got {value[name]!r}")
    return problems


_TEXT_KEYS = (
    "dataElement",
    "period",
    "orgUnit",
    "categoryOptionCombo",
    "attributeOptionCombo",
    "storedBy",
    "created",
    "lastUpdated",
    "comment",
)


def parse_data_values_csv(content: bytes) -> list[IncomingValue]:
    """Read DHIS2 CSV data values (header row required; column names case-insensitive).

    Raises
    ------
    ImportRejectedError
        If the file is not UTF-8 text, lacks a header, or misses ``dataelement``, ``period``,
        ``orgunit`` or ``value``.
    MalformedInputError
        If it holds more than 200,000 rows.
    """
    from data.errors import ImportRejectedError, RowProblem
    from data.exchange.importers import read_csv_rows

    try:
        first_line = content.decode("utf-8-sig").splitlines()[0] if content.strip() else ""
    except UnicodeDecodeError:
        first_line = ""  # read_csv_rows reports the encoding
    if content.strip() and first_line:
        header = {c.strip().lower() for c in next(csv.reader([first_line]))}
        missing = [c for c in ("dataelement", "period", "orgunit", "value") if c not in header]
        if missing:
            raise ImportRejectedError(
                [RowProblem(1, c, "column missing from the header") for c in missing]
            )
    out: list[IncomingValue] = []
    for number, row in read_csv_rows(content):
        cells = {k.strip().lower(): v for k, v in row.items()}
        if len(out) >= MAX_VALUES:
            raise MalformedInputError(
                "rows: too many", [f"rows: at most {MAX_VALUES} values per import"]
            )
        deleted = (cells.get("deleted") or "").strip().lower() == "true"
        out.append(
            IncomingValue(
                index=number,
                data_element=(cells.get("dataelement") or "").strip(),
                period=(cells.get("period") or "").strip(),
                org_unit=(cells.get("orgunit") or "").strip(),
                value=cells.get("value"),
                category_option_combo=(cells.get("catoptcombo") or "").strip(),
                attribute_option_combo=(cells.get("attroptcombo") or "").strip(),
                deleted=deleted,
            )
        )
    return out


def parse_data_values_adx(content: bytes) -> list[IncomingValue]:
    """Read ADX data values (``adx`` root in namespace ``urn:ihe:qrph:adx:2015``).

    Each ``group`` gives ``orgUnit``, ``period`` (``yyyy-MM-dd/P1D``, or DHIS2's ``yyyyMMdd``)
    and optionally ``dataSet`` and ``attributeOptionCombo``; each ``dataValue`` its
    ``dataElement`` and the value in its ``value`` attribute or, for text, its content. The XML
    is parsed with defusedxml: entities and DTDs are refused. Per-value problems are left for the
    import to report as conflicts; ``index`` counts values from 0 in document order.

    Raises
    ------
    InvalidInputError
        (HTTP 422, as a CSV the importer cannot read) If the body is not well-formed XML, is not
        an ADX document, or a group or value misses a required attribute.
    MalformedInputError
        If it holds more than 200,000 values.
    """
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(content)
    except (ParseError, DefusedXmlException) as exc:
        raise InvalidInputError.from_problems(
            "ADX document", [f"body: not well-formed or unsafe XML ({exc})"]
        ) from None
    namespace = "{" + ADX_NAMESPACE + "}"
    if root.tag != namespace + "adx":
        expected = f"the root element must be 'adx' in namespace {ADX_NAMESPACE}"
        raise InvalidInputError.from_problems(
            "ADX document", [f"body: {expected}, got {root.tag!r}"]
        )
    problems: list[str] = []
    out: list[IncomingValue] = []
    for g_index, group in enumerate(root.iter(namespace + "group")):
        where = f"group[{g_index}]"
        data_set = group.get("dataSet")
        if data_set is not None and data_set != DATA_SET:
            problems.append(f"{where}.dataSet: must be {DATA_SET!r}, got {data_set!r}")
        for name in ("orgUnit", "period"):
            if group.get(name) is None:
                problems.append(f"{where}.{name}: is required")
        period = group.get("period", "")
        day = _ADX_PERIOD.fullmatch(period)
        if day is not None:
            period = "".join(day.groups())
        for v_index, data_value in enumerate(group.iter(namespace + "dataValue")):
            if data_value.get("dataElement") is None:
                problems.append(f"{where}.dataValue[{v_index}].dataElement: is required")
            value = data_value.get("value")
            if value is None:
                value = (data_value.text or "").strip()
            if len(out) >= MAX_VALUES:
                raise MalformedInputError(
                    "dataValues: too many", [f"dataValues: at most {MAX_VALUES} values per import"]
                )
            out.append(
                IncomingValue(
                    index=len(out),
                    data_element=data_value.get("dataElement"),
                    period=period,
                    org_unit=group.get("orgUnit"),
                    value=value,
                    category_option_combo=data_value.get("categoryOptionCombo", ""),
                    attribute_option_combo=group.get("attributeOptionCombo", ""),
                )
            )
        if len(problems) > 100:
            break
    if problems:
        raise InvalidInputError.from_problems("ADX document", problems)
    return out


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


def _parse_value(element: DataElement, raw: Any) -> Any:
    """Return the typed value of ``raw`` for ``element``, or raise InvalidInputError."""
    if element.value_type == "LONG_TEXT":
        if not isinstance(raw, str):
            raise InvalidInputError(f"value: must be text, got {raw!r}")
        return raw
    text = raw if isinstance(raw, str) else None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        text = _value_text(raw)  # DHIS2 wants strings; numbers are accepted as they read the same
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
    return ImportPlan(tuple(reports), imported, updated, ignored, deleted, tuple(conflicts))


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
        old = None if base is None else _element_value(element, base)
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
    if plan.reports and not dry_run:
        store.submit_reports(list(plan.reports), submitted_by=principal.username)
    return {
        "responseType": "ImportSummary",
        "status": "WARNING" if plan.conflicts else "SUCCESS",
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
        "conflicts": [c.to_dict() for c in plan.conflicts],
        "dryRun": dry_run,
    }
