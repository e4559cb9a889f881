"""The investment MILP on a case worked out by hand, the deadline rule and the greedy baseline.

The hand case (one scenario, one day; quantities m³ of gas per day, money in million đồng):

- suppliers: ``LOX`` (bulk liquid, 1,000) and ``FILL`` (cylinders, 60);
- facility ``A`` (priority 30): cylinders only, no limit, demand 100;
- facility ``B`` (priority 20): cylinders only, at most 30 a day (5 cylinders), demand 40.

Before investing, the 60 m³ of cylinders go to A (higher priority): A lacks 40, B lacks 40,
priority-weighted unmet 30 x 40 + 20 x 40 = 2,000. Candidates: a tank at A (200 m³, 500 M, 4
weeks), a tank at B (200 m³, 300 M, 4 weeks), a PSA plant at B (50 m³, 200 M, 12 weeks),
cylinders for B (6 m³ each, 3 M, up to 100) and a cylinder truck for FILL (+30 m³, 100 M).
Budget 600 M, deadline 8 weeks (the PSA plant is too slow).

Optimum, by hand: the tank at A takes A off cylinders (liquid 100 m³); the 60 m³ of cylinders
then go to B, whose limit 30 needs 2 more cylinders (+12 m³ -> 42 >= 40): unmet 0 for 506 M.
Every other way to reach 0 costs more (tank at A + 7 cylinders, ...), and without the tank at A
some demand stays unmet (tank at B + truck: A gets 90, 10 unmet, weighted 300).
With a 3-week deadline no tank counts: the truck (+30 m³ to A) is the best, weighted 1,100.

Greedy (largest unmet first) buys the truck (its reach lacks 80 m³), then 7 cylinders for B,
then the tank at B, and cannot afford the tank at A: weighted unmet 300 for 421 M.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from data.errors import InvalidInputError
from data.schema.investment import (
    CandidateKind,
    InvestmentCandidate,
    InvestmentOptions,
    InvestmentProblem,
)
from matcher.investment import (
    cost_curve,
    evaluate_portfolio,
    greedy_portfolio,
    optimise_portfolio,
)

M = 1_000_000.0  # đồng per million


def hand_candidates() -> tuple[InvestmentCandidate, ...]:
    """Return the five candidates of the module docstring."""
    return (
        InvestmentCandidate("tank-A", CandidateKind.LIQUID_TANK, "A", 500 * M, 4, 200.0),
        InvestmentCandidate("tank-B", CandidateKind.LIQUID_TANK, "B", 300 * M, 4, 200.0),
        InvestmentCandidate("psa-B", CandidateKind.PSA_PLANT, "B", 200 * M, 12, 50.0),
        InvestmentCandidate("cyl-B", CandidateKind.CYLINDERS, "B", 3 * M, 1, 6.0, max_units=100),
        InvestmentCandidate("truck-FILL", CandidateKind.CYLINDER_TRUCK, "FILL", 100 * M, 2, 30.0),
    )


def hand_problem(**changes: object) -> InvestmentProblem:
    """Return the hand case; ``changes`` replace fields (budget, deadline, candidates)."""
    values: dict[str, object] = {
        "supplier_ids": ("LOX", "FILL"),
        "facility_ids": ("A", "B"),
        "scenario_names": ("base",),
        "scenario_weights": np.array([1.0]),
        "travel_time_s": np.array([[[600, 900], [1200, 300]]], dtype=np.int64),
        "capacity_m3": np.array([[[[1000.0], [0.0]], [[0.0], [60.0]]]]),
        "demand_m3": np.array([[[100.0], [40.0]]]),
        "accepted": np.array([[False, True], [False, True]]),
        "receiving_limit_m3": np.array([[np.inf, np.inf], [np.inf, 30.0]]),
        "priority": np.array([30, 20], dtype=np.int64),
        "candidates": hand_candidates(),
        "budget_vnd": 600 * M,
        "deadline_weeks": 8.0,
    }
    values.update(changes)
    return InvestmentProblem(**values)  # type: ignore[arg-type]


def units_of(result: object) -> dict[str, int]:
    return {c.candidate_id: c.units for c in result.chosen}  # type: ignore[attr-defined]


def test_before_investing_matches_the_hand_count() -> None:
    before = evaluate_portfolio(hand_problem(), [0, 0, 0, 0, 0])
    assert before.expected_weighted_unmet == pytest.approx(2000.0)
    assert dict(before.scenarios[0].unmet_m3_by_facility) == pytest.approx({"A": 40.0, "B": 40.0})


def test_optimal_portfolio_is_the_hand_one() -> None:
    result = optimise_portfolio(hand_problem())
    assert result.status == "optimal"
    assert units_of(result) == {"tank-A": 1, "cyl-B": 2}
    assert result.capex_vnd == pytest.approx(506 * M)
    assert result.expected_unmet_m3 == pytest.approx(0.0, abs=1e-6)


def test_candidate_beyond_the_deadline_is_never_chosen() -> None:
    # 3 weeks: both tanks (4 weeks) and the PSA plant (12) are out; the truck is the best.
    result = optimise_portfolio(hand_problem(deadline_weeks=3.0))
    assert units_of(result) == {"truck-FILL": 1}
    assert result.expected_weighted_unmet == pytest.approx(1100.0)
    # A deadline of 12 weeks lets the PSA plant in: still not better than tank A + cylinders.
    assert "psa-B" not in units_of(optimise_portfolio(hand_problem(deadline_weeks=12.0)))


def test_a_fast_enough_valuable_candidate_is_chosen_only_when_in_time() -> None:
    # Make the PSA plant cheap and the only help for B: chosen at 12 weeks, never at 11.
    cheap_psa = (InvestmentCandidate("psa-B", CandidateKind.PSA_PLANT, "B", 1 * M, 12, 50.0),)
    late = optimise_portfolio(hand_problem(candidates=cheap_psa, deadline_weeks=11.0))
    in_time = optimise_portfolio(hand_problem(candidates=cheap_psa, deadline_weeks=12.0))
    assert units_of(late) == {}
    assert units_of(in_time) == {"psa-B": 1}
    assert in_time.expected_weighted_unmet == pytest.approx(30 * 40.0 - 0.0)


def test_greedy_baseline_is_worse_than_the_optimum_here() -> None:
    greedy = greedy_portfolio(hand_problem())
    assert units_of(greedy) == {"truck-FILL": 1, "cyl-B": 7, "tank-B": 1}
    assert greedy.capex_vnd == pytest.approx(421 * M)
    assert greedy.expected_weighted_unmet == pytest.approx(300.0)


def test_cost_curve_falls_to_zero_at_the_hand_budget() -> None:
    points = cost_curve(hand_problem(), [0, 100 * M, 300 * M, 506 * M, 600 * M])
    weighted = [p.expected_weighted_unmet for p in points]
    assert weighted[0] == pytest.approx(2000.0)
    assert weighted[-2] == pytest.approx(0.0, abs=1e-6)
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(weighted))


def test_scenario_weights_are_normalised() -> None:
    double = hand_problem(
        scenario_names=("x1", "x2"),
        scenario_weights=np.array([3.0, 1.0]),
        travel_time_s=np.repeat(hand_problem().travel_time_s, 2, axis=0),
        capacity_m3=np.repeat(hand_problem().capacity_m3, 2, axis=0),
        demand_m3=np.concatenate([hand_problem().demand_m3, 2 * hand_problem().demand_m3], axis=0),
        budget_vnd=0.0,
    )
    before = evaluate_portfolio(double, [0] * 5)
    # x1: 2,000 (above). x2: demand 200 and 80, A gets the 60: 140 x 30 + 80 x 20 = 5,800.
    assert [s.weighted_unmet for s in before.scenarios] == pytest.approx([2000.0, 5800.0])
    assert before.expected_weighted_unmet == pytest.approx(0.75 * 2000 + 0.25 * 5800)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # a budget below zero
        ({"budget_vnd": -1.0}, "budget_vnd: must be a number of đồng >= 0, got -1.0"),
        # an unknown facility
        (
            {
                "candidates": (
                    InvestmentCandidate("t", CandidateKind.LIQUID_TANK, "Z", 1.0, 1, 10.0),
                )
            },
            "candidates[0].facility_id: unknown facility 'Z'",
        ),
        # an unknown supplier
        (
            {"candidates": (InvestmentCandidate("v", CandidateKind.TANKER, "Q", 1.0, 1, 10.0),)},
            "candidates[0].supplier_id: unknown supplier 'Q'",
        ),
        # a negative deadline
        ({"deadline_weeks": -2}, "deadline_weeks: must be a number >= 0, got -2"),
        # a zero scenario weight
        ({"scenario_weights": np.array([0.0])}, "scenarios[0].weight: must be > 0"),
    ],
)
def test_bad_problem_names_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        hand_problem(**changes)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("capex_vnd", -5.0, "capex_vnd: must be a finite number >= 0, got -5.0"),  # negative cost
        ("install_weeks", float("nan"), "install_weeks: must be a finite number >= 0"),
        ("capacity_m3_per_day", 0.0, "capacity_m3_per_day: must be a finite number > 0"),
        ("max_units", 0, "max_units: must be a whole number from 1"),
        ("running_cost_vnd_per_day", -1, "running_cost_vnd_per_day: must be a finite number"),
        ("kind", "balloon", "kind: unknown kind 'balloon'"),
    ],
)
def test_bad_candidate_names_the_field(field: str, value: object, message: str) -> None:
    values: dict[str, object] = {
        "candidate_id": "c1",
        "kind": CandidateKind.LIQUID_TANK,
        "site_id": "A",
        "capex_vnd": 1.0,
        "install_weeks": 1.0,
        "capacity_m3_per_day": 5.0,
    }
    values[field] = value
    with pytest.raises(InvalidInputError, match=message):
        InvestmentCandidate(**values)  # type: ignore[arg-type]


def test_bad_options_name_the_field() -> None:
    with pytest.raises(InvalidInputError, match="mip_rel_gap: must be from 0 to below 1"):
        InvestmentOptions(mip_rel_gap=1.5)
