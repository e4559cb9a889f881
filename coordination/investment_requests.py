"""Investment requests from the API: candidate rows as JSON, default candidates, the JSON answer.

Beside :mod:`coordination.investment` (the case, the solve and the command's files), what the
planners' endpoints (``web/investment.py``) and notebooks need: candidates given as JSON rows
(:func:`candidates_from_rows`), the candidates a region is offered when a request gives none
(:func:`default_candidates`), a check that every scenario applies to the base data before
anything is planned (:func:`check_scenarios_apply`) and the answer as JSON-ready data
(:func:`investment_to_dict`). Formats: ``docs/investment.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from coordination.investment import (
    InvestmentAnswer,
    InvestmentCase,
    WeightedScenario,
    candidates_for_region,
    hcmc_candidate_types,
    site_name,
)
from coordination.planning import PlanRequest
from coordination.scenarios import apply_scenario
from data.errors import InvalidInputError
from data.schema.investment import CandidateKind, InvestmentCandidate, PortfolioResult
from routing.network import RoadNetwork

_NUMBER_COLUMNS = (
    ("capex_vnd", None),
    ("install_weeks", None),
    ("capacity_m3_per_day", None),
    ("max_units", 1.0),
    ("running_cost_vnd_per_day", 0.0),
)


def _row_number(
    row: Mapping[str, Any], column: str, where: str, default: float | None, problems: list[str]
) -> float | None:
    value = row.get(column)
    if value is None or value == "":
        if default is None:
            problems.append(f"{where}.{column}: missing; give a number")
        return default
    if isinstance(value, str):
        try:
            return float(value.strip().replace("_", ""))
        except ValueError:
            pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    problems.append(f"{where}.{column}: must be a number, got {value!r}")
    return None


def _row_text(row: Mapping[str, Any], column: str, where: str, problems: list[str]) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    if not isinstance(value, str):
        problems.append(f"{where}.{column}: must be text, got {value!r}")
        return ""
    return value.strip()


def _candidate_from_json_row(
    row: Any, where: str, problems: list[str]
) -> InvestmentCandidate | None:
    from data.schema.investment import CANDIDATE_COLUMNS, FACILITY_KINDS

    if not isinstance(row, Mapping):
        problems.append(f"{where}: must be an object with the columns of the candidates CSV")
        return None
    problems.extend(
        f"{where}.{key}: unknown column (allowed: {', '.join(CANDIDATE_COLUMNS)})"
        for key in sorted(set(row) - set(CANDIDATE_COLUMNS), key=str)
    )
    texts = {
        c: _row_text(row, c, where, problems)
        for c in ("candidate_id", "kind", "facility_id", "supplier_id", "name", "source")
    }
    kinds = {k.value: k for k in CandidateKind}
    kind = kinds.get(texts["kind"])
    if kind is None:
        problems.append(
            f"{where}.kind: unknown kind {texts['kind']!r}; use one of {', '.join(kinds)}"
        )
        return None
    site_column = "facility_id" if kind in FACILITY_KINDS else "supplier_id"
    if not texts[site_column]:
        problems.append(f"{where}.{site_column}: missing; a {kind.value} goes to a {site_column}")
    numbers = {c: _row_number(row, c, where, d, problems) for c, d in _NUMBER_COLUMNS}
    units = numbers["max_units"]
    if units is not None and not float(units).is_integer():
        problems.append(f"{where}.max_units: must be a whole number, got {units!r}")
        return None
    if not texts[site_column] or any(v is None for v in numbers.values()):
        return None
    try:
        return InvestmentCandidate(
            candidate_id=texts["candidate_id"],
            kind=kind,
            site_id=texts[site_column],
            capex_vnd=float(numbers["capex_vnd"] or 0.0),
            install_weeks=float(numbers["install_weeks"] or 0.0),
            capacity_m3_per_day=float(numbers["capacity_m3_per_day"] or 0.0),
            max_units=int(units or 1),
            running_cost_vnd_per_day=float(numbers["running_cost_vnd_per_day"] or 0.0),
            name=texts["name"],
            source=texts["source"],
        )
    except InvalidInputError as error:
        problems.extend(f"{where}.{problem}" for problem in error.problems)
        return None


def candidates_from_rows(rows: Any) -> tuple[InvestmentCandidate, ...]:
    """Read candidates given as JSON rows: objects with the columns of the candidates CSV.

    Numbers may be JSON numbers or numeric text; ``max_units`` and ``running_cost_vnd_per_day``
    default to 1 and 0 as in the CSV. Unknown facilities and suppliers are found later, by the
    problem (:class:`~data.schema.investment.InvestmentProblem`), under the same paths.

    Raises
    ------
    InvalidInputError
        Listing every problem as ``candidates[i].<column>: ...`` (an unknown column or kind, a
        number that does not parse, a negative cost, a missing site, a duplicate id).
    """
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError(
            "candidates: must be a non-empty list of rows (objects with the columns of the "
            "candidates CSV: candidate_id, kind, facility_id or supplier_id, capex_vnd, ...)"
        )
    problems: list[str] = []
    candidates: list[InvestmentCandidate] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        candidate = _candidate_from_json_row(row, f"candidates[{index}]", problems)
        if candidate is None:
            continue
        if candidate.candidate_id in seen:
            problems.append(
                f"candidates[{index}].candidate_id: {candidate.candidate_id!r} is listed twice"
            )
        seen.add(candidate.candidate_id)
        candidates.append(candidate)
    if problems:
        raise InvalidInputError.from_problems("candidates", problems)
    return tuple(candidates)


def bundled_candidates_path(region_id: str) -> Path | None:
    """Return the candidates file shipped for a region (``data/investment_candidates_<id>.csv``).

    None when the region has none (then :func:`default_candidates` offers the default types).
    """
    import data

    if not region_id.replace("_", "").isalnum():
        return None
    path = Path(data.__file__).resolve().parent / f"investment_candidates_{region_id}.csv"
    return path if path.is_file() else None


def default_candidates(
    region_id: str, base: PlanRequest
) -> tuple[tuple[InvestmentCandidate, ...], str]:
    """Return the candidates offered when a request gives none, and where they came from.

    The region's bundled file when it has one, less the rows whose facility or supplier is not
    in the base request (the registry changes; a bundled row may name a site it no longer
    has); else the candidate types of :func:`hcmc_candidate_types` offered to the base's
    facilities and suppliers by their rules (:func:`candidates_for_region`), as the command
    does without ``--candidates``.
    """
    from data.schema.investment import candidates_from_csv_text

    path = bundled_candidates_path(region_id)
    if path is None:
        offered = candidates_for_region(
            base.facilities, base.suppliers, hcmc_candidate_types(base.conversions)
        )
        return offered, f"default types offered by their rules ({len(offered)} candidates)"
    rows = candidates_from_csv_text(path.read_text(encoding="utf-8-sig"), name=path.name)
    sites = {f.facility_id for f in base.facilities} | {s.supplier_id for s in base.suppliers}
    kept = tuple(c for c in rows if c.site_id in sites)
    return kept, (
        f"bundled file {path.name} ({len(kept)} of {len(rows)} rows; "
        f"{len(rows) - len(kept)} at sites not in the registry left out)"
    )


# ----------------------------------------------------------------------------- JSON answer


def _chosen_rows(case: InvestmentCase, result: PortfolioResult) -> list[dict[str, Any]]:
    names = {c.candidate_id: (c.name, c.source) for c in case.problem.candidates}
    return [
        {
            "candidate_id": chosen.candidate_id,
            "kind": chosen.kind.value,
            "site_id": chosen.site_id,
            "site_name": site_name(case, chosen.site_id),
            "candidate_name": names[chosen.candidate_id][0],
            "units": chosen.units,
            "capex_vnd": round(chosen.capex_vnd),
            "running_cost_vnd": round(chosen.running_cost_vnd),
            "capacity_m3_per_day": round(chosen.capacity_m3_per_day, 1),
            "source": names[chosen.candidate_id][1],
        }
        for chosen in result.chosen
    ]


def _result_summary(result: PortfolioResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "mip_gap": round(result.mip_gap, 6),
        "solve_time_s": round(result.solve_time_s, 2),
        "capex_vnd": round(result.capex_vnd),
        "running_cost_vnd": round(result.running_cost_vnd),
        "expected_unmet_m3": round(result.expected_unmet_m3, 1),
        "expected_weighted_unmet": round(result.expected_weighted_unmet, 1),
    }


def investment_to_dict(case: InvestmentCase, answer: InvestmentAnswer) -> dict[str, Any]:
    """Return the answer as JSON-ready data: portfolios, unmet per scenario, the cost curve.

    ``portfolio`` (the optimum) and ``greedy_portfolio`` list each candidate bought with its
    site's id and name, units, capex and running cost (đồng) and capacity (m³/day);
    ``scenarios`` the unmet demand of each scenario (m³ over the horizon) before, with the
    optimum and with the greedy baseline; ``cost_curve`` one point per budget asked for.
    """
    problem = case.problem
    scenarios = [
        {
            "scenario": before.scenario,
            "weight": round(before.weight, 6),
            "demand_m3": round(before.demand_m3, 1),
            "unmet_m3_before": round(before.unmet_m3, 1),
            "unmet_m3_after": round(after.unmet_m3, 1),
            "unmet_m3_greedy": round(greedy.unmet_m3, 1),
        }
        for before, after, greedy in zip(
            answer.before.scenarios, answer.optimum.scenarios, answer.greedy.scenarios, strict=True
        )
    ]
    return {
        "budget_vnd": problem.budget_vnd,
        "deadline_weeks": problem.deadline_weeks,
        "horizon_days": problem.horizon_days,
        "candidates": len(problem.candidates),
        "candidates_too_slow": sum(
            1 for c in problem.candidates if c.install_weeks > problem.deadline_weeks
        ),
        "portfolio": _chosen_rows(case, answer.optimum),
        "optimum": _result_summary(answer.optimum),
        "greedy_portfolio": _chosen_rows(case, answer.greedy),
        "greedy": _result_summary(answer.greedy),
        "before": _result_summary(answer.before),
        "scenarios": scenarios,
        "cost_curve": [
            {
                "budget_vnd": point.budget_vnd,
                "capex_vnd": round(point.capex_vnd),
                "expected_unmet_m3": round(point.expected_unmet_m3, 1),
                "expected_weighted_unmet": round(point.expected_weighted_unmet, 1),
                "status": point.status,
                "mip_gap": round(point.mip_gap, 6),
            }
            for point in answer.curve
        ],
    }


def check_scenarios_apply(
    base: PlanRequest, network: RoadNetwork, scenarios: Sequence[WeightedScenario]
) -> None:
    """Apply every scenario to copies of the base and throw the copies away.

    Finds, before anything is planned, the references the base data lack (an unknown supplier,
    facility, district or road), under the scenario's path.

    Raises
    ------
    InvalidInputError
        Listing every problem as ``scenarios[i].changes[j].<field>: ...``.
    """
    problems: list[str] = []
    for index, weighted in enumerate(scenarios):
        try:
            apply_scenario(weighted.scenario, base, network)
        except InvalidInputError as error:
            problems.extend(f"scenarios[{index}].{problem}" for problem in error.problems)
    if problems:
        raise InvalidInputError.from_problems("investment scenarios", problems)
