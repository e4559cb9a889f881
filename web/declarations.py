"""Suppliers' daily supply declarations over HTTP: submit (or correct) and list by period.

A supplier declares what it can give to medical use on a day (liquid oxygen in tonnes, filled
40 L cylinders) and its liquid stock; plans take the day's declaration instead of the supplier
record's medical share (docs/declarations.md). One declaration per supplier and day: sending
another replaces it, and the audit trail keeps both. Suppliers are a shared regional registry:
every role may read declarations (``suppliers:read``). Plants phone or mail what they can give
to the coordination unit, so recording one takes ``supply-declarations:write``: province
coordinators and dispatchers (who take the calls) and admins.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from typing import Any

from flask import Response, current_app, jsonify, request

from data.errors import MalformedInputError
from data.region import load_region
from data.schema.registry import ID_PATTERN, SupplyDeclaration
from data.store import DeclarationResult, StoredDeclaration
from web.common import (
    API_PREFIX,
    created,
    current_store,
    json_body,
    principal,
    query_period,
    require,
)
from web.openapi import (
    ID_SCHEMA,
    OK_RESPONSE,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    query_parameter,
    record_schema,
    schema_ref,
)
from web.plans import PlanService
from web.registry import PERIOD_QUERY

bp = ApiBlueprint("declarations", __name__, url_prefix=API_PREFIX)
bp.component_schemas["SupplyDeclaration"] = partial(record_schema, SupplyDeclaration)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
#: Days listed when the request names no period: the 30 before today, and today.
DEFAULT_PERIOD_DAYS = 30


@operation(
    bp,
    "POST",
    "/supply-declarations",
    summary=(
        "Declare what a supplier can give to medical use on a day (replaces that day's "
        "declaration; audited)"
    ),
    request_body=json_request(schema_ref("SupplyDeclaration")),
    responses={"200": OK_RESPONSE, "201": OK_RESPONSE, **_ERRORS},
)
def submit_declaration() -> Response:
    """Store a declaration: 201 for a new day, 200 when it corrects (or repeats) one.

    The declared liquid may not exceed the plant's capacity (422): the larger of the regions'
    suppliers files' ``capacity_lox_t_per_day`` and the supplier record's liquid output.
    """
    require("supply-declarations:write")
    declaration = SupplyDeclaration.from_mapping(json_body())
    result = current_store().submit_declaration(
        declaration,
        actor=principal().username,
        plant_capacity_t=_plant_capacity_t(declaration.supplier_id),
    )
    payload = _result_json(result)
    if result.created:
        day = declaration.declaration_date.isoformat()
        return created(
            payload,
            f"{API_PREFIX}/supply-declarations?supplier_id={declaration.supplier_id}"
            f"&date_from={day}&date_to={day}",
        )
    return jsonify(payload)


@operation(
    bp,
    "GET",
    "/supply-declarations",
    summary="Suppliers' daily declarations of a period (default: the last 30 days)",
    parameters=[*PERIOD_QUERY, query_parameter("supplier_id", ID_SCHEMA, "one supplier only")],
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_declarations() -> Response:
    """Return the declarations of a period, by date then supplier."""
    require("suppliers:read")
    date_from, date_to = query_period(DEFAULT_PERIOD_DAYS)
    supplier_id = request.args.get("supplier_id")
    if supplier_id is not None and not ID_PATTERN.fullmatch(supplier_id):
        raise MalformedInputError(
            "supplier_id: bad id",
            [f"supplier_id: must be a supplier id such as 'NSV-PM', got {supplier_id!r:.80}"],
        )
    stored = current_store().list_declarations(
        date_from=date_from, date_to=date_to, supplier_id=supplier_id
    )
    return jsonify(
        {
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "declarations": [stored_json(s) for s in stored],
        }
    )


def _plant_capacity_t(supplier_id: str) -> float | None:
    """Return the plant's liquid output (t/day) from the app's regions' suppliers files."""
    # The regions and data folder the plan endpoints serve (api.ApiConfig.regions, data_dir).
    service: PlanService = current_app.extensions["oxyroute_plans"]
    for region_id in service.regions:
        region = load_region(region_id, data_dir=service.data_dir)
        if region.suppliers is None:
            continue
        for place in region.suppliers.read():
            if place.place_id == supplier_id:
                return _number(place.properties.get("capacity_lox_t_per_day"))
    return None


def _number(value: Any) -> float | None:
    text = str(value or "").strip()
    return float(text) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) else None


def stored_json(stored: StoredDeclaration) -> dict[str, Any]:
    """Return a stored declaration as JSON: its fields, who declared it and when (UTC)."""
    return {
        **stored.declaration.to_dict(),
        "declared_at": stored.declared_at.astimezone(dt.UTC).isoformat(),
        "declared_by": stored.declared_by,
    }


def _result_json(result: DeclarationResult) -> dict[str, Any]:
    return {
        **stored_json(result.stored),
        "created": result.created,
        "replaced": None if result.replaced is None else result.replaced.to_dict(),
    }
