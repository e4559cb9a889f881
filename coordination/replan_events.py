"""Events of a live re-plan (issue 15): what happened since a day's routes were published.

Each event is a frozen record, parsed from the JSON a dispatcher sends (``events[i]``) and checked
against the published routes; every problem is listed once, named ``events[i].<field>``, with
the value and the reason (:class:`data.errors.InvalidInputError`, a 422 over HTTP).

Event types (``type``):

* ``stop_done``: ``vehicle``, ``step`` (index in the route's ``steps``; 0 is the start),
  ``quantity`` (optional, what was loaded or delivered; default the planned quantity). A stop
  done means every earlier stop of that route is done too.
* ``breakdown``: ``vehicle``, ``at`` (time), ``location`` ``[lon, lat]`` (optional, default the
  place of its last done stop), ``carries`` ``{"lox_kg": .., "cylinders": ..}`` (optional; if
  given it must equal what the done stops say is on board).
* ``delay``: ``vehicle``, ``minutes`` (> 0): the vehicle is ready that much later.
* ``road_closed``: ``polygon`` (GeoJSON Polygon, WGS84) and/or ``road_names`` (names or refs),
  closed as scenarios close roads (:func:`routing.network.change_roads`).
* ``urgent_request``: ``facility_id``, ``product`` (``bulk_liquid`` or ``cylinder``),
  ``quantity`` (kg of LOX or cylinders, whole), ``needed_by`` (time), ``supplier_id``
  (optional; default the supplier of the day's loads of that product nearest as the crow flies).

Times are ISO 8601 with an offset (``2021-08-20T09:30:00+07:00``) or a local ``HH:MM`` on the
routes' date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from data.errors import InvalidInputError
from data.reporting import LOCAL_TZ

EVENT_TYPES = ("stop_done", "breakdown", "delay", "road_closed", "urgent_request")
_KEYS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    # type -> (required keys, optional keys), besides "type"
    "stop_done": (frozenset({"vehicle", "step"}), frozenset({"quantity"})),
    "breakdown": (frozenset({"vehicle", "at"}), frozenset({"location", "carries"})),
    "delay": (frozenset({"vehicle", "minutes"}), frozenset()),
    "road_closed": (frozenset(), frozenset({"polygon", "road_names"})),
    "urgent_request": (
        frozenset({"facility_id", "product", "quantity", "needed_by"}),
        frozenset({"supplier_id"}),
    ),
}


@dataclass(frozen=True, slots=True)
class StopDone:
    """A stop of a route is done, with the quantity loaded or delivered (None: as planned)."""

    index: int
    vehicle_id: str
    step: int
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A vehicle broke down at ``at_s`` (s after local midnight), where it stands."""

    index: int
    vehicle_id: str
    at_s: int
    location: tuple[float, float] | None = None
    carries: tuple[int, int] | None = None  # (lox_kg, cylinders)


@dataclass(frozen=True, slots=True)
class Delay:
    """A vehicle is ready ``minutes`` later than it would be."""

    index: int
    vehicle_id: str
    minutes: int


@dataclass(frozen=True, slots=True)
class RoadClosed:
    """Roads closed: inside a WGS84 polygon (GeoJSON mapping) and/or by name or ref."""

    index: int
    polygon: Mapping[str, Any] | None = None
    road_names: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class UrgentRequest:
    """A new urgent request: a facility needs a quantity of a product by ``needed_by_s``."""

    index: int
    facility_id: str
    product: str
    quantity: int
    needed_by_s: int
    supplier_id: str | None = None


Event = StopDone | Breakdown | Delay | RoadClosed | UrgentRequest


def seconds_of_day(value: Any, date: dt.date, field: str, problems: list[str]) -> int | None:
    """Return a time (ISO 8601 with offset, or local ``HH:MM``) as s after the date's midnight."""
    moment = moment_on(value, date, field, problems)
    return None if moment is None else local_seconds(moment, date)


def moment_on(value: Any, date: dt.date, field: str, problems: list[str]) -> dt.datetime | None:
    """Return a time (ISO 8601 with offset, or local ``HH:MM`` on ``date``) as an aware datetime.

    A re-plan's ``now`` is read this way over HTTP and on the command line. None after noting
    the problem (named ``field``, with the value) when it is neither.
    """
    moment = None
    if isinstance(value, str):
        try:
            if len(value) == 5 and value[2] == ":":
                moment = dt.datetime.combine(date, dt.time.fromisoformat(value), tzinfo=LOCAL_TZ)
            else:
                moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(
            f"{field}: expected an ISO 8601 time with an offset (2021-08-20T09:30:00+07:00) or "
            f"a local HH:MM, got {value!r}"
        )
        return None
    return moment


def local_seconds(moment: dt.datetime, date: dt.date) -> int:
    """Return an aware time as seconds after local midnight of ``date`` (Asia/Ho_Chi_Minh)."""
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=LOCAL_TZ)
    return round((moment - midnight).total_seconds())


def _whole(value: Any, field: str, problems: list[str], *, least: int = 0) -> int | None:
    """Return a whole number >= ``least`` (``5500.0`` accepted), or note the problem."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        problems.append(f"{field}: must be a whole number >= {least}, got {value!r}")
        return None
    return value


def _text(value: Any, field: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{field}: must be a non-empty text, got {value!r}")
        return None
    return value


def _lon_lat(value: Any, field: str, problems: list[str]) -> tuple[float, float] | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and -180 <= value[0] <= 180
        and -90 <= value[1] <= 90
    ):
        return float(value[0]), float(value[1])
    problems.append(f"{field}: must be [lon, lat] in WGS84 degrees, got {value!r}")
    return None


def _carries(value: Any, field: str, problems: list[str]) -> tuple[int, int] | None:
    if not isinstance(value, dict) or set(value) - {"lox_kg", "cylinders"}:
        problems.append(f"{field}: must be an object with lox_kg and cylinders, got {value!r}")
        return None
    lox = _whole(value.get("lox_kg", 0), f"{field}.lox_kg", problems)
    cylinders = _whole(value.get("cylinders", 0), f"{field}.cylinders", problems)
    return None if lox is None or cylinders is None else (lox, cylinders)


def _parse_one(
    index: int, entry: Mapping[str, Any], date: dt.date, problems: list[str]
) -> Event | None:
    """Return one event, or None after noting its problems (named ``events[index].<key>``)."""
    where = f"events[{index}]"
    kind = entry.get("type")
    if kind not in _KEYS:
        problems.append(f"{where}.type: must be one of {', '.join(EVENT_TYPES)}, got {kind!r}")
        return None
    required, optional = _KEYS[str(kind)]
    before = len(problems)
    problems += [f"{where}.{k}: required for {kind}" for k in sorted(required - set(entry))]
    problems += [
        f"{where}.{k}: unknown key for {kind} (allowed: {', '.join(sorted(required | optional))})"
        for k in sorted(set(entry) - required - optional - {"type"})
    ]
    if len(problems) > before:
        return None
    if kind == "road_closed":
        return _road_closed(index, entry, problems)
    if kind == "urgent_request":
        return _urgent(index, entry, date, problems)
    vehicle = _text(entry["vehicle"], f"{where}.vehicle", problems)
    if kind == "stop_done":
        step = _whole(entry["step"], f"{where}.step", problems, least=1)
        quantity = (
            _whole(entry["quantity"], f"{where}.quantity", problems)
            if "quantity" in entry
            else None
        )
        if len(problems) == before and vehicle is not None and step is not None:
            return StopDone(index, vehicle, step, quantity)
        return None
    if kind == "delay":
        minutes = _whole(entry["minutes"], f"{where}.minutes", problems, least=1)
        if vehicle is not None and minutes is not None:
            return Delay(index, vehicle, minutes)
        return None
    at_s = seconds_of_day(entry["at"], date, f"{where}.at", problems)
    location = (
        _lon_lat(entry["location"], f"{where}.location", problems) if "location" in entry else None
    )
    carries = (
        _carries(entry["carries"], f"{where}.carries", problems) if "carries" in entry else None
    )
    if len(problems) == before and vehicle is not None and at_s is not None:
        return Breakdown(index, vehicle, at_s, location, carries)
    return None


def _road_closed(index: int, entry: Mapping[str, Any], problems: list[str]) -> RoadClosed | None:
    where = f"events[{index}]"
    polygon, names = entry.get("polygon"), entry.get("road_names")
    if polygon is None and names is None:
        problems.append(f"{where}.polygon: give a polygon or road_names for road_closed")
        return None
    if polygon is not None and not isinstance(polygon, dict):
        problems.append(f"{where}.polygon: must be a GeoJSON Polygon object, got {polygon!r}")
        return None
    if names is not None and (
        not isinstance(names, list) or not all(isinstance(n, str) and n for n in names)
    ):
        problems.append(f"{where}.road_names: must be a list of road names, got {names!r}")
        return None
    return RoadClosed(index, polygon, tuple(names) if names is not None else None)


def _urgent(
    index: int, entry: Mapping[str, Any], date: dt.date, problems: list[str]
) -> UrgentRequest | None:
    where = f"events[{index}]"
    before = len(problems)
    facility = _text(entry["facility_id"], f"{where}.facility_id", problems)
    product = entry["product"]
    if product not in ("bulk_liquid", "cylinder"):
        problems.append(f"{where}.product: must be bulk_liquid or cylinder, got {product!r}")
    quantity = _whole(entry["quantity"], f"{where}.quantity", problems, least=1)
    needed_by = seconds_of_day(entry["needed_by"], date, f"{where}.needed_by", problems)
    supplier = (
        _text(entry["supplier_id"], f"{where}.supplier_id", problems)
        if "supplier_id" in entry
        else None
    )
    if len(problems) > before or facility is None or quantity is None or needed_by is None:
        return None
    return UrgentRequest(index, facility, product, quantity, needed_by, supplier)


def events_from_mapping(values: Any, *, date: dt.date) -> tuple[Event, ...]:
    """Parse a request's ``events`` list (see the module docstring for the types).

    Raises
    ------
    InvalidInputError
        Listing every problem, each named ``events[i].<field>``.
    """
    if not isinstance(values, list):
        raise InvalidInputError.from_problems(
            "re-plan events", [f"events: must be a list of events, got {values!r}"]
        )
    problems: list[str] = []
    events: list[Event] = []
    for index, entry in enumerate(values):
        if not isinstance(entry, dict):
            problems.append(f"events[{index}]: must be an object with a type, got {entry!r}")
            continue
        event = _parse_one(index, entry, date, problems)
        if event is not None:
            events.append(event)
    if problems:
        raise InvalidInputError.from_problems("re-plan events", problems)
    return tuple(events)


def check_events(
    events: Sequence[Event],
    routes: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    start_s: int,
    now_s: int,
    fleet_ids: frozenset[str],
    broken_ids: frozenset[str] = frozenset(),
) -> None:
    """Check events against the routes (steps by vehicle id) and the time "now".

    ``broken_ids``: vehicles the routes (a re-plan's) already say broke down.

    Raises
    ------
    InvalidInputError
        Naming each event's field at fault: an unknown vehicle, a done stop that was never
        planned (start, end or past the route's last stop), a time before the routes' start or
        after "now", a vehicle broken down twice.
    """
    problems: list[str] = []
    known = set(routes) | fleet_ids
    broken: set[str] = set(broken_ids)
    for event in events:
        where = f"events[{event.index}]"
        if isinstance(event, StopDone | Breakdown | Delay) and event.vehicle_id not in known:
            problems.append(
                f"{where}.vehicle: unknown vehicle {event.vehicle_id!r} (routes: "
                f"{', '.join(sorted(routes)) or 'none'})"
            )
            continue
        if isinstance(event, StopDone):
            steps = routes.get(event.vehicle_id, ())
            if not 0 < event.step < len(steps) - 1:
                problems.append(
                    f"{where}.step: {event.vehicle_id!r} has no planned stop {event.step} "
                    f"(its stops are 1 to {max(len(steps) - 2, 0)}); a stop that was never "
                    "planned cannot be done"
                )
        elif isinstance(event, Breakdown):
            if event.at_s < start_s or event.at_s > now_s:
                problems.append(
                    f"{where}.at: {event.at_s // 3600:02d}:{event.at_s % 3600 // 60:02d} is "
                    f"{'before the routes start' if event.at_s < start_s else 'after now'} "
                    f"({start_s // 3600:02d}:{start_s % 3600 // 60:02d} to "
                    f"{now_s // 3600:02d}:{now_s % 3600 // 60:02d})"
                )
            if event.vehicle_id in broken:
                problems.append(f"{where}.vehicle: {event.vehicle_id!r} already broke down")
            broken.add(event.vehicle_id)
        elif isinstance(event, UrgentRequest) and event.needed_by_s <= now_s:
            problems.append(
                f"{where}.needed_by: must be after now "
                f"({now_s // 3600:02d}:{now_s % 3600 // 60:02d}), got "
                f"{event.needed_by_s // 3600:02d}:{event.needed_by_s % 3600 // 60:02d}"
            )
    if problems:
        raise InvalidInputError.from_problems("re-plan events", problems)
