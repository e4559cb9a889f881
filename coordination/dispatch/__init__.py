"""Dispatch: one day of a plan's deliveries and a fleet -> vehicle routes, road paths, sheets.

A thin orchestration layer, like :mod:`coordination.planning`: it reads the plan's flows of one
day, turns them into a :class:`~data.schema.routes.RouteProblem` (integer seconds, kg of liquid
oxygen and cylinders), calls the sealed solver core (:func:`routing.vehicle_routes.solve_routes`),
checks the answer with the independent validator and serialises it (VROOM-like JSON with
``unassigned``, RFC 7946 GeoJSON, printable HTML route sheets in Vietnamese and English). No
optimisation lives here.

Model
-----
* Each delivery of the allocation (a flow: supplier, facility, product, quantity) becomes one or
  more *loads*. A load is a shipment: picked up (loaded) at the allocated supplier, delivered at
  the facility, by one vehicle. A vehicle that serves several loads in its shift goes back to a
  plant or filling station to load again: that is the reload, and it happens at the supplier the
  allocation chose for the next load. (The core's reload depots load "whatever the next trip
  carries" at any reload place, which would ignore the allocated supplier.)
* Load dimensions: ``[lox_kg, cylinders]``. Tankers carry kg of liquid oxygen (flows in ``t_lox``
  are converted and rounded up to whole kg), cylinder trucks carry cylinders. Skills keep the
  products apart: bulk liquid only on tankers (skill 1), cylinders only on trucks (skill 2).
* Each company's vehicles load only at that company's plants and filling stations (the company is
  the supplier's name before its en dash; a vehicle's is its home depot's): a load needs the skill
  ``SKILL_COMPANY_BASE + k`` of its supplier's company. ``options.cross_company_loading`` lets
  every vehicle load anywhere (issue 15: tankers crossed to a competitor's plant).
* A delivery larger than the largest vehicle of its kind is split into ``ceil(q / capacity)``
  loads of near-equal size; each load says ``part`` of ``parts``.
* Every vehicle starts and ends its shift at its home depot (a supplier of the plan), between
  ``start_time`` and ``start_time + shift_s``.
* Time windows: a facility's receiving hours (default 07:00-19:00, per facility in the options);
  an urgent load (the facility's first shortfall day is the routed day) must arrive by
  ``urgent_by`` (default 12:00) and has priority 50. When no vehicle could reach it by then even on
  an empty route, its window falls back to the receiving hours and the load says why.
* Travel times come from the road network (suppliers outside the map through the region's
  gateways), in whole seconds.

Modules
-------
* :mod:`.model`: the domain types (fleet vehicles, options, request, loads, problem, result).
* :mod:`.parsing`: a request's options and vehicles, every problem named once.
* :mod:`.problem`: the day's deliveries from a plan document, loads, the route problem, solving.
* :mod:`.output`: the routes document (:class:`data.schema.documents.RoutesDocument`).
* :mod:`.geojson`: routes on the roads as RFC 7946 GeoJSON.
* :mod:`.sheet`: printable route sheets (the template ``templates/route_sheet.html``).
"""

from coordination.dispatch.geojson import routes_to_geojson as routes_to_geojson
from coordination.dispatch.model import MAX_TIME_LIMIT_S as MAX_TIME_LIMIT_S
from coordination.dispatch.model import SKILL_BULK_LIQUID as SKILL_BULK_LIQUID
from coordination.dispatch.model import SKILL_COMPANY_BASE as SKILL_COMPANY_BASE
from coordination.dispatch.model import SKILL_CYLINDERS as SKILL_CYLINDERS
from coordination.dispatch.model import UNREACHABLE_S as UNREACHABLE_S
from coordination.dispatch.model import URGENT_PRIORITY as URGENT_PRIORITY
from coordination.dispatch.model import Delivery as Delivery
from coordination.dispatch.model import DispatchOptions as DispatchOptions
from coordination.dispatch.model import DispatchProblem as DispatchProblem
from coordination.dispatch.model import DispatchRequest as DispatchRequest
from coordination.dispatch.model import DispatchResult as DispatchResult
from coordination.dispatch.model import FacilityOptions as FacilityOptions
from coordination.dispatch.model import FleetVehicle as FleetVehicle
from coordination.dispatch.model import Load as Load
from coordination.dispatch.model import ServiceTimes as ServiceTimes
from coordination.dispatch.model import Stop as Stop
from coordination.dispatch.model import company_of as company_of
from coordination.dispatch.output import REASON_FLEET_TIME as REASON_FLEET_TIME
from coordination.dispatch.output import routes_to_dict as routes_to_dict
from coordination.dispatch.parsing import vehicles_from_mapping as vehicles_from_mapping
from coordination.dispatch.problem import build_dispatch_problem as build_dispatch_problem
from coordination.dispatch.problem import dispatch_request_from_plan as dispatch_request_from_plan
from coordination.dispatch.problem import plan_dispatch as plan_dispatch
from coordination.dispatch.problem import split_deliveries as split_deliveries
from coordination.dispatch.sheet import LANGUAGES as LANGUAGES
from coordination.dispatch.sheet import route_sheet_html as route_sheet_html
