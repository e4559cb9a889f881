"""Errors of the core layers (data, matcher, routing, coordination), one hierarchy.

The HTTP layer adds its own in :mod:`web.errors`. Each class says when it fires and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass


class OxyrouteError(Exception):
    """Base class of every error oxyroute raises on purpose."""


class InvalidInputError(OxyrouteError, ValueError):
    """Input breaks a documented rule (a field, a value, a file's content).

    The message names each field at fault, shows the offending value and says how to fix it.
    ``problems`` lists every problem found, so a caller can report them all at once.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems if problems is not None else [message]
        super().__init__(message)

    @classmethod
    def from_problems(cls, what: str, problems: list[str]) -> InvalidInputError:
        """Build one error listing every problem found while validating ``what``."""
        joined = "\n  - ".join(problems)
        return cls(f"invalid {what} ({len(problems)} problem(s)):\n  - {joined}", problems)


class MissingDataFileError(OxyrouteError, FileNotFoundError):
    """A data file a region or command needs is not where the settings say.

    Fix it by pointing ``OXYROUTE_DATA_DIR`` (or ``--data-dir``) at the folder holding the file,
    or by correcting the path in the region file.
    """


class NoRouteError(OxyrouteError, RuntimeError):
    """No road path joins two points (different components, or a closure cut them apart)."""


class SolverTimeoutError(OxyrouteError, RuntimeError):
    """A solver reached its time limit without any feasible answer to return."""


class MalformedInputError(InvalidInputError):
    """A request body or a file row has the wrong shape.

    A field is unknown or missing, or a value has the wrong type (text where a number is expected,
    a date not written ``YYYY-MM-DD``).

    Each entry of ``problems`` starts with the field name; fix that field and send again.
    """


class AuthenticationError(OxyrouteError):
    """No valid credentials.

    The token is missing, malformed, unknown, expired, revoked, or its user is disabled. Send
    ``Authorization: Bearer <token>`` with a token from ``oxyroute users token``.
    """


class PermissionDeniedError(OxyrouteError, PermissionError):
    """The user is known but its role or scope does not allow this operation.

    Ask an admin for a user with the right role (or scope).
    """


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem in an imported file: spreadsheet row (header = 1), column, reason."""

    row: int
    column: str
    reason: str


class ImportRejectedError(InvalidInputError):
    """An imported file has bad rows; nothing was imported.

    ``row_problems`` lists each one (row number, column, reason): fix them all and import the file
    again.
    """

    def __init__(self, row_problems: list[RowProblem]) -> None:
        self.row_problems = row_problems
        problems = [f"row {p.row}, {p.column}: {p.reason}" for p in row_problems]
        joined = "\n  - ".join(problems)
        super().__init__(f"nothing imported ({len(problems)} problem(s)):\n  - {joined}", problems)


class RecordNotFoundError(OxyrouteError, LookupError):
    """The record asked for does not exist; check its id (``GET`` the collection to list them)."""


class ConflictError(OxyrouteError, RuntimeError):
    """The change conflicts with stored data.

    The id already exists, the record is still referenced (delete or change the referring records
    first), or a concurrent request with the same Idempotency-Key is in progress (retry later).
    """


class LockedError(ConflictError):
    """The province approved the day, which locks its reports.

    A coordinator (or an admin) must unlock the day, giving a reason, before a report of that day
    can be submitted or corrected.
    """


class IdempotencyKeyReusedError(InvalidInputError):
    """An Idempotency-Key was sent again with a different request; use a new key for a new one."""


class InvalidRoutePlanError(OxyrouteError, ValueError):
    """A route plan breaks a constraint of its problem (a solver or serialisation bug).

    ``problems`` lists every violation found. Report it as an internal error: the plan must not
    be sent to drivers. (Defined here until it joins ``data/errors.py``.)
    """

    def __init__(self, message: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(message)
