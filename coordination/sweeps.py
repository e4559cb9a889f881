"""Parameter sweeps of a scenario, run in parallel with Dask (a local cluster, or any scheduler).

A sweep is a scenario document plus a grid: each grid key is a path into the document
(``changes[0].daily_growth_rate``) and each value a list. Every combination is one scenario run;
runs are independent, so Dask spreads them over processes or machines. Each worker loads the road
network from its graph cache once, by region name (a warm load takes a few hundredths of a second),
instead of receiving it over the wire.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from data.errors import InvalidInputError

_PATH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])?)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$")


@dataclass(frozen=True, slots=True)
class SweepRun:
    """One combination of a sweep and its headline results (m³ of gas)."""

    parameters: Mapping[str, Any]
    demand_m3: float
    delivered_m3: float
    unmet_m3: float
    facilities_with_unmet: int
    run_time_s: float


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    match = _PATH.match(path)
    if match is None:
        raise InvalidInputError(
            f"grid.{path}: not a path like 'horizon_days' or 'changes[0].capacity_factor'"
        )
    key, index, field = match.groups()
    if not index:
        if field:
            raise InvalidInputError(f"grid.{path}: only list items have fields ('changes[0].x')")
        document[key] = value
        return
    items = document.get(key)
    position = int(index[1:-1])
    if not isinstance(items, list) or position >= len(items):
        raise InvalidInputError(f"grid.{path}: the scenario has no {key}{index}")
    if not field:
        raise InvalidInputError(f"grid.{path}: give the field of {key}{index} to vary")
    items[position][field] = value


def expand_grid(
    document: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Return ``(parameters, scenario document)`` for every combination of the grid, in order.

    Raises
    ------
    InvalidInputError
        If the grid is empty, a value list is empty, or a path does not exist in the document.
    """
    if not grid:
        raise InvalidInputError("grid: empty; give at least one parameter with a list of values")
    for path, values in grid.items():
        if not isinstance(values, list | tuple) or not values:
            raise InvalidInputError(f"grid.{path}: must be a non-empty list of values")
    combos = []
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        variant = copy.deepcopy(dict(document))
        parameters = dict(zip(keys, values, strict=True))
        for path, value in parameters.items():
            _set(variant, path, value)
        combos.append((parameters, variant))
    return combos


_WORKER_CACHE: dict[tuple[str, str | None, str | None], Any] = {}


def _worker_network(region_id: str, data_dir: str | None, cache_dir: str | None) -> Any:
    # One load per worker process (and per region): the sweep's tasks all reuse it.
    key = (region_id, data_dir, cache_dir)
    if key not in _WORKER_CACHE:
        from data.region import load_region
        from data.settings import resolve_cache_dir
        from routing.graph import network_for_region

        region = load_region(region_id, data_dir=data_dir)
        _WORKER_CACHE[key] = (
            region,
            network_for_region(region, cache_dir=resolve_cache_dir(cache_dir)),
        )
    return _WORKER_CACHE[key]


def run_one(
    parameters: Mapping[str, Any],
    document: Mapping[str, Any],
    base_request: Any,
    data_dir: str | None = None,
    cache_dir: str | None = None,
) -> SweepRun:
    """Apply one scenario document to the base request and compute its plan's headline figures."""
    from coordination.planning import build_plan
    from coordination.scenarios import apply_scenario, scenario_from_mapping

    what_if = scenario_from_mapping(document)
    # A region given by path is loaded from the base request's file, not from the scenario's
    # (possibly relative) text (issue 16).
    region_ref = getattr(base_request, "region_file", None) or what_if.region
    region, network = _worker_network(region_ref, data_dir, cache_dir)
    request, changed = apply_scenario(what_if, base_request, network)
    plan = build_plan(request, changed, region)
    totals = plan.allocation.totals
    return SweepRun(
        dict(parameters),
        round(totals.demand_m3, 3),
        round(totals.delivered_m3, 3),
        round(totals.unmet_m3, 3),
        len({u.facility_id for u in plan.allocation.unmet}),
        round(sum(plan.timings_s.values()), 3),
    )


def run_sweep(
    document: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    base_request: Any,
    *,
    scheduler_address: str | None = None,
    workers: int = 2,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    processes: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[SweepRun]:
    """Run every combination of ``grid`` on ``document`` with Dask; return the runs in grid order.

    Parameters
    ----------
    scheduler_address
        A Dask scheduler (``tcp://host:8786``) to run on; None starts a local cluster of
        ``workers`` workers (processes, or threads when ``processes`` is False).
    progress
        Called with (runs done, runs in all) as results arrive.

    Raises
    ------
    InvalidInputError
        If the grid is malformed, or a combination makes an invalid scenario (checked before any
        run starts, so a bad sweep fails at once).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    from coordination.scenarios import scenario_from_mapping

    combos = expand_grid(document, grid)
    for parameters, variant in combos:
        try:
            scenario_from_mapping(variant)
        except InvalidInputError as exc:
            raise InvalidInputError.from_problems(
                f"sweep combination {parameters}", exc.problems
            ) from None
    # dask.distributed ships no annotations for these calls; the ignores below are for that only.
    cluster = None
    if scheduler_address is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        client = Client(scheduler_address)  # type: ignore[no-untyped-call]
    try:
        base_future = client.scatter(base_request, broadcast=True)  # type: ignore[no-untyped-call]
        futures = [
            client.submit(
                run_one, parameters, variant, base_future, data_dir, cache_dir, pure=False
            )
            for parameters, variant in combos
        ]
        position = {future.key: i for i, future in enumerate(futures)}
        results: list[SweepRun | None] = [None] * len(futures)
        for done, future in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
            results[position[future.key]] = future.result()
            if progress is not None:
                progress(done, len(futures))
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
    return [r for r in results if r is not None]


def sweep_table(runs: Sequence[SweepRun]) -> list[dict[str, Any]]:
    """Return the sweep as rows: one column per parameter, then the headline figures."""
    return [
        {
            **run.parameters,
            "demand_m3": run.demand_m3,
            "delivered_m3": run.delivered_m3,
            "unmet_m3": run.unmet_m3,
            "facilities_with_unmet": run.facilities_with_unmet,
            "run_time_s": run.run_time_s,
        }
        for run in runs
    ]


def sweep_chart(runs: Sequence[SweepRun], path: str) -> None:
    """Draw unmet demand against the first parameter, one line per value of the others (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(runs[0].parameters)
    first, rest = keys[0], keys[1:]
    series: dict[tuple[Any, ...], list[tuple[Any, float]]] = {}
    for run in runs:
        series.setdefault(tuple(run.parameters[k] for k in rest), []).append(
            (run.parameters[first], run.unmet_m3)
        )
    figure, axis = plt.subplots(figsize=(7, 4))
    for label, points in series.items():
        points.sort()
        axis.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            label=", ".join(f"{k}={v}" for k, v in zip(rest, label, strict=True)) or "unmet",
        )
    axis.set_xlabel(first)
    axis.set_ylabel("unmet demand over the horizon (m³)")
    axis.set_title("Scenario sweep")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
