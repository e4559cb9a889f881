"""HTTP what-if scenarios: create, list, read, copy, edit (new version), run and compare.

Thin views over :mod:`coordination.scenarios` and :mod:`coordination.planning`. Scenarios are
stored as files by :class:`web.scenario_store.ScenarioStore` under
``<plans folder>/scenarios/<scenario_id>/``: one ``v<N>.json`` per version (never rewritten, so an
old version stays readable after an edit) and one folder per run under ``runs/``. A run computes
the base plan and the scenario plan, stores both as ordinary plans (``GET /api/v1/plans/{id}``
serves them) and keeps the comparison with a GeoJSON of what changed. Base data are never edited:
:func:`scenarios.apply_scenario` works on copies. Format of the documents: ``docs/scenarios.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g, request

from data.access import authorize
from data.errors import InvalidInputError, MissingDataFileError
from data.schema.registry import Role
from web.common import API_PREFIX, app_state, current_store, json_body, require
from web.openapi import (
    HEX_ID_SCHEMA,
    ApiBlueprint,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
)
from web.plans import API_OPTION_SCHEMAS, PlanService, api_allocation_options, costly_operation
from web.scenario_store import ScenarioStore, StoredScenario

if TYPE_CHECKING:
    from coordination.planning import CoordinatorPlan
    from coordination.scenarios import Scenario
    from data.region import Region
    from routing.network import RoadNetwork

_COPY_KEYS = {"name", "version"}
_RUN_KEYS = {"version", "options"}
bp = ApiBlueprint("scenarios", __name__, url_prefix=API_PREFIX)
_ERRORS = error_responses("400", "401", "403", "404", "422", "429")
_OBJECT = {"application/json": {"schema": {"type": "object"}}}
_DOCUMENT = {
    "type": "object",
    "required": ["name", "region", "date"],
    "description": "a scenario document (docs/scenarios.md): name, description, region, "
    "date, horizon_days, changes",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "region": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "horizon_days": {"type": "integer", "minimum": 1, "maximum": 60},
        "changes": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": False,
}
_SCENARIO_ID = path_parameter("scenario_id", HEX_ID_SCHEMA)
_VERSION = query_parameter("version", {"type": "integer", "minimum": 1})


# --------------------------------------------------------------------------- serialisation


def comparison_to_geojson(
    base: CoordinatorPlan, other: CoordinatorPlan, comparison: Mapping[str, Any]
) -> dict[str, Any]:
    """Return what a comparison found as RFC 7946 GeoJSON for the map (WGS84 ``[lon, lat]``).

    Facilities whose unmet demand changed (or that the scenario added) are Points with
    ``kind: "facility_change"``, unmet m³ and days of supply in both plans and the scenario's
    unmet reasons; flows added, removed or changed are straight LineStrings from supplier to
    facility with ``kind: "flow_change"`` and ``change`` = ``added``, ``removed`` or ``changed``.
    """

    def facility_rows(plan: CoordinatorPlan) -> dict[str, dict[str, Any]]:
        reasons: dict[str, set[str]] = defaultdict(set)
        for entry in plan.allocation.unmet:
            reasons[entry.facility_id].add(str(entry.reason))
        return {
            f.facility_id: {
                "lonlat": (f.lon, f.lat),
                "days_of_supply": s.days_of_supply,
                "reasons": sorted(reasons[f.facility_id]),
            }
            for f, s in zip(plan.request.facilities, plan.shortfalls, strict=True)
        }

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    before, after = facility_rows(base), facility_rows(other)
    places = {
        s.supplier_id: (s.lon, s.lat) for s in (*base.request.suppliers, *other.request.suppliers)
    }
    places.update({fid: row["lonlat"] for fid, row in (*before.items(), *after.items())})
    features: list[dict[str, Any]] = []
    for row in comparison["facilities"]:
        fid = row["facility_id"]
        lon, lat = places[fid]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {
                    "kind": "facility_change",
                    **row,
                    "new_facility": fid not in before,
                    "days_of_supply_base": rounded(before.get(fid, {}).get("days_of_supply")),
                    "days_of_supply_scenario": rounded(after.get(fid, {}).get("days_of_supply")),
                    "unmet_reasons_scenario": after.get(fid, {}).get("reasons", []),
                },
            }
        )
    for change, key in (
        ("added", "flows_added"),
        ("removed", "flows_removed"),
        ("changed", "flows_changed"),
    ):
        for row in comparison[key]:
            (slon, slat), (flon, flat) = places[row["supplier_id"]], places[row["facility_id"]]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [
                            [round(slon, 6), round(slat, 6)],
                            [round(flon, 6), round(flat, 6)],
                        ],
                    },
                    "properties": {"kind": "flow_change", "change": change, **row},
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "attribution": "© OpenStreetMap contributors",
    }


# --------------------------------------------------------------------------- request handling


def _service() -> PlanService:
    return current_app.extensions["oxyroute_plans"]  # type: ignore[no-any-return]


def _scenarios() -> ScenarioStore:
    return ScenarioStore(_service().plans_dir / "scenarios")


def _body(*, required: bool) -> Any:
    """Return the JSON body; an empty body is ``{}`` when not required."""
    if not request.get_data(cache=True) and not required:
        return {}
    return json_body()


def _object(body: Any, allowed: set[str] | None, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInputError(f"body: expected a JSON object ({what})")
    if allowed is not None and set(body) - allowed:
        raise InvalidInputError.from_problems(
            what,
            [
                f"{key}: unknown key (allowed: {', '.join(sorted(allowed))})"
                for key in sorted(set(body) - allowed)
            ],
        )
    return body


def _version_arg(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,6}", value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InvalidInputError(f"{where}: must be a version number >= 1, got {value!r}")


def _region(region_id: str) -> tuple[Region, RoadNetwork]:
    service = _service()
    accepted = service.accepted_regions()  # configured names and paths, their ids (issue 16)
    if region_id not in accepted:
        raise InvalidInputError(
            f"region: {region_id!r} is not one of the served regions {list(accepted)}"
        )
    try:
        return service.region_network(region_id)
    except MissingDataFileError as exc:
        raise InvalidInputError(f"region: {exc}") from None


def _validate(document: Any, store: Any) -> tuple[Scenario, Region]:
    """Check a document's format, then its references against the region's current base data.

    The second step applies the changes to copies (unknown suppliers, facilities, districts and
    road names are found here) and throws the copies away.
    """
    from coordination.planning import plan_request_from_store
    from coordination.scenarios import apply_scenario, scenario_from_mapping

    scenario = scenario_from_mapping(_object(document, None, "a scenario document"))
    region, network = _region(scenario.region)
    base = plan_request_from_store(
        store, region, network, start_date=scenario.start_date, horizon_days=scenario.horizon_days
    )
    apply_scenario(scenario, base, network)
    return scenario, region


def _now() -> str:
    return app_state().config.clock().astimezone(dt.UTC).isoformat(timespec="seconds")


def _json(
    data: Any, status: int = 200, location: str | None = None, mimetype: str = "application/json"
) -> Response:
    response = current_app.response_class(
        json.dumps(data, ensure_ascii=False), status=status, mimetype=mimetype
    )
    if location:
        response.headers["Location"] = location
    return response


def _readable(scenario_id: str, version: int | None = None) -> StoredScenario:
    require("scenarios:read")
    record = _scenarios().get(scenario_id, version)
    authorize(g.principal, "scenarios:read", province_code=record.province_code)
    return record


def _writable(scenario_id: str, version: int | None = None) -> StoredScenario:
    require("scenarios:write")
    record = _scenarios().get(scenario_id, version)
    authorize(g.principal, "scenarios:write", province_code=record.province_code)
    return record


def _save_plan(
    plan: CoordinatorPlan, region: Region, created_at: str, provenance: Mapping[str, Any]
) -> str:
    """Store a computed plan as ``POST /plans`` does, with the run that made it in ``meta``."""
    plan_id, _ = _service().store_plan(
        plan,
        region,
        created_by=g.principal.username,
        created_at=created_at,
        extra_meta={"scenario": dict(provenance)},
    )
    return plan_id


def _links(record: StoredScenario) -> dict[str, str]:
    base = f"{request.script_root}/api/v1/scenarios/{record.scenario_id}"
    return {
        "self": base,
        "version": f"{base}?version={record.version}",
        "copy": f"{base}/copy",
        "run": f"{base}/run",
        "runs": f"{base}/runs",
    }


def _store_version(scenario_id: str | None) -> Any:
    """Validate the body, check the writer's province and store it as a new version."""
    document = _body(required=True)
    _, region = _validate(document, current_store())
    authorize(g.principal, "scenarios:write", province_code=region.province_code)
    return _scenarios().add_version(
        scenario_id,
        document,
        province_code=region.province_code,
        created_by=g.principal.username,
        created_at=_now(),
    )


@operation(
    bp,
    "POST",
    "/scenarios",
    summary="Store a new scenario (planners); validated against the base data",
    request_body=json_request(_DOCUMENT),
    responses={"201": {"description": "version 1 stored", "content": _OBJECT}, **_ERRORS},
)
def create_scenario() -> Response:
    """Validate a scenario document and store it as version 1; 201 with its links."""
    require("scenarios:write")
    record = _store_version(None)
    links = _links(record)
    return _json({**record.to_dict(), "links": links}, 201, links["self"])


@operation(
    bp,
    "GET",
    "/scenarios",
    summary="Latest version of every scenario (coordinators: their province)",
    parameters=[query_parameter("region", {"type": "string"})],
    responses={"200": {"description": "scenarios", "content": _OBJECT}, **_ERRORS},
)
def list_scenarios() -> Response:
    """Return the latest version of each scenario the caller may read (``region`` filter)."""
    require("scenarios:read")
    principal = g.principal
    province = principal.province_code if principal.role == Role.PROVINCE_COORDINATOR else None
    authorize(principal, "scenarios:read", province_code=province)
    region = request.args.get("region")
    rows = []
    for record in _scenarios().latest():
        if province is not None and record.province_code != province:
            continue
        if region is not None and record.document.get("region") != region:
            continue
        first = _scenarios().get(record.scenario_id, 1)
        row = record.to_dict()
        del row["document"]
        row.update(
            {
                "description": record.document.get("description", ""),
                "changes": len(record.document.get("changes", [])),
                "first_created_by": first.created_by,
                "first_created_at": first.created_at,
            }
        )
        rows.append(row)
    rows.sort(key=lambda r: (r["created_at"], r["scenario_id"]), reverse=True)
    return _json({"scenarios": rows})


@operation(
    bp,
    "GET",
    "/scenarios/<scenario_id>",
    summary="A scenario (latest version, or ?version=N) and its version list",
    parameters=[_SCENARIO_ID, _VERSION],
    responses={"200": {"description": "the scenario", "content": _OBJECT}, **_ERRORS},
)
def get_scenario(scenario_id: str) -> Response:
    """Return a scenario (the latest version, or ``version``) and its list of versions."""
    record = _readable(scenario_id, _version_arg(request.args.get("version"), "version"))
    versions = [_scenarios().get(scenario_id, v) for v in _scenarios().versions(scenario_id)]
    return _json(
        {
            **record.to_dict(),
            "versions": [
                {"version": v.version, "created_by": v.created_by, "created_at": v.created_at}
                for v in versions
            ],
            "links": _links(record),
        }
    )


@operation(
    bp,
    "PUT",
    "/scenarios/<scenario_id>",
    summary="Edit a scenario: the document becomes a new version",
    parameters=[_SCENARIO_ID],
    request_body=json_request(_DOCUMENT),
    responses={"200": {"description": "new version stored", "content": _OBJECT}, **_ERRORS},
)
def edit_scenario(scenario_id: str) -> Response:
    """Store the body as the scenario's next version."""
    _writable(scenario_id)
    record = _store_version(scenario_id)
    return _json({**record.to_dict(), "links": _links(record)})


@operation(
    bp,
    "POST",
    "/scenarios/<scenario_id>/copy",
    summary="Copy a scenario (latest or a version) as a new one, optionally renamed",
    parameters=[_SCENARIO_ID],
    request_body=json_request(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "integer", "minimum": 1},
            },
        },
        required=False,
    ),
    responses={"201": {"description": "the copy", "content": _OBJECT}, **_ERRORS},
)
def copy_scenario(scenario_id: str) -> Response:
    """Store a copy of a scenario (or of one version) as a new scenario, maybe renamed."""
    require("scenarios:write")
    body = _object(_body(required=False), _COPY_KEYS, "a copy request")
    source = _readable(scenario_id, _version_arg(body.get("version"), "version"))
    document = dict(source.document)
    if "name" in body:
        document["name"] = body["name"]
    _, region = _validate(document, current_store())
    authorize(g.principal, "scenarios:write", province_code=region.province_code)
    record = _scenarios().add_version(
        None,
        document,
        province_code=region.province_code,
        created_by=g.principal.username,
        created_at=_now(),
        copied_from={"scenario_id": source.scenario_id, "version": source.version},
    )
    links = _links(record)
    return _json({**record.to_dict(), "links": links}, 201, links["self"])


@operation(
    bp,
    "POST",
    "/scenarios/<scenario_id>/run",
    summary="Compute the base plan and the scenario plan, store both, compare them",
    parameters=[_SCENARIO_ID],
    request_body=json_request(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "version": {"type": "integer", "minimum": 1},
                "options": {
                    "type": "object",
                    "description": "allocation options, as POST /plans",
                    "properties": API_OPTION_SCHEMAS,
                    "additionalProperties": False,
                },
            },
        },
        required=False,
    ),
    responses={
        "201": {"description": "plan ids and the comparison", "content": _OBJECT},
        **_ERRORS,
    },
)
def run_scenario(scenario_id: str) -> Response:
    """Compute the base and the scenario plans, store both and their comparison; 201."""
    from coordination.planning import build_plan, plan_request_from_store
    from coordination.scenarios import (
        apply_scenario,
        compare_plans,
        fleet_changes,
        scenario_from_mapping,
    )

    require("scenarios:write")
    body = _object(_body(required=False), _RUN_KEYS, "a run request")
    record = _writable(scenario_id, _version_arg(body.get("version"), "version"))
    options = api_allocation_options(body.get("options", {}))
    scenario = scenario_from_mapping(record.document)
    region, network = _region(scenario.region)
    with costly_operation("scenario run"):
        base_request = plan_request_from_store(
            current_store(),
            region,
            network,
            start_date=scenario.start_date,
            horizon_days=scenario.horizon_days,
            options=options,
        )
        what_if, changed_network = apply_scenario(scenario, base_request, network)
        base_plan = build_plan(base_request, network, region)
        scenario_plan = build_plan(what_if, changed_network, region)
        comparison = compare_plans(base_plan, scenario_plan)
    run_id, created_at = uuid.uuid4().hex, _now()
    provenance = {"scenario_id": scenario_id, "version": record.version, "run_id": run_id}
    base_plan_id = _save_plan(base_plan, region, created_at, {**provenance, "plan": "base"})
    scenario_plan_id = _save_plan(
        scenario_plan, region, created_at, {**provenance, "plan": "scenario"}
    )
    geojson = comparison_to_geojson(base_plan, scenario_plan, comparison)
    prefix = f"{request.script_root}/api/v1"
    run_link = f"{prefix}/scenarios/{scenario_id}/runs/{run_id}"
    answer = {
        "run_id": run_id,
        "scenario_id": scenario_id,
        "version": record.version,
        "name": scenario.name,
        "region": scenario.region,
        "start_date": scenario.start_date.isoformat(),
        "horizon_days": scenario.horizon_days,
        "created_by": g.principal.username,
        "created_at": created_at,
        "base_plan_id": base_plan_id,
        "scenario_plan_id": scenario_plan_id,
        "comparison": comparison,
        "fleet_changes": list(fleet_changes(scenario)),
        "links": {
            "self": run_link,
            "geojson": f"{run_link}?format=geojson",
            "base_plan": f"{prefix}/plans/{base_plan_id}",
            "scenario_plan": f"{prefix}/plans/{scenario_plan_id}",
            "scenario_plan_geojson": f"{prefix}/plans/{scenario_plan_id}?format=geojson",
        },
    }
    _scenarios().save_run(
        scenario_id,
        run_id,
        {
            "run.json": json.dumps(answer, ensure_ascii=False),
            "comparison.geojson": json.dumps(geojson, ensure_ascii=False),
        },
    )
    return _json(answer, 201, run_link)


@operation(
    bp,
    "GET",
    "/scenarios/<scenario_id>/runs",
    summary="The scenario's runs with their totals",
    parameters=[_SCENARIO_ID],
    responses={"200": {"description": "runs", "content": _OBJECT}, **_ERRORS},
)
def list_runs(scenario_id: str) -> Response:
    """Return the summaries of a scenario's runs, oldest first."""
    _readable(scenario_id)
    return _json({"runs": _scenarios().runs(scenario_id)})


@operation(
    bp,
    "GET",
    "/scenarios/<scenario_id>/runs/<run_id>",
    summary="A run: plan ids and the comparison (JSON), or what changed (GeoJSON)",
    parameters=[
        _SCENARIO_ID,
        path_parameter("run_id", HEX_ID_SCHEMA),
        query_parameter("format", {"type": "string", "enum": ["json", "geojson"]}),
    ],
    responses={
        "200": {
            "description": "the run",
            "content": {**_OBJECT, "application/geo+json": {"schema": {"type": "object"}}},
        },
        **_ERRORS,
    },
)
def get_run(scenario_id: str, run_id: str) -> Response:
    """Return a run as JSON, or what changed as GeoJSON (``format``)."""
    _readable(scenario_id)
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return current_app.response_class(
            _scenarios().load_run(scenario_id, run_id), mimetype="application/json"
        )
    if fmt == "geojson":
        return current_app.response_class(
            _scenarios().load_run(scenario_id, run_id, "comparison.geojson"),
            mimetype="application/geo+json",
        )
    raise InvalidInputError(f"format: must be json or geojson, got {fmt!r}")
