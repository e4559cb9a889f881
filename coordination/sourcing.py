"""Sourcing options of an urgent request, computed on the road network: new trips and insertions.

An approved urgent request (a facility, a product, a quantity, a deadline) can be served two ways
(``../shared/OPERATIONS.md``: Uttar Pradesh sent the nearest available vehicle; India's tanker
tracking diverted loaded tankers):

- **A new trip.** For each of the ``k`` suppliers nearest to the facility by road that can give
  the product today (its supply declaration of the day if there is one, else the registry's
  output or products), the free vehicle of the right kind and capacity that gets there first:
  ``ETA = now + road time from the vehicle's home depot to the supplier + loading + road time
  from the supplier to the facility``. A vehicle is free when it has no planned or in-transit
  delivery left today; it is taken to be at its home depot (there is no vehicle tracking yet).
- **An insertion into today's routes.** For each vehicle with remaining deliveries today and
  enough spare load of the product on board (capacity minus what its remaining stops still
  need), the cheapest place to add the request's drop after one of its remaining stops: the
  vehicle finishes that stop (at its ETA, or now if that is past, plus the unloading time), drives
  to the facility, unloads, and goes on. Its later stops are delayed by the detour
  ``t(stop, facility) + unloading + t(facility, next) - t(stop, next)`` (after the last stop the
  detour ends at the home depot), and the option lists them with their delay in minutes.

Options are sorted by ETA and each says whether it meets ``needed_by`` and by how many minutes.
What could not be used (a supplier without a position or road access, a vehicle too small) is
listed in ``unavailable`` with its reason: a partial answer, never a silent one.

Travel times come from :func:`routing.travel_time.travel_time_matrix` (one query over every
place involved, gateways included); :func:`propose_options` is the pure core over a table of
times, so tests can give the times by hand. Loading and unloading times are the dispatch's
:class:`coordination.dispatch.model.ServiceTimes` (45 min to fill a tanker or a tank; 15 min plus
20 s a cylinder to load, 10 min plus 30 s a cylinder to unload).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coordination.dispatch.model import ServiceTimes
from data.errors import InvalidInputError
from data.schema.live import PlannedStop, Product
from data.schema.network import Place
from data.schema.registry import Supplier, SupplyDeclaration, Vehicle, VehicleKind

if TYPE_CHECKING:
    from data.schema.network import Gateway
    from routing.network import RoadNetwork

DEFAULT_NEAREST_SUPPLIERS = 3
"""Suppliers (nearest by road) for which new trips are proposed."""

VEHICLE_KIND = {
    Product.LIQUID: VehicleKind.CRYOGENIC_TANKER,
    Product.CYLINDERS: VehicleKind.CYLINDER_TRUCK,
}
"""The kind of vehicle that carries each product."""
_SERVICE_PRODUCT = {Product.LIQUID: "bulk_liquid", Product.CYLINDERS: "cylinder"}
_FACILITY = "facility:"  # place-id prefix of facilities (supplier ids are the gateways' keys)


@dataclass(frozen=True, slots=True)
class SupplierOffer:
    """A supplier site and the products it can give today.

    ``basis`` says where ``products`` comes from: ``"declaration YYYY-MM-DD"`` or
    ``"registry"`` (output, cylinders per day or listed products).
    """

    supplier_id: str
    name: str
    lon: float | None
    lat: float | None
    products: frozenset[Product]
    daily_liquid_t: float | None = None
    daily_cylinders: int | None = None
    basis: str = "registry"


@dataclass(frozen=True, slots=True)
class SourcingVehicle:
    """A vehicle and its payload: kg of liquid oxygen (tankers) or 40 L cylinders (trucks)."""

    vehicle_id: str
    kind: VehicleKind
    capacity: float
    home_depot_id: str | None
    operator_id: str = ""
    plate: str | None = None


RouteStop = PlannedStop
"""A planned or in-transit delivery of today (a route stop); ``quantity`` in kg or cylinders."""


@dataclass(frozen=True, slots=True)
class SourcingProblem:
    """An approved request and what could serve it.

    Parameters
    ----------
    request_id, facility_id, lon, lat
        The request and its facility's position (WGS84).
    product, quantity
        What to bring: kg of liquid oxygen or a number of 40 L cylinders.
    needed_by, now
        The deadline and the present instant (aware).
    suppliers
        Every supplier site (also the vehicles' home depots).
    vehicles
        The fleet.
    stops
        Today's planned or in-transit deliveries (for insertions).
    nearest
        How many nearest suppliers get new-trip options (default 3).
    service
        Loading and unloading times.
    """

    request_id: int
    facility_id: str
    lon: float
    lat: float
    product: Product
    quantity: float
    needed_by: dt.datetime
    now: dt.datetime
    suppliers: tuple[SupplierOffer, ...]
    vehicles: tuple[SourcingVehicle, ...]
    stops: tuple[RouteStop, ...] = ()
    nearest: int = DEFAULT_NEAREST_SUPPLIERS
    service: ServiceTimes = field(default_factory=ServiceTimes)

    def __post_init__(self) -> None:
        problems = []
        if not self.quantity > 0:
            problems.append(f"quantity: must be more than 0, got {self.quantity!r}")
        if self.nearest < 1:
            problems.append(f"nearest: at least 1 supplier, got {self.nearest!r}")
        for name in ("needed_by", "now"):
            if getattr(self, name).tzinfo is None:
                problems.append(f"{name}: must be timezone-aware")
        if problems:
            raise InvalidInputError.from_problems("sourcing problem", problems)


@dataclass(frozen=True, slots=True)
class Delay:
    """A later stop of a route delayed by an insertion."""

    delivery_id: int
    facility_id: str
    stop_index: int
    delay_min: float
    eta_before: dt.datetime
    eta_after: dt.datetime


@dataclass(frozen=True, slots=True)
class SourcingOption:
    """One way to serve the request, with its ETA at the facility.

    ``kind`` is ``"new_trip"`` (``to_supplier_min``, ``loading_min``, ``to_facility_min``) or
    ``"insertion"`` (after the stop ``after_delivery_id``; ``detour_min`` added to the vehicle's
    day and the ``delays`` of its later stops). ``margin_min`` is ``needed_by`` minus the ETA
    (negative: late); ``duration_s`` is the time from now to the ETA. ``supplier_name`` and
    ``vehicle_plate`` are for people (names beside ids; empty or None when the registry has none).
    """

    option_id: str
    kind: str
    supplier_id: str
    vehicle_id: str
    eta: dt.datetime
    duration_s: int
    meets_needed_by: bool
    margin_min: float
    to_supplier_min: float | None = None
    loading_min: float | None = None
    to_facility_min: float | None = None
    after_delivery_id: int | None = None
    after_stop_index: int | None = None
    detour_min: float | None = None
    delays: tuple[Delay, ...] = ()
    supplier_name: str = ""
    vehicle_plate: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the option as JSON-ready data (instants in ISO 8601, UTC)."""
        return _plain(self)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A supplier or vehicle that could not be offered, and why."""

    kind: str
    item_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SourcingAnswer:
    """The options of a request, by ETA, and what could not be used."""

    request_id: int
    computed_at: dt.datetime
    needed_by: dt.datetime
    options: tuple[SourcingOption, ...]
    nearest_supplier_ids: tuple[str, ...]
    unavailable: tuple[Unavailable, ...]

    def option(self, option_id: str) -> SourcingOption | None:
        """Return the option ``option_id`` (None if there is none)."""
        return next((o for o in self.options if o.option_id == option_id), None)

    def to_dict(self) -> dict[str, Any]:
        """Return the answer as JSON-ready data."""
        return _plain(self)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- adapters


def supplier_offers(
    suppliers: Iterable[Supplier], declarations: Iterable[SupplyDeclaration] = ()
) -> tuple[SupplierOffer, ...]:
    """Return what each registry supplier can give today.

    A supplier's declaration of the day decides (liquid if it declares liquid tonnes, cylinders
    if it declares filled cylinders); without one, the registry does (liquid output or a
    ``liquid`` product; cylinders per day or a ``cylinder...`` product).
    """
    declared = {d.supplier_id: d for d in declarations}
    out = []
    for supplier in suppliers:
        declaration = declared.get(supplier.supplier_id)
        products: set[Product] = set()
        if declaration is not None:
            liquid_t: float | None = declaration.liquid_lox_t
            cylinders: int | None = declaration.cylinders_filled
            basis = f"declaration {declaration.declaration_date.isoformat()}"
            if declaration.liquid_lox_t > 0:
                products.add(Product.LIQUID)
            if declaration.cylinders_filled > 0:
                products.add(Product.CYLINDERS)
        else:
            liquid_t, cylinders, basis = (
                supplier.liquid_output_t_per_day,
                supplier.cylinders_per_day,
                "registry",
            )
            if (liquid_t or 0) > 0 or "liquid" in supplier.products:
                products.add(Product.LIQUID)
            if (cylinders or 0) > 0 or any(p.startswith("cylinder") for p in supplier.products):
                products.add(Product.CYLINDERS)
        out.append(
            SupplierOffer(
                supplier.supplier_id,
                supplier.name,
                supplier.lon,
                supplier.lat,
                frozenset(products),
                liquid_t,
                cylinders,
                basis,
            )
        )
    return tuple(out)


def sourcing_vehicles(vehicles: Iterable[Vehicle]) -> tuple[SourcingVehicle, ...]:
    """Return registry vehicles with their payload in the unit of their product."""
    return tuple(
        SourcingVehicle(
            v.vehicle_id,
            VehicleKind(v.kind),
            float(
                (v.tank_capacity_lox_kg if v.kind == VehicleKind.CRYOGENIC_TANKER else None)
                or (v.cylinder_capacity if v.kind == VehicleKind.CYLINDER_TRUCK else None)
                or 0
            ),
            v.home_depot_id,
            v.operator_id,
            v.plate,
        )
        for v in vehicles
    )


# --------------------------------------------------------------------------- the core

TimeTable = Callable[[str, str], float]
"""Road time in seconds from one place id to another (``inf``: no road)."""


def facility_place_id(facility_id: str) -> str:
    """Return the place id of a facility in the time table (supplier ids are used as they are)."""
    return _FACILITY + facility_id


def propose_options(problem: SourcingProblem, times: TimeTable) -> SourcingAnswer:
    """Return the new-trip and insertion options of ``problem`` on the road ``times``, by ETA.

    Parameters
    ----------
    problem
        The request and the suppliers, vehicles and today's stops.
    times
        Road time (s) between place ids: supplier ids, and :func:`facility_place_id` of the
        request's facility and of the stops' facilities.

    Returns
    -------
    SourcingAnswer
        Options sorted by ETA (then id), the nearest suppliers used, and what was left out.
    """
    unavailable: list[Unavailable] = []
    nearest = _nearest_suppliers(problem, times, unavailable)
    busy = {stop.vehicle_id for stop in problem.stops}
    options = _new_trips(problem, times, nearest, busy, unavailable)
    options += _insertions(problem, times, unavailable)
    options.sort(key=lambda o: (o.eta, o.option_id))
    names = {s.supplier_id: s.name for s in problem.suppliers}
    plates = {v.vehicle_id: v.plate for v in problem.vehicles}
    options = [
        dataclasses.replace(
            o, supplier_name=names.get(o.supplier_id, ""), vehicle_plate=plates.get(o.vehicle_id)
        )
        for o in options
    ]
    return SourcingAnswer(
        problem.request_id,
        problem.now,
        problem.needed_by,
        tuple(options),
        tuple(s.supplier_id for s in nearest),
        tuple(unavailable),
    )


def _nearest_suppliers(
    problem: SourcingProblem, times: TimeTable, unavailable: list[Unavailable]
) -> list[SupplierOffer]:
    facility = facility_place_id(problem.facility_id)
    reachable = []
    for supplier in problem.suppliers:
        if problem.product not in supplier.products:
            continue
        if supplier.lon is None or supplier.lat is None:
            unavailable.append(Unavailable("supplier", supplier.supplier_id, "no position"))
        elif not math.isfinite(times(supplier.supplier_id, facility)):
            unavailable.append(
                Unavailable("supplier", supplier.supplier_id, "no road to the facility")
            )
        else:
            reachable.append(supplier)
    reachable.sort(key=lambda s: (times(s.supplier_id, facility), s.supplier_id))
    return reachable[: problem.nearest]


def _option(
    problem: SourcingProblem, duration_s: float, option_id: str, **fields: Any
) -> SourcingOption:
    eta = problem.now + dt.timedelta(seconds=round(duration_s))
    margin_s = (problem.needed_by - eta).total_seconds()
    return SourcingOption(
        option_id=option_id,
        duration_s=round(duration_s),
        eta=eta,
        meets_needed_by=margin_s >= 0,
        margin_min=round(margin_s / 60.0, 1),
        **fields,
    )


def _new_trips(
    problem: SourcingProblem,
    times: TimeTable,
    nearest: Sequence[SupplierOffer],
    busy: set[str],
    unavailable: list[Unavailable],
) -> list[SourcingOption]:
    """Return, per nearest supplier, the free vehicle that reaches the facility first."""
    kind = VEHICLE_KIND[problem.product]
    product = _SERVICE_PRODUCT[problem.product]
    loading_s = problem.service.load_s(product, math.ceil(problem.quantity))
    to_facility = facility_place_id(problem.facility_id)
    fleet = []
    for vehicle in problem.vehicles:
        if vehicle.kind != kind or vehicle.vehicle_id in busy:
            continue
        if vehicle.capacity < problem.quantity:
            unavailable.append(
                Unavailable(
                    "vehicle",
                    vehicle.vehicle_id,
                    f"carries {vehicle.capacity:g}, the request needs {problem.quantity:g}",
                )
            )
        elif vehicle.home_depot_id is None:
            unavailable.append(Unavailable("vehicle", vehicle.vehicle_id, "no home depot"))
        else:
            fleet.append(vehicle)
    options = []
    for supplier in nearest:
        to_facility_s = times(supplier.supplier_id, to_facility)
        best: tuple[float, str, float] | None = None
        for vehicle in fleet:
            assert vehicle.home_depot_id is not None
            to_supplier_s = times(vehicle.home_depot_id, supplier.supplier_id)
            total = to_supplier_s + loading_s + to_facility_s
            if math.isfinite(total) and (best is None or (total, vehicle.vehicle_id) < best[:2]):
                best = (total, vehicle.vehicle_id, to_supplier_s)
        if best is None:
            continue
        total, vehicle_id, to_supplier_s = best
        options.append(
            _option(
                problem,
                total,
                f"trip:{supplier.supplier_id}:{vehicle_id}",
                kind="new_trip",
                supplier_id=supplier.supplier_id,
                vehicle_id=vehicle_id,
                to_supplier_min=round(to_supplier_s / 60.0, 1),
                loading_min=round(loading_s / 60.0, 1),
                to_facility_min=round(to_facility_s / 60.0, 1),
            )
        )
    return options


def _insertions(
    problem: SourcingProblem, times: TimeTable, unavailable: list[Unavailable]
) -> list[SourcingOption]:
    """Return, per vehicle on today's routes with spare load, its cheapest insertion."""
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    routes: dict[str, list[RouteStop]] = {}
    for stop in sorted(problem.stops, key=lambda s: (s.vehicle_id, s.stop_index, s.eta)):
        routes.setdefault(stop.vehicle_id, []).append(stop)
    options = []
    for vehicle_id, stops in sorted(routes.items()):
        vehicle = vehicles.get(vehicle_id)
        if vehicle is None or vehicle.kind != VEHICLE_KIND[problem.product]:
            continue
        on_board = sum(s.quantity for s in stops if s.product == problem.product)
        spare = vehicle.capacity - on_board
        if spare < problem.quantity:
            unavailable.append(
                Unavailable(
                    "vehicle",
                    vehicle_id,
                    f"on today's route with {spare:g} spare, the request needs "
                    f"{problem.quantity:g}",
                )
            )
            continue
        best = _cheapest_insertion(problem, times, vehicle, stops)
        if best is not None:
            options.append(best)
    return options


def _cheapest_insertion(
    problem: SourcingProblem,
    times: TimeTable,
    vehicle: SourcingVehicle,
    stops: Sequence[RouteStop],
) -> SourcingOption | None:
    """Return the insertion after one of ``stops`` that adds the least time to the day."""
    service = problem.service
    target = facility_place_id(problem.facility_id)
    unload_s = service.unload_s(_SERVICE_PRODUCT[problem.product], math.ceil(problem.quantity))
    best: tuple[float, int] | None = None
    for k, stop in enumerate(stops):
        here = facility_place_id(stop.facility_id)
        there = (
            facility_place_id(stops[k + 1].facility_id)
            if k + 1 < len(stops)
            else vehicle.home_depot_id
        )
        to_target = times(here, target)
        if there is None:
            detour = to_target + unload_s
        else:
            detour = to_target + unload_s + times(target, there) - times(here, there)
        # Whole seconds, so that equal detours tie and the earlier position (earlier ETA) wins.
        if math.isfinite(detour) and (best is None or round(detour) < round(best[0])):
            best = (detour, k)
    if best is None:
        return None
    detour, k = best
    stop = stops[k]
    leaves = max(stop.eta, problem.now) + dt.timedelta(
        seconds=service.unload_s(_SERVICE_PRODUCT[stop.product], math.ceil(stop.quantity))
    )
    arrival = leaves + dt.timedelta(seconds=times(facility_place_id(stop.facility_id), target))
    delays = tuple(
        Delay(
            later.delivery_id,
            later.facility_id,
            later.stop_index,
            round(detour / 60.0, 1),
            later.eta,
            later.eta + dt.timedelta(seconds=round(detour)),
        )
        for later in stops[k + 1 :]
    )
    return _option(
        problem,
        (arrival - problem.now).total_seconds(),
        f"insert:{vehicle.vehicle_id}:{stop.delivery_id}",
        kind="insertion",
        supplier_id=stop.supplier_id or vehicle.home_depot_id or "",
        vehicle_id=vehicle.vehicle_id,
        after_delivery_id=stop.delivery_id,
        after_stop_index=stop.stop_index,
        detour_min=round(detour / 60.0, 1),
        delays=delays,
    )


# --------------------------------------------------------------------------- on the roads


def problem_places(problem: SourcingProblem) -> list[Place]:
    """Return every place the options may use: the facility, placed suppliers, stops' facilities."""
    places = {
        facility_place_id(problem.facility_id): Place(
            facility_place_id(problem.facility_id), problem.lon, problem.lat
        )
    }
    for supplier in problem.suppliers:
        if supplier.lon is not None and supplier.lat is not None:
            places[supplier.supplier_id] = Place(
                supplier.supplier_id, supplier.lon, supplier.lat, supplier.name
            )
    for stop in problem.stops:
        place_id = facility_place_id(stop.facility_id)
        places.setdefault(place_id, Place(place_id, stop.lon, stop.lat))
    return list(places.values())


def road_times(
    network: RoadNetwork,
    places: Sequence[Place],
    *,
    gateways: Sequence[Gateway] = (),
    max_snap_m: float | None = None,
) -> TimeTable:
    """Return the road time table between ``places`` (one matrix query, gateways included)."""
    from routing.travel_time import travel_time_matrix

    kwargs: dict[str, Any] = {"gateways": gateways}
    if max_snap_m is not None:
        kwargs["max_snap_m"] = max_snap_m
    matrix = travel_time_matrix(network, places, places, **kwargs)
    index = {place_id: i for i, place_id in enumerate(matrix.origin_ids)}
    duration = matrix.duration_s

    def lookup(origin: str, destination: str) -> float:
        if origin == destination:
            return 0.0
        i, j = index.get(origin), index.get(destination)
        return math.inf if i is None or j is None else float(duration[i, j])

    return lookup


def sourcing_options(
    problem: SourcingProblem,
    network: RoadNetwork,
    *,
    gateways: Sequence[Gateway] = (),
    max_snap_m: float | None = None,
) -> SourcingAnswer:
    """Return the options of ``problem`` with travel times on ``network``.

    Parameters
    ----------
    problem
        The request and what could serve it.
    network
        The region's road network (loaded once per app; never per request).
    gateways, max_snap_m
        The region's gateways (suppliers off the map) and snapping limit (default 2 km).
    """
    times = road_times(network, problem_places(problem), gateways=gateways, max_snap_m=max_snap_m)
    return propose_options(problem, times)


def describe(answer: SourcingAnswer, names: Mapping[str, str] | None = None) -> list[str]:
    """Return one line per option (local time, Asia/Ho_Chi_Minh), for people and the CLI."""
    from data.reporting import LOCAL_TZ

    names = names or {}
    lines = []
    for option in answer.options:
        eta = option.eta.astimezone(LOCAL_TZ).strftime("%H:%M")
        verdict = "kịp / in time" if option.meets_needed_by else "trễ / late"
        lines.append(
            f"{option.option_id}: {names.get(option.supplier_id, option.supplier_id)}, "
            f"{option.vehicle_id}, ETA {eta} ({verdict}, {option.margin_min:+.0f} min)"
        )
    return lines
