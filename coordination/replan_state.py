"""Where a day stands at a re-plan (issue 15): vehicles, what they carry, and what remains.

The routes given may be published routes or a re-plan's (a live day with several events). A
re-plan's routes are read back as they stand: steps marked ``done`` are done, routes marked
``broken_down`` (and ``replan.broken_down``) are broken down where they broke, transfers already
made come off the broken vehicle's load, and follow-on loads (``<id>r``: the rest on board after
a partial delivery; ``<id>s``: the rest at the supplier after a partial pickup; the load docs'
``origin_load_id``) count as their original load. Every remaining piece gets a load id that no
kept step uses: the id it had in the routes given when it is the same piece (so announced stops
keep their ids), else a follow-on id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coordination.dispatch.model import Delivery, DispatchOptions, FleetVehicle, Load
from coordination.replan_events import (
    Breakdown,
    Delay,
    Event,
    StopDone,
    local_seconds,
    seconds_of_day,
)
from data.errors import InvalidInputError

TRANSFER_PREFIX = "transfer-"
"""Place id prefix of a broken vehicle's transfer point (``transfer-<vehicle>``)."""


def load_origins(loads: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Return follow-on load id -> its original load id (only follow-ons are keys).

    A load doc's ``origin_load_id`` says it; a re-plan stored before that field existed is read
    by its id: ``<id>r`` or ``<id>s`` where ``<id>`` is a load of the same routes.
    """
    ids = {str(d["load_id"]) for d in loads}
    parent: dict[str, str] = {}
    for doc in loads:
        load_id = str(doc["load_id"])
        origin = doc.get("origin_load_id")
        if origin and origin != load_id:
            parent[load_id] = str(origin)
        elif load_id[-1:] in ("r", "s") and load_id[:-1] in ids:
            parent[load_id] = load_id[:-1]
    out: dict[str, str] = {}
    for load_id in parent:
        root, seen = load_id, {load_id}
        while root in parent and parent[root] not in seen:
            root = parent[root]
            seen.add(root)
        out[load_id] = root
    return out


def broken_in(routes: Mapping[str, Any]) -> dict[str, Breakdown]:
    """Return the vehicles a re-plan's routes say broke down (none for published routes)."""
    date = dt.date.fromisoformat(routes["date"])
    stored = (routes.get("replan") or {}).get("broken_down") or {}
    out: dict[str, Breakdown] = {}
    for vehicle_id, entry in stored.items():
        at = dt.datetime.fromisoformat(entry["at"])
        lon, lat = entry["location"]
        out[vehicle_id] = Breakdown(-1, vehicle_id, local_seconds(at, date), (lon, lat))
    for route in routes["routes"]:
        if route.get("broken_down") and route["vehicle"] not in out:
            # A re-plan stored before replan.broken_down: it broke at its last done stop.
            last = route["steps"][-1]
            moment = dt.datetime.fromisoformat(last["arrival"])
            lon, lat = last["location"]
            out[route["vehicle"]] = Breakdown(
                -1, route["vehicle"], local_seconds(moment, date), (lon, lat)
            )
    return out


def carried_unassigned(routes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the routes' unassigned entries a re-plan carries on as they are.

    Those the dispatch left out stay out; those an earlier re-plan left out (``replanned``) are
    found again from where the day stands and tried again.
    """
    return [dict(u) for u in routes["unassigned"] if not u.get("replanned")]


@dataclass(slots=True)
class VehicleState:
    """Where a route stands at "now"."""

    fleet: FleetVehicle
    steps: list[dict[str, Any]]
    done: int = 0  # index of the last done step (0: only the start)
    quantities: dict[int, int] = field(default_factory=dict)  # step -> reported quantity
    delay_s: int = 0
    broken: Breakdown | None = None
    origins: Mapping[str, str] = field(default_factory=dict)  # follow-on -> original load
    done_before: int = 0  # steps already done in the routes given (a re-plan's)

    def quantity(self, index: int) -> int:
        """Return what step ``index`` loaded or delivered: as reported, else as planned."""
        return self.quantities.get(index, int(self.steps[index]["quantity"]))

    def origin(self, load_id: str) -> str:
        """Return the original load of a load id (itself unless a follow-on)."""
        return self.origins.get(load_id, load_id)

    def on_board(self) -> dict[str, int]:
        """Return original load id -> quantity on board after the done steps (never 0)."""
        carried: dict[str, int] = {}
        for index in range(1, self.done + 1):
            step = self.steps[index]
            sign = 1 if step["type"] == "pickup" else -1
            key = self.origin(step["load_id"])
            carried[key] = carried.get(key, 0) + sign * self.quantity(index)
        return {k: v for k, v in carried.items() if v != 0}


def breakdown_location(state: VehicleState) -> tuple[float, float]:
    """Return where a broken vehicle stands: as reported, else at its last done stop."""
    if state.broken is not None and state.broken.location is not None:
        return state.broken.location
    if state.steps:
        lon, lat = state.steps[state.done]["location"]
        return float(lon), float(lat)
    return 0.0, 0.0


def _leading_done(steps: Sequence[Mapping[str, Any]]) -> int:
    done = 0
    for index, step in enumerate(steps[1:-1], start=1):
        if not step.get("done"):
            break
        done = index
    return done


def vehicle_states(
    routes: Mapping[str, Any], fleet: Mapping[str, FleetVehicle], events: Sequence[Event]
) -> dict[str, VehicleState]:
    """Apply the vehicle events to the routes given; refuse impossible quantities.

    Raises
    ------
    InvalidInputError
        Naming ``events[i].quantity`` (more loaded than planned, more delivered than on board,
        a new quantity for a step the routes already say is done) or ``events[i].carries``.
    """
    origins = load_origins(routes["loads"])
    broken = broken_in(routes)
    states: dict[str, VehicleState] = {}
    for route in routes["routes"]:
        steps = [dict(s) for s in route["steps"]]
        done = _leading_done(steps)
        states[route["vehicle"]] = VehicleState(
            fleet[route["vehicle"]],
            steps,
            done,
            broken=broken.get(route["vehicle"]),
            origins=origins,
            done_before=done,
        )
    for vehicle_id in fleet:
        states.setdefault(
            vehicle_id,
            VehicleState(fleet[vehicle_id], [], broken=broken.get(vehicle_id), origins=origins),
        )
    problems: list[str] = []
    for event in events:
        if isinstance(event, StopDone):
            state = states[event.vehicle_id]
            state.done = max(state.done, event.step)
            if event.quantity is not None:
                state.quantities[event.step] = event.quantity
        elif isinstance(event, Delay):
            states[event.vehicle_id].delay_s += 60 * event.minutes
        elif isinstance(event, Breakdown):
            states[event.vehicle_id].broken = event
    for event in events:
        if isinstance(event, StopDone) and event.quantity is not None:
            _check_quantity(states[event.vehicle_id], event, problems)
        if isinstance(event, Breakdown) and event.carries is not None:
            state = states[event.vehicle_id]
            amount = _amount_on_board(state)
            if amount != event.carries:
                problems.append(
                    f"events[{event.index}].carries: {list(event.carries)} (lox_kg, cylinders) "
                    f"but the done stops say {list(amount)} is on board; report the missing "
                    "stops done"
                )
    if problems:
        raise InvalidInputError.from_problems("re-plan events", problems)
    return states


def _check_quantity(state: VehicleState, event: StopDone, problems: list[str]) -> None:
    step = state.steps[event.step]
    assert event.quantity is not None
    planned = int(step["quantity"])
    if event.step <= state.done_before and event.quantity != planned:
        problems.append(
            f"events[{event.index}].quantity: step {event.step} of {event.vehicle_id!r} is "
            f"already done in these routes with {planned} {step['unit']}, got {event.quantity}; "
            "a done stop does not change"
        )
        return
    if step["type"] == "pickup" and event.quantity > planned:
        problems.append(
            f"events[{event.index}].quantity: loaded {event.quantity} {step['unit']} but "
            f"{step['load_id']} is {planned}; a re-plan cannot create oxygen"
        )
    if step["type"] == "delivery":
        origin = state.origin(step["load_id"])
        carried = sum(
            (1 if state.steps[i]["type"] == "pickup" else -1) * state.quantity(i)
            for i in range(1, event.step)
            if state.origin(state.steps[i]["load_id"]) == origin
        )
        if event.quantity > carried:
            problems.append(
                f"events[{event.index}].quantity: delivered {event.quantity} {step['unit']} of "
                f"{step['load_id']} but only {carried} was on board"
            )


def _amount_on_board(state: VehicleState) -> tuple[int, int]:
    carried = state.on_board()
    product = {state.origin(s["load_id"]): s["product"] for s in state.steps[1:-1]}
    lox = sum(q for load, q in carried.items() if product[load] == "bulk_liquid")
    return lox, sum(q for load, q in carried.items() if product[load] != "bulk_liquid")


# --------------------------------------------------------------------------- loads


@dataclass(frozen=True, slots=True)
class Remaining:
    """A load still to deliver: what, from where (place or vehicle), and its window."""

    load: Load
    source: str  # "pool" (at its supplier), "on_board" (vehicle), "transfer" (broken vehicle)
    window_s: tuple[int, int]
    vehicle_id: str | None = None  # on board of
    announced_on: str | None = None  # its pickup announced on (pool and transfer loads)
    origin: str = ""  # the original load id ("" for a new urgent request)

    @property
    def pickup_id(self) -> str:
        """Return the id of its pickup step (the stability preference's task)."""
        suffix = "transfer" if self.source == "transfer" else "load"
        return f"{self.load.load_id}:{suffix}"


def _window_s(
    load_doc: Mapping[str, Any], date: dt.date, default: tuple[int, int]
) -> tuple[int, int]:
    window = load_doc.get("time_window")
    if not window:
        return default
    problems: list[str] = []
    opens = seconds_of_day(window[0], date, "time_window", problems)
    closes = seconds_of_day(window[1], date, "time_window", problems)
    return (opens, closes) if opens is not None and closes is not None else default


def _load_of(doc: Mapping[str, Any], quantity: int, load_id: str, supplier_id: str) -> Load:
    delivery = Delivery(
        int(doc.get("flow_index", -1)),
        supplier_id,
        doc["facility_id"],
        doc["product"],
        int(doc.get("delivery_quantity", quantity)),
        doc["unit"],
        0.0,
        bool(doc.get("urgent", False)),
    )
    return Load(load_id, delivery, quantity, int(doc.get("part", 1)), int(doc.get("parts", 1)))


@dataclass(slots=True)
class _Ledger:
    """What the routes given say of each original load: done, announced, ids in use."""

    picked: dict[str, int] = field(default_factory=dict)  # origin -> loaded at its supplier
    transferred: dict[tuple[str, str], int] = field(default_factory=dict)  # (broken, origin)
    announced: dict[str, tuple[str, str]] = field(default_factory=dict)  # origin -> (id, vehicle)
    announced_transfer: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    next_drop: dict[tuple[str, str], str] = field(default_factory=dict)  # (vehicle, origin) -> id
    last_id: dict[tuple[str, str], str] = field(default_factory=dict)  # of the last done step
    taken: set[str] = field(default_factory=set)  # step ids kept (done) and load ids given

    def fresh_id(self, candidate: str, suffix: str, kinds: Sequence[str]) -> str:
        """Return ``candidate``, or it with ``suffix`` appended until no kept step uses it."""
        while candidate in self.taken or any(f"{candidate}:{k}" in self.taken for k in kinds):
            candidate += suffix
        self.taken.add(candidate)
        return candidate


def _ledger(states: Mapping[str, VehicleState]) -> _Ledger:
    ledger = _Ledger()
    for vehicle_id, state in states.items():
        for index, step in enumerate(state.steps[1:-1], start=1):
            origin = state.origin(step["load_id"])
            place = str(step["place_id"])
            transfer_of = (
                place[len(TRANSFER_PREFIX) :] if place.startswith(TRANSFER_PREFIX) else None
            )
            if index <= state.done:
                ledger.taken.add(str(step["id"]))
                ledger.last_id[(vehicle_id, origin)] = step["load_id"]
                if step["type"] != "pickup":
                    continue
                if transfer_of is None:
                    ledger.picked[origin] = ledger.picked.get(origin, 0) + state.quantity(index)
                else:
                    key = (transfer_of, origin)
                    ledger.transferred[key] = ledger.transferred.get(key, 0) + state.quantity(index)
            elif step["type"] == "delivery":
                ledger.next_drop[(vehicle_id, origin)] = step["load_id"]
            elif transfer_of is None:
                ledger.announced[origin] = (step["load_id"], vehicle_id)
            else:
                ledger.announced_transfer[(transfer_of, origin)] = (step["load_id"], vehicle_id)
    return ledger


def remaining_loads(
    routes: Mapping[str, Any], states: Mapping[str, VehicleState], options: DispatchOptions
) -> list[Remaining]:
    """Return every load not yet delivered, with where it is now (see the module docstring)."""
    date = dt.date.fromisoformat(routes["date"])
    docs = {d["load_id"]: d for d in routes["loads"]}
    origins = load_origins(routes["loads"])
    left_out = {u["load_id"] for u in carried_unassigned(routes)}
    ledger = _ledger(states)
    out: list[Remaining] = []

    def add(doc_id: str, origin: str, quantity: int, load_id: str, **where: Any) -> None:
        if load_id in left_out:
            return  # still listed as unassigned, with its reason, and counted there
        doc = docs.get(doc_id, docs[origin])
        supplier = where.pop("supplier", doc["supplier_id"])
        window = _window_s(doc, date, options.receiving_hours_s)
        load = _load_of(doc, quantity, load_id, supplier)
        out.append(Remaining(load, window_s=window, origin=origin, **where))

    for vehicle_id, state in states.items():
        for origin, quantity in state.on_board().items():
            key = (vehicle_id, origin)
            if state.broken is None:
                current = ledger.next_drop.get(key, ledger.last_id[key])
                load_id = ledger.fresh_id(current, "r", ("drop",))
                add(current, origin, quantity, load_id, source="on_board", vehicle_id=vehicle_id)
                continue
            quantity -= ledger.transferred.get(key, 0)
            if quantity <= 0:
                continue
            hint = ledger.announced_transfer.get(key)
            current = hint[0] if hint else ledger.next_drop.get(key, ledger.last_id[key])
            load_id = ledger.fresh_id(current, "r", ("transfer", "drop"))
            on = hint[1] if hint and states[hint[1]].broken is None else None
            add(
                current,
                origin,
                quantity,
                load_id,
                source="transfer",
                vehicle_id=vehicle_id,
                announced_on=on,
                supplier=f"{TRANSFER_PREFIX}{vehicle_id}",
            )
    for origin, doc in docs.items():
        if origin in origins:
            continue  # a follow-on: counted with its original load
        rest = int(doc["quantity"]) - ledger.picked.get(origin, 0)
        if rest <= 0:
            continue
        hint = ledger.announced.get(origin)
        current = hint[0] if hint else origin
        load_id = ledger.fresh_id(current, "s", ("load", "drop"))
        on = hint[1] if hint and states[hint[1]].broken is None else None
        add(current, origin, rest, load_id, source="pool", announced_on=on)
    return out
