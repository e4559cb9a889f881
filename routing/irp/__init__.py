"""Inventory routing: when, how much and by which route to deliver to tanks over a horizon.

A pure core over plain arrays (no registry, no HTTP): :func:`parse_instance` reads the benchmark
format; :func:`solve_irp` plans (the baseline, a local search over delivery schedules, then the
exact route-enumeration MIP for small instances or route-pool MIPs otherwise);
:func:`solve_baseline` is the refill-when-needed reference; :func:`check_solution` checks any plan
against the rules and prices it. PyVRP and SciPy load only inside the functions that solve.
"""

from routing.irp.baseline import solve_baseline as solve_baseline
from routing.irp.checker import IrpCheck as IrpCheck
from routing.irp.checker import check_solution as check_solution
from routing.irp.instance import IrpInstance as IrpInstance
from routing.irp.instance import parse_instance as parse_instance
from routing.irp.solution import IrpRoute as IrpRoute
from routing.irp.solution import IrpShortfall as IrpShortfall
from routing.irp.solution import IrpSolution as IrpSolution
from routing.irp.solution import IrpStop as IrpStop
from routing.irp.solution import parse_solution as parse_solution
from routing.irp.solution import solution_to_json as solution_to_json
from routing.irp.solver import IrpParams as IrpParams
from routing.irp.solver import solve_irp as solve_irp

__all__ = [
    "IrpCheck",
    "IrpInstance",
    "IrpParams",
    "IrpRoute",
    "IrpShortfall",
    "IrpSolution",
    "IrpStop",
    "check_solution",
    "parse_instance",
    "parse_solution",
    "solution_to_json",
    "solve_baseline",
    "solve_irp",
]
