"""One PyVRP search: the complete model first, then the partial one, then the polishing."""

from __future__ import annotations

import time
import warnings
from typing import Any

from routing._polish import (
    INSERTION_MAX_EVALUATIONS,
    POLISH_MAX_S,
    POLISH_SHARE,
    best_order,
    insert_left_out,
)
from routing._pyvrp_model import PyvrpModel
from routing._pyvrp_routes import RawRoute, raw_route, route_visits
from routing._route_tasks import INT64_MAX

# Share of the search time the complete model (every task required) gets to find a feasible
# solution before the search switches to the partial model (optional tasks with prizes).
PHASE1_SHARE = 0.5
# Search settings per worker, cycled: worker k uses SEARCH_SETTINGS[k % 2]. The first (also the
# single worker's) is tuned for a 10 s budget: a granular neighbourhood of 20 nearest tasks and at
# most 10 perturbations per iteration make iterations about twice as fast, which pays on 125-400
# tasks (CVRPLIB X-n125..X-n401: mean gap 1.17% -> 0.62% per seed at 9.4 s CPU). The second keeps
# PyVRP's defaults (50 neighbours, 25 perturbations), which stay ahead on about 100 tasks (X-n101,
# X-n110: 0.00% against 0.88% and 0.26%), so with two workers the best plan is the better of both.
# Measured in docs/vrp.md.
SEARCH_SETTINGS: tuple[tuple[int, int], ...] = ((20, 10), (50, 25))  # (neighbours, perturbations)


class _CompleteModelStop:
    """Stop the complete model's search: budget spent, or still infeasible at the switch point.

    The switch point is ``PHASE1_SHARE`` of the time (or iteration) budget.
    """

    def __init__(self, runtime_s: float, max_iterations: int | None) -> None:
        self._started = time.perf_counter()
        self._runtime_s = runtime_s
        self._max_iterations = max_iterations
        self.iterations = 0

    def __call__(self, best_cost: int) -> bool:
        self.iterations += 1
        elapsed = time.perf_counter() - self._started
        if elapsed >= self._runtime_s:
            return True
        if self._max_iterations is not None and self.iterations >= self._max_iterations:
            return True
        # PyVRP passes INT64_MAX as the cost while the best solution is infeasible.
        if best_cost < INT64_MAX:
            return False
        if elapsed >= PHASE1_SHARE * self._runtime_s:
            return True
        return (
            self._max_iterations is not None
            and self.iterations >= PHASE1_SHARE * self._max_iterations
        )


def search_params(worker: int, max_penalty: float | None = None) -> Any:
    """Return PyVRP's solver settings for worker number ``worker`` (see ``SEARCH_SETTINGS``).

    ``max_penalty`` bounds the penalties (see :class:`~routing._pyvrp_model.PyvrpModel`);
    ``None`` keeps PyVRP's.
    """
    from pyvrp import PenaltyParams
    from pyvrp.search import NeighbourhoodParams, PerturbationParams
    from pyvrp.solve import SolveParams

    num_neighbours, max_perturbations = SEARCH_SETTINGS[worker % len(SEARCH_SETTINGS)]
    penalty = PenaltyParams() if max_penalty is None else PenaltyParams(max_penalty=max_penalty)
    return SolveParams(
        neighbourhood=NeighbourhoodParams(num_neighbours=num_neighbours),
        perturbation=PerturbationParams(max_perturbations=max_perturbations),
        penalty=penalty,
    )


def _continue_on_partial(
    partial: Any,
    best: Any,
    seed: int,
    search: Any,
    deadline: float,
    left_iterations: int | None,
) -> Any:
    """Repair the complete model's routes and search the partial model from them until then."""
    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    repaired = [repair_route(partial, route) for route in best.routes()]
    best = pyvrp.Solution(
        partial, [route for route in repaired if route.num_clients() or route.num_shipments()]
    )
    remaining = deadline - time.perf_counter()
    if remaining > 0.01 and (left_iterations is None or left_iterations > 0):
        criteria: list[Any] = [MaxRuntime(remaining)]
        if left_iterations is not None:
            criteria.append(MaxIterations(left_iterations))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            best = pyvrp.solve(
                partial,
                MultipleCriteria(criteria),
                seed=seed,
                collect_stats=False,
                params=search,
                initial_solution=best,
            ).best
    return best


def run_pyvrp(
    complete: Any,
    partial: Any,
    seed: int,
    runtime_s: float,
    max_iterations: int | None,
    worker: int = 0,
    max_penalty: float | None = None,
) -> list[RawRoute]:
    """Run one PyVRP search; return the feasible routes of its best solution.

    The search runs on the complete model (every task required). If it has no feasible solution
    after ``PHASE1_SHARE`` of its budget, it switches to the partial model (optional tasks with
    prizes) for the rest, starting from the routes found so far, repaired to be feasible.
    ``worker`` picks the search settings and ``max_penalty`` bounds the penalties
    (:attr:`~routing._pyvrp_model.PyvrpModel.max_penalty`). The last ``POLISH_SHARE`` of the
    time (at most ``POLISH_MAX_S``) is kept for inserting left-out tasks and reordering short
    routes, which stop at the end of ``runtime_s``. Top-level so that it can run in worker
    processes.
    """
    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning

    started = time.perf_counter()
    search_s = runtime_s - min(POLISH_MAX_S, POLISH_SHARE * runtime_s)
    search = search_params(worker, max_penalty)
    stop = _CompleteModelStop(search_s, max_iterations)
    with warnings.catch_warnings():
        # PyVRP warns when its penalties hit their bound: expected when not every task fits,
        # which is what the switch to the partial model handles.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        best = pyvrp.solve(complete, stop, seed=seed, collect_stats=False, params=search).best
    left_iterations = None if max_iterations is None else max_iterations - stop.iterations
    data = complete  # the model of ``best``
    if not best.is_feasible():
        data = partial
        deadline = started + search_s
        best = _continue_on_partial(partial, best, seed, search, deadline, left_iterations)
    # An infeasible route is dropped whole; its tasks become "not served in the time limit".
    routes = [route for route in best.routes() if route.is_feasible()]
    polish_until = started + runtime_s
    routes = insert_left_out(data, routes, INSERTION_MAX_EVALUATIONS, polish_until)
    return [
        raw_route(best_order(data, route) if time.perf_counter() < polish_until else route)
        for route in routes
    ]


def _tidy(activities: list[Any]) -> list[Any]:
    """Drop reload visits that no longer separate two trips."""
    out: list[Any] = []
    for activity in activities:
        if activity.is_depot() and (not out or out[-1].is_depot()):
            continue
        out.append(activity)
    while out and out[-1].is_depot():
        out.pop()
    return out


def repair_route(data: Any, route: Any) -> Any:
    """Remove visits from an infeasible PyVRP route until it is feasible; return the new route.

    Each round drops the task whose removal leaves the least violation (excess load, time warp,
    excess distance), then reload visits that no longer separate two trips. The route keeps its
    trips, which a search on the partial model would struggle to rebuild.
    """
    import pyvrp

    def violation(candidate: Any) -> int:
        excess = sum(candidate.excess_load()) + candidate.time_warp() + candidate.excess_distance()
        return int(excess)

    vehicle_type = route.vehicle_type()
    activities = route_visits(route)
    current = pyvrp.Route(data, activities, vehicle_type)
    while not current.is_feasible() and activities:
        options = []
        for position, activity in enumerate(activities):
            if activity.is_depot():
                continue
            if activity.is_shipment():
                kept = [a for a in activities if not (a.is_shipment() and a.idx == activity.idx)]
            else:
                kept = activities[:position] + activities[position + 1 :]
            kept = _tidy(kept)
            candidate = pyvrp.Route(data, kept, vehicle_type)
            options.append((violation(candidate), position, kept, candidate))
        if not options:
            break
        _, _, activities, current = min(options, key=lambda o: (o[0], o[1]))
    if not current.is_feasible():
        return pyvrp.Route(data, [], vehicle_type)
    return current


def served_weight(model: PyvrpModel, raw: list[RawRoute]) -> int:
    """Return the priority-weighted number of tasks the routes serve (as the prizes weigh them)."""
    total = 0
    for _, _, activities in raw:
        for kind, idx in activities:
            if kind == "client":
                total += model.task_weights[model.client_tasks[idx]]
            elif kind == "pickup":
                total += 2 * model.task_weights[model.shipment_tasks[idx]]
    return total
