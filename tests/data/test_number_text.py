"""Numbers typed as text: read by a declared locale, ambiguous text refused, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.errors import MalformedInputError
from data.schema.number_text import (
    NumberLocale,
    NumberTextError,
    format_number_text,
    number_locale,
    read_number_text,
    unambiguous_number_text,
)

VI, EN = NumberLocale.VI, NumberLocale.EN


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("5.200", VI, "5200"),  # the cell: five thousand two hundred, never 5.2
        ("6.500", VI, "6500"),  # the litres of liquid
        ("5.200,5", VI, "5200.5"),
        ("1,5", VI, "1.5"),
        ("1.234.567", VI, "1234567"),
        ("5200,5", VI, "5200.5"),  # grouping is optional
        (" -3 ", VI, "-3"),  # surrounding spaces ignored
        ("5,200.5", EN, "5200.5"),
        ("5.200", EN, "5.2"),
        ("1,234,567", EN, "1234567"),
        ("650.5", EN, "650.5"),
        ("1e-05", EN, "0.00001"),  # what str() writes for small floats
        # No locale declared: text that every locale reads the same, or only one can read.
        ("650", None, "650"),
        ("650.5", None, "650.5"),  # only English reads it (a Vietnamese group has 3 digits)
        ("12,5", None, "12.5"),  # only Vietnamese reads it
        ("5.200,5", None, "5200.5"),
        ("5,200.5", None, "5200.5"),
        ("5.1250", None, "5.125"),
    ],
)
def test_text_is_read_by_its_locale(text: str, locale: NumberLocale | None, expected: str) -> None:
    assert read_number_text(text, locale) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "vietnamese", "english"),
    [
        ("5.200", "5200", "5.2"),  # the example
        ("6.500", "6500", "6.5"),
        ("1,234", "1,234", "1234"),  # the Vietnamese half writes 1.234 the Vietnamese way
        ("-10.000", "-10000", "-10"),
    ],
)
def test_ambiguous_text_is_refused_without_a_locale(
    text: str, vietnamese: str, english: str
) -> None:
    with pytest.raises(NumberTextError) as error:
        read_number_text(text, None)
    reason = error.value.reason
    assert "is ambiguous" in reason and "không rõ nghĩa" in reason
    assert f"{vietnamese} theo cách viết tiếng Việt" in reason
    assert "?locale=vi" in reason and "Hướng dẫn" in reason  # how to fix it


@pytest.mark.parametrize(
    ("text", "locale", "hint"),
    [
        ("5,200.5", VI, "type 5.200,5"),  # English separators under a Vietnamese declaration
        ("650.5", VI, "type 650,5"),
        ("5.200,5", EN, "type 5,200.5"),
        ("1,5", EN, "type 1.5"),
        ("5.20", VI, "type 5,2"),  # a thousands group of two digits
    ],
)
def test_text_that_does_not_fit_the_locale_is_refused(
    text: str, locale: NumberLocale, hint: str
) -> None:
    with pytest.raises(NumberTextError) as error:
        read_number_text(text, locale)
    assert hint in error.value.reason
    assert "không phải số viết theo cách" in error.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "five",  # a word
        "5 200",  # spaces inside are not a thousands mark here
        "nan",  # not a quantity
        ".5",  # a decimal mark needs a digit before it
        "1e999",  # beyond any float
        "9" * 65,  # longer than any typed number
    ],
)
def test_what_is_no_number_in_any_locale_is_refused(text: str) -> None:
    for locale in (None, VI, EN):
        with pytest.raises(NumberTextError):
            read_number_text(text, locale)


def test_locale_names() -> None:
    assert number_locale(" VI ") == VI and number_locale("en") == EN
    assert number_locale(None) is None and number_locale("") is None
    with pytest.raises(MalformedInputError, match="locale: must be vi"):
        number_locale("fr")


def test_formatting() -> None:
    assert format_number_text(5200.5, VI) == "5.200,5"
    assert format_number_text(-1234567, EN) == "-1,234,567"
    assert format_number_text(Decimal("0.25"), VI) == "0,25"
    assert unambiguous_number_text(5.125) == "5.1250"
    assert unambiguous_number_text(5200.125) == "5200.125"
    assert unambiguous_number_text(12.5) == "12.5"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(number=st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
def test_written_numbers_read_back(number: float) -> None:
    # What the CSV exports write reads back the same with no locale declared...
    assert float(read_number_text(unambiguous_number_text(number), None)) == number
    # ...and what a person writes in a locale (to four decimals) reads back the same in it.
    typed = round(number, 4)
    for locale in NumberLocale:
        assert float(read_number_text(format_number_text(typed, locale), locale)) == typed
