"""Benchmark the allocation on a generated national instance and check it against an independent LP.

Run: ``PYTHONPATH=. python benchmarks/bench_allocation.py [--facilities 10000] [--suppliers 100]
[--days 7] [--seed 2021] [--verify-national] [--carry-over]``.

Every run first checks the objective against the independent HiGHS LP on a 3,000-facility
instance from the same generator (with and without carry-over; the national LP takes about six
minutes here, so it runs only with ``--verify-national``), then times the national instance in
each mode: wall seconds and CPU seconds (this process plus the solver worker processes), best of
``--repeat`` runs, on a shared machine whose load varies.

The instance imitates Vietnam in August 2021: facilities and suppliers spread along the country's
spine with weight on Hanoi and Ho Chi Minh City; 26 % of suppliers are liquid-oxygen producers,
the rest cylinder filling stations; 30 % of facilities have a tank (accept bulk liquid and
cylinders), the rest take cylinders only; demand grows 3 %/day; travel times are great-circle
distance x 1.3 (road detour) at 40 km/h (loaded cryogenic tanker, oxygen-parameters.md) and the
maximum delivery time is 6 h (the generator is tests/matcher/national_instance.py). The reference
LP (scipy ``linprog``, HiGHS) is tests/matcher/oracle.py: built from the documented model,
independently of the network the solver builds, in the same integer units.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.graph.python import min_cost_flow
from scipy.optimize import linprog

from data.schema.allocation import AllocationOptions, UnmetReason
from matcher.allocation import allocate_supply_matrix
from tests.matcher.national_instance import generate_instance
from tests.matcher.oracle import reference_lp_objective


def orientation_instance(seed: int, repeat: int) -> tuple[float, float, float]:
    """Time the issue's orientation problem: a 50 x 2,000 transportation problem.

    The issue measured 0.07 s with OR-Tools' min-cost flow and 1.1 s with HiGHS on its machine;
    timing the same kind of problem here tells how this machine compares (complete bipartite,
    integer costs 1-999, demands 10-99, supplies summing to the demand). Returns (OR-Tools best of
    ``repeat`` s, HiGHS s, relative difference of the two optima).
    """
    rng = np.random.default_rng(seed)
    n_s, n_f = 50, 2_000
    demand = rng.integers(10, 100, n_f)
    supply = rng.multinomial(int(demand.sum()) - n_s, np.full(n_s, 1 / n_s)) + 1
    cost = rng.integers(1, 1_000, (n_s, n_f))
    s_i, f_i = np.divmod(np.arange(n_s * n_f), n_f)
    ortools_s, ortools_cost = np.inf, 0
    for _ in range(repeat):
        started = time.perf_counter()
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            s_i, n_s + f_i, np.full(n_s * n_f, int(demand.sum())), cost.ravel()
        )
        solver.set_nodes_supplies(np.arange(n_s + n_f), np.concatenate([supply, -demand]))
        if solver.solve() != solver.OPTIMAL:
            raise SystemExit("orientation problem: OR-Tools did not prove optimality")
        ortools_s = min(ortools_s, time.perf_counter() - started)
        ortools_cost = solver.optimal_cost()
    started = time.perf_counter()
    columns = np.arange(n_s * n_f)
    a_eq = sp.vstack(
        [
            sp.coo_matrix((np.ones(n_s * n_f), (s_i, columns)), shape=(n_s, n_s * n_f)),
            sp.coo_matrix((np.ones(n_s * n_f), (f_i, columns)), shape=(n_f, n_s * n_f)),
        ]
    ).tocsr()
    result = linprog(
        cost.ravel(),
        A_eq=a_eq,
        b_eq=np.concatenate([supply, demand]),
        bounds=(0, None),
        method="highs",
    )
    highs_s = time.perf_counter() - started
    if result.status != 0:
        raise SystemExit(f"orientation problem: HiGHS failed: {result.message}")
    return ortools_s, highs_s, abs(result.fun - ortools_cost) / max(1.0, ortools_cost)


def solver_floor_s(instance: dict[str, Any], options: AllocationOptions) -> float:
    """Seconds of OR-Tools' ``solve()`` alone on each day's network, one after the other.

    The floor of the default mode on one process: the daily networks exactly as the allocation
    builds them (its private helpers), timing only the solver calls; the pipeline's figures are
    shown against it.
    """
    from matcher._networks import build_day_network, usable_arcs
    from matcher._scaling import scale_and_validate

    scaled = scale_and_validate(
        list(instance["supplier_ids"]),
        list(instance["facility_ids"]),
        instance["travel_time_s"],
        instance["capacity_m3"],
        instance["demand_m3"],
        instance["accepted"],
        instance["receiving_limit_m3"],
        instance["priority"],
        options,
    )
    arcs = usable_arcs(scaled.usable)
    total = 0.0
    for day in range(scaled.demand_q.shape[1]):
        network = build_day_network(scaled, day, arcs)
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            network.tails, network.heads, network.caps, network.costs
        )
        solver.set_nodes_supplies(np.arange(len(network.supplies)), network.supplies)
        started = time.perf_counter()
        if solver.solve() != solver.OPTIMAL:
            raise SystemExit(f"solver floor: day {day} not optimal")
        total += time.perf_counter() - started
    return total


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the solver worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _run(instance: dict[str, Any], options: AllocationOptions) -> tuple[Any, float, float]:
    """Solve once; return the plan, wall seconds and CPU seconds (this process and children)."""
    arguments = {k: v for k, v in instance.items() if k != "max_delivery_time_s"}
    started, cpu = time.perf_counter(), _cpu_s()
    plan = allocate_supply_matrix(**arguments, options=options)
    return plan, time.perf_counter() - started, _cpu_s() - cpu


def _verify(label: str, instance: dict[str, Any], options: AllocationOptions) -> None:
    """Solve with the allocation and with the independent HiGHS LP; stop if they differ."""
    plan, seconds, cpu = _run(instance, options)
    lp_objective, n_vars, lp_seconds = reference_lp_objective(instance, options)
    difference = abs(plan.totals.objective - lp_objective) / max(1.0, lp_objective)
    print(
        f"  {label}: min-cost flow {plan.totals.objective:.0f} ({plan.solver_status}, "
        f"{seconds:.3f} s wall, {cpu:.3f} s CPU); HiGHS LP ({n_vars:,} variables) "
        f"{lp_objective:.0f} in {lp_seconds:.2f} s; relative difference {difference:.2e}"
    )
    if difference > 1e-9:
        raise SystemExit(f"{label}: objective differs from the independent LP by {difference:.2e}")


def _servable_share(plan: Any) -> float:
    """Largest unmet share among facility-days short for lack of capacity (not of a supplier)."""
    shares = [
        entry.unmet_m3 / entry.demand_m3
        for entry in plan.unmet
        if entry.reason == UnmetReason.NO_CAPACITY_LEFT and entry.demand_m3 > 0
    ]
    return max(shares, default=0.0)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=10_000)
    parser.add_argument("--suppliers", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--max-delivery-time-s", type=int, default=6 * 3600)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per mode (best shown)")
    parser.add_argument(
        "--verify-facilities",
        type=int,
        default=3_000,
        help="facilities of the instance checked against HiGHS in every run (suppliers scaled)",
    )
    parser.add_argument(
        "--verify-national",
        action="store_true",
        help="also check the national instance against HiGHS (about 6 minutes here)",
    )
    parser.add_argument(
        "--fairness-facilities", type=int, default=1_000, help="size of the fairness run"
    )
    parser.add_argument("--carry-over", action="store_true", help="also time carry-over mode")
    return parser.parse_args()


def _instance(args: argparse.Namespace, n_facilities: int) -> dict[str, Any]:
    """Generate the instance of ``n_facilities`` (suppliers scaled from the national ratio)."""
    return generate_instance(
        n_facilities=n_facilities,
        n_suppliers=max(2, args.suppliers * n_facilities // args.facilities),
        n_days=args.days,
        seed=args.seed,
        max_delivery_time_s=args.max_delivery_time_s,
    )


def _print_orientation(args: argparse.Namespace) -> None:
    ortools_s, highs_s, difference = orientation_instance(args.seed, args.repeat)
    print(
        f"orientation problem of the issue (50 x 2,000 transportation; there: OR-Tools 0.07 s, "
        f"HiGHS 1.1 s): OR-Tools {ortools_s:.3f} s, HiGHS {highs_s:.2f} s here "
        f"(same optimum: relative difference {difference:.1e}); this machine / the issue's: "
        f"{ortools_s / 0.07:.2f}x (OR-Tools), {highs_s / 1.1:.2f}x (HiGHS)"
    )


def _check_small_instance(args: argparse.Namespace) -> None:
    """Exactness first: the same generator at a size HiGHS solves in seconds, every run."""
    small = _instance(args, args.verify_facilities)
    print(
        f"check against the independent LP ({args.verify_facilities} facilities, "
        f"{len(small['supplier_ids'])} suppliers, {args.days} days, seed {args.seed}):"
    )
    _verify(
        "independent days", small, AllocationOptions(max_delivery_time_s=args.max_delivery_time_s)
    )
    _verify(
        "carry-over",
        small,
        AllocationOptions(max_delivery_time_s=args.max_delivery_time_s, carry_over=True),
    )


def _time_default(
    args: argparse.Namespace, instance: dict[str, Any], base: AllocationOptions
) -> Any:
    """Time the default mode on one and two workers against the solver floor; return the plan."""
    floor_s = min(solver_floor_s(instance, base) for _ in range(args.repeat))
    print(
        f"  floor: OR-Tools' solve() alone on the {args.days} daily networks, back to back: "
        f"{floor_s:.3f} s ({floor_s / args.days:.3f} s a day)"
    )
    plans: dict[str, Any] = {}
    for workers in (1, 2):
        plan, seconds, cpu = _best(instance, dataclasses.replace(base, workers=workers), args)
        plans[f"default{workers}"] = plan
        print(
            f"min-cost flow, workers={workers}: {plan.solver_status} in {seconds:.3f} s wall "
            f"({seconds / floor_s:.2f}x the floor), {cpu:.3f} s CPU; {len(plan.flows):,} flows, "
            f"unmet {plan.totals.unmet_m3:,.1f} m³ ({len(plan.unmet)} facility-days), "
            f"objective {plan.totals.objective:.0f}"
        )
    plan = plans["default1"]
    if plans["default2"].totals.objective != plan.totals.objective:
        raise SystemExit("workers=2 changed the objective")
    if args.verify_national:
        lp_objective, n_vars, lp_seconds = reference_lp_objective(instance, base)
        difference = abs(plan.totals.objective - lp_objective) / max(1.0, lp_objective)
        print(
            f"  HiGHS LP, national ({n_vars:,} variables): objective {lp_objective:.0f} in "
            f"{lp_seconds:.2f} s; relative difference {difference:.2e}"
        )
    return plan


def _best(
    instance: dict[str, Any], options: AllocationOptions, args: argparse.Namespace
) -> tuple[Any, float, float]:
    runs = [_run(instance, options) for _ in range(args.repeat)]
    return min(runs, key=lambda run: run[1])


def _time_single_sourcing(
    args: argparse.Namespace, instance: dict[str, Any], base: AllocationOptions, plan: Any
) -> None:
    for scope, workers in (("day", 1), ("day", 2), ("horizon", 1), ("horizon", 2)):
        single = dataclasses.replace(
            base, single_sourcing=True, single_sourcing_scope=scope, workers=workers
        )
        plan_single, seconds, cpu = _best(instance, single, args)
        print(
            f"single sourcing per {scope}, workers={workers}: {plan_single.solver_status} in "
            f"{seconds:.3f} s wall, {cpu:.3f} s CPU; gap to the LP bound "
            f"{100 * plan_single.gap:.3f} %; unmet {plan_single.totals.unmet_m3:,.1f} m³ "
            f"(+{plan_single.totals.unmet_m3 - plan.totals.unmet_m3:,.1f}); transport "
            f"{plan_single.totals.transport_m3_s / plan.totals.transport_m3_s:.4f}x"
        )


def _time_fairness(args: argparse.Namespace, base: AllocationOptions) -> None:
    fair_instance = _instance(args, args.fairness_facilities)
    fair_default, _, _ = _run(fair_instance, base)
    fair, seconds, cpu = _run(fair_instance, dataclasses.replace(base, fairness=True))
    print(
        f"fairness (GLOP + min-cost flow, {args.fairness_facilities} facilities, "
        f"{len(fair_instance['supplier_ids'])} suppliers): {fair.solver_status} in "
        f"{seconds:.3f} s wall, {cpu:.3f} s CPU; largest unmet share of the facility-days a "
        f"supplier can serve {_servable_share(fair):.4f} (default mode "
        f"{_servable_share(fair_default):.4f}; of all, unreachable ones too: "
        f"{fair.totals.max_unmet_share:.4f}), unmet {fair.totals.unmet_m3:,.1f} m³ "
        f"(default {fair_default.totals.unmet_m3:,.1f})"
    )


def main() -> None:
    """Generate the instance, solve it in each mode, check against the LP and print figures."""
    args = _arguments()
    _print_orientation(args)
    _check_small_instance(args)
    started = time.perf_counter()
    instance = generate_instance(
        n_facilities=args.facilities,
        n_suppliers=args.suppliers,
        n_days=args.days,
        seed=args.seed,
        max_delivery_time_s=args.max_delivery_time_s,
    )
    print(
        f"instance: {args.facilities} facilities x {args.suppliers} suppliers x {args.days} "
        f"days, seed {args.seed}, max delivery {args.max_delivery_time_s} s "
        f"(generated in {time.perf_counter() - started:.2f} s)"
    )
    demand = instance["demand_m3"].sum()
    print(f"  demand {demand:,.0f} m³, capacity {instance['capacity_m3'].sum():,.0f} m³")
    print(f"  best of {args.repeat} runs; CPU = this process + solver worker processes")
    base = AllocationOptions(max_delivery_time_s=args.max_delivery_time_s)
    plan = _time_default(args, instance, base)
    _time_single_sourcing(args, instance, base, plan)
    _time_fairness(args, base)
    if args.carry_over:
        carry = dataclasses.replace(base, carry_over=True)
        plan_carry, seconds_carry, cpu_carry = _run(instance, carry)
        print(
            f"carry-over: {plan_carry.solver_status} in {seconds_carry:.3f} s wall, "
            f"{cpu_carry:.3f} s CPU; unmet {plan_carry.totals.unmet_m3:,.1f} m³"
        )


if __name__ == "__main__":
    main()
