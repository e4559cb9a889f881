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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g, jsonify, request

from data.access import authorize
from data.errors import (
    InvalidInputError,
    MalformedInputError,
    MissingDataFileError,
    PermissionDeniedError,
)
from data.region import Region, load_region
from data.reporting import LOCAL_TZ
from data.schema.allocation import AllocationOptions
from data.schema.documents import PlanDocument, RoutesDocument
from data.schema.live import PlanState
from data.schema.registry import Role, Supplier
from data.settings import resolve_cache_dir
from data.store.deliveries import PlanHandoff
from routing.network import RoadNetwork
from web.common import (
    API_PREFIX,
    app_state,
    current_store,
    json_body,
    optional_json_object,
    query_date,
    query_int,
    require,
    scoped_province,
)
from web.deliveries import delivery_to_dict
from web.errors import PlanNotFoundError, RoutesNotFoundError
from web.irp_plans import (
    IRP_REQUEST_SCHEMAS,
    IrpRequest,
    compute_irp_part,
    irp_links,
    irp_request_problems,
)
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
_BODY_KEYS = {"region", "date", "horizon_days", "options", "mode", "irp_time_limit_s"}
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
        **IRP_REQUEST_SCHEMAS,  # mode, irp_time_limit_s (issue 17)
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

    def accepted_regions(self) -> tuple[str, ...]:
        """Return the region names a request may give: the configured ones, their ids, the map's.

        A region configured by path is served under its id (the file's stem), which is what
        ``/map/v1/regions`` lists and what plans record; both are accepted (issue 16).
        """
        with self._lock:
            shared = tuple(self._networks)
        stems = tuple(Path(r).stem for r in self.regions if r.endswith(".toml") or os.sep in r)
        return tuple(dict.fromkeys((*self.regions, *stems, *shared)))

    def _reference(self, region_id: str) -> str:
        """Return what to load for a region id: the configured path whose stem it is, else it."""
        for configured in self.regions:
            if (configured.endswith(".toml") or os.sep in configured) and Path(
                configured
            ).stem == region_id:
                return configured
        return region_id

    def region_network(self, region_id: str) -> tuple[Region, RoadNetwork]:
        """Return a region and its road network, loading it on first use (once per app).

        ``region_id`` is a configured name or path, or the id of a region configured by path.
        """
        from routing.graph import network_for_region

        with self._lock:
            if region_id not in self._networks:
                region = load_region(self._reference(region_id), data_dir=self.data_dir)
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
        act_first: Sequence[str] = (),
        extra_files: dict[str, str] | None = None,
    ) -> tuple[str, PlanDocument]:
        """Serialise a computed plan (JSON, GeoJSON, CSV, summary) and save it under a new id.

        ``act_first`` (:func:`coordination.act_first.act_first_for_plan`) opens the summary.
        ``extra_files`` (name to text) are saved with the plan, in the same atomic write (the
        inventory-routing part's files). Returns the id and the plan's JSON document (with its
        ``meta``).
        """
        from coordination.act_first import with_act_first
        from coordination.planning import plan_summary, plan_to_csv, plan_to_dict, plan_to_geojson

        plan_id = uuid.uuid4().hex
        document = plan_to_dict(plan)
        files = dict(extra_files or {})
        document["plan_id"] = plan_id
        meta = {
            "plan_id": plan_id,
            "region": region.region_id,
            "province_code": region.province_code,
            "created_by": created_by,
            "created_at": created_at,
            # What the plan listing shows without reading the whole plan (issue 14).
            "start_date": document["start_date"],
            "horizon_days": document["horizon_days"],
            "headline": document["headline"],
            "totals": document["allocation"]["totals"],
            **(extra_meta or {}),
        }
        document["meta"] = meta
        files |= {
            "plan.json": json.dumps(document, ensure_ascii=False),
            "plan.geojson": json.dumps(plan_to_geojson(plan), ensure_ascii=False),
            "summary.txt": with_act_first(plan_summary(plan), act_first),
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


def _parse_body(
    body: Any, regions: tuple[str, ...]
) -> tuple[str, dt.date, int, AllocationOptions, IrpRequest | None]:
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
    irp, irp_problems = irp_request_problems(body)
    problems.extend(irp_problems)
    if problems:
        raise InvalidInputError.from_problems("plan request", problems)
    assert start is not None
    assert isinstance(region, str)
    return region, start, horizon, options, irp


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
    from coordination.act_first import act_first_for_plan
    from coordination.planning import build_plan, plan_request_from_store

    service = _service()
    # 400 for a body that is not JSON, like every other endpoint (it was a 422 saying
    # "expected a JSON object", and deeply nested arrays were a 500).
    body = json_body()
    region_id, start, horizon, options, irp = _parse_body(body, service.accepted_regions())
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
        irp_files: dict[str, str] = {}
        irp_answer: dict[str, Any] = {}
        if irp is not None:
            irp_files, irp_answer = compute_irp_part(current_store(), plan, network, region, irp)
    now = app_state().config.clock()
    plan_id, document = service.store_plan(
        plan,
        region,
        created_by=g.principal.username,
        created_at=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        act_first=act_first_for_plan(current_store(), plan, region, now=now),
        extra_meta=None if irp is None else {"mode": "irp"},
        extra_files=irp_files,
    )
    # Its hand-off starts as a draft (issue 14): a coordinator approves, then publishes it.
    current_store().register_plan(
        plan_id,
        region=region.region_id,
        province_code=region.province_code,
        plan_date=start,
        actor=g.principal.username,
        created_at=now,
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
    if irp is not None:
        answer["mode"] = "irp"
        answer["irp"] = irp_answer
        answer["links"] |= irp_links(answer["links"]["self"])
    response = current_app.response_class(
        json.dumps(answer, ensure_ascii=False), status=201, mimetype="application/json"
    )
    response.headers["Location"] = answer["links"]["self"]
    return response


@operation(
    bp,
    "GET",
    "/plans/<plan_id>",
    summary="A stored plan as JSON, GeoJSON, CSV or its text summary (Act first on top)",
    parameters=[
        path_parameter("plan_id", HEX_ID_SCHEMA),
        query_parameter(
            "format", {"type": "string", "enum": ["json", "geojson", "gpkg", "csv", "txt"]}
        ),
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
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **_ERRORS,
    },
)
def get_plan(plan_id: str) -> Response:
    """Return a stored plan as JSON, GeoJSON, GeoPackage, CSV or text (``format``, ``table``)."""
    service = _service()
    authorize_plan_read(service, plan_id)
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
    if fmt == "txt":
        return current_app.response_class(
            service.load(plan_id, "summary.txt"), content_type="text/plain; charset=utf-8"
        )
    raise InvalidInputError(f"format: must be json, geojson, gpkg, csv or txt, got {fmt!r}")


# ---------------------------------------------------------------------------- hand-off (issue 14)

_STATE_SCHEMA = {"type": "string", "enum": [s.value for s in PlanState]}
_VERSION_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {
            "type": "integer",
            "minimum": 1,
            "description": "the plan's version as read; another version: 409 (compare-and-set)",
        }
    },
}
_PUBLISH_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **_VERSION_BODY["properties"],
        "routes_id": {
            **HEX_ID_SCHEMA,
            "description": "publish these routes; default: the latest routes of each plan day",
        },
    },
}
_HANDOFF_RESPONSE = {
    "description": "the plan's hand-off state",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
_HANDOFF_ERRORS = error_responses("400", "401", "403", "404", "409", "422")


def _local_time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def _meta_or_empty(service: PlanService, plan_id: str) -> dict[str, Any]:
    try:
        meta: dict[str, Any] = json.loads(service.load(plan_id, "meta.json"))
    except PlanNotFoundError:
        return {}
    return meta


def handoff_to_dict(handoff: PlanHandoff, meta: dict[str, Any]) -> dict[str, Any]:
    """Return a plan's hand-off as JSON: state, who and when (Asia/Ho_Chi_Minh), headline."""
    base = f"{API_PREFIX}/plans/{handoff.plan_id}"
    return {
        "plan_id": handoff.plan_id,
        "region": handoff.region,
        "province_code": handoff.province_code,
        "plan_date": handoff.plan_date.isoformat(),
        "horizon_days": meta.get("horizon_days"),
        "state": handoff.state.value,
        "version": handoff.version,
        "headline": meta.get("headline", ""),
        "totals": meta.get("totals"),
        "created_by": handoff.created_by,
        "created_at": _local_time(handoff.created_at),
        "approved_by": handoff.approved_by,
        "approved_at": _local_time(handoff.approved_at),
        "published_by": handoff.published_by,
        "published_at": _local_time(handoff.published_at),
        "links": {
            "self": base,
            "approve": f"{base}/approve",
            "publish": f"{base}/publish",
            "deliveries": f"{API_PREFIX}/deliveries?plan_id={handoff.plan_id}",
        },
    }


def authorize_plan_read(service: PlanService, plan_id: str) -> dict[str, Any]:
    """Return a stored plan's meta once the caller may read the plan (its files, any part).

    ``plans:read`` in the plan's province, and a dispatcher only once it is published.

    Raises
    ------
    PlanNotFoundError, PermissionDeniedError
        If there is no such plan, or the caller may not read it.
    """
    meta: dict[str, Any] = json.loads(service.load(plan_id, "meta.json"))
    authorize(g.principal, "plans:read", province_code=meta.get("province_code"))
    refuse_unpublished(plan_id)
    return meta


def refuse_unpublished(plan_id: str) -> None:
    """Refuse a dispatcher a plan that is not published (dispatchers see published plans only).

    Raises
    ------
    PermissionDeniedError
        If the user is a dispatcher and the plan is a draft, approved, or has no hand-off row.
    """
    if g.principal.role != Role.DISPATCHER:
        return
    handoff = current_store().get_plan_state(plan_id)
    if handoff is None or handoff.state != PlanState.PUBLISHED:
        state = "draft" if handoff is None else handoff.state.value
        raise PermissionDeniedError(
            f"plan_id: dispatchers see published plans only; plan {plan_id} is {state}"
        )


def _handoff(plan_id: str, permission: str) -> tuple[PlanHandoff, dict[str, Any]]:
    """Return a plan's hand-off row (created as a draft for a plan stored before issue 14)."""
    require(permission)
    service = _service()
    meta: dict[str, Any] = json.loads(service.load(plan_id, "meta.json"))
    authorize(g.principal, permission, province_code=meta.get("province_code"))
    store = current_store()
    handoff = store.get_plan_state(plan_id)
    if handoff is None:
        start = (
            meta.get("start_date") or json.loads(service.load(plan_id, "plan.json"))["start_date"]
        )
        created = dt.datetime.fromisoformat(meta["created_at"]) if "created_at" in meta else None
        handoff = store.register_plan(
            plan_id,
            region=meta["region"],
            province_code=meta.get("province_code"),
            plan_date=dt.date.fromisoformat(start),
            actor=meta.get("created_by", g.principal.username),
            created_at=created if created is None or created.tzinfo else None,
        )
    return handoff, meta


def _plan_list_states() -> list[PlanState] | None:
    """Return the states the user asked for and may see (a dispatcher: published only)."""
    raw = request.args.get("state")
    if raw is not None and raw not in {s.value for s in PlanState}:
        problem = f"state: must be one of {', '.join(s.value for s in PlanState)}, got {raw!r}"
        raise MalformedInputError(problem, [problem])
    if g.principal.role == Role.DISPATCHER:
        if raw not in (None, PlanState.PUBLISHED.value):
            raise PermissionDeniedError(
                f"state: dispatchers see published plans only, not {raw!r} ones"
            )
        return [PlanState.PUBLISHED]
    return None if raw is None else [PlanState(raw)]


@operation(
    bp,
    "GET",
    "/plans",
    summary="List plans, newest first: date, region, state, who and when, headline",
    parameters=[
        query_parameter("region", {"type": "string"}, "a served region, e.g. hcmc"),
        query_parameter("date", {"type": "string", "format": "date"}, "the plan's first day"),
        query_parameter("state", _STATE_SCHEMA, "dispatchers see published plans only"),
        query_parameter("province_code", {"type": "string", "pattern": "^[0-9]{2}$"}),
        query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    ],
    responses={
        "200": {
            "description": "the plans and their hand-off state",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_HANDOFF_ERRORS,
    },
)
def list_plans() -> Response:
    """List the plans in the user's scope (a coordinator: its province; dispatchers: published)."""
    require("plans:read")
    province_code = scoped_province("plans:read")
    states = _plan_list_states()
    raw_date = request.args.get("date")
    plan_date = query_date("date") if raw_date is not None else None
    service = _service()
    handoffs = current_store().list_plan_states(
        region=request.args.get("region"),
        plan_date=plan_date,
        states=states,
        province_code=province_code,
        limit=query_int("limit", 100, 1, 1000),
    )
    plans = [handoff_to_dict(h, _meta_or_empty(service, h.plan_id)) for h in handoffs]
    return jsonify({"plans": plans, "count": len(plans)})


@operation(
    bp,
    "POST",
    "/plans/<plan_id>/approve",
    summary="Approve a draft plan (the plan's province coordinator, or an admin)",
    parameters=[path_parameter("plan_id", HEX_ID_SCHEMA)],
    request_body=json_request(_VERSION_BODY, required=False),
    responses={"200": _HANDOFF_RESPONSE, **_HANDOFF_ERRORS},
)
def approve_plan(plan_id: str) -> Response:
    """Approve a draft plan (compare-and-set on ``version``; 409 if stale or not a draft)."""
    _, meta = _handoff(plan_id, "plans:publish")
    body = optional_json_object({"version"})
    handoff = current_store().approve_plan(
        plan_id, actor=g.principal.username, seen_version=_version(body)
    )
    return jsonify(handoff_to_dict(handoff, meta))


def _version(body: dict[str, Any]) -> int | None:
    version = body.get("version")
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInputError(f"version: a whole number from 1, got {version!r}")
    return version


def _routes_documents(plan_id: str, routes_id: str | None) -> list[RoutesDocument]:
    """Return the routes to publish: ``routes_id``, else the latest routes of each plan day."""
    folder = _service().plans_dir / plan_id / "routes"
    if routes_id is not None:
        path = folder / routes_id / "routes.json"
        if not _PLAN_ID.match(routes_id) or not path.is_file():
            raise RoutesNotFoundError(f"routes_id: no routes {routes_id!r} for plan {plan_id!r}")
        return [json.loads(path.read_text(encoding="utf-8"))]
    latest: dict[int, tuple[tuple[str, int], RoutesDocument]] = {}
    for path in sorted(folder.glob("*/routes.json")) if folder.is_dir() else []:
        document: RoutesDocument = json.loads(path.read_text(encoding="utf-8"))
        meta = document.get("meta")
        key = (meta["created_at"] if meta else "", path.stat().st_mtime_ns)
        if document["day"] not in latest or key > latest[document["day"]][0]:
            latest[document["day"]] = (key, document)
    if not latest:
        raise InvalidInputError(
            f"routes_id: plan {plan_id} has no routes yet; compute them with "
            f"POST /plans/{plan_id}/routes, then publish"
        )
    return [latest[day][1] for day in sorted(latest)]


@operation(
    bp,
    "POST",
    "/plans/<plan_id>/publish",
    summary="Publish an approved plan: its route stops become planned deliveries",
    parameters=[path_parameter("plan_id", HEX_ID_SCHEMA)],
    request_body=json_request(_PUBLISH_BODY, required=False),
    responses={"200": _HANDOFF_RESPONSE, **_HANDOFF_ERRORS},
)
def publish_plan(plan_id: str) -> Response:
    """Publish an approved plan and create one planned delivery per route stop (idempotent).

    Publishing a published plan again adds the stops of routes not yet published (another day)
    and changes nothing else; a draft is refused (409: approve it first).
    """
    from coordination.plan_handoff import planned_deliveries_from_routes

    _handoff(plan_id, "plans:publish")
    body = optional_json_object({"version", "routes_id"})
    routes_id = body.get("routes_id")
    if routes_id is not None and not isinstance(routes_id, str):
        raise InvalidInputError(f"routes_id: a routes id (32 hex digits), got {routes_id!r}")
    documents = _routes_documents(plan_id, routes_id)
    store = current_store()
    registered = {
        s.supplier_id
        for s in store.list_records("suppliers", limit=None)
        if isinstance(s, Supplier)
    }
    planned = planned_deliveries_from_routes(
        documents,
        plan_id=plan_id,
        conversions=app_state().config.conversions,
        registered_suppliers=registered,
    )
    result = store.publish_plan(
        plan_id, planned, actor=g.principal.username, seen_version=_version(body)
    )
    answer = handoff_to_dict(result.plan, _meta_or_empty(_service(), plan_id))
    answer["routes_ids"] = [d["routes_id"] for d in documents]
    answer["deliveries_created"] = len(result.created)
    answer["deliveries_existing"] = result.existing
    answer["deliveries"] = [delivery_to_dict(d) for d in result.created]
    answer["unregistered_suppliers"] = sorted(
        {
            step["supplier_id"]
            for d in documents
            for r in d["routes"]
            for step in r["steps"]
            if step["type"] == "delivery" and step.get("supplier_id") not in registered
        }
    )
    return jsonify(answer)
