"""Road graph, snapping, travel-time matrices, road paths and vehicle routes.

The public surface is re-exported here and imported lazily (PEP 562), so that ``import routing``
stays cheap: numba kernels, osmnx and PyVRP load only when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RoadNetwork": "routing.network",
    "change_roads": "routing.network",
    "build_network": "routing.graph",
    "load_or_build_network": "routing.graph",
    "network_for_region": "routing.graph",
    "snap_places": "routing.snapping",
    "travel_time_matrix": "routing.travel_time",
    "road_path": "routing.travel_time",
    "SPEEDS_KPH": "routing.speeds",
    "solve_routes": "routing.vehicle_routes",
    "SolverParams": "routing.vehicle_routes",
    "parse_vroom_problem": "routing.vroom",
    "to_vroom_solution": "routing.vroom",
    "validate_route_plan": "routing.route_validation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'routing' has no attribute {name!r}")
