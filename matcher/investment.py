"""Choose oxygen investments under case scenarios: a two-stage stochastic MILP (HiGHS).

Model
-----
First stage: how many units ``x_c`` of each candidate to buy (integers, 0 to ``max_units``;
binary for a tank or a plant), within the budget, and only candidates installed by the deadline
(any other is fixed to 0). Second stage, for every scenario k and day d: the allocation network
of :mod:`matcher.allocation` as a linear programme, with an unmet slack per facility:

- flow ``y[k,d,s,f,p] >= 0`` on each usable arc (reachable, within the maximum delivery time,
  and the facility accepts the product, or could once a tank is bought);
- supplier s, product p: ``sum_f y <= capacity[k,s,p,d] + sum(tanker or truck c of s) cap_c x_c``;
- facility f, product p (where a limit exists, or liquid without a tank yet):
  ``sum_s y <= limit[f,p] + sum(tank or cylinders c at f) cap_c x_c`` (``limit = 0`` for liquid
  at a facility without a tank);
- on-site gas ``g[k,d,f] <= sum(PSA plant c at f) cap_c x_c``;
- demand: ``sum_{s,p} y + g + u = demand[k,f,d]``, unmet ``0 <= u <= demand``.

Objective, lexicographic by two solves: first minimise the expected priority-weighted unmet
demand ``sum_k w_k sum_{d,f} priority_f u[k,d,f]`` (weights normalised to 1, priorities of
:mod:`matcher.objective`); then, with that optimum fixed (up to a relative tolerance for
floating-point noise), minimise the cost ``sum_c (capex_c + running_c x days) x_c``.

Why the extensive form (every scenario's network in one MILP): the second stage is a pure
network LP with continuous flows, so the whole problem is a MILP with few integer variables (one
per candidate) and many continuous ones; HiGHS's branch and bound works on its LP relaxation
directly and proves optimality (or certifies its gap), with no decomposition loop to tune. With
three scenarios, seven days and a province's facilities it stays near 10^4-10^5 variables,
well within reach; a Benders (L-shaped) decomposition would pay off only for many more scenarios.

Money is scaled to millions of đồng inside the model (:data:`MONEY_SCALE_VND`) so that budget
and cost coefficients stay near the gas quantities; results are stated in đồng again.

The greedy baseline (:func:`greedy_portfolio`) invests where unmet demand is largest first,
as a planner would by hand, so the value of optimising can be measured on the same problem.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from data.errors import SolverTimeoutError
from data.schema.investment import (
    CandidateKind,
    ChosenInvestment,
    CostCurvePoint,
    InvestmentCandidate,
    InvestmentOptions,
    InvestmentProblem,
    PortfolioResult,
    ScenarioUnmet,
)

MONEY_SCALE_VND = 1_000_000.0
"""Đồng per money unit inside the MILP (1 unit = 1 million đồng), a named scaling step."""

_LIQUID, _CYLINDER = 0, 1
_RECEIVING_KINDS = {CandidateKind.LIQUID_TANK: _LIQUID, CandidateKind.CYLINDERS: _CYLINDER}
_DISPATCH_KINDS = {CandidateKind.TANKER: _LIQUID, CandidateKind.CYLINDER_TRUCK: _CYLINDER}


def installable(candidate: InvestmentCandidate, problem: InvestmentProblem) -> bool:
    """Return whether a candidate can be chosen: in place by the deadline, one unit affordable.

    Parameters
    ----------
    candidate
        The candidate.
    problem
        Gives the deadline (weeks) and the budget (đồng).

    Returns
    -------
    bool
        ``install_weeks <= deadline_weeks`` and ``capex_vnd <= budget_vnd``.
    """
    return (
        candidate.install_weeks <= problem.deadline_weeks
        and candidate.capex_vnd <= problem.budget_vnd
    )


def _unit_bound(candidate: InvestmentCandidate, problem: InvestmentProblem) -> int:
    if not installable(candidate, problem):
        return 0
    if candidate.capex_vnd <= 0:
        return candidate.max_units
    return min(candidate.max_units, math.floor(problem.budget_vnd / candidate.capex_vnd + 1e-9))


def _total_cost_vnd(candidate: InvestmentCandidate, days: int) -> float:
    return candidate.capex_vnd + candidate.running_cost_vnd_per_day * days


@dataclass(slots=True)
class _Model:
    """The extensive-form MILP in sparse triplets (private; built once per problem)."""

    n_vars: int
    rows: list[int]
    cols: list[int]
    vals: list[float]
    lower_rhs: list[float]
    upper_rhs: list[float]
    unmet_cost: npt.NDArray[np.float64]
    #: (k, d, facility index, variable index) of every unmet slack
    unmet_vars: list[tuple[int, int, int, int]]

    def add_row(self, entries: Sequence[tuple[int, float]], low: float, high: float) -> None:
        row = len(self.lower_rhs)
        for col, val in entries:
            self.rows.append(row)
            self.cols.append(col)
            self.vals.append(val)
        self.lower_rhs.append(low)
        self.upper_rhs.append(high)


def _candidate_terms(
    problem: InvestmentProblem,
) -> tuple[
    dict[tuple[int, int], list[tuple[int, float]]],
    dict[tuple[int, int], list[tuple[int, float]]],
    dict[int, list[tuple[int, float]]],
]:
    """Return, per site, the (candidate index, -capacity) terms its rows gain."""
    facility_index = {fid: i for i, fid in enumerate(problem.facility_ids)}
    supplier_index = {sid: i for i, sid in enumerate(problem.supplier_ids)}
    receiving: dict[tuple[int, int], list[tuple[int, float]]] = {}
    dispatch: dict[tuple[int, int], list[tuple[int, float]]] = {}
    onsite: dict[int, list[tuple[int, float]]] = {}
    for c_idx, candidate in enumerate(problem.candidates):
        term = (c_idx, -candidate.capacity_m3_per_day)
        if candidate.kind in _RECEIVING_KINDS:
            key = (facility_index[candidate.site_id], _RECEIVING_KINDS[candidate.kind])
            receiving.setdefault(key, []).append(term)
        elif candidate.kind in _DISPATCH_KINDS:
            key = (supplier_index[candidate.site_id], _DISPATCH_KINDS[candidate.kind])
            dispatch.setdefault(key, []).append(term)
        else:
            onsite.setdefault(facility_index[candidate.site_id], []).append(term)
    return receiving, dispatch, onsite


def _usable_arcs(
    problem: InvestmentProblem,
    bounds: npt.NDArray[np.int64],
    receiving: dict[tuple[int, int], list[tuple[int, float]]],
    dispatch: dict[tuple[int, int], list[tuple[int, float]]],
) -> npt.NDArray[np.bool_]:
    """Return bool (K, S, F, P): arcs that can carry gas in some portfolio."""
    travel = problem.travel_time_s
    reachable = travel >= 0
    if problem.max_delivery_time_s is not None:
        reachable &= travel <= problem.max_delivery_time_s
    accepts = problem.accepted.copy()
    for (f_idx, product), terms in receiving.items():
        if product == _LIQUID and any(bounds[c] > 0 for c, _ in terms):
            accepts[f_idx, _LIQUID] = True
    offers = problem.capacity_m3.max(axis=3) > 0  # (K, S, P)
    for (s_idx, product), terms in dispatch.items():
        if any(bounds[c] > 0 for c, _ in terms):
            offers[:, s_idx, product] = True
    usable: npt.NDArray[np.bool_] = (
        reachable[:, :, :, None] & accepts[None, None, :, :] & offers[:, :, None, :]
    )
    return usable


def _build_model(problem: InvestmentProblem, bounds: npt.NDArray[np.int64]) -> _Model:
    """Build the extensive form: x, then per (scenario, day) the flows, on-site gas and unmet."""
    n_c = len(problem.candidates)
    receiving, dispatch, onsite = _candidate_terms(problem)
    usable = _usable_arcs(problem, bounds, receiving, dispatch)
    weights = problem.scenario_weights / problem.scenario_weights.sum()
    model = _Model(n_c, [], [], [], [], [], np.zeros(0), [])
    costs: list[float] = [0.0] * n_c
    n_k, n_f, n_d = len(problem.scenario_names), len(problem.facility_ids), problem.horizon_days
    for k in range(n_k):
        for d in range(n_d):
            demand = problem.demand_m3[k, :, d]
            arcs = np.argwhere(usable[k] & (demand > 0)[None, :, None])  # rows (s, f, p)
            first = model.n_vars
            model.n_vars += len(arcs)
            costs.extend([0.0] * len(arcs))
            incoming: dict[int, list[tuple[int, float]]] = {}
            by_supplier: dict[tuple[int, int], list[tuple[int, float]]] = {}
            by_receiver: dict[tuple[int, int], list[tuple[int, float]]] = {}
            for offset, (s_idx, f_idx, product) in enumerate(arcs):
                var = first + offset
                incoming.setdefault(int(f_idx), []).append((var, 1.0))
                by_supplier.setdefault((int(s_idx), int(product)), []).append((var, 1.0))
                by_receiver.setdefault((int(f_idx), int(product)), []).append((var, 1.0))
            for (s_idx, product), entries in by_supplier.items():
                model.add_row(
                    entries + dispatch.get((s_idx, product), []),
                    -np.inf,
                    float(problem.capacity_m3[k, s_idx, product, d]),
                )
            for (f_idx, product), entries in by_receiver.items():
                accepted = bool(problem.accepted[f_idx, product])
                limit = float(problem.receiving_limit_m3[f_idx, product]) if accepted else 0.0
                if math.isfinite(limit):
                    model.add_row(entries + receiving.get((f_idx, product), []), -np.inf, limit)
            for f_idx in range(n_f):
                if demand[f_idx] <= 0:
                    continue
                entries = list(incoming.get(f_idx, []))
                if f_idx in onsite:
                    model.add_row([(model.n_vars, 1.0), *onsite[f_idx]], -np.inf, 0.0)
                    entries.append((model.n_vars, 1.0))
                    costs.append(0.0)
                    model.n_vars += 1
                model.unmet_vars.append((k, d, f_idx, model.n_vars))
                entries.append((model.n_vars, 1.0))
                costs.append(float(weights[k] * problem.priority[f_idx]))
                model.n_vars += 1
                model.add_row(entries, float(demand[f_idx]), float(demand[f_idx]))
    budget_terms = [
        (c_idx, candidate.capex_vnd / MONEY_SCALE_VND)
        for c_idx, candidate in enumerate(problem.candidates)
        if candidate.capex_vnd > 0
    ]
    if budget_terms:
        model.add_row(budget_terms, -np.inf, problem.budget_vnd / MONEY_SCALE_VND)
    model.unmet_cost = np.array(costs)
    return model


@dataclass(frozen=True, slots=True)
class _Solved:
    units: npt.NDArray[np.int64]
    status: str
    mip_gap: float
    objective: float


def _solve(
    model: _Model,
    bounds: npt.NDArray[np.int64],
    objective: npt.NDArray[np.float64],
    options: InvestmentOptions,
    extra_row: tuple[npt.NDArray[np.float64], float] | None = None,
) -> _Solved:
    """Solve the MILP with HiGHS (scipy's ``milp``), optionally capping a second objective."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_c = len(bounds)
    matrix = sparse.csr_array(
        (model.vals, (model.rows, model.cols)), shape=(len(model.lower_rhs), model.n_vars)
    )
    constraints = [LinearConstraint(matrix, model.lower_rhs, model.upper_rhs)]
    if extra_row is not None:
        constraints.append(LinearConstraint(extra_row[0][None, :], -np.inf, extra_row[1]))
    upper = np.full(model.n_vars, np.inf)
    upper[:n_c] = bounds
    integrality = np.zeros(model.n_vars)
    integrality[:n_c] = 1
    result: Any = milp(
        objective,
        integrality=integrality,
        bounds=Bounds(np.zeros(model.n_vars), upper),
        constraints=constraints,
        options={
            "time_limit": options.time_limit_s,
            "mip_rel_gap": options.mip_rel_gap,
            "presolve": True,
        },
    )
    if result.x is None:
        raise SolverTimeoutError(
            f"investment MILP: no portfolio found ({result.message}); raise time_limit_s "
            f"(now {options.time_limit_s} s) or give fewer candidates or scenarios"
        )
    units = np.rint(result.x[:n_c]).astype(np.int64)
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    status = "optimal" if result.status == 0 else "time_limit"
    return _Solved(units, status, gap, float(result.fun))


def _bounds(problem: InvestmentProblem) -> npt.NDArray[np.int64]:
    return np.array([_unit_bound(c, problem) for c in problem.candidates], dtype=np.int64)


def _result(
    problem: InvestmentProblem,
    model: _Model,
    units: npt.NDArray[np.int64],
    *,
    method: str,
    status: str,
    mip_gap: float,
    started: float,
    options: InvestmentOptions,
) -> PortfolioResult:
    """Evaluate ``units`` (second stage LP with x fixed) and state the portfolio."""
    solved_x = _solve_fixed_values(model, units, options)
    weights = problem.scenario_weights / problem.scenario_weights.sum()
    n_k, n_f = len(problem.scenario_names), len(problem.facility_ids)
    unmet = np.zeros((n_k, n_f))
    for k, _, f_idx, var in model.unmet_vars:
        unmet[k, f_idx] += max(0.0, float(solved_x[var]))
    scenarios = tuple(
        ScenarioUnmet(
            scenario=name,
            weight=float(weights[k]),
            demand_m3=round(float(problem.demand_m3[k].sum()), 3),
            unmet_m3=round(float(unmet[k].sum()), 3),
            weighted_unmet=round(float((unmet[k] * problem.priority).sum()), 3),
            unmet_m3_by_facility=tuple(
                (problem.facility_ids[f], round(float(unmet[k, f]), 3))
                for f in np.flatnonzero(unmet[k] > 1e-6)
            ),
        )
        for k, name in enumerate(problem.scenario_names)
    )
    days = problem.horizon_days
    chosen = tuple(
        ChosenInvestment(
            candidate_id=c.candidate_id,
            kind=c.kind,
            site_id=c.site_id,
            units=int(units[i]),
            capex_vnd=c.capex_vnd * int(units[i]),
            running_cost_vnd=c.running_cost_vnd_per_day * days * int(units[i]),
            capacity_m3_per_day=c.capacity_m3_per_day * int(units[i]),
        )
        for i, c in enumerate(problem.candidates)
        if units[i] > 0
    )
    return PortfolioResult(
        method=method,
        budget_vnd=problem.budget_vnd,
        chosen=chosen,
        capex_vnd=sum(c.capex_vnd for c in chosen),
        running_cost_vnd=sum(c.running_cost_vnd for c in chosen),
        expected_unmet_m3=round(sum(s.weight * s.unmet_m3 for s in scenarios), 3),
        expected_weighted_unmet=round(sum(s.weight * s.weighted_unmet for s in scenarios), 3),
        scenarios=scenarios,
        status=status,
        mip_gap=mip_gap,
        solve_time_s=round(time.perf_counter() - started, 3),
    )


def _solve_fixed_values(
    model: _Model, units: npt.NDArray[np.int64], options: InvestmentOptions
) -> npt.NDArray[np.float64]:
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_c = len(units)
    matrix = sparse.csr_array(
        (model.vals, (model.rows, model.cols)), shape=(len(model.lower_rhs), model.n_vars)
    )
    lower = np.zeros(model.n_vars)
    upper = np.full(model.n_vars, np.inf)
    lower[:n_c] = upper[:n_c] = units
    result: Any = milp(
        model.unmet_cost,
        bounds=Bounds(lower, upper),
        constraints=[LinearConstraint(matrix, model.lower_rhs, model.upper_rhs)],
        options={"time_limit": options.time_limit_s},
    )
    if result.x is None:
        raise SolverTimeoutError(
            f"investment evaluation: the second-stage LP gave no answer ({result.message})"
        )
    values: npt.NDArray[np.float64] = result.x
    return values


def evaluate_portfolio(
    problem: InvestmentProblem,
    units: Sequence[int] | npt.NDArray[np.int64],
    *,
    method: str = "given",
    options: InvestmentOptions | None = None,
) -> PortfolioResult:
    """Return the unmet demand each scenario leaves with a given portfolio.

    Parameters
    ----------
    problem
        The investment problem.
    units
        Units bought of each candidate, in ``problem.candidates`` order (zeros: no investment,
        the "before" figures).
    method
        Label copied into the result.
    options
        Solver settings (default :class:`~data.schema.investment.InvestmentOptions`).

    Returns
    -------
    PortfolioResult
        ``status`` ``"evaluated"``.

    Raises
    ------
    ValueError
        If ``units`` has the wrong length or a negative entry.
    """
    started = time.perf_counter()
    options = options or InvestmentOptions()
    chosen = np.asarray(units, dtype=np.int64)
    if chosen.shape != (len(problem.candidates),) or np.any(chosen < 0):
        raise ValueError(
            f"units: need {len(problem.candidates)} whole numbers >= 0, got {chosen.tolist()!r}"
        )
    bounds = np.maximum(_bounds(problem), chosen)
    model = _build_model(problem, bounds)
    return _result(
        problem,
        model,
        chosen,
        method=method,
        status="evaluated",
        mip_gap=0.0,
        started=started,
        options=options,
    )


def optimise_portfolio(
    problem: InvestmentProblem, *, options: InvestmentOptions | None = None
) -> PortfolioResult:
    """Choose the portfolio with the least expected priority-weighted unmet demand, then cost.

    Parameters
    ----------
    problem
        Scenarios, network, candidates, budget and deadline (see the module docstring).
    options
        Time limit and gap (default: prove the optimum within 60 s per solve).

    Returns
    -------
    PortfolioResult
        ``status`` ``"optimal"`` or ``"time_limit"`` (with ``mip_gap``); the unmet demand per
        scenario after investing. Candidates slower than the deadline, or dearer than the whole
        budget, are never chosen.

    Raises
    ------
    SolverTimeoutError
        If HiGHS finds no portfolio at all within the time limit (buying nothing is feasible, so
        only a very short limit on a very large problem gets here).
    """
    started = time.perf_counter()
    options = options or InvestmentOptions()
    bounds = _bounds(problem)
    model = _build_model(problem, bounds)
    first = _solve(model, bounds, model.unmet_cost, options)
    days = problem.horizon_days
    cost = np.zeros(model.n_vars)
    cost[: len(bounds)] = [_total_cost_vnd(c, days) / MONEY_SCALE_VND for c in problem.candidates]
    cap = first.objective * (1 + options.unmet_tolerance) + 1e-6
    second = _solve(model, bounds, cost, options, (model.unmet_cost, cap))
    status = "optimal" if first.status == second.status == "optimal" else "time_limit"
    return _result(
        problem,
        model,
        second.units,
        method="milp",
        status=status,
        mip_gap=max(first.mip_gap, second.mip_gap),
        started=started,
        options=options,
    )


def cost_curve(
    problem: InvestmentProblem,
    budgets_vnd: Sequence[float],
    *,
    options: InvestmentOptions | None = None,
) -> tuple[CostCurvePoint, ...]:
    """Return the optimal expected unmet demand at each budget (đồng), in the order given.

    Each point is :func:`optimise_portfolio` on a copy of the problem with that budget; with
    proven optima, more budget never leaves more unmet demand.
    """
    points = []
    for budget in budgets_vnd:
        result = optimise_portfolio(replace(problem, budget_vnd=float(budget)), options=options)
        points.append(
            CostCurvePoint(
                budget_vnd=float(budget),
                capex_vnd=result.capex_vnd,
                expected_unmet_m3=result.expected_unmet_m3,
                expected_weighted_unmet=result.expected_weighted_unmet,
                status=result.status,
                mip_gap=result.mip_gap,
            )
        )
    return tuple(points)


def _site_need(
    problem: InvestmentProblem,
    candidate: InvestmentCandidate,
    daily_unmet: npt.NDArray[np.float64],
) -> float:
    """Return the largest daily unmet gas (m³) a candidate's site could address."""
    if candidate.at_facility:
        f_idx = problem.facility_ids.index(candidate.site_id)
        return float(daily_unmet[:, :, f_idx].max())
    s_idx = problem.supplier_ids.index(candidate.site_id)
    product = _DISPATCH_KINDS[candidate.kind]
    reach = problem.travel_time_s[:, s_idx, :] >= 0  # (K, F)
    if problem.max_delivery_time_s is not None:
        reach &= problem.travel_time_s[:, s_idx, :] <= problem.max_delivery_time_s
    takes = problem.accepted[:, product][None, :] & reach
    return float((daily_unmet * takes[:, None, :]).sum(axis=2).max())


def greedy_portfolio(
    problem: InvestmentProblem, *, options: InvestmentOptions | None = None
) -> PortfolioResult:
    """Invest where unmet demand is largest first: the baseline a planner would do by hand.

    Repeatedly: evaluate the unmet demand with what is bought so far; among the candidates not
    yet bought that are installable and still affordable, take the one whose site (a facility,
    or the facilities a supplier reaches with that product) has the largest daily unmet demand
    (ties: more capacity per đồng), and buy enough units to cover that day's unmet demand (at
    least one, as many as the budget allows). Stop when nothing is unmet, or nothing affordable
    is left.

    Returns
    -------
    PortfolioResult
        ``method`` ``"greedy"``, ``status`` ``"evaluated"``.
    """
    started = time.perf_counter()
    options = options or InvestmentOptions()
    bounds = _bounds(problem)
    model = _build_model(problem, bounds)
    units = np.zeros(len(bounds), dtype=np.int64)
    remaining = problem.budget_vnd
    n_k, n_f = len(problem.scenario_names), len(problem.facility_ids)
    open_candidates = {i for i in range(len(bounds)) if bounds[i] > 0}
    while open_candidates:
        values = _solve_fixed_values(model, units, options)
        daily = np.zeros((n_k, problem.horizon_days, n_f))
        for k, d, f_idx, var in model.unmet_vars:
            daily[k, d, f_idx] = max(0.0, float(values[var]))
        if daily.max() <= 1e-6:
            break
        ranked = []
        for c_idx in open_candidates:
            candidate = problem.candidates[c_idx]
            if candidate.capex_vnd > remaining:
                continue
            need = _site_need(problem, candidate, daily)
            if need > 1e-6:
                value = candidate.capacity_m3_per_day / max(candidate.capex_vnd, 1.0)
                ranked.append((-need, -value, candidate.candidate_id, c_idx, need))
        if not ranked:
            break
        _, _, _, c_idx, need = min(ranked)
        candidate = problem.candidates[c_idx]
        wanted = max(1, math.ceil(need / candidate.capacity_m3_per_day - 1e-9))
        affordable = (
            int(bounds[c_idx])
            if candidate.capex_vnd <= 0
            else math.floor(remaining / candidate.capex_vnd + 1e-9)
        )
        units[c_idx] = min(wanted, int(bounds[c_idx]), affordable)
        remaining -= candidate.capex_vnd * int(units[c_idx])
        open_candidates.discard(c_idx)
    return _result(
        problem,
        model,
        units,
        method="greedy",
        status="evaluated",
        mip_gap=0.0,
        started=started,
        options=options,
    )
