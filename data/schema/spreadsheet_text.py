"""Text cells a spreadsheet must show, not run: the formula guard of CSV exports and its undoing.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula when the file is opened in Excel or LibreOffice (OWASP "CSV injection"); our CSVs carry a
byte-order mark precisely so that Excel opens them. Exports therefore write such *text* cells
with a leading apostrophe (:func:`safe_text`), which spreadsheets show as text and hide; numbers
are never guarded (``-5`` stays a number). Imports read a guarded cell back as the original text
(:func:`unguarded_text`), so an export edited and sent back round-trips unchanged.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula."""


def safe_text(text: str) -> str:
    """Return ``text`` with a leading apostrophe when a spreadsheet would run it as a formula.

    Examples
    --------
    >>> safe_text("=1+1")
    "'=1+1"
    >>> safe_text("Bệnh viện Chợ Rẫy")
    'Bệnh viện Chợ Rẫy'
    """
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def unguarded_text(text: str) -> str:
    """Return a cell's text without the guard :func:`safe_text` adds (other text unchanged).

    Examples
    --------
    >>> unguarded_text("'=HYPERLINK(1)")
    '=HYPERLINK(1)'
    >>> unguarded_text("'quoted")
    "'quoted"
    """
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text
