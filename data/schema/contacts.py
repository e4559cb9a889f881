"""Contact fields of registry records: Vietnamese phone numbers and e-mail addresses.

A phone number is accepted as people write it (``0283 855 4137``, ``+84 28 3855 4137``,
``(028) 3855-4137``, ``0903.123.456``, ``84903123456``) and stored in one normalised national
form, grouped by the numbering plan so that each number has exactly one spelling:

- mobile, 9 significant digits starting 3, 5, 7, 8 or 9: ``0903 123 456``;
- fixed line, 10 significant digits starting 2 (area code 24 or 28: Hà Nội, Hồ Chí Minh City,
  else a three-digit 2xx code): ``028 3855 4137``, ``0251 382 2345``;
- hotline, ``1800``/``1900`` and 4 or 6 digits: ``1900 9095``, ``1800 599 920``.

The national form (leading ``0``, spaces) is what an officer dials and types, stays text in Excel
(a bare ``02838554137`` would lose its 0, and ``+84...`` would read as a formula), and compares
equal however the number was typed; :func:`phone_e164` gives the international form.
Source of the numbering plan: Ministry of Information and Communications circular
22/2014/TT-BTTTT and decision 798/QĐ-BTTTT (2018: 11-digit mobile numbers moved to 10 digits,
2017: landline area codes moved to 2xx).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()/]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)+$"
)
MAX_EMAIL_CHARS = 254
PHONE_EXAMPLES = "0283 855 4137, +84 28 3855 4137 or 0903 123 456"


def normalise_phone(text: str) -> str | None:
    """Return a Vietnamese phone number in its normalised national form, or None if it is not one.

    Spaces, dots, dashes, slashes and parentheses are ignored; ``+84``, ``0084`` and ``84``
    (before a full significant number) stand for the leading ``0``.

    Examples
    --------
    >>> normalise_phone("+84 28 3855 4137")
    '028 3855 4137'
    >>> normalise_phone("0903.123.456")
    '0903 123 456'
    >>> normalise_phone("5.200") is None
    True
    """
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+84"):
        significant = digits[3:]
    elif digits.startswith("0084"):
        significant = digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        significant = digits[2:]
    elif digits.startswith("0"):
        significant = digits[1:]
    elif re.fullmatch(r"1[89]00[0-9]{4}", digits):
        return f"{digits[:4]} {digits[4:]}"
    elif re.fullmatch(r"1[89]00[0-9]{6}", digits):
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    else:
        return None
    if not significant.isascii() or not significant.isdigit():
        return None
    if len(significant) == 9 and significant[0] in "35789":
        return f"0{significant[:3]} {significant[3:6]} {significant[6:]}"
    if len(significant) == 10 and significant[0] == "2":
        if significant[:2] in ("24", "28"):
            return f"0{significant[:2]} {significant[2:6]} {significant[6:]}"
        return f"0{significant[:3]} {significant[3:6]} {significant[6:]}"
    return None


def phone_e164(phone: str) -> str | None:
    """Return a phone number in E.164 (``+842838554137``); None for hotlines and non-numbers.

    Examples
    --------
    >>> phone_e164("028 3855 4137")
    '+842838554137'
    """
    national = normalise_phone(phone)
    if national is None or not national.startswith("0"):
        return None
    return "+84" + national[1:].replace(" ", "")


def phone_problem(name: str, value: str) -> str | None:
    """Return the problem (Vietnamese and English) of a phone field's value, or None if valid."""
    if normalise_phone(value) is not None:
        return None
    return (
        f"{name}: không phải số điện thoại Việt Nam / not a Vietnamese phone number, got "
        f"{value!r}; write it like {PHONE_EXAMPLES} (mobile: 10 digits from 03, 05, 07, 08, 09; "
        "landline: 11 digits from 02; hotline: 1800/1900)"
    )


def normalise_email(text: str) -> str:
    """Return an e-mail address trimmed, with its domain in lower case (the local part is kept)."""
    local, _, domain = text.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def email_problem(name: str, value: str) -> str | None:
    """Return the problem (Vietnamese and English) of an e-mail field's value, or None if valid."""
    text = value.strip()
    if len(text) <= MAX_EMAIL_CHARS and _EMAIL.fullmatch(text) and ".." not in text:
        return None
    return (
        f"{name}: không phải địa chỉ email / not an e-mail address, got {value!r}; write it like "
        "khoa.duoc@choray.vn"
    )
