"""Demand projection, shortfalls and allocation of oxygen supply to facilities.

The public surface is re-exported here, explicitly. OR-Tools, SciPy and the numba-compiled
searches still load only when an allocation is first solved: the modules that use them import
them inside the functions that solve.
"""

from matcher.allocation import allocate_supply as allocate_supply
from matcher.allocation import allocate_supply_matrix as allocate_supply_matrix
from matcher.demand import OBSERVED_FLOW_TABLE as OBSERVED_FLOW_TABLE
from matcher.demand import PLANNING_FLOW_TABLE as PLANNING_FLOW_TABLE
from matcher.demand import CaseScenario as CaseScenario
from matcher.demand import Growth as Growth
from matcher.demand import oxygen_use_m3_per_day as oxygen_use_m3_per_day
from matcher.demand import project_demand as project_demand
from matcher.problem_json import plan_to_json as plan_to_json
from matcher.problem_json import problem_from_json as problem_from_json
from matcher.shortfall import SafetyStockRule as SafetyStockRule
from matcher.shortfall import compute_shortfalls as compute_shortfalls

__all__ = [
    "OBSERVED_FLOW_TABLE",
    "PLANNING_FLOW_TABLE",
    "CaseScenario",
    "Growth",
    "SafetyStockRule",
    "allocate_supply",
    "allocate_supply_matrix",
    "compute_shortfalls",
    "oxygen_use_m3_per_day",
    "plan_to_json",
    "problem_from_json",
    "project_demand",
]
