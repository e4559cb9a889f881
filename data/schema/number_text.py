"""Numbers typed as text in a spreadsheet, read by a declared locale and never guessed.

A number cell of a workbook is a number and is taken as it is; this module is about *text* that
holds a number (every CSV cell, and XLSX cells stored as text). People write the same quantity
two ways:

========  =================  =================  ==========================
locale    thousands          decimal            five thousand two hundred and a half
========  =================  =================  ==========================
``vi``    ``.`` (dot)        ``,`` (comma)      ``5.200,5`` (also ``5200,5``)
``en``    ``,`` (comma)      ``.`` (dot)        ``5,200.5`` (also ``5200.5``)
========  =================  =================  ==========================

With a declared locale, text must fit it: thousands groups are exactly three digits after a
first group of one to three (``5.200`` is 5,200 in ``vi``; ``5.20`` is refused), and a text
whose separators do not fit (``5,200.5`` in ``vi``) is refused with a hint, never reinterpreted.

With no locale declared, a text is read only when it means the same in both conventions, or when
only one of them can read it at all (``650``, ``650.5``, ``12,5``, ``5.200,5``); a text that both
read differently (``5.200``: 5,200 or 5.2; ``1,234``) is refused as ambiguous. So no locale never
misreads a number: at worst it refuses one, and the message says how to declare the locale.
Every message is in Vietnamese and English.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from data.errors import MalformedInputError

MAX_NUMBER_TEXT_CHARS = 64
"""Longer text is not a number a person typed (and is not parsed, whatever it holds)."""
MAX_EXPONENT = 400
"""``1e400`` is already infinite as a float; larger exponents are refused unparsed."""


class NumberLocale(StrEnum):
    """How a file writes numbers as text: which mark groups thousands, which one is decimal."""

    VI = "vi"
    """Vietnamese: ``.`` groups thousands, ``,`` is the decimal mark (``5.200,5``)."""
    EN = "en"
    """English: ``,`` groups thousands, ``.`` is the decimal mark (``5,200.5``)."""


_MARKS = {NumberLocale.VI: (".", ","), NumberLocale.EN: (",", ".")}
"""Thousands mark and decimal mark of each locale."""
_EXAMPLES = {NumberLocale.VI: "5.200,5", NumberLocale.EN: "5,200.5"}
_NAMES = {
    NumberLocale.VI: ("Vietnamese", "tiếng Việt"),
    NumberLocale.EN: ("English", "tiếng Anh"),
}
_HOW_TO_DECLARE = (
    "declare the file's number format: locale=vi (5.200,5) or locale=en (5,200.5): "
    "for a CSV the request parameter ?locale=vi or a first row locale=vi, for an XLSX the "
    'cell beside "locale" on sheet "Hướng dẫn"; or type the value in a number cell'
)
_HOW_TO_DECLARE_VI = (
    "hãy khai báo cách viết số của tệp: locale=vi (5.200,5) hoặc locale=en (5,200.5): "
    "tệp CSV dùng tham số ?locale=vi hoặc dòng đầu locale=vi, tệp XLSX dùng ô bên cạnh "
    '"locale" ở trang "Hướng dẫn"; hoặc nhập giá trị vào ô kiểu số'
)


class NumberTextError(ValueError):
    """A text is not a number in the declared locale, or is ambiguous with none declared.

    ``reason`` is the message a person reads (Vietnamese and English); it says how to fix the
    cell or how to declare the file's locale.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def number_locale(value: str | NumberLocale | None) -> NumberLocale | None:
    """Return the locale named ``vi`` or ``en`` (any case, spaces ignored); None for none.

    Raises
    ------
    MalformedInputError
        If ``value`` names another locale (field ``locale``).
    """
    if value is None or isinstance(value, NumberLocale):
        return value
    cleaned = value.strip().casefold()
    if not cleaned:
        return None
    try:
        return NumberLocale(cleaned)
    except ValueError:
        raise MalformedInputError(
            f"locale: must be vi or en, got {value!r}",
            [
                f"locale: must be vi (5.200,5) or en (5,200.5), got {value!r} / "
                f"locale phải là vi (5.200,5) hoặc en (5,200.5)"
            ],
        ) from None


def _pattern(locale: NumberLocale) -> re.Pattern[str]:
    thousands, decimal = (re.escape(mark) for mark in _MARKS[locale])
    return re.compile(
        rf"(?P<sign>[+-]?)"
        rf"(?:(?P<grouped>[0-9]{{1,3}}(?:{thousands}[0-9]{{3}})+)|(?P<plain>[0-9]+))"
        rf"(?:{decimal}(?P<fraction>[0-9]+))?"
        rf"(?:[eE](?P<exponent>[+-]?[0-9]{{1,4}}))?"
    )


_PATTERNS = {locale: _pattern(locale) for locale in NumberLocale}


def _read(text: str, locale: NumberLocale) -> Decimal | None:
    """Return the number ``text`` means in ``locale``, or None if it does not fit it."""
    match = _PATTERNS[locale].fullmatch(text)
    if match is None:
        return None
    # Exponents only on ungrouped numbers: "1.200e3" is no way anyone writes a number.
    if match["exponent"] is not None and match["grouped"] is not None:
        return None
    if match["exponent"] is not None and abs(int(match["exponent"])) > MAX_EXPONENT:
        return None
    digits = (match["grouped"] or match["plain"]).replace(_MARKS[locale][0], "")
    canonical = f"{match['sign']}{digits}"
    if match["fraction"] is not None:
        canonical += f".{match['fraction']}"
    if match["exponent"] is not None:
        canonical += f"e{match['exponent']}"
    try:
        return Decimal(canonical)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def _show(number: Decimal, locale: NumberLocale = NumberLocale.EN) -> str:
    """Write a number for a message in ``locale``: no grouping, no exponent (``5200,5`` in vi).

    The English half of a message shows numbers the English way and the Vietnamese half the
    Vietnamese way, so that neither reader misreads the number shown (``1.234`` and ``1,234``).
    """
    text = format(number.normalize(), "f")
    return text.replace(".", ",") if locale == NumberLocale.VI else text


def read_number_text(text: str, locale: NumberLocale | None) -> Decimal:
    """Return the number a person typed as ``text``, read by ``locale``.

    Parameters
    ----------
    text
        The cell's text; surrounding spaces are ignored, spaces inside are not accepted.
    locale
        The file's declared locale; None when it declared none (then only a text that means the
        same in both locales, or that only one locale can read, is accepted).

    Returns
    -------
    Decimal
        The exact number (``5.200`` in ``vi`` is ``Decimal("5200")``).

    Raises
    ------
    NumberTextError
        If the text is not a number, does not fit ``locale``, or is ambiguous without a locale;
        its ``reason`` says how to fix it, in Vietnamese and English.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_NUMBER_TEXT_CHARS:
        raise NumberTextError(f"must be a number, got {text!r} / phải là một số")
    if locale is not None:
        number = _read(cleaned, locale)
        if number is not None:
            return number
        raise NumberTextError(_misfit_reason(text, cleaned, locale))
    readings = {loc: _read(cleaned, loc) for loc in NumberLocale}
    found = {loc: value for loc, value in readings.items() if value is not None}
    values = set(found.values())
    if len(values) == 1:
        return values.pop()
    if not values:
        raise NumberTextError(f"must be a number, got {text!r} / phải là một số")
    vi_value, en_value = found[NumberLocale.VI], found[NumberLocale.EN]
    vi = NumberLocale.VI
    raise NumberTextError(
        f"{text!r} is ambiguous: {_show(vi_value)} written the Vietnamese way, "
        f"{_show(en_value)} the English way, and the file declares no locale; "
        f"{_HOW_TO_DECLARE} / {text!r} không rõ nghĩa: {_show(vi_value, vi)} theo cách viết "
        f"tiếng Việt hay {_show(en_value, vi)} theo cách viết tiếng Anh, và tệp chưa khai báo "
        f"locale; {_HOW_TO_DECLARE_VI}"
    )


def _misfit_reason(text: str, cleaned: str, locale: NumberLocale) -> str:
    """Explain why ``text`` does not fit ``locale``, with the other locale's reading if any."""
    english, vietnamese = _NAMES[locale]
    thousands, decimal = _MARKS[locale]
    reason = (
        f"{text!r} is not a number written the {english} way ({thousands} groups thousands in "
        f"threes, {decimal} is the decimal mark: {_EXAMPLES[locale]}), the file's declared "
        f"locale {locale.value}"
    )
    reason_vi = (
        f"{text!r} không phải số viết theo cách {vietnamese} (dấu {thousands} ngăn nhóm ba chữ "
        f"số hàng nghìn, dấu {decimal} là dấu thập phân: {_EXAMPLES[locale]}), locale đã khai "
        f"báo của tệp là {locale.value}"
    )
    other = NumberLocale.EN if locale == NumberLocale.VI else NumberLocale.VI
    other_value = _read(cleaned, other)
    if other_value is not None:
        retyped = format_number_text(other_value, locale)
        reason += (
            f"; if you meant {_show(other_value)}, type {retyped}, or declare locale "
            f"{other.value} for the whole file"
        )
        reason_vi += (
            f"; nếu muốn ghi {_show(other_value, NumberLocale.VI)}, hãy gõ {retyped}, hoặc "
            f"khai báo locale "
            f"{other.value} cho cả tệp"
        )
    return f"{reason} / {reason_vi}"


def format_number_text(number: Decimal | float | int, locale: NumberLocale) -> str:
    """Write ``number`` the way ``locale`` does, with thousands grouped (``5.200,5`` in vi).

    Examples
    --------
    >>> format_number_text(5200.5, NumberLocale.VI)
    '5.200,5'
    >>> format_number_text(5200.5, NumberLocale.EN)
    '5,200.5'
    """
    plain = _show(Decimal(str(number)))
    sign = "-" if plain.startswith("-") else ""
    whole, _, fraction = plain.lstrip("-").partition(".")
    thousands, decimal = _MARKS[locale]
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    grouped = thousands.join([whole, *groups])
    return f"{sign}{grouped}{decimal}{fraction}" if fraction else f"{sign}{grouped}"


def unambiguous_number_text(number: float | int) -> str:
    """Write ``number`` with a dot decimal so that it reads back the same with no locale.

    ``str`` of a float can be ``5.125``, which a Vietnamese reader takes for 5,125; a trailing
    zero (``5.1250``) leaves the English reading unchanged and rules out the Vietnamese one (its
    thousands groups have exactly three digits). Used by the CSV exports, which declare no locale.
    """
    text = str(number)
    if re.fullmatch(r"-?[0-9]{1,3}\.[0-9]{3}", text):
        return text + "0"
    return text
