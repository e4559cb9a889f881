"""Empty cylinders collected where full ones are delivered and returned to the filling station.

Empties are the second thing a cylinder truck carries (issue 15). They are worked out on each
solved route, in driving order, from what it already does:

- **Collected** at each delivery of full cylinders: as many empties as full cylinders delivered
  there (a swap, whose time is already in ``per_cylinder_unload_s``: "per cylinder unloaded and
  swapped for an empty one"), but no more than the facility reported empty
  (``options.facilities.<id>.cylinders_empty``; without a report, the full ones delivered),
  and no more than the truck has room for until it returns them.
- **Returned** to the filling station the full cylinders came from (the load's supplier): at the
  route's next pickup there, before loading (unloading them is part of the station's fixed
  stop), or else at the end of the route, at the vehicle's home depot (its company's station).
- **Within capacity.** Full plus empty cylinders on board never exceed the truck's
  ``cylinder_capacity``: each collection is capped by the least free room on every step it stays
  on board. A swap never needs more room than the full cylinders just delivered, so the cap only
  binds when empties wait on board across a loading at another station.

Deriving empties after solving keeps them from displacing any delivery (they never cost a
delivery its place in a route) and leaves every route, ETA and load unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from data.schema.documents import RouteDocument, RouteStepDocument


@dataclass(frozen=True, slots=True)
class _Carried:
    """Empties on board: how many, from which station, the steps collecting and returning them."""

    count: int
    supplier_id: str
    collected_at: int
    returned_at: int


def _return_step(steps: list[RouteStepDocument], after: int, supplier_id: str) -> int:
    """Return where empties of ``supplier_id`` picked up after step ``after`` leave the truck.

    The next pickup at that station, else the route's last step (its home depot).
    """
    for number in range(after + 1, len(steps)):
        step = steps[number]
        if step["type"] == "pickup" and step["place_id"] == supplier_id:
            return number
    return len(steps) - 1


def _room(
    steps: list[RouteStepDocument], carried: list[_Carried], first: int, last: int, capacity: int
) -> int:
    """Return the least free room for cylinders on steps ``first`` to ``last - 1``.

    After each step the truck holds its full cylinders (``load.cylinders``) and the empties
    collected so far that are not yet returned at or before that step.
    """
    room = capacity
    for number in range(first, last):
        empties = sum(c.count for c in carried if c.returned_at > number)
        room = min(room, capacity - steps[number]["load"]["cylinders"] - empties)
    return max(room, 0)


def add_empties(route: RouteDocument, reported: MutableMapping[str, int]) -> RouteDocument:
    """Return a copy of a cylinder truck's route with the empties it collects and returns.

    Parameters
    ----------
    route
        One route of a routes document (steps in driving order, ``load`` after each step).
    reported
        Empty cylinders each facility has for collection, by facility id; a facility absent from
        it gives as many as the full ones delivered. Lowered by what this route collects, so
        that routes sharing a facility never take more than it has.

    Returns
    -------
    RouteDocument
        The route with, on its steps, ``empties`` (collected at a delivery),
        ``empties_returned`` (unloaded at the station or the home depot) and
        ``empties_on_board`` (after every step, once the route collects any). A route that
        collects none (a tanker's, or no room) is returned unchanged.
    """
    steps = route["steps"]
    capacity = route["capacity"]["cylinders"]
    carried: list[_Carried] = []
    for number, step in enumerate(steps):
        if step["type"] != "delivery" or step.get("product") != "cylinder":
            continue
        facility_id = step.get("facility_id") or step["place_id"]
        supplier_id = step.get("supplier_id") or ""
        wanted = min(int(step.get("quantity") or 0), reported.get(facility_id, 1 << 62))
        returned_at = _return_step(steps, number, supplier_id)
        count = min(wanted, _room(steps, carried, number, returned_at, capacity))
        if count <= 0:
            continue
        carried.append(_Carried(count, supplier_id, number, returned_at))
        if facility_id in reported:
            reported[facility_id] -= count
    if not carried:
        return route
    out = copy.deepcopy(route)
    for number, step in enumerate(out["steps"]):
        here = [c.count for c in carried if c.collected_at == number]
        if here:
            step["empties"] = sum(here)
        returned = sum(c.count for c in carried if c.returned_at == number)
        if returned:
            step["empties_returned"] = returned
        step["empties_on_board"] = sum(
            c.count for c in carried if c.collected_at <= number < c.returned_at
        )
    return out


def add_route_empties(
    routes: list[RouteDocument], reported: Mapping[str, int | None]
) -> list[RouteDocument]:
    """Return the routes with their empties (see :func:`add_empties`), in the given order.

    ``reported``: each facility's reported empty cylinders (``None``: not reported); shared by
    the routes in order, so that together they never collect more than a facility has.
    """
    left = {facility_id: n for facility_id, n in reported.items() if n is not None}
    return [add_empties(route, left) for route in routes]
