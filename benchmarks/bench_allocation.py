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
maximum delivery time is 6 h. The reference LP (scipy ``linprog``, HiGHS) is built here from the
documented model, independently of the network the solver builds, in the same integer units.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.graph.python import min_cost_flow
from scipy.optimize import linprog

from data.schema.allocation import PRODUCTS, UNREACHABLE_S, AllocationOptions, UnmetReason
from matcher.allocation import allocate_supply_matrix

# Country spine (lon, lat) from Lao Cai to Ca Mau, with a population weight per stretch.
_SPINE = np.array(
    [
        (103.9, 22.4),
        (105.8, 21.0),
        (106.3, 20.4),
        (105.7, 18.7),
        (106.6, 17.5),
        (108.2, 16.05),
        (108.8, 15.1),
        (109.2, 13.8),
        (109.2, 12.2),
        (108.4, 11.6),
        (106.7, 10.8),
        (105.8, 10.0),
        (105.1, 9.2),
    ]
)
_WEIGHT = np.array([1.0, 4.0, 2.0, 1.0, 1.0, 1.5, 1.0, 1.0, 1.0, 1.5, 5.0, 2.0])
_KM_PER_DEG = 111.2
_DETOUR = 1.3
_TANKER_KPH = 40.0


def _points(rng: np.random.Generator, count: int, spread_deg: float) -> npt.NDArray[np.float64]:
    segment = rng.choice(len(_WEIGHT), size=count, p=_WEIGHT / _WEIGHT.sum())
    along = rng.random(count)[:, None]
    base = _SPINE[segment] * (1 - along) + _SPINE[segment + 1] * along
    return base + rng.normal(0.0, spread_deg, size=(count, 2))


def generate_instance(
    *, n_facilities: int, n_suppliers: int, n_days: int, seed: int, max_delivery_time_s: int
) -> dict[str, Any]:
    """Generate a national-scale instance as matrix-core arrays (fixed seed, reproducible)."""
    rng = np.random.default_rng(seed)
    facilities = _points(rng, n_facilities, 0.25)
    suppliers = _points(rng, n_suppliers, 0.15)
    lon_scale = np.cos(np.radians(15.0))
    d_lon = (suppliers[:, None, 0] - facilities[None, :, 0]) * lon_scale
    d_lat = suppliers[:, None, 1] - facilities[None, :, 1]
    km = np.hypot(d_lon, d_lat) * _KM_PER_DEG * _DETOUR
    travel_s = np.rint(km / _TANKER_KPH * 3600).astype(np.int64)
    travel_s[rng.random(travel_s.shape) < 0.01] = UNREACHABLE_S  # a few cut roads

    has_tank = rng.random(n_facilities) < 0.30
    accepted = np.stack([has_tank, np.ones(n_facilities, bool)], axis=1)  # PRODUCTS order
    base = np.where(has_tank, rng.uniform(50, 800, n_facilities), rng.uniform(5, 60, n_facilities))
    growth = 1.03 ** np.arange(n_days)
    demand_m3 = np.round(base[:, None] * growth[None, :], 1)
    limits = np.full((n_facilities, len(PRODUCTS)), np.inf)
    limits[:, 0] = np.where(has_tank, base * rng.uniform(1.0, 3.0, n_facilities), 0.0)
    limits[:, 1] = np.round(rng.uniform(40, 200, n_facilities) * 6.0, 1)  # cylinder storage

    is_producer = np.arange(n_suppliers) < round(0.26 * n_suppliers)
    total_bulk = float((demand_m3 * has_tank[:, None]).sum(axis=0).mean())
    total_cyl = float((demand_m3 * ~has_tank[:, None]).sum(axis=0).mean())
    capacity_m3 = np.zeros((n_suppliers, len(PRODUCTS), n_days))
    share = rng.uniform(0.5, 1.5, n_suppliers)
    bulk_share = np.where(is_producer, share, 0) / np.where(is_producer, share, 0).sum()
    cyl_share = np.where(~is_producer, share, 0) / np.where(~is_producer, share, 0).sum()
    day_factor = rng.uniform(0.9, 1.1, (n_suppliers, n_days))
    capacity_m3[:, 0, :] = np.round(0.98 * total_bulk * bulk_share[:, None] * day_factor, 1)
    capacity_m3[:, 1, :] = np.round(1.00 * total_cyl * cyl_share[:, None] * day_factor, 1)
    tier = rng.choice([1, 2, 3], size=n_facilities, p=[0.5, 0.35, 0.15])
    priority = (10 * tier + rng.integers(0, 11, n_facilities)).astype(np.int64)
    return {
        "supplier_ids": [f"S{i:03d}" for i in range(n_suppliers)],
        "facility_ids": [f"F{i:05d}" for i in range(n_facilities)],
        "travel_time_s": travel_s,
        "capacity_m3": capacity_m3,
        "demand_m3": demand_m3,
        "accepted": accepted,
        "receiving_limit_m3": limits,
        "priority": priority,
        "max_delivery_time_s": max_delivery_time_s,
    }


def reference_lp_objective(
    instance: dict[str, Any], options: AllocationOptions
) -> tuple[float, int, float]:
    """Solve the documented model as one LP with scipy's HiGHS; return (objective, variables, s).

    Same model and integer units as the documented network (demand rounded up, capacities and
    limits down to the quantity resolution; penalty per quantum = priority x
    ``(S*P*B + 1) * (max usable travel_s + B + 1) + 1`` with B = 1 day per network, or D with
    carry-over), built directly from the arrays.
    """
    started = time.perf_counter()
    resolution = options.quantity_resolution_m3
    travel = np.asarray(instance["travel_time_s"], np.int64)
    capacity = np.floor(np.asarray(instance["capacity_m3"]) / resolution + 1e-9)
    demand = np.ceil(np.asarray(instance["demand_m3"]) / resolution - 1e-9)
    n_s, n_p, n_d = capacity.shape
    n_f = demand.shape[0]
    accepted = np.asarray(instance.get("accepted", np.ones((n_f, n_p), bool)), bool)
    limits_m3 = np.asarray(instance.get("receiving_limit_m3", np.full((n_f, n_p), np.inf)))
    limits = np.where(
        np.isinf(limits_m3), np.inf, np.floor(np.minimum(limits_m3, 1e15) / resolution + 1e-9)
    )
    weight = np.asarray(instance.get("priority", np.ones(n_f, np.int64)), np.int64)
    usable = accepted[None] & (capacity.sum(axis=2) > 0)[:, None, :] & (travel != -1)[:, :, None]
    if options.max_delivery_time_s is not None:
        usable &= (travel <= options.max_delivery_time_s)[:, :, None]
    max_travel = int(travel[usable.any(axis=2)].max()) if usable.any() else 0
    days_per_network = n_d if options.carry_over else 1
    penalty_unit = (n_s * n_p * days_per_network + 1) * (max_travel + days_per_network + 1) + 1

    # Variables: x[s,f,p,d] for usable arcs with capacity that day, then unmet[f,d], then (with
    # carry-over) use[f,p,d] and stock[f,p,d] (held overnight from d to d+1).
    s_i, f_i, p_i, d_i = np.nonzero(usable[:, :, :, None] & (capacity[:, None, :, :] > 0))
    n_x = len(s_i)
    n_u = n_f * n_d
    costs = [
        travel[s_i, f_i].astype(float),
        (penalty_unit * weight[:, None] * np.ones((1, n_d))).ravel(),
    ]
    upper = [np.full(n_x, np.inf), np.full(n_u, np.inf)]
    rows_ub: list[sp.coo_matrix] = []
    b_ub: list[npt.NDArray[np.float64]] = []
    # Supplier capacity per (s, p, d).
    rows_ub.append(
        sp.coo_matrix(
            (np.ones(n_x), ((s_i * n_p + p_i) * n_d + d_i, np.arange(n_x))),
            shape=(n_s * n_p * n_d, n_x),
        )
    )
    b_ub.append(capacity.ravel())
    # Receiving limit per (f, p, d).
    receive_row = (f_i * n_p + p_i) * n_d + d_i
    rows_ub.append(
        sp.coo_matrix((np.ones(n_x), (receive_row, np.arange(n_x))), shape=(n_f * n_p * n_d, n_x))
    )
    b_ub.append(np.repeat(np.where(np.isinf(limits), 1e18, limits).ravel(), n_d))
    fd = np.arange(n_u)
    if not options.carry_over:
        a_ub = sp.hstack([sp.vstack(rows_ub), sp.coo_matrix((len(np.concatenate(b_ub)), n_u))])
        a_eq = sp.hstack(
            [
                sp.coo_matrix((np.ones(n_x), (f_i * n_d + d_i, np.arange(n_x))), shape=(n_u, n_x)),
                sp.identity(n_u),
            ]
        )
        b_eq = demand.ravel()
    else:
        n_h = n_f * n_p * n_d
        costs += [np.zeros(n_h), np.ones(n_h)]
        last = (np.arange(n_h) % n_d) == n_d - 1
        stock_upper = np.repeat(np.where(np.isinf(limits), np.inf, limits).ravel(), n_d)
        upper += [np.full(n_h, np.inf), np.where(last, 0.0, stock_upper)]
        a_ub = sp.hstack(
            [sp.vstack(rows_ub), sp.coo_matrix((len(np.concatenate(b_ub)), n_u + 2 * n_h))]
        )
        h = np.arange(n_h)
        h_f, h_d = h // (n_p * n_d), h % n_d
        previous = np.where(h_d > 0, h - 1, -1)
        # stock[h] = stock[h-1] + received[h] - use[h]  ->  received - use + stock_prev - stock = 0
        flow_rows = [
            sp.coo_matrix((np.ones(n_x), (receive_row, np.arange(n_x))), shape=(n_h, n_x)),
            sp.coo_matrix((n_h, n_u)),
            -sp.identity(n_h),
            sp.coo_matrix(
                (
                    np.concatenate([-np.ones(n_h), np.ones((previous >= 0).sum())]),
                    (
                        np.concatenate([h, h[previous >= 0]]),
                        np.concatenate([h, previous[previous >= 0]]),
                    ),
                ),
                shape=(n_h, n_h),
            ),
        ]
        demand_rows = [
            sp.coo_matrix((n_u, n_x)),
            sp.identity(n_u),
            sp.coo_matrix((np.ones(n_h), (h_f * n_d + h_d, h)), shape=(n_u, n_h)),
            sp.coo_matrix((n_u, n_h)),
        ]
        a_eq = sp.vstack([sp.hstack(flow_rows), sp.hstack(demand_rows)])
        b_eq = np.concatenate([np.zeros(n_h), demand.ravel()])
    del fd
    result = linprog(
        np.concatenate(costs),
        A_ub=a_ub.tocsr(),
        b_ub=np.concatenate(b_ub),
        A_eq=a_eq.tocsr(),
        b_eq=b_eq,
        bounds=np.stack([np.zeros(len(np.concatenate(upper))), np.concatenate(upper)], axis=1),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"reference LP failed: {result.message}")
    return float(result.fun), len(np.concatenate(costs)), time.perf_counter() - started


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


def main() -> None:
    """Generate the instance, solve it in each mode, check against the LP and print figures."""
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
    args = parser.parse_args()

    ortools_s, highs_s, difference = orientation_instance(args.seed, args.repeat)
    print(
        f"orientation problem of the issue (50 x 2,000 transportation; there: OR-Tools 0.07 s, "
        f"HiGHS 1.1 s): OR-Tools {ortools_s:.3f} s, HiGHS {highs_s:.2f} s here "
        f"(same optimum: relative difference {difference:.1e}); this machine / the issue's: "
        f"{ortools_s / 0.07:.2f}x (OR-Tools), {highs_s / 1.1:.2f}x (HiGHS)"
    )
    # Exactness first: the same generator at a size HiGHS solves in seconds, every run.
    small = generate_instance(
        n_facilities=args.verify_facilities,
        n_suppliers=max(2, args.suppliers * args.verify_facilities // args.facilities),
        n_days=args.days,
        seed=args.seed,
        max_delivery_time_s=args.max_delivery_time_s,
    )
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

    def best(options: AllocationOptions) -> tuple[Any, float, float]:
        runs = [_run(instance, options) for _ in range(args.repeat)]
        return min(runs, key=lambda run: run[1])

    base = AllocationOptions(max_delivery_time_s=args.max_delivery_time_s)
    floor_s = min(solver_floor_s(instance, base) for _ in range(args.repeat))
    print(
        f"  floor: OR-Tools' solve() alone on the {args.days} daily networks, back to back: "
        f"{floor_s:.3f} s ({floor_s / args.days:.3f} s a day)"
    )
    plans: dict[str, Any] = {}
    for workers in (1, 2):
        plan, seconds, cpu = best(dataclasses.replace(base, workers=workers))
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

    for scope, workers in (("day", 1), ("day", 2), ("horizon", 1), ("horizon", 2)):
        single = dataclasses.replace(
            base, single_sourcing=True, single_sourcing_scope=scope, workers=workers
        )
        plan_single, seconds, cpu = best(single)
        print(
            f"single sourcing per {scope}, workers={workers}: {plan_single.solver_status} in "
            f"{seconds:.3f} s wall, {cpu:.3f} s CPU; gap to the LP bound "
            f"{100 * plan_single.gap:.3f} %; unmet {plan_single.totals.unmet_m3:,.1f} m³ "
            f"(+{plan_single.totals.unmet_m3 - plan.totals.unmet_m3:,.1f}); transport "
            f"{plan_single.totals.transport_m3_s / plan.totals.transport_m3_s:.4f}x"
        )

    fair_instance = generate_instance(
        n_facilities=args.fairness_facilities,
        n_suppliers=max(2, args.suppliers * args.fairness_facilities // args.facilities),
        n_days=args.days,
        seed=args.seed,
        max_delivery_time_s=args.max_delivery_time_s,
    )
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

    if args.carry_over:
        carry = dataclasses.replace(base, carry_over=True)
        plan_carry, seconds_carry, cpu_carry = _run(instance, carry)
        print(
            f"carry-over: {plan_carry.solver_status} in {seconds_carry:.3f} s wall, "
            f"{cpu_carry:.3f} s CPU; unmet {plan_carry.totals.unmet_m3:,.1f} m³"
        )


if __name__ == "__main__":
    main()
