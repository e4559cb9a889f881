"""Parse a routes request: dispatch options, local times and the fleet, every problem named once."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from coordination.dispatch.model import (
    MAX_TIME_LIMIT_S,
    DispatchOptions,
    FacilityOptions,
    FleetVehicle,
    ServiceTimes,
)
from data.errors import InvalidInputError
from data.schema.registry import VehicleKind


def _parse_clock(where: str, value: Any, problems: list[str]) -> int | None:
    """Seconds after midnight of ``"HH:MM"`` (``"24:00"`` allowed), or record a problem."""
    if isinstance(value, str):
        hours, sep, minutes = value.partition(":")
        if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            seconds = int(hours) * 3600 + int(minutes) * 60
            if int(minutes) < 60 and seconds <= 24 * 3600:
                return seconds
    problems.append(f'{where}: must be a local time "HH:MM" (00:00-24:00), got {value!r}')
    return None


def _parse_window(where: str, value: Any, problems: list[str]) -> tuple[int, int] | None:
    if not (isinstance(value, list) and len(value) == 2):
        problems.append(f'{where}: must be ["HH:MM", "HH:MM"], got {value!r}')
        return None
    start = _parse_clock(f"{where}[0]", value[0], problems)
    end = _parse_clock(f"{where}[1]", value[1], problems)
    if start is None or end is None:
        return None
    if start >= end:
        problems.append(
            f"{where}: opens at {value[0]} but closes at {value[1]}; give [open, close]"
        )
        return None
    return (start, end)


def _parse_facility_options(value: Any, problems: list[str]) -> dict[str, FacilityOptions]:
    out: dict[str, FacilityOptions] = {}
    if not isinstance(value, dict):
        problems.append(
            f"options.facilities: must be an object keyed by facility id, got {value!r}"
        )
        return out
    for facility_id, entry in value.items():
        where = f"options.facilities.{facility_id}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object, got {entry!r}")
            continue
        unknown = sorted(set(entry) - {"receiving_hours", "contact", "phone", "cylinders_empty"})
        problems += [
            f"{where}.{k}: unknown key (allowed: contact, cylinders_empty, phone, receiving_hours)"
            for k in unknown
        ]
        hours = (
            _parse_window(f"{where}.receiving_hours", entry["receiving_hours"], problems)
            if "receiving_hours" in entry
            else None
        )
        texts = {}
        for key in ("contact", "phone"):
            text = entry.get(key, "")
            if not isinstance(text, str) or len(text) > 200:
                problems.append(f"{where}.{key}: must be a text of at most 200 characters")
                text = ""
            texts[key] = text
        empties = _whole_number(entry.get("cylinders_empty"))
        if empties is not None and (
            isinstance(empties, bool) or not isinstance(empties, int) or empties < 0
        ):
            problems.append(
                f"{where}.cylinders_empty: must be a whole number of empty cylinders >= 0 "
                f"(or null: not reported), got {entry.get('cylinders_empty')!r}"
            )
            empties = None
        out[str(facility_id)] = FacilityOptions(hours, texts["contact"], texts["phone"], empties)
    return out


def _parse_shift_s(hours: Any, problems: list[str]) -> int | None:
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24:
        problems.append(f"options.shift_hours: must be a number in (0, 24], got {hours!r}")
        return None
    return round(hours * 3600)


def _parse_receiving_hours(value: Any, problems: list[str]) -> tuple[int, int] | None:
    return _parse_window("options.receiving_hours", value, problems)


def _parse_urgent_by(value: Any, problems: list[str]) -> int | None:
    return _parse_clock("options.urgent_by", value, problems)


def _parse_service(service: Any, problems: list[str]) -> ServiceTimes | None:
    known = {f.name for f in dataclasses.fields(ServiceTimes)}
    if not isinstance(service, dict):
        problems.append(f"options.service: must be an object, got {service!r}")
        return None
    problems += [
        f"options.service.{k}: unknown key (allowed: {', '.join(sorted(known))})"
        for k in sorted(set(service) - known)
    ]
    try:
        return ServiceTimes(**{k: _whole_number(v) for k, v in service.items() if k in known})
    except InvalidInputError as error:
        problems += error.problems
        return None


def _parse_time_limit_s(limit: Any, problems: list[str]) -> float | None:
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int | float)
        or not 0 < limit <= MAX_TIME_LIMIT_S
    ):
        problems.append(
            f"options.time_limit_s: must be a number in (0, {MAX_TIME_LIMIT_S:g}], got {limit!r}"
        )
        return None
    return float(limit)


def _parse_seed(seed: Any, problems: list[str]) -> int | None:
    seed = _whole_number(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        problems.append(f"options.seed: must be an integer in [0, 2^31), got {seed!r}")
        return None
    return seed


def _parse_max_iterations(iterations: Any, problems: list[str]) -> int | None:
    if iterations is None:  # the default: no iteration limit
        return None
    iterations = _whole_number(iterations)
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, int)
        or not 1 <= iterations <= 1_000_000
    ):
        problems.append(
            f"options.max_iterations: must be an integer in [1, 1000000], got {iterations!r}"
        )
        return None
    return iterations


def _parse_cross_company(value: Any, problems: list[str]) -> bool | None:
    if not isinstance(value, bool):
        problems.append(f"options.cross_company_loading: must be true or false, got {value!r}")
        return None
    return value


def _parse_min_drop_share(value: Any, problems: list[str]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        problems.append(f"options.min_drop_lox_share: must be a number in [0, 1], got {value!r}")
        return None
    return float(value)


def _parse_min_drop_cylinders(value: Any, problems: list[str]) -> int | None:
    value = _whole_number(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"options.min_drop_cylinders: must be a whole number >= 0, got {value!r}")
        return None
    return value


_OPTION_PARSERS: dict[str, tuple[str, Callable[[Any, list[str]], Any]]] = {
    "shift_hours": ("shift_s", _parse_shift_s),
    "receiving_hours": ("receiving_hours_s", _parse_receiving_hours),
    "urgent_by": ("urgent_by_s", _parse_urgent_by),
    "facilities": ("facilities", _parse_facility_options),
    "service": ("service", _parse_service),
    "time_limit_s": ("time_limit_s", _parse_time_limit_s),
    "seed": ("seed", _parse_seed),
    "max_iterations": ("max_iterations", _parse_max_iterations),
    "cross_company_loading": ("cross_company_loading", _parse_cross_company),
    "min_drop_lox_share": ("min_drop_lox_share", _parse_min_drop_share),
    "min_drop_cylinders": ("min_drop_cylinders", _parse_min_drop_cylinders),
}
"""Request key -> (field of :class:`DispatchOptions`, parser); problems are listed in this order."""


def options_from_mapping(values: Any, *, start_time: Any = None) -> DispatchOptions:
    """Build dispatch options from a request's ``options`` object (and its ``start_time``).

    See :meth:`DispatchOptions.from_mapping`, which calls this.

    Raises
    ------
    InvalidInputError
        Listing every bad key or value, each named as ``options.<key>``.
    """
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    if start_time is not None:
        start = _parse_clock("start_time", start_time, problems)
        if start is not None:
            kwargs["start_s"] = start
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise InvalidInputError.from_problems(
            "dispatch options", [f"options: must be an object, got {values!r}"]
        )
    problems += [
        f"options.{k}: unknown key (allowed: {', '.join(sorted(_OPTION_PARSERS))})"
        for k in sorted(set(values) - set(_OPTION_PARSERS))
    ]
    for key, (name, parse) in _OPTION_PARSERS.items():
        if key in values:
            value = parse(values[key], problems)
            if value is not None:
                kwargs[name] = value
    options = DispatchOptions(**kwargs) if not problems else None
    if options is not None and options.start_s + options.shift_s > 36 * 3600:
        problems.append("options.shift_hours: the shift must end by 12:00 the next day")
    if problems or options is None:
        raise InvalidInputError.from_problems("dispatch options", problems)
    return options


_VEHICLE_KEYS = frozenset(
    {
        "vehicle_id",
        "kind",
        "home_depot_id",
        "tank_capacity_lox_kg",
        "cylinder_capacity",
        "plate",
        "operator_id",
    }
)


def _whole_number(value: Any) -> Any:
    """Return ``value`` as an int when it is a float with no fraction (``5500.0``), else as is.

    ``GET /vehicles`` and spreadsheets give whole numbers as ``5500.0``; the registry accepts
    them, so pasting its output works (issue 15). ``5500.5`` stays a float and is refused by the
    vehicle's own check, which names the field.
    """
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _parse_vehicle(item: Any, where: str, problems: list[str]) -> FleetVehicle | None:
    """One vehicle of a request's list, or record its problems (named ``<where>.<field>``)."""
    if not isinstance(item, dict):
        problems.append(f"{where}: must be an object, got {item!r}")
        return None
    problems += [
        f"{where}.{key}: unknown key (allowed: {', '.join(sorted(_VEHICLE_KEYS))})"
        for key in sorted(set(item) - _VEHICLE_KEYS)
    ]
    kind = item.get("kind")
    if kind not in {m.value for m in VehicleKind}:
        problems.append(f"{where}.kind: must be cryogenic_tanker or cylinder_truck, got {kind!r}")
        return None
    try:
        return FleetVehicle(
            vehicle_id=item.get("vehicle_id"),  # type: ignore[arg-type]
            kind=VehicleKind(kind),
            home_depot_id=item.get("home_depot_id"),  # type: ignore[arg-type]
            tank_capacity_lox_kg=_whole_number(item.get("tank_capacity_lox_kg", 0)),
            cylinder_capacity=_whole_number(item.get("cylinder_capacity", 0)),
            plate=str(item.get("plate") or ""),
            operator_id=str(item.get("operator_id") or ""),
        )
    except InvalidInputError as error:
        problems += [f"{where}.{p}" for p in error.problems]
        return None


def vehicles_from_mapping(values: Any) -> tuple[FleetVehicle, ...]:
    """Parse a request's ``vehicles`` list (objects like the registry's vehicles).

    Each object: ``vehicle_id``, ``kind`` (``cryogenic_tanker`` or ``cylinder_truck``),
    ``home_depot_id`` (a supplier of the plan), ``tank_capacity_lox_kg`` or ``cylinder_capacity``,
    optional ``plate``, ``operator_id``.

    Raises
    ------
    InvalidInputError
        Listing every problem as ``vehicles[k].<field>``.
    """
    if not isinstance(values, list) or not values:
        raise InvalidInputError.from_problems(
            "vehicles", [f"vehicles: must be a non-empty list of vehicles, got {values!r}"]
        )
    problems: list[str] = []
    out: list[FleetVehicle] = []
    for k, item in enumerate(values):
        vehicle = _parse_vehicle(item, f"vehicles[{k}]", problems)
        if vehicle is None:
            continue
        if any(v.vehicle_id == vehicle.vehicle_id for v in out):
            problems.append(f"vehicles[{k}].vehicle_id: {vehicle.vehicle_id!r} is used twice")
        out.append(vehicle)
    if problems:
        raise InvalidInputError.from_problems("vehicles", problems)
    return tuple(out)
