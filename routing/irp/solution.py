"""Inventory-routing solutions and their JSON form (the benchmark README's solution JSON).

``{"routes": [{"period": 1, "vehicle": 1, "stops": [{"customer": 3, "quantity": 58}]}]}``:
periods 1..T, vehicles 1..K, customers by their id in the instance file (1..n), stops in visiting
order, the depot implicit at both ends. Other top-level keys are kept as ``extras`` on reading
and written after ``routes``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from data.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class IrpStop:
    """One delivery: the customer id (1..n) and the quantity left there (units)."""

    customer: int
    quantity_units: float


@dataclass(frozen=True, slots=True)
class IrpRoute:
    """One vehicle's trip of one period, depot to depot, stops in visiting order."""

    period: int
    vehicle: int
    stops: tuple[IrpStop, ...]

    @property
    def load_units(self) -> float:
        """Return the total quantity delivered on the route."""
        return sum(stop.quantity_units for stop in self.stops)


@dataclass(frozen=True, slots=True)
class IrpShortfall:
    """A customer-period below its minimum level in a plan, by how much, and why."""

    period: int
    customer: int
    missing_units: int
    reason: str


@dataclass(frozen=True, slots=True)
class IrpSolution:
    """A delivery plan: routes, the shortfalls it could not avoid, free-form extras."""

    routes: tuple[IrpRoute, ...]
    shortfalls: tuple[IrpShortfall, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)


def _whole(value: Any, where: str, problems: list[str], *, low: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: {value!r} is not a number")
        return None
    if value != int(value):
        problems.append(f"{where}: {value!r} is not a whole number")
        return None
    if value < low:
        problems.append(f"{where}: {value!r} is below {low}")
        return None
    return int(value)


def _parse_stop(raw: Any, where: str, problems: list[str]) -> IrpStop | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object with customer and quantity")
        return None
    customer = _whole(raw.get("customer"), f"{where}.customer", problems, low=1)
    quantity = raw.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int | float):
        problems.append(f"{where}.quantity: {quantity!r} is not a number")
        return None
    if customer is None:
        return None
    # A fractional or negative quantity is read as written: the checker reports it.
    return IrpStop(customer, float(quantity) if quantity != int(quantity) else int(quantity))


def _parse_route(raw: Any, where: str, problems: list[str]) -> IrpRoute | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object with period, vehicle and stops")
        return None
    period = _whole(raw.get("period"), f"{where}.period", problems, low=1)
    vehicle = _whole(raw.get("vehicle"), f"{where}.vehicle", problems, low=1)
    raw_stops = raw.get("stops")
    if not isinstance(raw_stops, list):
        problems.append(f"{where}.stops: expected a list, got {raw_stops!r}")
        return None
    stops = [_parse_stop(s, f"{where}.stops[{k}]", problems) for k, s in enumerate(raw_stops)]
    if period is None or vehicle is None or any(s is None for s in stops):
        return None
    return IrpRoute(period, vehicle, tuple(s for s in stops if s is not None))


def _parse_shortfall(raw: Any, where: str, problems: list[str]) -> IrpShortfall | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object with period, customer, missing, reason")
        return None
    period = _whole(raw.get("period"), f"{where}.period", problems, low=1)
    customer = _whole(raw.get("customer"), f"{where}.customer", problems, low=1)
    missing = _whole(raw.get("missing"), f"{where}.missing", problems, low=0)
    reason = raw.get("reason", "")
    if not isinstance(reason, str):
        problems.append(f"{where}.reason: {reason!r} is not text")
        return None
    if period is None or customer is None or missing is None:
        return None
    return IrpShortfall(period, customer, missing, reason)


def parse_solution(text: str) -> IrpSolution:
    """Read a solution JSON document.

    Returns
    -------
    IrpSolution
        Routes as written (stops in order), the declared ``"shortfalls"`` (period, customer,
        missing units, reason) when present; other top-level keys in ``extras``.

    Raises
    ------
    InvalidInputError
        If the text is not JSON, or a field has the wrong shape: each problem names its path
        (``routes[2].stops[0].customer``) and value. Values that are well-formed but break the
        instance's rules (a negative or fractional quantity, an unknown customer) are left to
        :func:`routing.irp.check_solution`.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError.from_problems("solution", [f"not JSON: {exc}"]) from exc
    if not isinstance(document, dict) or not isinstance(document.get("routes"), list):
        raise InvalidInputError.from_problems(
            "solution", ['expected an object with a "routes" list']
        )
    problems: list[str] = []
    routes = [_parse_route(r, f"routes[{k}]", problems) for k, r in enumerate(document["routes"])]
    raw_shortfalls = document.get("shortfalls", [])
    if not isinstance(raw_shortfalls, list):
        problems.append(f"shortfalls: expected a list, got {raw_shortfalls!r}")
        raw_shortfalls = []
    shortfalls = [
        _parse_shortfall(s, f"shortfalls[{k}]", problems) for k, s in enumerate(raw_shortfalls)
    ]
    if problems:
        raise InvalidInputError.from_problems("solution", problems)
    extras = {key: value for key, value in document.items() if key not in ("routes", "shortfalls")}
    return IrpSolution(
        tuple(r for r in routes if r is not None),
        tuple(s for s in shortfalls if s is not None),
        extras,
    )


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def solution_to_json(solution: IrpSolution) -> str:
    """Write a solution as the benchmark's JSON (routes sorted by period and vehicle).

    Shortfalls, when any, go under ``"shortfalls"``; ``extras`` follow as written.
    """
    routes = [
        {
            "period": route.period,
            "vehicle": route.vehicle,
            "stops": [
                {"customer": stop.customer, "quantity": _number(stop.quantity_units)}
                for stop in route.stops
            ],
        }
        for route in sorted(solution.routes, key=lambda r: (r.period, r.vehicle))
    ]
    document: dict[str, Any] = {"routes": routes}
    if solution.shortfalls:
        document["shortfalls"] = [
            {
                "period": s.period,
                "customer": s.customer,
                "missing": s.missing_units,
                "reason": s.reason,
            }
            for s in solution.shortfalls
        ]
    document.update({k: v for k, v in solution.extras.items() if k not in document})
    return json.dumps(document, ensure_ascii=False, indent=1)
