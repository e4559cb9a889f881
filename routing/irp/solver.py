"""The inventory-routing solver: baseline, schedule search, then the exact MIP or pool polishing.

:func:`solve_irp` starts from the refill-when-needed baseline (:mod:`routing.irp.baseline`), which
is feasible whenever the depot and the fleet allow, improves it by the iterated local search over
delivery schedules (:mod:`routing.irp.schedule_search`), and spends what is left of the time on
either the exact route-enumeration MIP (at most ``EXACT_MAX_CUSTOMERS`` customers; its answer is
kept when better, and flagged ``proven_optimal`` when HiGHS closes the gap) or route-pool MIPs
over windows of periods (:mod:`routing.irp.pool_search`). Design and figures: docs/irp.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from routing.irp.baseline import solve_baseline
from routing.irp.checker import check_solution
from routing.irp.cluster_search import regroup_by_region
from routing.irp.instance import IrpInstance
from routing.irp.pool_search import polish_with_pool
from routing.irp.route_mip import all_subset_routes, mip_solution, solve_route_mip
from routing.irp.schedule_search import search_schedules
from routing.irp.solution import IrpSolution

EXACT_MAX_CUSTOMERS = 10
EXACT_QUICK_CUSTOMERS = 5  # up to here the exact MIP follows the search at any time limit
EXACT_LONG_LIMIT_S = 60.0  # beyond, it needs this long (and at most 3 periods)
POOL_MAX_CUSTOMERS = 50
_BASELINE_PYVRP_ITERATIONS = 1_000  # per period, when the solve counts iterations


@dataclass(frozen=True, slots=True)
class IrpParams:
    """Settings of :func:`solve_irp`.

    Attributes
    ----------
    time_limit_s
        Wall-clock budget of the whole solve, seconds (> 0).
    seed
        Seed of every random choice (schedule search, PyVRP).
    neighbours
        Nearest customers tried for insertion around each route when the pool grows (>= 1).
    search_share
        On instances solved exactly, the part of the budget given to the schedule search; the
        rest goes to the exact MIP. Exactly solved: at most ``EXACT_QUICK_CUSTOMERS`` customers,
        or up to ``EXACT_MAX_CUSTOMERS`` with at most 3 periods and a limit of at least
        ``EXACT_LONG_LIMIT_S`` (the search then gets at most 0.3).
    max_iterations
        None (default): every step stops on the clock, so two runs with one seed can differ by
        how far they got. A number: the schedule search stops after that many perturbations and
        PyVRP (baseline, final re-routing) on iteration budgets; the route-pool polishing, which
        only stops on the clock, is skipped; the exact MIP (n <= 10) still has the time limit
        and is deterministic when it finishes within it. The same seed and ``max_iterations``
        then give the same plan on any machine, however loaded (>= 1).
    """

    time_limit_s: float = 30.0
    seed: int = 0
    neighbours: int = 5
    search_share: float = 0.8
    max_iterations: int | None = None

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s: {self.time_limit_s!r} must be positive")
        if self.neighbours < 1:
            raise ValueError(f"neighbours: {self.neighbours!r} must be at least 1")
        if not 0 < self.search_share <= 1:
            raise ValueError(f"search_share: {self.search_share!r} must be in (0, 1]")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations: {self.max_iterations!r} must be at least 1")


def _exact(instance: IrpInstance, start: IrpSolution, time_limit_s: float) -> IrpSolution:
    """Return the exact MIP's plan when it is at least as good as ``start``, else ``start``."""
    started = time.monotonic()
    pool = all_subset_routes(instance)  # about a second at n = 10, in the budget
    left_s = time_limit_s - (time.monotonic() - started)
    # The search's plan is the MIP's cutoff: HiGHS prunes every node that cannot beat it (proves
    # 8 of 12 tiny instances at 60 s instead of 6; docs/irp.md, "Exact proofs for n <= 10").
    result = solve_route_mip(instance, pool, time_limit_s=left_s, incumbent=start)
    if result is None:
        return start
    extras: dict[str, object] = {"proven_optimal": result.proven_optimal}
    if result.proven_optimal:
        extras["lower_bound"] = round(result.lower_bound, 4)
    exact = mip_solution(result, extras=extras)
    exact_cost = check_solution(instance, exact).total_cost
    if exact_cost <= check_solution(instance, start).total_cost + 1e-6:
        return exact
    return IrpSolution(start.routes, start.shortfalls, {**start.extras, "proven_optimal": False})


def _exact_search_share(instance: IrpInstance, params: IrpParams) -> float | None:
    """Return the search's share of the budget when the exact MIP follows it, else None.

    Measured (docs/irp.md, "Exact proofs for n <= 10", 60 s): the MIP proves n = 5 in 0.1-19 s;
    at n = 10 it proves T = 3 in 17-49 s (given the search's plan as a cutoff) and T = 6 never
    (one LP of its cut rounds takes about a minute). So beyond 5 customers it runs only with
    at most 3 periods and at least ``EXACT_LONG_LIMIT_S``, and then gets most of the time.
    """
    n, periods = instance.num_customers, instance.num_periods
    if n > EXACT_MAX_CUSTOMERS:
        return None
    if n <= EXACT_QUICK_CUSTOMERS:
        return params.search_share
    if periods <= 3 and params.time_limit_s >= EXACT_LONG_LIMIT_S:
        return min(params.search_share, 0.3)
    return None


def _beyond_the_mips(instance: IrpInstance) -> str:
    """Return why the route MIPs cannot solve ``instance`` ("" when they can)."""
    if instance.mixed_fleet:
        return "vehicles of different capacities"
    if instance.max_route_duration is not None:
        return "route-duration limit"
    if instance.varies_by_period:
        return "consumption or arrivals per period"
    return ""


def _solve_by_search(
    instance: IrpInstance, start: IrpSolution, params: IrpParams, deadline: float
) -> IrpSolution:
    """Plan by the schedule search alone, the exact and pool MIPs skipped.

    They need every floor kept, identical vehicles, no duration limit and constant consumption
    without fixed arrivals.
    """
    searched = search_schedules(
        instance,
        start,
        time_limit_s=max(deadline - time.monotonic(), 0.1),
        seed=params.seed,
        max_iterations=params.max_iterations,
    )
    why = "shortfalls" if start.shortfalls else _beyond_the_mips(instance)
    extras = {**searched.extras, "solver": "irp", "mip": f"skipped: {why}"}
    return IrpSolution(searched.routes, searched.shortfalls, extras)


def solve_irp(instance: IrpInstance, params: IrpParams | None = None) -> IrpSolution:
    """Plan deliveries and routes for the whole horizon within ``params.time_limit_s``.

    Returns
    -------
    IrpSolution
        The best feasible plan found (never worse than the baseline), ``extras`` naming the
        steps (``solver``, ``iterations``, ``proven_optimal`` for small instances). When even
        the baseline leaves customers short (the depot or the fleet cannot cover them), the
        plan with the least priority-weighted shortfall found, then the least cost (never
        worse than the baseline on both, in that order), each shortfall declared with its
        reason (``depot``, ``capacity``, ``fleet``, ``tank``).
    """
    params = params or IrpParams()
    deadline = time.monotonic() + params.time_limit_s
    budget = min(1.0, params.time_limit_s / (20 * instance.num_periods))
    counted = params.max_iterations is not None
    start = solve_baseline(
        instance,
        time_limit_s=budget,
        seed=params.seed,
        max_iterations=_BASELINE_PYVRP_ITERATIONS if counted else None,
    )
    if start.shortfalls or _beyond_the_mips(instance):
        return _solve_by_search(instance, start, params, deadline)
    left = deadline - time.monotonic()
    # Only the exact MIP needs a fixed share; otherwise the search keeps running as long as it
    # improves, and the pool MIP gets what it leaves (15 %, up to POOL_MAX_CUSTOMERS customers:
    # beyond, the pool MIP takes seconds to build and found nothing; docs/irp.md).
    # HiGHS needs about 2^n / 400 s to load and presolve the all-subsets model (2.6 s at
    # n = 10): when the MIP's share is shorter, it could only overrun, so the search keeps it.
    exact_floor_s = max(0.5, 2**instance.num_customers / 400)
    exact_share = _exact_search_share(instance, params)
    exact = exact_share is not None and (counted or left * (1 - exact_share) > exact_floor_s)
    share = exact_share if exact and exact_share is not None else 1.0
    # Beyond the pool MIP's size the search starts from the best regrouping of the map into
    # regions that share periods (it takes 20 % of the budget; docs/irp.md, "Large instances").
    search = regroup_by_region if instance.num_customers > POOL_MAX_CUSTOMERS else search_schedules
    searched = search(
        instance,
        start,
        time_limit_s=max(left * share, 0.1),
        seed=params.seed,
        max_iterations=params.max_iterations,
    )
    left = deadline - time.monotonic()
    if exact and (counted or left > exact_floor_s):
        # Counting iterations, the MIP gets the whole limit: it is deterministic when it
        # finishes, and how long the search took must not change how far it gets.
        finished = _exact(instance, searched, params.time_limit_s if counted else left)
    elif (
        left <= 0.5
        or counted
        or not EXACT_MAX_CUSTOMERS < instance.num_customers <= POOL_MAX_CUSTOMERS
    ):
        finished = searched
    else:
        finished = polish_with_pool(instance, searched, deadline=deadline, params=params)
    extras = {**searched.extras, **finished.extras, "solver": "irp"}
    return IrpSolution(finished.routes, finished.shortfalls, extras)
