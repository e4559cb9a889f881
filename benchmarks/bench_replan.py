"""Benchmark: the live re-plan after a 09:30 breakdown on the seeded HCMC day (issue 15).

On the plan of 20 August 2021 (day 0; ``oxyroute run --region hcmc --date 2021-08-20 --out out``)
and the registry's generated fleet, the day is dispatched (the published routes). At 09:30 every
step that has arrived is done, and the vehicle carrying the most oxygen (m³ of gas: 700 m³ per
tonne of LOX, 6 m³ per 40 L cylinder) breaks down where it stands. Then, from the same state:

- **re-plan** with stability penalties (``move_penalty_s``; 1,800 s is the default): done stops
  kept, vehicles start where they are with what they carry, the broken one's load collected at
  a transfer point. Penalty 0 re-solves the remaining work from scratch with no preference for
  the announced vehicles.
- **whole day again**: what a dispatcher could do before issue 15, dispatch the day's loads again
  from 09:30 without the broken vehicle, every vehicle from its yard (delivered loads are sent
  again, the broken vehicle's load is forgotten).

Figures: warm wall time (the network loaded and a first re-plan run), done stops kept unchanged,
the broken vehicle's load picked up at the transfer point, announced stops (not done, on a
working vehicle) moved to another vehicle, their ETAs moved beyond 30 minutes, km driven from
"now" (re-plans: the new steps only), loads unassigned. ``--now 07:00`` breaks a loaded tanker
down earlier in the day, with more stops announced.

**Chained** (a live day): from the re-plan at ``--now`` (penalty 1,800), every step arrived by
``--now`` + 90 minutes is done and the first working vehicle is 20 minutes late; re-plan that
re-plan; then at + 180 minutes an urgent request of 10 cylinders for the first cylinder load's
facility, re-planned again. Each step's time, stops kept, moves and balance are printed.

    python benchmarks/bench_replan.py [--plan-dir out] [--database-url URL] [--seed 0]
                                      [--iterations 2000] [--now 09:30]
                                      [--penalties 1800 0 600 3600]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dispatch_day import DEFAULT_DB, _fleet  # noqa: E402
from coordination.dispatch import (  # noqa: E402
    DispatchOptions,
    dispatch_request_from_plan,
    plan_dispatch,
    routes_to_dict,
)
from coordination.replan import ReplanOptions, replan_routes  # noqa: E402
from coordination.replan_events import events_from_mapping  # noqa: E402
from data.region import load_region  # noqa: E402
from data.settings import resolve_cache_dir  # noqa: E402
from data.units import OxygenConversions  # noqa: E402
from routing.graph import network_for_region  # noqa: E402

UNITS = OxygenConversions()


def _gas_m3(lox_kg: float, cylinders: float) -> float:
    return UNITS.lox_t_to_gas_m3(lox_kg / 1000) + UNITS.cylinders_to_gas_m3(cylinders)


def _state_at(routes: dict[str, Any], now: dt.datetime) -> tuple[dict[str, int], dict[str, Any]]:
    """Return vehicle -> index of its last step arrived by ``now``, and what each carries then."""
    done: dict[str, int] = {}
    carried: dict[str, Any] = {}
    for route in routes["routes"]:
        steps = route["steps"]
        last = 0
        for index, step in enumerate(steps[1:-1], start=1):
            if dt.datetime.fromisoformat(step["arrival"]) <= now:
                last = index
        done[route["vehicle"]] = last
        lox = cylinders = 0
        for step in steps[1 : last + 1]:
            sign = 1 if step["type"] == "pickup" else -1
            if step["product"] == "bulk_liquid":
                lox += sign * step["quantity"]
            else:
                cylinders += sign * step["quantity"]
        carried[route["vehicle"]] = (lox, cylinders, _gas_m3(lox, cylinders))
    return done, carried


def _announced(routes: dict[str, Any], done: dict[str, int], broken: str) -> dict[str, Any]:
    """Return step id -> (vehicle, arrival) of the stops not done on the working vehicles."""
    return {
        s["id"]: (r["vehicle"], s["arrival"])
        for r in routes["routes"]
        if r["vehicle"] != broken
        for s in r["steps"][done[r["vehicle"]] + 1 : -1]
    }


def _moves(
    announced: dict[str, Any], new_routes: list[dict[str, Any]]
) -> tuple[int, int, list[float]]:
    """Return announced stops moved to another vehicle, dropped, and their ETA shifts (min)."""
    after = {
        s.get("id"): (r["vehicle"], s["arrival"])
        for r in new_routes
        for s in r["steps"]
        if s["type"] in ("pickup", "delivery") and not s.get("done")
    }
    moved = dropped = 0
    shifts = []
    for step_id, (vehicle, arrival) in announced.items():
        if step_id not in after:
            dropped += 1
            continue
        moved += after[step_id][0] != vehicle
        delta = dt.datetime.fromisoformat(after[step_id][1]) - dt.datetime.fromisoformat(arrival)
        shifts.append(abs(delta.total_seconds()) / 60)
    return moved, dropped, shifts


def _replan_figures(
    routes: dict[str, Any], document: dict[str, Any], done: dict[str, int], broken: str
) -> dict[str, Any]:
    kept = total = 0
    new = {r["vehicle"]: r for r in document["routes"]}
    for route in routes["routes"]:
        old = route["steps"][1 : done[route["vehicle"]] + 1]
        total += len(old)
        steps = new[route["vehicle"]]["steps"][1:] if route["vehicle"] in new else []
        kept += sum(
            (a["id"], a["arrival"], a["departure"]) == (b.get("id"), b["arrival"], b["departure"])
            for a, b in zip(old, steps, strict=False)
        )
    transfer = [
        s
        for r in document["routes"]
        for s in r["steps"]
        if s["type"] == "pickup" and s["place_id"] == f"transfer-{broken}"
    ]
    moved, dropped, shifts = _moves(_announced(routes, done, broken), document["routes"])
    km = sum(
        r["distance"] - (r["steps"][done.get(r["vehicle"], 0)]["distance"] or 0)
        for r in document["routes"]
        if r["vehicle"] in done
    ) + sum(r["distance"] for r in document["routes"] if r["vehicle"] not in done)
    return {
        "done stops kept": f"{kept}/{total}",
        "broken load picked up": (
            sum(s["quantity"] for s in transfer if s["product"] == "bulk_liquid"),
            sum(s["quantity"] for s in transfer if s["product"] != "bulk_liquid"),
        ),
        "announced moved": moved,
        "announced dropped": dropped,
        "ETA moved > 30 min": sum(s > 30 for s in shifts),
        "mean |ETA shift| min": sum(shifts) / len(shifts) if shifts else 0.0,
        "km from now": km / 1000,
        "loads unassigned": document["summary"]["loads_unassigned"],
    }


def _whole_day_again(
    plan: dict[str, Any],
    routes: dict[str, Any],
    fleet: list[Any],
    done: dict[str, int],
    broken: str,
    args: argparse.Namespace,
    network: Any,
    region: Any,
) -> tuple[float, dict[str, Any]]:
    """Dispatch the day again from now without the broken vehicle (before issue 15)."""
    options = DispatchOptions.from_mapping(
        {"seed": args.seed, "max_iterations": args.iterations, "time_limit_s": 60},
        start_time=args.now,
    )
    # the same latest return (18:00) as the published day
    late_s = options.start_s - 6 * 3600
    options = dataclasses.replace(options, shift_s=options.shift_s - late_s)
    started = time.perf_counter()
    request = dispatch_request_from_plan(
        plan, day=0, vehicles=[v for v in fleet if v.vehicle_id != broken], options=options
    )
    answer = routes_to_dict(plan_dispatch(request, network, region))
    elapsed = time.perf_counter() - started
    delivered = {
        s["load_id"]
        for r in routes["routes"]
        for s in r["steps"][1 : done[r["vehicle"]] + 1]
        if s["type"] == "delivery"
    }
    resent = {
        s["load_id"]
        for r in answer["routes"]
        for s in r["steps"]
        if s["type"] == "delivery" and s["load_id"] in delivered
    }
    moved, dropped, shifts = _moves(_announced(routes, done, broken), list(answer["routes"]))
    return elapsed, {
        "done stops kept": f"0/{sum(done.values())}, {len(resent)} sent again",
        "broken load picked up": (0, 0),
        "announced moved": moved,
        "announced dropped": dropped,
        "ETA moved > 30 min": sum(s > 30 for s in shifts),
        "mean |ETA shift| min": sum(shifts) / len(shifts) if shifts else 0.0,
        "km from now": answer["summary"]["distance"] / 1000,
        "loads unassigned": answer["summary"]["loads_unassigned"],
    }


def _arrived(document: dict[str, Any], moment: dt.datetime) -> list[dict[str, Any]]:
    """Return ``stop_done`` events for the steps not done yet that have arrived by ``moment``."""
    events = []
    for route in document["routes"]:
        if route.get("broken_down"):
            continue
        steps = route["steps"]
        last = max(
            (
                i
                for i, s in enumerate(steps[1:-1], start=1)
                if not s.get("done") and dt.datetime.fromisoformat(s["arrival"]) <= moment
            ),
            default=0,
        )
        if last:
            events.append({"type": "stop_done", "vehicle": route["vehicle"], "step": last})
    return events


def _chained(
    first: dict[str, Any], plan: dict[str, Any], fleet: list[Any], now: dt.datetime, **world: Any
) -> None:
    """Re-plan the re-plan twice (+90 min: stops done and a delay; +180 min: urgent request)."""
    document = first
    cylinders = next(d for d in first["loads"] if d["product"] == "cylinder")
    for minutes in (90, 180):
        moment = now + dt.timedelta(minutes=minutes)
        events = _arrived(document, moment)
        if minutes == 90:
            working = [r["vehicle"] for r in document["routes"] if not r.get("broken_down")]
            events.append({"type": "delay", "vehicle": working[0], "minutes": 20})
        else:
            events.append(
                {
                    "type": "urgent_request",
                    "facility_id": cylinders["facility_id"],
                    "product": "cylinder",
                    "quantity": 10,
                    "needed_by": (moment + dt.timedelta(hours=3)).strftime("%H:%M"),
                }
            )
        started = time.perf_counter()
        new = replan_routes(
            document,
            plan,
            events_from_mapping(events, date=now.date()),
            now=moment,
            fleet=fleet,
            routes_id=f"chain{minutes}",
            **world,
        ).document
        elapsed = time.perf_counter() - started
        done_before = sum(1 for r in document["routes"] for s in r["steps"] if s.get("done"))
        kept = sum(
            1
            for r in new["routes"]
            for s in r["steps"]
            if s.get("done")
            and s.get("id")
            in {t.get("id") for q in document["routes"] for t in q["steps"] if t.get("done")}
        )
        counts = new["replan"]["changes"]["counts"]
        balance = new["replan"]["balance"]
        print(
            f"chained +{minutes} min ({moment:%H:%M}, {len(events)} events): {elapsed:.2f} s, "
            f"done stops kept {kept}/{done_before}, moved {counts['moved']}, "
            f"ETAs beyond 30 min {counts['eta_beyond_tolerance']}, "
            f"loads unassigned {new['summary']['loads_unassigned']}; to deliver "
            f"{balance['bulk_liquid']['to_deliver']} kg / {balance['cylinder']['to_deliver']} cyl "
            f"= done {balance['bulk_liquid']['delivered_done']} / "
            f"{balance['cylinder']['delivered_done']} + routed {balance['bulk_liquid']['routed']} / "
            f"{balance['cylinder']['routed']} + unassigned "
            f"{balance['bulk_liquid']['unassigned']} / {balance['cylinder']['unassigned']}"
        )
        document = new


def main() -> None:
    """Dispatch the day, break the fullest vehicle down at ``--now``, re-plan; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan-dir", type=Path, default=ROOT / "out")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--now", default="09:30", help="time of the breakdown, local HH:MM")
    parser.add_argument("--penalties", type=int, nargs="+", default=[1800, 0, 600, 3600])
    args = parser.parse_args()
    plan = json.loads((args.plan_dir / "plan.json").read_text(encoding="utf-8"))
    fleet = _fleet(args.database_url)
    region = load_region(plan["region"])
    network = network_for_region(region, cache_dir=resolve_cache_dir())
    options = DispatchOptions.from_mapping(
        {"seed": args.seed, "max_iterations": args.iterations, "time_limit_s": 60}
    )
    request = dispatch_request_from_plan(plan, day=0, vehicles=fleet, options=options)
    routes = dict(routes_to_dict(plan_dispatch(request, network, region), routes_id="published"))
    now = dt.datetime.fromisoformat(f"{routes['date']}T{args.now}:00+07:00")
    done, carried = _state_at(routes, now)
    broken = max(carried, key=lambda v: carried[v][2])
    lox, cylinders, gas = carried[broken]
    events = [
        {"type": "stop_done", "vehicle": v, "step": step} for v, step in done.items() if step
    ] + [{"type": "breakdown", "vehicle": broken, "at": args.now}]
    parsed = events_from_mapping(events, date=now.date())

    def replan(penalty: int) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        document = replanned[penalty] = replan_routes(
            routes,
            plan,
            parsed,
            now=now,
            network=network,
            region=region,
            fleet=fleet,
            options=ReplanOptions(move_penalty_s=penalty, seed=args.seed),
        ).document
        return time.perf_counter() - started, _replan_figures(routes, document, done, broken)

    replanned: dict[int, dict[str, Any]] = {}
    cold_s, _ = replan(1800)
    columns = {f"penalty {p}": replan(p) for p in args.penalties}
    columns["whole day again"] = _whole_day_again(
        plan, routes, fleet, done, broken, args, network, region
    )
    announced = len(_announced(routes, done, broken))
    print(
        f"{routes['date']} day 0, {len(fleet)} vehicles, {len(routes['routes'])} routes, "
        f"{len(routes['loads'])} loads, seed {args.seed}; at {args.now}: {sum(done.values())} steps "
        f"done, {announced} announced stops on working vehicles; {broken} breaks down carrying "
        f"{lox} kg LOX and {cylinders} cylinders ({gas:.0f} m³); cold re-plan {cold_s:.2f} s"
    )
    names = list(columns)
    print(f"{'figure':<24}" + "".join(f"{n:>22}" for n in names))
    print(f"{'wall time s (warm)':<24}" + "".join(f"{columns[n][0]:>22.2f}" for n in names))
    for key in columns[names[0]][1]:
        cells = []
        for name in names:
            value = columns[name][1][key]
            text = (
                f"{value:.1f}"
                if isinstance(value, float)
                else f"{value[0]} kg, {value[1]} cyl"
                if isinstance(value, tuple)
                else str(value)
            )
            cells.append(f"{text:>22}")
        print(f"{key:<24}" + "".join(cells))
    _chained(replanned[1800], plan, fleet, now, network=network, region=region)


if __name__ == "__main__":
    main()
