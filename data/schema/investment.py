"""Value types of the investment problem: candidates, case scenarios, options and the answer.

Conventions as in :mod:`data.schema.allocation`: gas volumes are m³ at normal conditions (suffix
``_m3``), money is Vietnamese đồng (suffix ``_vnd``), installation time is weeks (``_weeks``).
Every record is a frozen dataclass that validates itself on construction and raises
:class:`~data.errors.InvalidInputError` naming each field at fault, its value and the fix. The
meaning of each candidate kind (what capacity it adds, and where) is documented in
``docs/investment.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError


class CandidateKind(StrEnum):
    """What a candidate investment is, and which capacity of the allocation network it raises.

    - ``liquid_tank``: a liquid-oxygen tank (VIE) at a facility; the facility then accepts
      ``bulk_liquid`` and its daily liquid receiving limit rises by the tank's gas content.
    - ``psa_plant``: a PSA plant at a facility; its gas serves that facility's demand on site
      (piped, or through cylinders it fills), up to its output per day.
    - ``cylinders``: 40 L cylinders bought for a facility; each raises its daily cylinder
      receiving limit by one cylinder's gas (the facility can swap one more empty for a full).
    - ``tanker``: a cryogenic tanker for a supplier; its ``bulk_liquid`` dispatch capacity rises.
    - ``cylinder_truck``: a cylinder truck for a supplier; its ``cylinder`` dispatch rises.
    """

    LIQUID_TANK = "liquid_tank"
    PSA_PLANT = "psa_plant"
    CYLINDERS = "cylinders"
    TANKER = "tanker"
    CYLINDER_TRUCK = "cylinder_truck"


FACILITY_KINDS = frozenset(
    {CandidateKind.LIQUID_TANK, CandidateKind.PSA_PLANT, CandidateKind.CYLINDERS}
)
"""Kinds installed at a facility (``facility_id`` set); the others go to a supplier."""


def _finite(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _non_negative(name: str, value: object, problems: list[str], *, positive: bool = False) -> None:
    bad = not _finite(value) or (value <= 0 if positive else value < 0)  # type: ignore[operator]
    if bad:
        bound = "> 0" if positive else ">= 0"
        problems.append(f"{name}: must be a finite number {bound}, got {value!r}")


@dataclass(frozen=True, slots=True)
class InvestmentCandidate:
    """One investment that may be bought, in whole units.

    Parameters
    ----------
    candidate_id
        Stable id (non-empty), unique in a problem.
    kind
        What it is (:class:`CandidateKind`).
    site_id
        The facility (``liquid_tank``, ``psa_plant``, ``cylinders``) or supplier (``tanker``,
        ``cylinder_truck``) it goes to.
    capex_vnd
        Purchase and installation cost of one unit (đồng, >= 0).
    install_weeks
        Weeks from decision to use (>= 0); a candidate slower than the deadline is never chosen.
    capacity_m3_per_day
        Gas m³ per day one unit adds (> 0): receiving limit, on-site output or dispatch capacity,
        as its kind says.
    max_units
        Most units that may be bought (integer >= 1; 1 for a tank or a plant).
    running_cost_vnd_per_day
        Running cost of one unit per day in use (đồng, >= 0; electricity of a PSA plant).
    name
        Display name (Vietnamese welcome), e.g. ``"Bồn VIE 5.680 L"``.
    source
        Where its figures come from, or ``"assumption: ..."`` (docs/investment.md).
    """

    candidate_id: str
    kind: CandidateKind
    site_id: str
    capex_vnd: float
    install_weeks: float
    capacity_m3_per_day: float
    max_units: int = 1
    running_cost_vnd_per_day: float = 0.0
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.candidate_id, str) or not self.candidate_id.strip():
            problems.append(f"candidate_id: must be a non-empty text, got {self.candidate_id!r}")
        if not isinstance(self.kind, CandidateKind):
            known = ", ".join(k.value for k in CandidateKind)
            problems.append(f"kind: unknown kind {self.kind!r}; use one of {known}")
        if not isinstance(self.site_id, str) or not self.site_id.strip():
            problems.append(
                f"site_id: must name a facility or supplier (non-empty), got {self.site_id!r}"
            )
        _non_negative("capex_vnd", self.capex_vnd, problems)
        _non_negative("install_weeks", self.install_weeks, problems)
        _non_negative("capacity_m3_per_day", self.capacity_m3_per_day, problems, positive=True)
        _non_negative("running_cost_vnd_per_day", self.running_cost_vnd_per_day, problems)
        if (
            isinstance(self.max_units, bool)
            or not isinstance(self.max_units, int)
            or not 1 <= self.max_units <= 1_000_000
        ):
            problems.append(
                f"max_units: must be a whole number from 1 to 1,000,000, got {self.max_units!r}"
            )
        if problems:
            raise InvalidInputError.from_problems(f"candidate {self.candidate_id!r}", problems)

    @property
    def at_facility(self) -> bool:
        """True when the candidate is installed at a facility (else at a supplier)."""
        return self.kind in FACILITY_KINDS


@dataclass(frozen=True, slots=True)
class InvestmentOptions:
    """Solver settings of the investment optimisation (all validated).

    Parameters
    ----------
    time_limit_s
        Time limit of each MILP solve (default 60 s); the answer then says its gap.
    mip_rel_gap
        Relative gap at which HiGHS stops (default 0: prove the optimum). The benchmark's goal
        allows up to 0.01.
    unmet_tolerance
        Relative slack (default 1e-6) on the optimal unmet demand kept while the second solve
        minimises cost, for floating-point noise.
    """

    time_limit_s: float = 60.0
    mip_rel_gap: float = 0.0
    unmet_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        problems: list[str] = []
        _non_negative("time_limit_s", self.time_limit_s, problems, positive=True)
        if not _finite(self.mip_rel_gap) or not 0 <= self.mip_rel_gap < 1:
            problems.append(f"mip_rel_gap: must be from 0 to below 1, got {self.mip_rel_gap!r}")
        if not _finite(self.unmet_tolerance) or not 0 <= self.unmet_tolerance < 0.01:
            problems.append(
                f"unmet_tolerance: must be from 0 to below 0.01, got {self.unmet_tolerance!r}"
            )
        if problems:
            raise InvalidInputError.from_problems("investment options", problems)


@dataclass(frozen=True, slots=True)
class InvestmentProblem:
    """A province's investment question in matrix form (the core's input).

    Axes: K scenarios, S suppliers, F facilities, P products (order of
    :data:`~data.schema.allocation.PRODUCTS`), D days. Arrays are read, never changed.

    Parameters
    ----------
    supplier_ids, facility_ids
        Business ids in matrix order.
    scenario_names
        One name per scenario.
    scenario_weights
        float (K,): weights > 0 (probabilities, or any positive weights: they are normalised).
    travel_time_s
        int64 (K, S, F): seconds, ``-1`` = unreachable (roads may differ by scenario).
    capacity_m3
        float (K, S, P, D): gas each supplier can dispatch of each product on each day.
    demand_m3
        float (K, F, D): gas each facility needs on each day.
    accepted
        bool (F, P): products each facility accepts before any investment.
    receiving_limit_m3
        float (F, P): most a facility can receive of a product per day, ``inf`` = no limit.
    priority
        int (F,): priority weights >= 1 (:mod:`matcher.objective`).
    candidates
        The investments that may be bought.
    budget_vnd
        Most that may be spent on capex (đồng, >= 0).
    deadline_weeks
        Only candidates installed within this many weeks count (>= 0).
    max_delivery_time_s
        Longest usable delivery (seconds) or ``None`` for no limit.
    """

    supplier_ids: tuple[str, ...]
    facility_ids: tuple[str, ...]
    scenario_names: tuple[str, ...]
    scenario_weights: npt.NDArray[np.float64]
    travel_time_s: npt.NDArray[np.int64]
    capacity_m3: npt.NDArray[np.float64]
    demand_m3: npt.NDArray[np.float64]
    accepted: npt.NDArray[np.bool_]
    receiving_limit_m3: npt.NDArray[np.float64]
    priority: npt.NDArray[np.int64]
    candidates: tuple[InvestmentCandidate, ...]
    budget_vnd: float
    deadline_weeks: float
    max_delivery_time_s: int | None = None

    def __post_init__(self) -> None:
        problems = self._shape_problems()
        if not problems:
            problems = self._value_problems() + self._candidate_problems()
        if problems:
            raise InvalidInputError.from_problems("investment problem", problems)

    @property
    def horizon_days(self) -> int:
        """Days of the horizon (D)."""
        return int(self.demand_m3.shape[2])

    def _shape_problems(self) -> list[str]:
        k, s, f = len(self.scenario_names), len(self.supplier_ids), len(self.facility_ids)
        problems: list[str] = []
        if k == 0:
            problems.append("scenarios: none given; give at least one scenario with a weight")
        expected = {
            "scenario_weights": (k,),
            "travel_time_s": (k, s, f),
            "accepted": (f, 2),
            "receiving_limit_m3": (f, 2),
            "priority": (f,),
        }
        for name, shape in expected.items():
            actual = np.shape(getattr(self, name))
            if actual != shape:
                problems.append(f"{name}: shape {actual}, expected {shape}")
        capacity_shape, demand_shape = np.shape(self.capacity_m3), np.shape(self.demand_m3)
        if len(capacity_shape) != 4 or capacity_shape[:3] != (k, s, 2):
            problems.append(f"capacity_m3: shape {capacity_shape}, expected ({k}, {s}, 2, days)")
        if len(demand_shape) != 3 or demand_shape[:2] != (k, f):
            problems.append(f"demand_m3: shape {demand_shape}, expected ({k}, {f}, days)")
        elif len(capacity_shape) == 4 and capacity_shape[3] != demand_shape[2]:
            problems.append(
                f"capacity_m3 and demand_m3: {capacity_shape[3]} and {demand_shape[2]} days"
            )
        return problems

    def _value_problems(self) -> list[str]:
        problems: list[str] = []
        for name, values in (
            ("scenario_weights", self.scenario_weights),
            ("capacity_m3", self.capacity_m3),
            ("demand_m3", self.demand_m3),
        ):
            bad = ~np.isfinite(values) | (np.asarray(values) < 0)
            for index in np.argwhere(bad)[:5]:
                where = "][".join(str(i) for i in index)
                problems.append(
                    f"{name}[{where}]: must be a finite number >= 0, got "
                    f"{float(values[tuple(index)])!r}"
                )
        for index, name in enumerate(self.scenario_names):
            if float(self.scenario_weights[index]) <= 0:
                problems.append(f"scenarios[{index}].weight: must be > 0 ({name!r}), got 0")
        if np.any(np.isnan(self.receiving_limit_m3)) or np.any(self.receiving_limit_m3 < 0):
            problems.append("receiving_limit_m3: must be >= 0 or inf (no limit)")
        if np.any(np.asarray(self.priority) < 1):
            problems.append("priority: every weight must be an integer >= 1")
        if not _finite(self.budget_vnd) or self.budget_vnd < 0:
            problems.append(
                f"budget_vnd: must be a number of đồng >= 0, got {self.budget_vnd!r}; "
                "give 0 to see the unmet demand without investment"
            )
        if not _finite(self.deadline_weeks) or self.deadline_weeks < 0:
            problems.append(f"deadline_weeks: must be a number >= 0, got {self.deadline_weeks!r}")
        if self.max_delivery_time_s is not None and (
            not isinstance(self.max_delivery_time_s, int) or self.max_delivery_time_s < 0
        ):
            problems.append(
                f"max_delivery_time_s: must be whole seconds >= 0 or None, "
                f"got {self.max_delivery_time_s!r}"
            )
        return problems

    def _candidate_problems(self) -> list[str]:
        problems: list[str] = []
        facilities, suppliers = set(self.facility_ids), set(self.supplier_ids)
        seen: set[str] = set()
        for index, candidate in enumerate(self.candidates):
            where = f"candidates[{index}]"
            if candidate.candidate_id in seen:
                problems.append(
                    f"{where}.candidate_id: {candidate.candidate_id!r} is listed twice; "
                    "give each candidate its own id"
                )
            seen.add(candidate.candidate_id)
            if candidate.at_facility and candidate.site_id not in facilities:
                problems.append(
                    f"{where}.facility_id: unknown facility {candidate.site_id!r} "
                    f"(candidate {candidate.candidate_id!r}); use a facility of the region"
                )
            if not candidate.at_facility and candidate.site_id not in suppliers:
                problems.append(
                    f"{where}.supplier_id: unknown supplier {candidate.site_id!r} "
                    f"(candidate {candidate.candidate_id!r}); known: {', '.join(sorted(suppliers))}"
                )
        return problems


@dataclass(frozen=True, slots=True)
class ChosenInvestment:
    """A candidate in a portfolio: how many units, what they cost (đồng)."""

    candidate_id: str
    kind: CandidateKind
    site_id: str
    units: int
    capex_vnd: float
    running_cost_vnd: float
    capacity_m3_per_day: float


@dataclass(frozen=True, slots=True)
class ScenarioUnmet:
    """Unmet demand of one scenario (m³ over the horizon, and priority-weighted)."""

    scenario: str
    weight: float
    demand_m3: float
    unmet_m3: float
    weighted_unmet: float
    unmet_m3_by_facility: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class PortfolioResult:
    """An evaluated portfolio: what is bought, its cost, and the unmet demand it leaves.

    ``expected_weighted_unmet`` is the objective (scenario weights normalised to 1, priority
    weights of :mod:`matcher.objective`); ``expected_unmet_m3`` the same without priorities.
    ``status`` is ``"optimal"`` (proven, within ``mip_rel_gap``), ``"time_limit"`` (best found,
    gap in ``mip_gap``) or ``"evaluated"`` (a given portfolio, e.g. the greedy baseline's).
    """

    method: str
    budget_vnd: float
    chosen: tuple[ChosenInvestment, ...]
    capex_vnd: float
    running_cost_vnd: float
    expected_unmet_m3: float
    expected_weighted_unmet: float
    scenarios: tuple[ScenarioUnmet, ...]
    status: str
    mip_gap: float
    solve_time_s: float


@dataclass(frozen=True, slots=True)
class CostCurvePoint:
    """One budget of the cost curve and the optimal portfolio's unmet demand there."""

    budget_vnd: float
    capex_vnd: float
    expected_unmet_m3: float
    expected_weighted_unmet: float
    status: str
    mip_gap: float


CANDIDATE_COLUMNS: tuple[str, ...] = (
    "candidate_id",
    "kind",
    "facility_id",
    "supplier_id",
    "name",
    "size",
    "size_unit",
    "capex_vnd",
    "install_weeks",
    "capacity_m3_per_day",
    "max_units",
    "running_cost_vnd_per_day",
    "cylinders_per_day",
    "source",
)
"""Columns of the candidates CSV (docs/investment.md); ``size``, ``size_unit``,
``cylinders_per_day`` and ``name`` are for people, the solver reads the others."""

_REQUIRED_COLUMNS = ("candidate_id", "kind", "capex_vnd", "install_weeks", "capacity_m3_per_day")


def _cell_number(
    row: dict[str, str], column: str, where: str, problems: list[str], default: float | None
) -> float | None:
    text = (row.get(column) or "").strip().replace("_", "")
    if not text:
        if default is None:
            problems.append(f"{where}, {column}: missing; give a number")
        return default
    try:
        return float(text)
    except ValueError:
        problems.append(f"{where}, {column}: not a number, got {text!r}")
        return None


def _candidate_from_row(
    row: dict[str, str], where: str, problems: list[str]
) -> InvestmentCandidate | None:
    kind_text = (row.get("kind") or "").strip()
    kinds = {k.value: k for k in CandidateKind}
    kind = kinds.get(kind_text)
    if kind is None:
        problems.append(f"{where}, kind: unknown kind {kind_text!r}; use one of {', '.join(kinds)}")
    site_column = "facility_id" if kind in FACILITY_KINDS else "supplier_id"
    site = (row.get(site_column) or "").strip()
    if kind is not None and not site:
        problems.append(f"{where}, {site_column}: missing; a {kind_text} goes to a {site_column}")
    numbers = {
        column: _cell_number(row, column, where, problems, default)
        for column, default in (
            ("capex_vnd", None),
            ("install_weeks", None),
            ("capacity_m3_per_day", None),
            ("max_units", 1.0),
            ("running_cost_vnd_per_day", 0.0),
        )
    }
    max_units = numbers["max_units"]
    if max_units is not None and not float(max_units).is_integer():
        problems.append(f"{where}, max_units: must be a whole number, got {max_units!r}")
        return None
    if kind is None or not site or any(v is None for v in numbers.values()):
        return None
    try:
        return InvestmentCandidate(
            candidate_id=(row.get("candidate_id") or "").strip(),
            kind=kind,
            site_id=site,
            capex_vnd=float(numbers["capex_vnd"] or 0.0),
            install_weeks=float(numbers["install_weeks"] or 0.0),
            capacity_m3_per_day=float(numbers["capacity_m3_per_day"] or 0.0),
            max_units=int(max_units or 1),
            running_cost_vnd_per_day=float(numbers["running_cost_vnd_per_day"] or 0.0),
            name=(row.get("name") or "").strip(),
            source=(row.get("source") or "").strip(),
        )
    except InvalidInputError as error:
        problems.extend(f"{where}, {problem}" for problem in error.problems)
        return None


def candidates_from_csv_text(
    text: str, *, name: str = "candidates"
) -> tuple[InvestmentCandidate, ...]:
    """Parse a candidates CSV (UTF-8 text, header row; columns :data:`CANDIDATE_COLUMNS`).

    Parameters
    ----------
    text
        The file's text (a byte-order mark is allowed).
    name
        The file's name, for messages.

    Returns
    -------
    tuple of InvestmentCandidate
        In file order.

    Raises
    ------
    InvalidInputError
        Listing every problem as ``<name> row N, <column>: ...`` (the header is row 1): a missing
        required column, an unknown kind, a number that does not parse, a negative cost, a
        missing facility or supplier id, a duplicate id.
    """
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [column.strip() for column in reader.fieldnames or []]
    missing = [column for column in _REQUIRED_COLUMNS if column not in header]
    if missing:
        raise InvalidInputError.from_problems(
            f"candidates file {name}",
            [
                f"{name}, {column}: missing column (columns: {', '.join(CANDIDATE_COLUMNS)})"
                for column in missing
            ],
        )
    problems: list[str] = []
    candidates: list[InvestmentCandidate] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        row = {(key or "").strip(): value for key, value in raw.items()}
        where = f"{name} row {number}"
        candidate = _candidate_from_row(row, where, problems)
        if candidate is None:
            continue
        if candidate.candidate_id in seen:
            problems.append(f"{where}, candidate_id: {candidate.candidate_id!r} is listed twice")
        seen.add(candidate.candidate_id)
        candidates.append(candidate)
    if problems:
        raise InvalidInputError.from_problems(f"candidates file {name}", problems)
    return tuple(candidates)
