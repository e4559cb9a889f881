"""DHIS2 export of daily reports: data values as JSON ``dataValueSet``, CSV or ADX XML."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET  # writing only; reading goes through defusedxml
from collections.abc import Iterable, Mapping
from typing import Any

from data.exchange.dhis2.elements import (
    ADX_NAMESPACE,
    CSV_COLUMNS,
    DATA_ELEMENTS,
    DATA_ELEMENTS_BY_CODE,
    DATA_SET,
    adx_period,
    element_value,
    period_of,
    value_text,
)
from data.schema.registry import ReportRevision
from data.schema.spreadsheet_text import safe_text
from data.units import OxygenConversions

# --------------------------------------------------------------------------- export


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


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
                value = element_value(element, report)
            if value is None:
                continue
            out.append({"dataElement": element.code, "value": value_text(value), **common})
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
                _csv_value(value["value"]),
                safe_text(value["storedBy"]),
                value["lastUpdated"],
                safe_text(value["comment"]) if value["comment"] else value["comment"],
                "false",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: Any) -> Any:
    """Return a data value for CSV: a number as it is, text (the note) guarded against formulas."""
    if not isinstance(value, str):
        return value
    try:
        float(value)
    except ValueError:
        return safe_text(value)
    return value


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
