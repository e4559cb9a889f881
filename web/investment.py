"""HTTP endpoints for planners' investment portfolios under case scenarios (issue 18).

``POST /api/v1/investments`` computes a portfolio (:mod:`coordination.investment`: every
weighted scenario planned on copies of the base, then the two-stage MILP of
:mod:`matcher.investment`) under the costly-operation limiter and stores it as files, as plans
are stored: ``<plans folder>/investments/<investment_id>/`` with ``portfolio.csv``,
``report.txt``, ``portfolio.geojson`` and ``result.json`` (the answer with its region, province,
author and time). ``GET /api/v1/investments/{investment_id}`` serves any of them. Planners
compute (``scenarios:write``); planners and the province's coordinators read
(``scenarios:read``). Formats: ``docs/investment.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g, request

from data.access import authorize
from data.errors import InvalidInputError, MissingDataFileError, RecordNotFoundError
from data.schema.investment import CANDIDATE_COLUMNS, InvestmentOptions
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
from web.plans import PlanService, costly_operation

if TYPE_CHECKING:
    from coordination.investment import WeightedScenario
    from data.region import Region
    from data.schema.investment import InvestmentCandidate
    from routing.network import RoadNetwork

bp = ApiBlueprint("investment", __name__, url_prefix=API_PREFIX)

_ID = re.compile(r"^[0-9a-f]{32}$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_TIME_LIMIT_S = 60.0
_MAX_SCENARIOS = 10
_MAX_CURVE_BUDGETS = 8
_MAX_CANDIDATES = 2000
_FILES = {
    "json": ("result.json", "application/json"),
    "csv": ("portfolio.csv", "text/csv"),
    "geojson": ("portfolio.geojson", "application/geo+json"),
    "txt": ("report.txt", "text/plain; charset=utf-8"),
}
_BODY_KEYS = {
    "region",
    "date",
    "scenarios",
    "budget_vnd",
    "deadline_weeks",
    "candidates",
    "time_limit_s",
    "gap",
    "cost_curve_budgets_vnd",
}
_ERRORS = error_responses("400", "401", "403", "404", "422", "429", "503")
_OBJECT = {"application/json": {"schema": {"type": "object"}}}
_NUMBER = {"type": "number"}
_SCENARIO = {
    "type": "object",
    "required": ["name", "weight"],
    "properties": {
        "name": {"type": "string"},
        "weight": {"type": "number", "exclusiveMinimum": 0},
        "surge_factor": {"type": "number", "minimum": 0},
        "changes": {"type": "array", "items": {"type": "object"}},
        "description": {"type": "string"},
    },
    "additionalProperties": False,
}
_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["region", "date", "scenarios", "budget_vnd", "deadline_weeks"],
    "properties": {
        "region": {"type": "string", "description": "a served region, e.g. hcmc_d5"},
        "date": {"type": "string", "format": "date", "description": "first plan day"},
        "scenarios": {
            "type": "object",
            "description": "the scenarios file of `oxyroute invest` (docs/investment.md): "
            "weighted scenarios, each a surge_factor or scenario changes",
            "required": ["scenarios"],
            "properties": {
                "horizon_days": {"type": "integer", "minimum": 1, "maximum": 60, "default": 7},
                "scenarios": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": _MAX_SCENARIOS,
                    "items": _SCENARIO,
                },
            },
            "additionalProperties": False,
        },
        "budget_vnd": {**_NUMBER, "minimum": 0, "description": "capex budget, đồng"},
        "deadline_weeks": {
            **_NUMBER,
            "minimum": 0,
            "description": "only candidates installed within this many weeks count",
        },
        "candidates": {
            "type": "array",
            "minItems": 1,
            "maxItems": _MAX_CANDIDATES,
            "description": "rows of the candidates CSV as objects; default: the region's "
            "bundled candidates, else the default types offered by their rules",
            "items": {
                "type": "object",
                "properties": {column: {} for column in CANDIDATE_COLUMNS},
                "additionalProperties": False,
            },
        },
        "time_limit_s": {
            **_NUMBER,
            "exclusiveMinimum": 0,
            "maximum": _MAX_TIME_LIMIT_S,
            "default": _MAX_TIME_LIMIT_S,
            "description": "per MILP solve",
        },
        "gap": {
            **_NUMBER,
            "minimum": 0,
            "exclusiveMaximum": 1,
            "default": 0,
            "description": "relative MIP gap (0: prove the optimum)",
        },
        "cost_curve_budgets_vnd": {
            "type": "array",
            "maxItems": _MAX_CURVE_BUDGETS,
            "items": {**_NUMBER, "minimum": 0},
            "description": "budgets (đồng) of the cost curve; none: no curve",
        },
    },
}


class InvestmentNotFoundError(RecordNotFoundError):
    """No stored investment has this id: answer 404 (use the id ``POST /investments`` gave)."""


@dataclass(frozen=True, slots=True)
class _InvestmentRequest:
    """A parsed, validated body (scenarios and candidates checked against the region later)."""

    region_id: str
    start_date: dt.date
    scenarios_document: dict[str, Any]
    budget_vnd: float
    deadline_weeks: float
    candidate_rows: list[Any] | None
    options: InvestmentOptions
    curve_budgets_vnd: tuple[float, ...]


def _service() -> PlanService:
    return current_app.extensions["oxyroute_plans"]  # type: ignore[no-any-return]


def _root() -> Path:
    return _service().plans_dir / "investments"


def _number(body: dict[str, Any], key: str, problems: list[str], *, default: float | None) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{key}: must be a finite number, got {value!r}")
        return 0.0
    return float(value)


def _curve_budgets(raw: Any, problems: list[str]) -> tuple[float, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > _MAX_CURVE_BUDGETS:
        problems.append(
            f"cost_curve_budgets_vnd: must be a list of at most {_MAX_CURVE_BUDGETS} budgets "
            f"in đồng, got {raw!r}"[:300]
        )
        return ()
    budgets = []
    for index, value in enumerate(raw):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value < math.inf
        ):
            problems.append(
                f"cost_curve_budgets_vnd[{index}]: must be a number of đồng >= 0, got {value!r}"
            )
        else:
            budgets.append(float(value))
    return tuple(budgets)


def _parse_scalars(body: dict[str, Any], regions: tuple[str, ...], problems: list[str]) -> Any:
    region = body.get("region")
    if not isinstance(region, str) or region not in regions:
        problems.append(f"region: {region!r} is not one of the served regions {list(regions)}")
    raw_date = body.get("date")
    start = None
    if isinstance(raw_date, str) and _ISO_DATE.fullmatch(raw_date):
        try:
            start = dt.date.fromisoformat(raw_date)
        except ValueError:
            start = None
    if start is None:
        problems.append(f"date: expected YYYY-MM-DD, got {raw_date!r}")
    for key in ("budget_vnd", "deadline_weeks"):
        if key not in body:
            problems.append(f"{key}: missing; give a number >= 0")
    budget = _number(body, "budget_vnd", problems, default=0.0)
    if budget < 0:
        problems.append(
            f"budget_vnd: must be a number of đồng >= 0, got {body['budget_vnd']!r}; give 0 to "
            "see the unmet demand without investment"
        )
    deadline = _number(body, "deadline_weeks", problems, default=0.0)
    if deadline < 0:
        problems.append(f"deadline_weeks: must be a number >= 0, got {body['deadline_weeks']!r}")
    return region, start, budget, deadline


def _parse_options(body: dict[str, Any], problems: list[str]) -> InvestmentOptions:
    time_limit = _number(body, "time_limit_s", problems, default=_MAX_TIME_LIMIT_S)
    gap = _number(body, "gap", problems, default=0.0)
    if not 0 < time_limit <= _MAX_TIME_LIMIT_S:
        problems.append(
            f"time_limit_s: must be a number of seconds > 0 and at most "
            f"{_MAX_TIME_LIMIT_S:g}, got {body.get('time_limit_s')!r}"
        )
    if not 0 <= gap < 1:
        problems.append(f"gap: must be from 0 to below 1 (0.01 = 1 %), got {body.get('gap')!r}")
    if problems:
        return InvestmentOptions()
    return InvestmentOptions(time_limit_s=time_limit, mip_rel_gap=gap)


def _parse_body(body: Any, regions: tuple[str, ...]) -> _InvestmentRequest:
    """Check every field of the body; raise once listing every problem (nothing is computed)."""
    if not isinstance(body, dict):
        raise InvalidInputError(
            "body: expected a JSON object with region, date, scenarios, budget_vnd and "
            "deadline_weeks"
        )
    problems = [
        f"{key}: unknown key (allowed: {', '.join(sorted(_BODY_KEYS))})"
        for key in sorted(set(body) - _BODY_KEYS)
    ]
    region, start, budget, deadline = _parse_scalars(body, regions, problems)
    scenarios = body.get("scenarios")
    if not isinstance(scenarios, dict):
        problems.append(
            'scenarios: missing or not an object; give {"scenarios": [{"name", "weight", '
            '"surge_factor"}, ...]} as in the scenarios file of oxyroute invest'
        )
    elif isinstance(scenarios.get("scenarios"), list) and (
        len(scenarios["scenarios"]) > _MAX_SCENARIOS
    ):
        problems.append(
            f"scenarios.scenarios: at most {_MAX_SCENARIOS} scenarios over HTTP, "
            f"got {len(scenarios['scenarios'])}"
        )
    rows = body.get("candidates")
    if rows is not None and (not isinstance(rows, list) or not 1 <= len(rows) <= _MAX_CANDIDATES):
        problems.append(
            f"candidates: must be a list of 1 to {_MAX_CANDIDATES} rows (objects with the "
            "columns of the candidates CSV), or left out for the region's default candidates"
        )
    curve = _curve_budgets(body.get("cost_curve_budgets_vnd"), problems)
    options = _parse_options(body, problems)
    if problems:
        raise InvalidInputError.from_problems("investment request", problems)
    assert isinstance(region, str)
    assert start is not None
    assert isinstance(scenarios, dict)
    return _InvestmentRequest(region, start, scenarios, budget, deadline, rows, options, curve)


def _region(region_id: str) -> tuple[Region, RoadNetwork]:
    try:
        return _service().region_network(region_id)
    except MissingDataFileError as exc:
        raise InvalidInputError(f"region: {exc}") from None


def _scenarios(parsed: _InvestmentRequest) -> tuple[WeightedScenario, ...]:
    """Validate the scenarios document; its problems are named under ``scenarios.``."""
    from coordination.investment import investment_scenarios_from_mapping

    try:
        return investment_scenarios_from_mapping(
            parsed.scenarios_document, region=parsed.region_id, start_date=parsed.start_date
        )
    except InvalidInputError as error:
        raise InvalidInputError.from_problems(
            "investment scenarios", [f"scenarios.{problem}" for problem in error.problems]
        ) from None


def _candidates(
    parsed: _InvestmentRequest, base: Any
) -> tuple[tuple[InvestmentCandidate, ...], str]:
    from coordination.investment_requests import candidates_from_rows, default_candidates

    if parsed.candidate_rows is None:
        return default_candidates(parsed.region_id, base)
    candidates = candidates_from_rows(parsed.candidate_rows)
    return candidates, f"given in the request ({len(candidates)} candidates)"


def _save(investment_id: str, files: dict[str, str]) -> None:
    """Write an investment's files atomically: a temporary folder renamed into place."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
    for name, text in files.items():
        (staging / name).write_text(text, encoding="utf-8")
    os.replace(staging, root / investment_id)


def _load(investment_id: str, name: str) -> str:
    path = _root() / investment_id / name
    if not _ID.match(investment_id) or not path.is_file():
        raise InvestmentNotFoundError(f"investment_id: no investment {investment_id!r}")
    return path.read_text(encoding="utf-8")


@operation(
    bp,
    "POST",
    "/investments",
    summary="Choose the investments that leave the least unmet oxygen under case scenarios",
    request_body=json_request(_REQUEST),
    responses={
        "201": {"description": "portfolio computed and stored", "content": _OBJECT},
        **_ERRORS,
    },
)
def create_investment() -> Response:
    """Compute the optimal portfolio, the greedy baseline (and a cost curve); store; 201."""
    from coordination.investment import (
        answer_investment,
        build_investment_case,
        investment_report,
        investment_to_geojson,
        portfolio_to_csv,
    )
    from coordination.investment_requests import check_scenarios_apply, investment_to_dict
    from coordination.planning import plan_request_from_store

    require("scenarios:write")
    parsed = _parse_body(json_body(), _service().accepted_regions())
    scenarios = _scenarios(parsed)
    region, network = _region(parsed.region_id)
    authorize(g.principal, "scenarios:write", province_code=region.province_code)
    with costly_operation("investment"):
        base = plan_request_from_store(
            current_store(),
            region,
            network,
            start_date=parsed.start_date,
            horizon_days=scenarios[0].scenario.horizon_days,
        )
        try:
            check_scenarios_apply(base, network, scenarios)
        except InvalidInputError as error:
            raise InvalidInputError.from_problems(
                "investment scenarios", [f"scenarios.{problem}" for problem in error.problems]
            ) from None
        candidates, candidates_source = _candidates(parsed, base)
        case = build_investment_case(
            base,
            network,
            region,
            scenarios,
            candidates,
            budget_vnd=parsed.budget_vnd,
            deadline_weeks=parsed.deadline_weeks,
        )
        answer = answer_investment(
            case, options=parsed.options, curve_budgets_vnd=parsed.curve_budgets_vnd
        )
    investment_id = uuid.uuid4().hex
    link = f"{request.script_root}{API_PREFIX}/investments/{investment_id}"
    document = {
        "investment_id": investment_id,
        "region": parsed.region_id,
        "province_code": region.province_code,
        "start_date": parsed.start_date.isoformat(),
        "created_by": g.principal.username,
        "created_at": app_state().config.clock().astimezone(dt.UTC).isoformat(timespec="seconds"),
        "candidates_source": candidates_source,
        **investment_to_dict(case, answer),
        "links": {
            "self": link,
            **{fmt: f"{link}?format={fmt}" for fmt in ("csv", "geojson", "txt")},
        },
    }
    text = json.dumps(document, ensure_ascii=False)
    _save(
        investment_id,
        {
            "result.json": text,
            "portfolio.csv": portfolio_to_csv(case, answer),
            "report.txt": investment_report(case, answer),
            "portfolio.geojson": json.dumps(
                investment_to_geojson(case, answer), ensure_ascii=False
            ),
        },
    )
    response = current_app.response_class(text, status=201, mimetype="application/json")
    response.headers["Location"] = link
    return response


@operation(
    bp,
    "GET",
    "/investments/<investment_id>",
    summary="A stored investment portfolio as JSON, CSV, GeoJSON (what goes where) or its report",
    parameters=[
        path_parameter("investment_id", HEX_ID_SCHEMA),
        query_parameter("format", {"type": "string", "enum": list(_FILES)}),
    ],
    responses={
        "200": {
            "description": "the investment",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/geo+json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **_ERRORS,
    },
)
def get_investment(investment_id: str) -> Response:
    """Return a stored investment (``format``: json, csv, geojson or txt)."""
    require("scenarios:read")
    document = json.loads(_load(investment_id, "result.json"))
    authorize(g.principal, "scenarios:read", province_code=document.get("province_code"))
    fmt = request.args.get("format", "json")
    if fmt not in _FILES:
        raise InvalidInputError(f"format: must be json, csv, geojson or txt, got {fmt!r}")
    name, mimetype = _FILES[fmt]
    text = _load(investment_id, name)
    if fmt == "csv":
        response = current_app.response_class("\ufeff" + text, mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="portfolio-{investment_id}.csv"'
        )
        return response
    return current_app.response_class(text, content_type=mimetype)
