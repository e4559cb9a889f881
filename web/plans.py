"""HTTP endpoints for coordinators' plans: ``POST /api/v1/plans``, ``GET /api/v1/plans/{id}``.

Thin views over :mod:`planning`. Road networks are loaded once per app (lazily, on the first plan
of a region) and kept; plans are written as files under the plans folder, so they survive restarts
and any worker can serve them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g, request

from data.access import authorize
from data.errors import InvalidInputError, MissingDataFileError
from data.region import Region, load_region
from data.schema.allocation import AllocationOptions
from data.schema.documents import PlanDocument
from data.settings import resolve_cache_dir
from routing.network import RoadNetwork
from web.common import API_PREFIX, current_store, json_body
from web.errors import PlanNotFoundError
from web.openapi import (
    HEX_ID_SCHEMA,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)

if TYPE_CHECKING:
    from coordination.planning import CoordinatorPlan

_PLAN_ID = re.compile(r"^[0-9a-f]{32}$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BODY_KEYS = {"region", "date", "horizon_days", "options"}
_MAX_TIME_LIMIT_S = 60.0
# Allocation options a client may set over HTTP, with the schema each has in the OpenAPI document.
# The server decides the rest (``workers``: processes are the server's to spend).
API_OPTION_SCHEMAS: dict[str, dict[str, Any]] = {
    "max_delivery_time_s": {"type": ["integer", "null"], "minimum": 0},
    "fairness": {"type": "boolean"},
    "single_sourcing": {"type": "boolean"},
    "single_sourcing_scope": {"type": "string", "enum": ["horizon", "day"]},
    "carry_over": {"type": "boolean"},
    "quantity_resolution_m3": {"type": "number", "exclusiveMinimum": 0},
    "time_limit_s": {"type": "number", "exclusiveMinimum": 0, "maximum": _MAX_TIME_LIMIT_S},
    "single_sourcing_time_limit_s": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": _MAX_TIME_LIMIT_S,
    },
}


bp = ApiBlueprint("plans", __name__, url_prefix=API_PREFIX)
_ERRORS = error_responses("400", "401", "403", "404", "422", "429")
_PLAN_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["region", "date"],
    "properties": {
        "region": {"type": "string", "description": "a served region, e.g. hcmc"},
        "date": {"type": "string", "format": "date", "description": "first plan day"},
        "horizon_days": {"type": "integer", "minimum": 1, "maximum": 60, "default": 7},
        "options": {
            "type": "object",
            "description": "allocation options (docs/allocation.md)",
            "properties": API_OPTION_SCHEMAS,
            "additionalProperties": False,
        },
    },
}


def api_allocation_options(raw: Any) -> AllocationOptions:
    """Read the ``options`` of a plan or scenario-run request (4 h delivery limit by default).

    Only the keys of :data:`API_OPTION_SCHEMAS` are accepted and solver time limits are capped at
    60 s, so one request cannot hold the server's processes for long.
    """
    if not isinstance(raw, dict):
        raise InvalidInputError("options: must be an object of allocation options")
    problems = [
        f"options.{key}: not settable over HTTP (allowed: {', '.join(sorted(API_OPTION_SCHEMAS))})"
        for key in sorted(set(raw) - set(API_OPTION_SCHEMAS))
    ]
    for key in ("time_limit_s", "single_sourcing_time_limit_s"):
        value = raw.get(key)
        too_long = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and value > _MAX_TIME_LIMIT_S
        )
        if too_long:
            problems.append(f"options.{key}: at most {_MAX_TIME_LIMIT_S:g} s, got {value!r}")
    if problems:
        raise InvalidInputError.from_problems("options", problems)
    return AllocationOptions.from_mapping({"max_delivery_time_s": 4 * 3600, **raw})


@contextlib.contextmanager
def costly_operation(operation: str) -> Iterator[None]:
    """Hold one of the user's costly-operation slots (429 beyond the per-user limits)."""
    with current_app.extensions["oxyroute"].costly.acquire(g.principal.username, operation):
        yield


def default_plans_dir() -> Path:
    """Return ``$OXYROUTE_PLANS_DIR``, else ``$XDG_DATA_HOME/oxyroute/plans``, else ~/.local/...."""
    if os.environ.get("OXYROUTE_PLANS_DIR"):
        return Path(os.environ["OXYROUTE_PLANS_DIR"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "oxyroute" / "plans"


@dataclass
class PlanService:
    """Per-app resources of the plan endpoints: regions, loaded networks, the plans folder."""

    regions: tuple[str, ...]
    plans_dir: Path
    data_dir: str | None = None
    cache_dir: str | None = None
    _networks: dict[str, tuple[Region, RoadNetwork]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def region_network(self, region_id: str) -> tuple[Region, RoadNetwork]:
        """Return a region and its road network, loading it on first use (once per app)."""
        from routing.graph import network_for_region

        with self._lock:
            if region_id not in self._networks:
                region = load_region(region_id, data_dir=self.data_dir)
                network = network_for_region(region, cache_dir=resolve_cache_dir(self.cache_dir))
                self._networks[region_id] = (region, network)
            return self._networks[region_id]

    def share_networks(self, loaded: dict[str, tuple[Region, RoadNetwork]]) -> None:
        """Use road networks another part of the app already loaded (by region id), not a copy."""
        with self._lock:
            for region_id, pair in loaded.items():
                self._networks.setdefault(region_id, pair)

    def save(self, plan_id: str, files: dict[str, str]) -> None:
        """Write a plan's files atomically: a temporary folder renamed into place."""
        self.plans_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.plans_dir, prefix=".staging-"))
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        os.replace(staging, self.plans_dir / plan_id)

    def store_plan(
        self,
        plan: CoordinatorPlan,
        region: Region,
        *,
        created_by: str,
        created_at: str,
        extra_meta: dict[str, Any] | None = None,
    ) -> tuple[str, PlanDocument]:
        """Serialise a computed plan (JSON, GeoJSON, CSV, summary) and save it under a new id.

        Returns the id and the plan's JSON document (with its ``meta``).
        """
        from coordination.planning import plan_summary, plan_to_csv, plan_to_dict, plan_to_geojson

        plan_id = uuid.uuid4().hex
        document = plan_to_dict(plan)
        document["plan_id"] = plan_id
        meta = {
            "plan_id": plan_id,
            "region": region.region_id,
            "province_code": region.province_code,
            "created_by": created_by,
            "created_at": created_at,
            **(extra_meta or {}),
        }
        document["meta"] = meta
        files = {
            "plan.json": json.dumps(document, ensure_ascii=False),
            "plan.geojson": json.dumps(plan_to_geojson(plan), ensure_ascii=False),
            "summary.txt": plan_summary(plan),
            "meta.json": json.dumps(meta, ensure_ascii=False),
        }
        files.update(plan_to_csv(plan))
        self.save(plan_id, files)
        return plan_id, document

    def load(self, plan_id: str, name: str) -> str:
        """Return one file of a stored plan.

        Raises
        ------
        PlanNotFoundError
            If the id is malformed or unknown.
        """
        path = self.plans_dir / plan_id / name
        if not _PLAN_ID.match(plan_id) or not path.is_file():
            raise PlanNotFoundError(f"plan {plan_id!r}")
        return path.read_text(encoding="utf-8")


def _service() -> PlanService:
    return current_app.extensions["oxyroute_plans"]  # type: ignore[no-any-return]


def _parse_body(body: Any, regions: tuple[str, ...]) -> tuple[str, dt.date, int, AllocationOptions]:
    if not isinstance(body, dict):
        raise InvalidInputError("body: expected a JSON object with region and date")
    problems = [
        f"{key}: unknown key (allowed: {', '.join(sorted(_BODY_KEYS))})"
        for key in sorted(set(body) - _BODY_KEYS)
    ]
    region = body.get("region")
    if not isinstance(region, str) or region not in regions:
        problems.append(f"region: {region!r} is not one of the served regions {list(regions)}")
    start: dt.date | None = None
    raw_date = body.get("date")
    try:
        # Only YYYY-MM-DD (the OpenAPI "date"): fromisoformat also reads 20210820 and 2021-W33-5.
        if not isinstance(raw_date, str) or not _ISO_DATE.fullmatch(raw_date):
            raise ValueError(raw_date)
        start = dt.date.fromisoformat(raw_date)
    except ValueError:
        problems.append(f"date: expected YYYY-MM-DD, got {raw_date!r}")
    horizon = body.get("horizon_days", 7)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 60:
        problems.append(f"horizon_days: must be an integer from 1 to 60, got {horizon!r}")
    options = AllocationOptions(max_delivery_time_s=4 * 3600)
    try:
        options = api_allocation_options(body.get("options", {}))
    except InvalidInputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InvalidInputError.from_problems("plan request", problems)
    assert start is not None
    assert isinstance(region, str)
    return region, start, horizon, options


@operation(
    bp,
    "POST",
    "/plans",
    summary="Compute a plan from the latest reports (coordinators, planners)",
    request_body=json_request(_PLAN_REQUEST),
    responses={
        "201": {
            "description": "plan computed and stored",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_ERRORS,
    },
)
def create_plan() -> Response:
    """Compute a plan from the registry's latest reports and store it; 201 with its links."""
    from coordination.planning import build_plan, plan_request_from_store

    service = _service()
    # 400 for a body that is not JSON, like every other endpoint (it was a 422 saying
    # "expected a JSON object", and deeply nested arrays were a 500).
    body = json_body()
    region_id, start, horizon, options = _parse_body(body, service.regions)
    try:
        region, network = service.region_network(region_id)
    except MissingDataFileError as exc:
        raise InvalidInputError(f"region: {exc}") from None
    authorize(g.principal, "plans:write", province_code=region.province_code)
    with costly_operation("plan"):
        plan_request = plan_request_from_store(
            current_store(),
            region,
            network,
            start_date=start,
            horizon_days=horizon,
            options=options,
        )
        plan = build_plan(plan_request, network, region)
    plan_id, document = service.store_plan(
        plan,
        region,
        created_by=g.principal.username,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    answer = {
        "plan_id": plan_id,
        "region": region_id,
        "start_date": start.isoformat(),
        "horizon_days": horizon,
        "totals": document["allocation"]["totals"],
        "links": {
            "self": f"{request.path}/{plan_id}",
            "geojson": f"{request.path}/{plan_id}?format=geojson",
            "csv": f"{request.path}/{plan_id}?format=csv",
        },
    }
    response = current_app.response_class(
        json.dumps(answer, ensure_ascii=False), status=201, mimetype="application/json"
    )
    response.headers["Location"] = answer["links"]["self"]
    return response


@operation(
    bp,
    "GET",
    "/plans/<plan_id>",
    summary="A stored plan as JSON, GeoJSON or CSV",
    parameters=[
        path_parameter("plan_id", HEX_ID_SCHEMA),
        query_parameter("format", {"type": "string", "enum": ["json", "geojson", "gpkg", "csv"]}),
        query_parameter("table", {"type": "string", "enum": ["flows", "facilities"]}),
    ],
    responses={
        "200": {
            "description": "the plan",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/geo+json": {"schema": {"type": "object"}},
                "application/geopackage+sqlite3": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **_ERRORS,
    },
)
def get_plan(plan_id: str) -> Response:
    """Return a stored plan as JSON, GeoJSON, GeoPackage or CSV (``format``, ``table``)."""
    service = _service()
    meta = json.loads(service.load(plan_id, "meta.json"))
    authorize(g.principal, "plans:read", province_code=meta["province_code"])
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return current_app.response_class(
            service.load(plan_id, "plan.json"), mimetype="application/json"
        )
    if fmt == "geojson":
        return current_app.response_class(
            service.load(plan_id, "plan.geojson"), mimetype="application/geo+json"
        )
    if fmt == "gpkg":
        from data.exchange.geopackage import geojson_to_geopackage

        response = current_app.response_class(
            geojson_to_geopackage(json.loads(service.load(plan_id, "plan.geojson"))),
            mimetype="application/geopackage+sqlite3",
        )
        response.headers["Content-Disposition"] = f'attachment; filename="plan-{plan_id}.gpkg"'
        return response
    if fmt == "csv":
        table = request.args.get("table", "flows")
        if table not in ("flows", "facilities"):
            raise InvalidInputError(f"table: must be 'flows' or 'facilities', got {table!r}")
        response = current_app.response_class(
            "\ufeff" + service.load(plan_id, f"{table}.csv"), mimetype="text/csv"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{table}-{plan_id}.csv"'
        return response
    raise InvalidInputError(f"format: must be json, geojson, gpkg or csv, got {fmt!r}")
