"""HTTP face of a plan's inventory-routing part (issue 17): ``GET /api/v1/plans/{id}/irp``.

``POST /api/v1/plans`` with ``"mode": "irp"`` (:mod:`web.plans`) also plans the region's liquid
tanks by inventory routing over the horizon (:func:`coordination.irp_plan_io.irp_plan_for_plan`,
the same as ``oxyroute plan --mode irp``) and stores its files beside the plan's:
``irp_plan.json``, ``irp_routes_day0.json`` and ``irp_summary.txt``
(:data:`coordination.irp_plan_io.IRP_FILES`). This module reads the ``mode`` of the request,
computes that part, and serves it: the plan as JSON (default), its summary (``format=txt``), its
routes as GeoJSON (``format=geojson``), and the first day's routes, to dispatch
(``part=routes_day0``, JSON or GeoJSON). Who may read it is who may read the plan: the plan's
province (``plans:read``), and dispatchers only once it is published.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, request

from data.errors import InvalidInputError, RecordNotFoundError
from web.common import API_PREFIX
from web.openapi import (
    HEX_ID_SCHEMA,
    ApiBlueprint,
    error_responses,
    operation,
    path_parameter,
    query_parameter,
)

if TYPE_CHECKING:
    from web.plans import PlanService

PLAN_MODES = ("allocation", "irp")
DEFAULT_IRP_TIME_LIMIT_S = 30.0
IRP_TIME_LIMIT_RANGE_S = (1.0, 300.0)
"""Bounds of ``irp_time_limit_s``: one request holds a costly-operation slot that long."""

IRP_REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "mode": {
        "type": "string",
        "enum": list(PLAN_MODES),
        "default": "allocation",
        "description": "irp: also plan the liquid tanks by inventory routing over the horizon "
        "(docs/irp.md); read it at GET /plans/{plan_id}/irp",
    },
    "irp_time_limit_s": {
        "type": "number",
        "minimum": IRP_TIME_LIMIT_RANGE_S[0],
        "maximum": IRP_TIME_LIMIT_RANGE_S[1],
        "default": DEFAULT_IRP_TIME_LIMIT_S,
        "description": "seconds for the inventory-routing solve (mode irp only)",
    },
}
"""The request keys of ``POST /plans`` that this module reads, with their OpenAPI schemas."""

_PARTS = {"plan": "irp_plan.json", "routes_day0": "irp_routes_day0.json"}
_FORMATS = ("json", "txt", "geojson")


@dataclass(frozen=True, slots=True)
class IrpRequest:
    """The inventory-routing part asked for with a plan: its solve's time limit, seconds."""

    time_limit_s: float = DEFAULT_IRP_TIME_LIMIT_S


def irp_request_problems(body: Mapping[str, Any]) -> tuple[IrpRequest | None, list[str]]:
    """Read ``mode`` and ``irp_time_limit_s`` of a plan request.

    Returns the IRP request (None for the allocation mode, the default) and every problem found,
    each naming the field, the value and what is allowed.
    """
    problems: list[str] = []
    mode = body.get("mode", "allocation")
    if not isinstance(mode, str) or mode not in PLAN_MODES:
        problems.append(f"mode: must be 'allocation' or 'irp', got {mode!r}")
    low, high = IRP_TIME_LIMIT_RANGE_S
    limit = body.get("irp_time_limit_s", DEFAULT_IRP_TIME_LIMIT_S)
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int | float)
        or not math.isfinite(limit)
        or not low <= limit <= high
    ):
        problems.append(
            f"irp_time_limit_s: must be a number of seconds from {low:g} to {high:g}, got {limit!r}"
        )
    elif "irp_time_limit_s" in body and mode != "irp":
        problems.append(f'irp_time_limit_s: only with "mode": "irp" (mode is {mode!r})')
    if problems or mode != "irp":
        return None, problems
    return IrpRequest(float(limit)), problems


def compute_irp_part(
    store: Any, plan: Any, network: Any, region: Any, irp: IrpRequest
) -> tuple[dict[str, str], dict[str, Any]]:
    """Plan the liquid tanks of a computed plan by inventory routing (seed 0).

    Returns the files to store with the plan (by name) and the figures the answer shows.

    Raises
    ------
    InvalidInputError
        If the region's inventory-routing problem is malformed
        (:func:`coordination.irp_plan.validate_region_input`).
    """
    from coordination.irp_plan_io import irp_files, irp_plan_for_plan, plan_figures

    problem, found = irp_plan_for_plan(
        store, plan, network, region, time_limit_s=irp.time_limit_s, seed=0
    )
    figures = plan_figures(found)
    shown = (
        "tanks_planned",
        "tanker_km",
        "trips",
        "deliveries",
        "facility_days_below_floor",
        "facility_periods_below_floor",
    )
    answer: dict[str, Any] = {
        key: round(figures[key], 1) if isinstance(figures[key], float) else figures[key]
        for key in shown
    }
    answer["tanks"] = len(problem.tanks)
    answer["shortfalls"] = len(found.shortfalls)
    answer["time_limit_s"] = irp.time_limit_s
    return irp_files(found, problem), answer


def irp_links(plan_path: str) -> dict[str, str]:
    """Return the links of a plan's inventory-routing part, from the plan's own path."""
    base = f"{plan_path}/irp"
    return {
        "irp": base,
        "irp_summary": f"{base}?format=txt",
        "irp_geojson": f"{base}?format=geojson",
        "irp_routes_day0": f"{base}?part=routes_day0",
        "irp_routes_day0_geojson": f"{base}?part=routes_day0&format=geojson",
    }


bp = ApiBlueprint("irp_plans", __name__, url_prefix=API_PREFIX)


@operation(
    bp,
    "GET",
    "/plans/<plan_id>/irp",
    summary="A plan's inventory-routing part: JSON, its summary, or its routes as GeoJSON",
    parameters=[
        path_parameter("plan_id", HEX_ID_SCHEMA),
        query_parameter(
            "part",
            {"type": "string", "enum": list(_PARTS), "default": "plan"},
            "plan: the whole horizon; routes_day0: the first day's tanker trips, to dispatch",
        ),
        query_parameter(
            "format",
            {"type": "string", "enum": list(_FORMATS), "default": "json"},
            "txt: the plan's summary (part=plan only); geojson: the part's trips and stops",
        ),
    ],
    responses={
        "200": {
            "description": "the inventory-routing plan (kg of liquid oxygen, m, s, local times)",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/geo+json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **error_responses("400", "401", "403", "404", "422", "429"),
    },
)
def get_irp_plan(plan_id: str) -> Response:
    """Return a plan's inventory-routing part (``part``, ``format``); 404 if it has none."""
    # web.plans imports this module (the request's mode), so this import waits for the view.
    from web.plans import authorize_plan_read

    service: PlanService = current_app.extensions["oxyroute_plans"]
    authorize_plan_read(service, plan_id)
    part = request.args.get("part", "plan")
    fmt = request.args.get("format", "json")
    problems = []
    if part not in _PARTS:
        problems.append(f"part: must be one of {', '.join(_PARTS)}, got {part!r}")
    if fmt not in _FORMATS:
        problems.append(f"format: must be one of {', '.join(_FORMATS)}, got {fmt!r}")
    elif fmt == "txt" and part != "plan":
        problems.append(f"format: txt is the plan's summary; part {part!r} is json or geojson")
    if problems:
        raise InvalidInputError.from_problems("inventory-routing request", problems)
    if not (service.plans_dir / plan_id / _PARTS["plan"]).is_file():
        raise RecordNotFoundError(
            f"plan_id: plan {plan_id} has no inventory-routing part; compute a plan with "
            f'"mode": "irp" (POST {API_PREFIX}/plans)'
        )
    if fmt == "txt":
        return current_app.response_class(
            service.load(plan_id, "irp_summary.txt"), content_type="text/plain; charset=utf-8"
        )
    text = service.load(plan_id, _PARTS[part])
    if fmt == "geojson":
        from coordination.irp_plan_io import routes_to_geojson

        geojson = routes_to_geojson(json.loads(text))
        return current_app.response_class(
            json.dumps(geojson, ensure_ascii=False), mimetype="application/geo+json"
        )
    return current_app.response_class(text, mimetype="application/json")
