"""DHIS2 import, first step: read JSON, CSV or ADX data values as sent (shape checks only)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from data.errors import InvalidInputError, MalformedInputError
from data.exchange.dhis2.elements import (
    ADX_NAMESPACE,
    ADX_PERIOD_PATTERN,
    DATA_SET,
    MAX_VALUES,
)

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
                value=_unguarded(cells.get("value")),
                category_option_combo=(cells.get("catoptcombo") or "").strip(),
                attribute_option_combo=(cells.get("attroptcombo") or "").strip(),
                deleted=deleted,
            )
        )
    return out


def _unguarded(value: str | None) -> str | None:
    from data.schema.spreadsheet_text import unguarded_text

    return None if value is None else unguarded_text(value)


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
        day = ADX_PERIOD_PATTERN.fullmatch(period)
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
