"""A published plan's route stops as planned deliveries (issue 14, plan hand-off).

Each ``delivery`` step of a routes document (``routes.json``, :class:`RoutesDocument`) becomes
one :class:`~data.store.deliveries.PlannedDelivery`: the facility, the supplier it was loaded at,
the vehicle, the step's position in the route (``stop_index``), the quantity in the vehicle's
unit (kg of liquid oxygen, or full cylinders) and as m³ of gas, and the ETA (the step's arrival,
an aware instant on the plan's date). Start, pickup and end steps carry no delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from data.errors import InvalidInputError
from data.reporting import LOCAL_TZ
from data.schema.documents import RoutesDocument, RouteStepDocument
from data.schema.live import Product
from data.store.deliveries import PlannedDelivery
from data.units import OxygenConversions

LIQUID_UNIT = "kg_lox"
CYLINDER_UNIT_PREFIX = "cylinders_"


def _eta(step: RouteStepDocument) -> dt.datetime:
    arrival = dt.datetime.fromisoformat(step["arrival"])
    # Routes documents write local times with their offset; a bare time is Asia/Ho_Chi_Minh.
    return arrival if arrival.tzinfo is not None else arrival.replace(tzinfo=LOCAL_TZ)


def _planned_stop(
    step: RouteStepDocument,
    *,
    vehicle_id: str,
    stop_index: int,
    routes_id: str,
    plan_id: str,
    conversions: OxygenConversions,
    registered_suppliers: Collection[str] | None,
) -> PlannedDelivery:
    quantity = int(step.get("quantity", 0))
    unit = step.get("unit", "")
    supplier_id: str | None = step.get("supplier_id")
    if registered_suppliers is not None and supplier_id not in registered_suppliers:
        supplier_id = None
    where = f"routes {routes_id}, vehicle {vehicle_id}, step {stop_index}"
    if quantity <= 0:
        raise InvalidInputError(f"routes: {where} delivers {quantity} {unit}; expected > 0")
    if unit == LIQUID_UNIT:
        liquid_kg: float | None = float(quantity)
        cylinders: int | None = None
        product = Product.LIQUID
        planned_m3 = conversions.lox_t_to_gas_m3(quantity / 1000.0)
    elif unit.startswith(CYLINDER_UNIT_PREFIX):
        liquid_kg, cylinders, product = None, quantity, Product.CYLINDERS
        planned_m3 = conversions.cylinders_to_gas_m3(
            quantity, unit.removeprefix(CYLINDER_UNIT_PREFIX)
        )
    else:
        raise InvalidInputError(f"routes: {where} has unknown unit {unit!r}")
    return PlannedDelivery(
        facility_id=step["facility_id"],
        supplier_id=supplier_id,
        plan_id=plan_id,
        routes_id=routes_id,
        vehicle_id=vehicle_id,
        stop_index=stop_index,
        product=product,
        planned_liquid_kg=liquid_kg,
        planned_cylinders=cylinders,
        planned_m3=round(planned_m3, 3),
        eta=_eta(step),
    )


def planned_deliveries_from_routes(
    documents: Iterable[RoutesDocument],
    *,
    plan_id: str,
    conversions: OxygenConversions,
    registered_suppliers: Collection[str] | None = None,
) -> tuple[PlannedDelivery, ...]:
    """Return one planned delivery per delivery step of ``documents`` (routes of ``plan_id``).

    Parameters
    ----------
    documents
        Stored routes documents of the plan (one per routed day, typically).
    plan_id
        The plan they route.
    conversions
        Factors from kg of liquid oxygen and cylinders to m³ of gas (:mod:`data.units`).
    registered_suppliers
        Supplier ids known to the registry; a stop loaded at another supplier (a region's
        suppliers file) gets ``supplier_id`` None, since deliveries refer to registry suppliers.
        None: keep every supplier id.

    Raises
    ------
    InvalidInputError
        If a delivery step has no positive quantity or an unknown unit.
    """
    out = []
    for document in documents:
        for route in document["routes"]:
            for stop_index, step in enumerate(route["steps"]):
                if step["type"] != "delivery":
                    continue
                out.append(
                    _planned_stop(
                        step,
                        vehicle_id=route["vehicle"],
                        stop_index=stop_index,
                        routes_id=document["routes_id"],
                        plan_id=plan_id,
                        conversions=conversions,
                        registered_suppliers=registered_suppliers,
                    )
                )
    return tuple(out)
