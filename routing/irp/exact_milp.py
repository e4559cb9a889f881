"""HiGHS (through ``scipy.optimize.milp``) for the exact route MIP: a cutoff row, LP rounds.

SciPy cannot hand HiGHS a starting solution nor an objective cutoff option, so an incumbent's
cost enters the model as a row (``objective <= cutoff``): every node whose bound passes it is
pruned, and HiGHS's answer is then never worse than the incumbent. Running HiGHS directly
(``highspy``, with a MIP start, a warm-started LP and a light presolve) was measured and proved
no more instances (docs/irp.md, "Exact proofs for n <= 10"), so SciPy stays the only route.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
System = tuple[sp.csr_matrix, FloatArray, FloatArray]  # A, row lows, row highs
Row = tuple[list[tuple[int, float]], float, float]  # entries, low, high


@dataclass(frozen=True, slots=True)
class MipAnswer:
    """What a MIP solve returns: the point (None when none was found) and the proof state.

    Attributes
    ----------
    x
        The best point found, or None.
    objective
        Its objective value (inf when none).
    dual_bound
        The best lower bound proven on the optimum (-inf when unknown).
    optimal
        True when HiGHS closed the gap (relative ``mip_rel_gap``), or proved that nothing is at
        or below the cutoff (then ``x`` is None and ``dual_bound`` is the cutoff).
    """

    x: FloatArray | None
    objective: float
    dual_bound: float
    optimal: bool


def solve_mip(
    objective: FloatArray,
    system: System,
    bounds: tuple[FloatArray, FloatArray],
    integrality: FloatArray,
    *,
    time_limit_s: float,
    mip_rel_gap: float = 1e-6,
    cutoff: float | None = None,
) -> MipAnswer:
    """Minimise ``objective @ x`` subject to ``low <= A x <= high`` and the column bounds.

    Parameters
    ----------
    system
        ``(A, row lows, row highs)``; infinite entries mean no bound.
    bounds
        Column lows and highs.
    integrality
        1 for integer columns, 0 for continuous ones.
    time_limit_s
        Wall-clock limit of the solve, seconds (at least 0.05 is given).
    cutoff
        Only points with ``objective <= cutoff`` are wanted; when none exists the answer is
        ``optimal`` with ``x`` None.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    matrix, lows, highs = system
    if cutoff is not None:
        matrix = sp.vstack([matrix, sp.csr_matrix(objective)], format="csr")
        lows = np.concatenate([lows, [-np.inf]])
        highs = np.concatenate([highs, [cutoff]])
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, lows, highs),
        bounds=Bounds(*bounds),
        integrality=integrality,
        options={"time_limit": max(time_limit_s, 0.05), "mip_rel_gap": mip_rel_gap, "disp": False},
    )
    if result.x is None:
        # Status 2 (infeasible) with a cutoff: nothing is at or below it.
        if cutoff is not None and result.status == 2:
            return MipAnswer(None, np.inf, cutoff, True)
        return MipAnswer(None, np.inf, -np.inf, False)
    bound = getattr(result, "mip_dual_bound", None)
    dual = float(result.fun) if bound is None else float(bound)
    x = np.asarray(result.x, dtype=np.float64)
    return MipAnswer(x, float(result.fun), dual, result.status == 0)


def solve_lp(
    objective: FloatArray,
    system: System,
    bounds: tuple[FloatArray, FloatArray],
    time_limit_s: float,
) -> FloatArray | None:
    """Return an optimal point of the LP (every column continuous), or None when none in time."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    result = milp(
        objective,
        constraints=LinearConstraint(*system),
        bounds=Bounds(*bounds),
        options={"time_limit": max(time_limit_s, 0.05), "disp": False},
    )
    return None if result.x is None else np.asarray(result.x, dtype=np.float64)


def append_rows(system: System, rows: list[Row]) -> System:
    """Return ``system`` with ``rows`` (``low <= sum(value * x[col]) <= high``) appended."""
    matrix, lows, highs = system
    numbers = [k for k, (entries, _, _) in enumerate(rows) for _ in entries]
    cols = [col for entries, _, _ in rows for col, _ in entries]
    vals = [val for entries, _, _ in rows for _, val in entries]
    extra = sp.csr_matrix((vals, (numbers, cols)), shape=(len(rows), matrix.shape[1]))
    return (
        sp.vstack([matrix, extra], format="csr"),
        np.concatenate([lows, [low for _, low, _ in rows]]),
        np.concatenate([highs, [high for _, _, high in rows]]),
    )
