"""Error and warning classes shared by every oxyroute package."""

from __future__ import annotations


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


class InfeasibleProblemError(OxyrouteError, RuntimeError):
    """A problem has no solution at all (not merely unmet demand, which is an answer)."""


class NoRouteError(OxyrouteError, RuntimeError):
    """No road path joins two points (different components, or a closure cut them apart)."""


class SolverTimeoutError(OxyrouteError, RuntimeError):
    """A solver reached its time limit without any feasible answer to return."""


class OxyrouteWarning(UserWarning):
    """Input is valid but suspicious (for example a facility far from any road); check it."""
