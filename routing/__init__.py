"""Road graph, snapping, travel-time matrices, road paths and vehicle routes.

The public surface is re-exported here. Importing it stays cheap: numba kernels, pyproj,
shapely, osmium and PyVRP load only inside the functions that use them.
"""

from routing.graph import build_network as build_network
from routing.graph import load_or_build_network as load_or_build_network
from routing.graph import network_for_region as network_for_region
from routing.network import RoadNetwork as RoadNetwork
from routing.network import change_roads as change_roads
from routing.profiles import PROFILE_NAMES as PROFILE_NAMES
from routing.profiles import VehicleProfile as VehicleProfile
from routing.profiles import network_for_profile as network_for_profile
from routing.route_validation import validate_route_plan as validate_route_plan
from routing.snapping import snap_places as snap_places
from routing.speeds import SPEEDS_KPH as SPEEDS_KPH
from routing.travel_time import road_path as road_path
from routing.travel_time import travel_time_matrix as travel_time_matrix
from routing.vehicle_routes import SolverParams as SolverParams
from routing.vehicle_routes import solve_routes as solve_routes
from routing.vroom import parse_vroom_problem as parse_vroom_problem
from routing.vroom import to_vroom_solution as to_vroom_solution

__all__ = [
    "PROFILE_NAMES",
    "SPEEDS_KPH",
    "RoadNetwork",
    "SolverParams",
    "VehicleProfile",
    "build_network",
    "change_roads",
    "load_or_build_network",
    "network_for_profile",
    "network_for_region",
    "parse_vroom_problem",
    "road_path",
    "snap_places",
    "solve_routes",
    "to_vroom_solution",
    "travel_time_matrix",
    "validate_route_plan",
]
