"""Turn one field's value, from a JSON body or a spreadsheet cell, into the field's type.

:meth:`data.schema.registry.RegistryRecord.from_mapping` calls :func:`parse_value` for each field:
JSON values must already have the type (an integral float counts as an int); spreadsheet cells are
converted: text to numbers by the file's locale (:mod:`data.schema.number_text`), ``40L=12; 10L=3``
to counts per cylinder size, ``có``/``không`` to booleans, codes typed as numbers back to text.
A value that cannot be converted appends ``"<field>: <reason>"`` to the caller's problems.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import math
import re
import typing
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from data.schema.number_text import NumberLocale, NumberTextError, read_number_text
from data.schema.spreadsheet_text import unguarded_text

_TRUE_WORDS = frozenset({"true", "1", "yes", "y", "có", "x"})
_FALSE_WORDS = frozenset({"false", "0", "no", "n", "không"})


@dataclasses.dataclass(frozen=True, slots=True)
class _Cells:
    """Values come from spreadsheet cells; text numbers read by ``locale`` (None: undeclared)."""

    locale: NumberLocale | None


# name, field type, value, spreadsheet cells (None: JSON), problems -> value or None
_Parser = Callable[[str, Any, Any, _Cells | None, list[str]], Any]


def parse_value(
    name: str,
    base: Any,
    value: Any,
    *,
    text: bool,
    problems: list[str],
    number_locale: NumberLocale | None = None,
) -> Any:
    """Coerce one value to ``base``; append a problem and return None if it cannot be.

    With ``text`` (a spreadsheet cell) a number cell is taken as it is and a text number is read
    by ``number_locale`` (:func:`data.schema.number_text.read_number_text`: None reads only what
    means the same in every locale and refuses ambiguous text such as ``5.200``).

    Parameters
    ----------
    name
        The field, named in problems.
    base
        The field's type without ``| None``: bool, int, float, str, date, a ``StrEnum``, a
        mapping of text to int (counts per cylinder size) or a tuple of text.
    value
        What was sent (not None).
    text
        Whether ``value`` is a spreadsheet cell.
    problems
        Where a reason is appended when the value cannot be converted.
    number_locale
        How the file writes numbers as text (None: not declared).

    Returns
    -------
    Any
        The value as ``base``, or None after appending ``"<name>: <reason>"`` to ``problems``.

    Raises
    ------
    TypeError
        If no parser handles ``base`` (a programming error: a field of an unsupported type).
    """
    origin = typing.get_origin(base)
    parser: _Parser
    if isinstance(base, type) and issubclass(base, StrEnum):
        parser = _parse_enum
    elif origin in (Mapping, dict):
        parser = _parse_counts
    elif origin is tuple:
        parser = _parse_texts
    elif base in _SCALAR_PARSERS:
        parser = _SCALAR_PARSERS[base]
    else:
        raise TypeError(f"no parser for {name}: {base!r}")  # a programming error in this module
    return parser(name, base, value, _Cells(number_locale) if text else None, problems)


def _parse_enum(name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]) -> Any:
    if isinstance(value, str) and value.strip() in {m.value for m in base}:
        return base(value.strip())
    allowed = ", ".join(m.value for m in base)
    problems.append(f"{name}: must be one of {allowed}, got {value!r}")
    return None


def _parse_bool(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> bool | None:
    if isinstance(value, bool):
        return value
    if (
        cells is not None
        and isinstance(value, str | int)
        and str(value).strip().lower() in _TRUE_WORDS
    ):
        return True
    if (
        cells is not None
        and isinstance(value, str | int)
        and str(value).strip().lower() in _FALSE_WORDS
    ):
        return False
    problems.append(f"{name}: must be true or false, got {value!r}")
    return None


def _parse_int(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        # JSON Schema counts 3.0 as an integer, and spreadsheets store 3 as 3.0.
        return int(value)
    if cells is not None and isinstance(value, str):
        number = _read_text_number(name, value, cells, problems)
        if number is None:
            return None
        if number == number.to_integral_value():
            return int(number)
    problems.append(f"{name}: must be a whole number, got {value!r}")
    return None


def _parse_float(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif cells is not None and isinstance(value, str):
        exact = _read_text_number(name, value, cells, problems)
        if exact is None:
            return None
        number = float(exact)
    else:
        problems.append(f"{name}: must be a number, got {value!r}")
        return None
    if not math.isfinite(number):
        problems.append(f"{name}: must be a finite number, got {value!r}")
        return None
    return number


def _parse_str(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> str | None:
    if isinstance(value, str):
        # A cell our CSV exports guarded against formulas ("'=...") reads back as it was.
        return unguarded_text(value) if cells is not None else value
    if cells is not None and isinstance(value, int | float) and not isinstance(value, bool):
        # Spreadsheets turn codes such as 79 into numbers; keep them as text.
        return str(int(value)) if float(value).is_integer() else str(value)
    problems.append(f"{name}: must be text, got {value!r}")
    return None


def _parse_date(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> dt.date | None:
    if cells is not None and isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
                raise ValueError(value)
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(f"{name}: must be a date written YYYY-MM-DD, got {value!r}")
    return None


def _parse_counts(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> dict[str, int] | None:
    if cells is not None and isinstance(value, str):
        return _parse_counts_text(name, value, cells, problems)
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        out: dict[str, int] = {}
        for key, count in value.items():
            parsed = _parse_int(f"{name}[{key!r}]", int, count, cells, problems)
            if parsed is not None:
                out[key] = parsed
        return out
    problems.append(f"{name}: must be an object mapping cylinder size to count, got {value!r}")
    return None


def _parse_texts(
    name: str, base: Any, value: Any, cells: _Cells | None, problems: list[str]
) -> tuple[str, ...] | None:
    if cells is not None and isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    problems.append(f"{name}: must be a list of text values, got {value!r}")
    return None


_SCALAR_PARSERS: dict[Any, _Parser] = {
    bool: _parse_bool,
    int: _parse_int,
    float: _parse_float,
    str: _parse_str,
    dt.date: _parse_date,
}


def _read_text_number(
    name: str, value: str, cells: _Cells, problems: list[str]
) -> decimal.Decimal | None:
    """Read a number typed as text by the file's locale; append the reason if it cannot be."""
    try:
        return read_number_text(value, cells.locale)
    except NumberTextError as error:
        problems.append(f"{name}: {error.reason}")
        return None


def _parse_counts_text(
    name: str, value: str, cells: _Cells, problems: list[str]
) -> dict[str, int] | None:
    """Parse ``"40L=12; 10L=3"`` (the spreadsheet form of a count per cylinder size).

    Counts are read by the file's locale like any text number (``40L=1.200`` is 1,200 in
    Vietnamese and refused as ambiguous when no locale is declared).
    """
    out: dict[str, int] = {}
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        key, sep, count = part.partition("=")
        if not sep or not count.strip() or count.strip()[0] in "+-":
            problems.append(f"{name}: write counts as SIZE=COUNT separated by ';', got {value!r}")
            return None
        parsed = _parse_int(f"{name}[{key.strip()!r}]", int, count, cells, problems)
        if parsed is None:
            return None
        out[key.strip()] = parsed
    return out
