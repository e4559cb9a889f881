"""DHIS2 conventions of the ``OXY_DAILY`` data set: data elements, periods, value texts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from data.errors import InvalidInputError
from data.schema.registry import CYLINDER_SIZES, DailyReport

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


def value_text(value: Any) -> str:
    """Return a value as DHIS2 text (booleans ``true``/``false``, whole floats without ``.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # The shortest text that reads back as the same float; whole numbers without ".0".
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def element_value(element: DataElement, report: DailyReport) -> Any:
    """Return the value of a data element in a report (a count for a cylinder size)."""
    value = getattr(report, element.field)
    if element.cylinder_size is not None:
        return value.get(element.cylinder_size)
    return value


ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
ADX_MEDIA_TYPE = "application/adx+xml"
ADX_PERIOD_PATTERN = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})/P1D$")


def adx_period(period: str) -> str:
    """Return the ADX (ISO 8601 start/duration) form ``yyyy-MM-dd/P1D`` of a ``yyyyMMdd`` day."""
    return f"{period[:4]}-{period[4:6]}-{period[6:8]}/P1D"
