"""Properties of the investment optimum on small random problems (Hypothesis, derandomised).

- More budget never raises the optimal expected unmet demand.
- The optimum never chooses a candidate installed after the deadline, nor spends over budget.
- The optimum is never worse than buying nothing, nor than the greedy baseline.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from data.schema.investment import CandidateKind, InvestmentCandidate, InvestmentProblem
from matcher.investment import evaluate_portfolio, greedy_portfolio, optimise_portfolio

KINDS = list(CandidateKind)


@st.composite
def problems(draw: st.DrawFn) -> InvestmentProblem:
    """2 suppliers, 3 facilities, 1-2 scenarios, 2 days, up to 5 candidates."""
    n_k, n_s, n_f, n_d = draw(st.integers(1, 2)), 2, 3, 2
    quantity = st.integers(0, 60).map(float)
    travel = np.array(
        draw(
            st.lists(
                st.sampled_from([-1, 300, 900]), min_size=n_k * n_s * n_f, max_size=n_k * n_s * n_f
            )
        ),
        dtype=np.int64,
    ).reshape(n_k, n_s, n_f)
    capacity = np.array(
        draw(st.lists(quantity, min_size=n_k * n_s * 2 * n_d, max_size=n_k * n_s * 2 * n_d))
    ).reshape(n_k, n_s, 2, n_d)
    demand = np.array(
        draw(st.lists(quantity, min_size=n_k * n_f * n_d, max_size=n_k * n_f * n_d))
    ).reshape(n_k, n_f, n_d)
    accepted = np.array(draw(st.lists(st.booleans(), min_size=n_f * 2, max_size=n_f * 2)))
    limits = np.array(
        draw(st.lists(st.sampled_from([np.inf, 10.0, 30.0]), min_size=n_f * 2, max_size=n_f * 2))
    )
    candidates = []
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(KINDS))
        site = (
            draw(st.sampled_from(["F0", "F1", "F2"]))
            if kind in (CandidateKind.LIQUID_TANK, CandidateKind.PSA_PLANT, CandidateKind.CYLINDERS)
            else draw(st.sampled_from(["S0", "S1"]))
        )
        candidates.append(
            InvestmentCandidate(
                f"c{index}",
                kind,
                site,
                capex_vnd=float(draw(st.integers(0, 10))) * 1e6,
                install_weeks=float(draw(st.integers(0, 10))),
                capacity_m3_per_day=float(draw(st.integers(1, 40))),
                max_units=draw(st.integers(1, 3)),
                running_cost_vnd_per_day=float(draw(st.integers(0, 2))) * 1e5,
            )
        )
    return InvestmentProblem(
        supplier_ids=("S0", "S1"),
        facility_ids=("F0", "F1", "F2"),
        scenario_names=tuple(f"k{k}" for k in range(n_k)),
        scenario_weights=np.array(
            draw(st.lists(st.integers(1, 3), min_size=n_k, max_size=n_k)), dtype=float
        ),
        travel_time_s=travel,
        capacity_m3=capacity,
        demand_m3=demand,
        accepted=accepted.reshape(n_f, 2),
        receiving_limit_m3=limits.reshape(n_f, 2),
        priority=np.array(draw(st.lists(st.integers(1, 30), min_size=n_f, max_size=n_f))),
        candidates=tuple(candidates),
        budget_vnd=float(draw(st.integers(0, 20))) * 1e6,
        deadline_weeks=float(draw(st.integers(0, 10))),
    )


@given(problems(), st.integers(1, 15))
def test_more_budget_never_raises_the_optimal_unmet(problem: InvestmentProblem, more: int) -> None:
    from dataclasses import replace

    low = optimise_portfolio(problem)
    high = optimise_portfolio(replace(problem, budget_vnd=problem.budget_vnd + more * 1e6))
    assert high.expected_weighted_unmet <= low.expected_weighted_unmet + 1e-6


@given(problems())
def test_optimum_respects_deadline_and_budget(problem: InvestmentProblem) -> None:
    result = optimise_portfolio(problem)
    weeks = {c.candidate_id: c.install_weeks for c in problem.candidates}
    assert all(weeks[c.candidate_id] <= problem.deadline_weeks for c in result.chosen)
    assert result.capex_vnd <= problem.budget_vnd + 1e-6
    nothing = evaluate_portfolio(problem, [0] * len(problem.candidates))
    greedy = greedy_portfolio(problem)
    assert all(weeks[c.candidate_id] <= problem.deadline_weeks for c in greedy.chosen)
    assert greedy.capex_vnd <= problem.budget_vnd + 1e-6
    assert result.expected_weighted_unmet <= nothing.expected_weighted_unmet + 1e-6
    assert result.expected_weighted_unmet <= greedy.expected_weighted_unmet + 1e-6
