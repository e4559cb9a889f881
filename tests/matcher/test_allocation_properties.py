"""Hypothesis properties of the allocation on small generated problems, against an LP too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.schema.allocation import PRODUCTS, AllocationOptions, AllocationPlan
from matcher import _single_sourcing
from matcher.allocation import allocate_supply_matrix
from tests.matcher.national_instance import generate_instance
from tests.matcher.oracle import reference_lp_objective


@st.composite
def instances(draw: st.DrawFn) -> dict[str, Any]:
    """Small problems: 1-3 suppliers, 1-4 facilities, 1-3 days, integer m³, some unreachable."""
    n_s, n_f, n_d = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    n_p = len(PRODUCTS)
    ints = st.integers

    def array(shape: tuple[int, ...], low: int, high: int) -> Any:
        return np.array(
            draw(
                st.lists(
                    ints(low, high), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
                )
            )
        ).reshape(shape)

    accepted = array((n_f, n_p), 0, 1).astype(bool)
    limits = array((n_f, n_p), 0, 40).astype(float)
    limits[array((n_f, n_p), 0, 1).astype(bool)] = np.inf
    return {
        "supplier_ids": [f"S{i}" for i in range(n_s)],
        "facility_ids": [f"F{i}" for i in range(n_f)],
        "travel_time_s": array((n_s, n_f), -1, 900),
        "capacity_m3": array((n_s, n_p, n_d), 0, 40).astype(float),
        "demand_m3": array((n_f, n_d), 0, 30).astype(float),
        "accepted": accepted,
        "receiving_limit_m3": limits,
        "priority": array((n_f,), 1, 3),
    }


def _solve(instance: dict[str, Any], options: AllocationOptions) -> AllocationPlan:
    return allocate_supply_matrix(**instance, options=options)


def _check_invariants(instance: dict[str, Any], plan: AllocationPlan, per_day: bool) -> None:
    ids_s, ids_f = instance["supplier_ids"], instance["facility_ids"]
    n_d = instance["demand_m3"].shape[1]
    delivered = np.zeros((len(ids_f), n_d))
    used = np.zeros(instance["capacity_m3"].shape)
    received = np.zeros((len(ids_f), len(PRODUCTS), n_d))
    for flow in plan.flows:
        assert flow.quantity_m3 > 0
        f_idx, s_idx, p_idx = (
            ids_f.index(flow.facility_id),
            ids_s.index(flow.supplier_id),
            PRODUCTS.index(flow.product),
        )
        assert instance["accepted"][f_idx, p_idx]
        delivered[f_idx, flow.day] += flow.quantity_m3
        used[s_idx, p_idx, flow.day] += flow.quantity_m3
        received[f_idx, p_idx, flow.day] += flow.quantity_m3
    unmet = np.zeros((len(ids_f), n_d))
    for entry in plan.unmet:
        assert entry.unmet_m3 > 0
        unmet[ids_f.index(entry.facility_id), entry.day] += entry.unmet_m3
    # Plans are whole quanta (fairness too), so only float summation can exceed a capacity.
    assert (used <= instance["capacity_m3"] + 1e-9).all()
    assert (received <= instance["receiving_limit_m3"][:, :, None] + 1e-9).all()
    if per_day:
        np.testing.assert_allclose(delivered + unmet, instance["demand_m3"], atol=1e-6)
    else:
        np.testing.assert_allclose(
            (delivered + unmet).sum(axis=1), instance["demand_m3"].sum(axis=1), atol=1e-6
        )


@given(instances())
def test_allocated_plus_unmet_is_demand_and_nothing_exceeds_supply(
    instance: dict[str, Any],
) -> None:
    _check_invariants(instance, _solve(instance, AllocationOptions()), per_day=True)


@given(instances())
def test_carry_over_balances_over_the_horizon(instance: dict[str, Any]) -> None:
    _check_invariants(instance, _solve(instance, AllocationOptions(carry_over=True)), per_day=False)


@given(instances())
def test_single_sourcing_keeps_the_invariants(instance: dict[str, Any]) -> None:
    plan = _solve(instance, AllocationOptions(single_sourcing=True))
    _check_invariants(instance, plan, per_day=True)
    assert plan.totals.objective >= plan.totals.lower_bound


@given(instances(), st.integers(1, 30))
def test_more_supply_never_increases_unmet_demand(instance: dict[str, Any], extra: int) -> None:
    before = _solve(instance, AllocationOptions()).totals.unmet_m3
    richer = dict(instance, capacity_m3=instance["capacity_m3"] + extra)
    assert _solve(richer, AllocationOptions()).totals.unmet_m3 <= before + 1e-9


@given(instances(), st.booleans())
def test_objective_equals_the_independent_lp(instance: dict[str, Any], carry: bool) -> None:
    options = AllocationOptions(carry_over=carry)
    plan = _solve(instance, options)
    lp_objective, _, _ = reference_lp_objective(instance, options)
    assert abs(plan.totals.objective - lp_objective) <= 1e-6 * max(1.0, lp_objective)


@given(instances(), st.booleans())
def test_fairness_never_raises_the_largest_unmet_share(
    instance: dict[str, Any], carry: bool
) -> None:
    default = _solve(instance, AllocationOptions(carry_over=carry))
    fair = _solve(instance, AllocationOptions(fairness=True, carry_over=carry))
    _check_invariants(instance, fair, per_day=not carry)
    assert fair.totals.max_unmet_share <= default.totals.max_unmet_share + 1e-9


def _sources(plan: AllocationPlan, per_day: bool) -> dict[tuple[Any, ...], set[str]]:
    sources: dict[tuple[Any, ...], set[str]] = {}
    for flow in plan.flows:
        key = (
            (flow.facility_id, flow.product, flow.day)
            if per_day
            else (flow.facility_id, flow.product)
        )
        sources.setdefault(key, set()).add(flow.supplier_id)
    return sources


@given(instances(), st.sampled_from(["day", "horizon"]), st.booleans())
def test_single_sourcing_has_one_supplier_and_reports_its_gap(
    instance: dict[str, Any], scope: str, carry: bool
) -> None:
    options = AllocationOptions(single_sourcing=True, single_sourcing_scope=scope, carry_over=carry)
    plan = _solve(instance, options)
    _check_invariants(instance, plan, per_day=not carry)
    assert all(len(s) == 1 for s in _sources(plan, per_day=True).values())
    if scope == "horizon":
        assert all(len(s) == 1 for s in _sources(plan, per_day=False).values())
    # The bound is the unrestricted optimum, itself checked against HiGHS elsewhere.
    relaxed = _solve(instance, AllocationOptions(carry_over=carry))
    assert plan.totals.lower_bound == relaxed.totals.objective
    assert plan.totals.objective >= plan.totals.lower_bound
    assert 0.0 <= plan.gap < 1.0
    assert plan.solver_status == ("optimal" if plan.gap == 0 else "feasible")


@given(
    instances(), st.sampled_from([{}, {"single_sourcing": True, "single_sourcing_scope": "day"}])
)
def test_workers_do_not_change_the_plan(instance: dict[str, Any], mode: dict[str, Any]) -> None:
    one = _solve(instance, AllocationOptions(**mode))
    two = _solve(instance, AllocationOptions(workers=2, **mode))
    assert (one.flows, one.unmet, one.totals) == (two.flows, two.unmet, two.totals)


def _national_sample(seed: int) -> dict[str, Any]:
    """Return a small instance of the national generator (most items: over 8 usable suppliers)."""
    instance = generate_instance(
        n_facilities=400, n_suppliers=40, n_days=3, seed=seed, max_delivery_time_s=6 * 3600
    )
    del instance["max_delivery_time_s"]
    return instance


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("scope", ["day", "horizon"])
@pytest.mark.parametrize("nearest", [8, 1])
def test_single_sourcing_bound_is_proven_and_tight(
    seed: int, scope: str, nearest: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The relaxation runs on each item's nearest suppliers and its bound is proven by LP duality
    # on all arcs: never above the exact relaxation (the default mode's proven optimum), and at
    # most _BOUND_TOLERANCE below it, from 8 nearest suppliers or from 1 (more pricing rounds,
    # or the full relaxation when they do not reach the tolerance).
    monkeypatch.setattr(_single_sourcing, "_NEAREST_SUPPLIERS", nearest)
    monkeypatch.setattr(_single_sourcing, "_PRICING_MIN_ARCS", 0)
    instance = _national_sample(seed)
    exact = _solve(instance, AllocationOptions()).totals.objective
    plan = _solve(instance, AllocationOptions(single_sourcing=True, single_sourcing_scope=scope))
    bound = plan.totals.lower_bound
    assert bound <= exact
    assert bound >= exact * (1 - _single_sourcing._BOUND_TOLERANCE)
    assert plan.totals.objective >= exact


def _integral_largest_share(instance: dict[str, Any], resolution_m3: float) -> float:
    """Find the smallest largest unmet share of plans in whole quanta (HiGHS MILP, by day).

    Only facility-days that some usable supplier can serve that day count (capacity that day, a
    receiving limit of at least one quantum), as in the plan.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    travel = instance["travel_time_s"]
    capacity = np.floor(instance["capacity_m3"] / resolution_m3 + 1e-9)
    demand = np.ceil(instance["demand_m3"] / resolution_m3 - 1e-9)
    limit = np.minimum(
        np.floor(instance["receiving_limit_m3"] / resolution_m3 + 1e-9), demand.sum()
    )
    accepted = instance["accepted"]
    n_s, n_p, n_d = capacity.shape
    usable = accepted[None] & (capacity.sum(axis=2) > 0)[:, None, :] & (travel >= 0)[:, :, None]
    arcs = [
        (s, f, p, d)
        for s, f, p in zip(*np.nonzero(usable), strict=True)
        for d in range(n_d)
        if capacity[s, p, d] > 0 and demand[f, d] > 0 and limit[f, p] > 0
    ]
    served_days = sorted({(f, d) for _, f, _, d in arcs})
    if not served_days:
        return 0.0
    n = len(arcs) + 1  # flows, then z
    rows, lower, upper = [], [], []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        vector = np.zeros(n)
        for k, v in entries.items():
            vector[k] += v
        rows.append(vector)
        lower.append(low)
        upper.append(high)

    for s in range(n_s):
        for p in range(n_p):
            for d in range(n_d):
                row(
                    {k: 1 for k, a in enumerate(arcs) if a[::2] == (s, p) and a[3] == d},
                    0,
                    capacity[s, p, d],
                )
    for f, d in served_days:
        on = [k for k, a in enumerate(arcs) if (a[1], a[3]) == (f, d)]
        row(dict.fromkeys(on, 1.0), 0, demand[f, d])
        for p in range(n_p):
            row({k: 1 for k in on if arcs[k][2] == p}, 0, limit[f, p])
        # unmet = demand - delivered <= z * demand
        row({**dict.fromkeys(on, 1.0), n - 1: demand[f, d]}, demand[f, d], np.inf)
    cost = np.zeros(n)
    cost[-1] = 1.0
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=np.r_[np.ones(n - 1), 0],
        bounds=Bounds(np.zeros(n), np.r_[np.full(n - 1, np.inf), 1.0]),
    )
    assert result.success
    return float(result.x[-1])


@given(instances())
def test_fairness_reaches_the_integer_optimum_of_the_largest_share(
    instance: dict[str, Any],
) -> None:
    fair = _solve(instance, AllocationOptions(fairness=True))
    expected = _integral_largest_share(instance, 0.1)
    travel, capacity = instance["travel_time_s"], instance["capacity_m3"]
    servable = {
        (instance["facility_ids"][f], d)
        for f, d in np.ndindex(instance["demand_m3"].shape)
        if any(
            travel[s, f] >= 0
            and instance["accepted"][f, p]
            and capacity[s, p, d] > 0
            and instance["receiving_limit_m3"][f, p] >= 0.1
            for s, p in np.ndindex(capacity.shape[:2])
        )
    }
    shares = [
        entry.unmet_m3 / entry.demand_m3
        for entry in fair.unmet
        if (entry.facility_id, entry.day) in servable
    ]
    assert max(shares, default=0.0) == pytest.approx(expected, abs=1e-6)
