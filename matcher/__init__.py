"""Demand projection, shortfalls and allocation of oxygen supply to facilities.

The public surface is re-exported here and imported lazily (PEP 562): OR-Tools loads only when an
allocation is first solved.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "project_demand": "matcher.demand",
    "oxygen_use_m3_per_day": "matcher.demand",
    "PLANNING_FLOW_TABLE": "matcher.demand",
    "OBSERVED_FLOW_TABLE": "matcher.demand",
    "CaseScenario": "matcher.demand",
    "Growth": "matcher.demand",
    "compute_shortfalls": "matcher.shortfall",
    "SafetyStockRule": "matcher.shortfall",
    "allocate_supply": "matcher.allocation",
    "allocate_supply_matrix": "matcher.allocation",
    "problem_from_json": "matcher.problem_json",
    "plan_to_json": "matcher.problem_json",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'matcher' has no attribute {name!r}")
