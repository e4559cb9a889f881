"""Solve vehicle-routing problems: the public entry of the only code that talks to PyVRP.

A :class:`~data.schema.routes.RouteProblem` goes in and a :class:`~data.schema.routes.RoutePlan`
comes out. PyVRP (iterated local search) stays sealed in this module and the private modules
beside it: its indices, depots, profiles, prizes and search parameters never leak out. The
pieces: ``_unservable`` (the pre-check and the reasons of unassigned tasks), ``_pyvrp_model``
(the two PyVRP models), ``_exact_search`` (enumeration of tiny problems), ``_pyvrp_search`` (one
search), ``_polish`` (left-out tasks inserted, short routes reordered) and ``_route_plan`` (our
plan, scheduled on the original matrices). The OR-Tools routing baseline of the benchmark is
``benchmarks/ortools_vrp.py``.

How the problem maps onto PyVRP
-------------------------------
* Every task step (job, shipment pickup, shipment delivery) gets its own PyVRP location, a copy of
  its matrix row and column, so that two tasks at one place can still differ (skills).
* Every distinct (location, reload service time) used as a start, end or reload point becomes a
  PyVRP depot. An open start or end (``None``) becomes a free depot: zero travel to and from it.
* Skills become routing profiles: for a vehicle lacking a task's skills the edges into that task
  cost ``prohibitive`` distance, larger than the vehicle's ``max_distance``, so such a visit is
  infeasible. One profile per distinct skill set; one profile only when skills never matter.
* PyVRP's distance matrix of a profile is the one per-edge quantity that carries both a vehicle's
  objective (times its ``unit_distance_cost``) and its ``max_distance`` limit: the travel times
  (default cost, ``max_travel_time_s``), the distances (``cost_per_km`` only, ``max_distance_m``),
  the ``costs`` matrix, or a per-hour plus per-km mix. A limit on another quantity than the
  vehicle's cost is refused. Profiles are per (skill set, that quantity, speed factor, travel
  profile), with the durations scaled by the vehicle's speed factor. The travel profile is the
  vehicle's ``profile``: ``"general"`` drives on the problem's ``durations_s`` and
  ``distances_m``, another name on ``profile_durations_s`` and ``profile_distances_m`` (a loaded
  tanker's road times); the schedule, the pre-check and the validator read the same matrices.
  Costs are scaled to integers exactly
  (:func:`~routing._pyvrp_model.objective_scale`); fixed costs become PyVRP's ``fixed_cost``.
* ``max_tasks`` is one more load dimension in which every job delivers 1 (refused with shipments
  or reloads, where that would not count the tasks).
* A job with several time windows becomes one client per window in a mutually exclusive
  ``ClientGroup`` (required in the complete model, optional in the partial one).
* Identical vehicles (all fields but the id) form one vehicle type with ``num_available``.
* Tasks that a pre-check shows cannot be served by any vehicle (skills, capacity, time window,
  shift) are left out with a reason giving the numbers, before solving.

Unassigned tasks and priorities
-------------------------------
There are two models of the same problem. The *complete* model makes every task required (the
fastest search when everything fits). The *partial* model makes tasks optional with a prize of
``base_prize * (1 + priority)`` where ``base_prize`` exceeds the cost of any solution, so serving
one more task always beats any saving in cost, and a task of priority ``p`` weighs as ``1 + p``
tasks (VROOM's rule: priorities decide what is left out; a shipment is two tasks, its pickup
and its delivery, each of the shipment's priority, as VROOM counts them). Each search starts on
the complete model; if it has no feasible solution after half of its time, it continues on the
partial model from the routes it has, repaired to be feasible (visits removed until they are).
With several workers (different seeds, one process each) the plan serving the most
priority-weighted tasks wins, then the cheapest. Routes that a search could not make feasible
are dropped and their tasks listed as unassigned.

Determinism
-----------
A run is reproducible for a fixed seed when it stops on ``max_iterations``; a pure time limit
stops after however many iterations the machine managed, so results can vary between machines.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from typing import Any, Literal

from data.errors import InvalidInputError
from data.schema.routes import RoutePlan, RouteProblem
from routing._exact_search import solve_exactly
from routing._pyvrp_model import PyvrpModel, build_pyvrp_model
from routing._pyvrp_routes import RawRoute
from routing._pyvrp_search import run_pyvrp, served_weight
from routing._route_plan import plan_from_raw
from routing._route_tasks import VehiclePreference as VehiclePreference
from routing._route_tasks import preference_positions
from routing._unservable import REASON_CAPACITY as REASON_CAPACITY
from routing._unservable import REASON_FLEET as REASON_FLEET
from routing._unservable import REASON_MAX_TASKS as REASON_MAX_TASKS
from routing._unservable import REASON_NO_ROOM as REASON_NO_ROOM
from routing._unservable import REASON_NOT_SERVED as REASON_NOT_SERVED
from routing._unservable import REASON_SHIFT as REASON_SHIFT
from routing._unservable import REASON_SKILLS as REASON_SKILLS
from routing._unservable import REASON_TIME_WINDOW as REASON_TIME_WINDOW
from routing._unservable import explain_unservable_tasks as explain_unservable_tasks

Engine = Literal["pyvrp"]
_ENGINES: tuple[str, ...] = ("pyvrp",)
# Time kept back from the wall-clock budget for building the model, starting worker processes
# and writing the plan, so that the whole call returns within ``time_limit_s``.
_OVERHEAD_S = 0.25


@dataclass(frozen=True, slots=True)
class SolverParams:
    """Validated settings of one solve.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget of the whole call, in seconds (default 10).
    seed
        Seed of the first worker; worker ``k`` uses ``seed + k`` (default 0).
    num_workers
        Independent searches run in parallel processes, best plan kept (default 1). Use the
        number of cores you may occupy. Workers alternate between two search settings (a small
        neighbourhood tuned for large problems at short budgets, and PyVRP's defaults).
    max_iterations
        Stop each search after this many iterations (default ``None``: only the time limit).
        Set it for reproducible plans.
    engine
        ``"pyvrp"``, the only engine (the default). The OR-Tools routing baseline the benchmark
        compares against is ``benchmarks/ortools_vrp.py``.

    Raises
    ------
    InvalidInputError
        If a value is out of range; the message names the field.
    """

    time_limit_s: float = 10.0
    seed: int = 0
    num_workers: int = 1
    max_iterations: int | None = None
    engine: Engine = "pyvrp"

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.time_limit_s, int | float) or not self.time_limit_s > 0:
            problems.append(
                f"time_limit_s must be a positive number of seconds, got {self.time_limit_s!r}"
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.num_workers, int) or not 1 <= self.num_workers <= 64:
            problems.append(f"num_workers must be an integer in [1, 64], got {self.num_workers!r}")
        if self.max_iterations is not None and (
            not isinstance(self.max_iterations, int) or self.max_iterations < 1
        ):
            problems.append(
                f"max_iterations must be a positive integer or None, got {self.max_iterations!r}"
            )
        if self.engine not in _ENGINES:
            problems.append(f"engine must be one of {list(_ENGINES)}, got {self.engine!r}")
        if problems:
            raise InvalidInputError.from_problems("solver parameters", problems)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SolverParams:
        """Build parameters from a mapping, for example a parsed TOML table.

        Raises
        ------
        InvalidInputError
            If a key is unknown or a value is out of range.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown solver parameter(s) {unknown}; known: {sorted(known)}",
                [f"unknown key {k!r}" for k in unknown],
            )
        return cls(**dict(values))


def _run_searches(
    model: PyvrpModel, params: SolverParams, runtime_s: float
) -> list[list[RawRoute]]:
    """Run ``params.num_workers`` searches (one here, the others in forked processes)."""
    seeds = [params.seed + k for k in range(params.num_workers)]
    arguments = (model.complete, model.partial)
    bound = model.max_penalty
    if params.num_workers == 1:
        return [run_pyvrp(*arguments, seeds[0], runtime_s, params.max_iterations, 0, bound)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=params.num_workers - 1, mp_context=context) as pool:
        futures = [
            pool.submit(run_pyvrp, *arguments, seed, runtime_s, params.max_iterations, k, bound)
            for k, seed in enumerate(seeds[1:], start=1)
        ]
        first = run_pyvrp(*arguments, seeds[0], runtime_s, params.max_iterations, 0, bound)
        return [first] + [f.result() for f in futures]


def _solve_with_pyvrp(
    problem: RouteProblem,
    params: SolverParams,
    dropped: Mapping[int, str],
    started: float,
    preferences: Mapping[int, tuple[int, int]] | None = None,
) -> RoutePlan:
    model = build_pyvrp_model(problem, dropped, preferences)

    def plan(raw: list[RawRoute], *, proven: bool = False) -> RoutePlan:
        return plan_from_raw(
            problem,
            model,
            raw,
            dropped,
            time_limit_s=params.time_limit_s,
            seed=params.seed,
            runtime_s=time.perf_counter() - started,
            proven=proven,
        )

    if not model.client_tasks and not model.shipment_tasks:
        return plan([])
    exact = solve_exactly(model, params.time_limit_s)
    if exact is not None:
        return dataclasses.replace(
            plan(exact, proven=True), runtime_s=time.perf_counter() - started
        )
    runtime_s = params.time_limit_s - (time.perf_counter() - started) - _OVERHEAD_S
    if params.num_workers > 1:
        runtime_s -= 0.1  # starting worker processes
    results = _run_searches(model, params, max(runtime_s, 0.05))
    plans = [plan(raw) for raw in results]
    weights = [served_weight(model, raw) for raw in results]
    best = min(range(len(plans)), key=lambda k: (-weights[k], plans[k].cost, k))
    return dataclasses.replace(plans[best], runtime_s=time.perf_counter() - started)


def solve_routes(
    problem: RouteProblem,
    params: SolverParams | None = None,
    *,
    preferences: Sequence[VehiclePreference] = (),
) -> RoutePlan:
    """Route the fleet over the tasks; list every task that cannot be served with its reason.

    Parameters
    ----------
    problem
        Validated problem over matrix positions (integer seconds, integer costs).
    params
        Solver settings; default :class:`SolverParams` (10 s, seed 0, one worker, PyVRP).
    preferences
        Tasks already announced on a vehicle (the live re-plan, issue 15): serving one with
        another vehicle costs its ``penalty`` in the search, so announced stops move only when
        that saves more. The plan's ``cost`` stays the cost of driving, without penalties.

    Returns
    -------
    RoutePlan
        Routes with per-step arrival, waiting, service and load, computed on the problem's own
        matrices, and an ``unassigned`` entry (with reason) for every task not routed. Tasks that
        no vehicle could serve even alone are reported without solving.

    Raises
    ------
    InvalidInputError
        If the engine cannot model a feature the problem uses, the costs are too large for
        exact integer arithmetic, or a preference names an unknown task or vehicle.
    """
    params = params if params is not None else SolverParams()
    started = time.perf_counter()
    positions = preference_positions(problem, preferences) if preferences else None
    dropped = explain_unservable_tasks(problem)
    return _solve_with_pyvrp(problem, params, dropped, started, positions)
