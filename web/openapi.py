"""OpenAPI 3.1 documents generated from one declaration per operation, next to its view.

A view is routed with :func:`operation` instead of ``@bp.get``: the decorator adds the Flask rule
to its :class:`ApiBlueprint` and records the operation (summary, parameters, body, responses,
whether it is public). :func:`openapi_document` assembles ``paths`` from the operations of a set of
blueprints and ``components`` from the schemas they declare, so adding an endpoint touches its
view and its test only. The same records tell the app which endpoints are public and which query
parameters each operation takes (:func:`public_endpoints`, :func:`query_names`).

Path parameters come from the Flask rule: ``<name>`` is a string unless the operation declares it
(with a pattern, say), ``<any(a, b):name>`` an enum of its values. They are listed on the path
item, once for all its methods. A rule whose ``any`` converter is ``spelled_out`` (the registry
collections) is documented as one path per value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from flask import Blueprint

View = TypeVar("View", bound=Callable[..., Any])

ERROR_RESPONSE: dict[str, Any] = {
    "description": "error envelope",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
"""The OpenAPI response of every error: the JSON error envelope (``components.schemas.Error``)."""

OK_RESPONSE: dict[str, Any] = {
    "description": "OK",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
"""A JSON object answer."""

ID_SCHEMA = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"}
"""Registry record ids (facility, supplier, vehicle...)."""
HEX_ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
"""Server-made ids: plans, routes, scenarios, runs."""
DATE_SCHEMA = {"type": "string", "format": "date"}
PROVINCE_CODE_SCHEMA = {"type": "string", "pattern": "^[0-9]{2}$"}

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "category", "message", "details"],
            "properties": {
                "status": {"type": "integer"},
                "category": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


def error_responses(*codes: str) -> dict[str, Any]:
    """Return OpenAPI ``responses`` entries mapping each status code to :data:`ERROR_RESPONSE`."""
    return {code: ERROR_RESPONSE for code in codes}


def query_parameter(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """Return the OpenAPI description of an optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_parameter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Return the OpenAPI description of a path parameter (``<name>`` in the rule)."""
    return {"name": name, "in": "path", "required": True, "schema": schema}


def json_request(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """Return a ``requestBody`` of one JSON schema."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def schema_ref(name: str) -> dict[str, str]:
    """Return a reference to ``components.schemas.<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True, slots=True)
class OperationDoc:
    """What the OpenAPI document says of one operation (besides its path parameters)."""

    summary: str
    responses: Mapping[str, Any]
    parameters: Sequence[Mapping[str, Any]] = ()
    request_body: Mapping[str, Any] | None = None
    public: bool = False

    def to_openapi(self, query_and_header: list[Mapping[str, Any]]) -> dict[str, Any]:
        """Return the operation object."""
        out: dict[str, Any] = {"summary": self.summary}
        if self.public:
            out["security"] = []
        if query_and_header:
            out["parameters"] = query_and_header
        if self.request_body is not None:
            out["requestBody"] = self.request_body
        out["responses"] = dict(self.responses)
        return out


@dataclass(frozen=True, slots=True)
class Operation:
    """One routed, documented operation: its endpoint and its document per path.

    ``docs`` has one entry per documented path: one, or one per value of a spelled-out ``any``
    converter.
    """

    endpoint: str
    method: str
    rule: str
    docs: tuple[tuple[str, OperationDoc], ...]


class ApiBlueprint(Blueprint):
    """A blueprint whose documented routes carry their OpenAPI operation.

    Parameters
    ----------
    rule_prefix
        Prepended to every rule of :func:`operation` (the blueprint has no ``url_prefix`` when it
        also serves undocumented routes outside the documented prefix, as the web map does).
    """

    def __init__(self, name: str, import_name: str, *, rule_prefix: str = "", **kwargs: Any):
        super().__init__(name, import_name, **kwargs)
        self.rule_prefix = rule_prefix
        self.operations: list[Operation] = []
        self.component_schemas: dict[str, Callable[[], dict[str, Any]]] = {}


_CONVERTER = re.compile(r"<(?:([a-z_]+)(?:\(([^)]*)\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")


def _any_values(arguments: str) -> list[str]:
    return [a.strip().strip("'\"") for a in arguments.split(",") if a.strip()]


def _documented_paths(
    rule: str,
    doc: OperationDoc | Callable[[str], OperationDoc],
    spelled_out: str | None,
) -> list[tuple[str, OperationDoc]]:
    """Return (OpenAPI path, document) of a rule, one per value of a spelled-out converter."""
    values = [""]
    if spelled_out is not None:
        match = next(m for m in _CONVERTER.finditer(rule) if m.group(3) == spelled_out)
        values = _any_values(match.group(2))
    out = []
    for value in values:

        def template(match: re.Match[str], value: str = value) -> str:
            return value if match.group(3) == spelled_out else "{" + match.group(3) + "}"

        path = _CONVERTER.sub(template, rule)
        out.append((path, doc(value) if callable(doc) else doc))
    return out


def operation(
    bp: ApiBlueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    responses: Mapping[str, Any],
    parameters: Sequence[Mapping[str, Any]] = (),
    request_body: Mapping[str, Any] | None = None,
    public: bool = False,
) -> Callable[[View], View]:
    """Route a view on ``bp`` for ``method`` and ``rule`` and record its OpenAPI operation.

    ``parameters`` lists query and header parameters, and path parameters whose schema is more
    than a string (the others are derived from the rule). ``public`` operations need no token.
    """
    doc = OperationDoc(summary, responses, parameters, request_body, public)
    return _route(bp, method, rule, doc, None)


def spelled_out_operation(
    bp: ApiBlueprint, method: str, rule: str, name: str, doc: Callable[[str], OperationDoc]
) -> Callable[[View], View]:
    """Route a view like :func:`operation`, documented once per value of ``<any(...):name>``."""
    return _route(bp, method, rule, doc, name)


def _route(
    bp: ApiBlueprint,
    method: str,
    rule: str,
    doc: OperationDoc | Callable[[str], OperationDoc],
    spelled_out: str | None,
) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        bp.add_url_rule(bp.rule_prefix + rule, view_func=view, methods=[method])
        bp.operations.append(
            Operation(
                endpoint=f"{bp.name}.{view.__name__}",
                method=method,
                rule=rule,
                docs=tuple(_documented_paths(rule, doc, spelled_out)),
            )
        )
        return view

    return decorator


def _path_parameters(rule: str, declared: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the path parameters of a rule in order: declared, else derived from the rule."""
    by_name = {p["name"]: p for p in declared if p["in"] == "path"}
    out = []
    for match in _CONVERTER.finditer(rule):
        converter, arguments, name = match.groups()
        if name in by_name:
            out.append(dict(by_name[name]))
        elif converter == "any":
            out.append(path_parameter(name, {"type": "string", "enum": _any_values(arguments)}))
        else:
            out.append(path_parameter(name, {"type": "string"}))
    return out


def _openapi_paths(blueprints: Iterable[ApiBlueprint]) -> dict[str, Any]:
    """Return the ``paths`` object of the operations of ``blueprints``.

    Raises
    ------
    ValueError
        If two operations of one path document its path parameters differently.
    """
    paths: dict[str, Any] = {}
    for bp in blueprints:
        for op in bp.operations:
            for path, doc in op.docs:
                templated = {"{" + n + "}" for n in re.findall(r"\{(\w+)\}", path)}
                in_path = [
                    p
                    for p in _path_parameters(op.rule, doc.parameters)
                    if "{" + p["name"] + "}" in templated
                ]
                item = paths.setdefault(path, {})
                if in_path and item.setdefault("parameters", in_path) != in_path:
                    raise ValueError(f"{path}: operations disagree on its path parameters")
                others = [p for p in doc.parameters if p["in"] != "path"]
                item[op.method.lower()] = doc.to_openapi(others)
    return paths


def openapi_document(
    blueprints: Sequence[ApiBlueprint], *, title: str, description: str, server_url: str
) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the operations and schemas of ``blueprints``."""
    schemas: dict[str, Any] = {}
    for bp in blueprints:
        schemas.update({name: make() for name, make in bp.component_schemas.items()})
    schemas["Error"] = _ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": _openapi_paths(blueprints),
    }


def public_endpoints(blueprints: Iterable[ApiBlueprint]) -> frozenset[str]:
    """Return the endpoints of the operations documented as public (no token)."""
    return frozenset(
        op.endpoint for bp in blueprints for op in bp.operations if op.docs[0][1].public
    )


def query_names(blueprints: Iterable[ApiBlueprint]) -> dict[tuple[str, str], frozenset[str]]:
    """Return, per ``(endpoint, method)``, the query parameters its operation declares."""
    return {
        (op.endpoint, op.method): frozenset(
            p["name"] for _, doc in op.docs for p in doc.parameters if p["in"] == "query"
        )
        for bp in blueprints
        for op in bp.operations
    }


# ---------------------------------------------------------------------------- record schemas


def _scalar_schema(name: str, base: Any) -> dict[str, Any]:
    """Return the JSON schema of one record field's (non-optional) type."""
    from collections.abc import Mapping as MappingType

    from data.schema.registry import CYLINDER_SIZES

    overrides: dict[str, dict[str, Any]] = {
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "tier": {"type": "integer", "enum": [1, 2, 3]},
    }
    if name in overrides:
        return overrides[name]
    if isinstance(base, type) and issubclass(base, StrEnum):
        return {"type": "string", "enum": [m.value for m in base]}
    if base is str and name == "province_code":
        return {"type": "string", "enum": _province_codes()}
    if base is str:
        return {"type": "string", "minLength": 1} | (
            {"pattern": ID_SCHEMA["pattern"]} if name.endswith("_id") else {}
        )
    simple: dict[Any, dict[str, Any]] = {
        int: {"type": "integer", "minimum": 0},
        float: {"type": "number", "minimum": 0},
        bool: {"type": "boolean"},
        dt.date: DATE_SCHEMA,
    }
    if base in simple:
        return dict(simple[base])
    if typing.get_origin(base) in (MappingType, dict):
        return {
            "type": "object",
            "propertyNames": {"enum": sorted(CYLINDER_SIZES)},
            "additionalProperties": {"type": "integer", "minimum": 0},
        }
    return {"type": "array", "items": {"type": "string"}}


def record_schema(record_type: Any, *, fixed: Iterable[str] = ()) -> dict[str, Any]:
    """Return the JSON schema of a registry record body, as ``from_mapping`` reads it.

    A field is required when it has no default; ``null`` is accepted where ``from_mapping``
    accepts it: for ``X | None`` fields, fields with a default (null means the default) and
    ``fixed`` fields (set from the path; the body may leave them out or repeat them).
    """
    from data.schema.registry import is_required_field, optional_hint

    from_path = set(fixed)
    properties: dict[str, Any] = {}
    required = []
    fields = {f.name: f for f in dataclasses.fields(record_type)}
    for name, hint in record_type.field_hints().items():
        optional, base = optional_hint(hint)
        schema = _scalar_schema(name, base)
        needed = is_required_field(fields[name]) and name not in from_path
        if optional or not needed:
            schema = {"anyOf": [schema, {"type": "null"}]}
        properties[name] = schema
        if needed:
            required.append(name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "description": (record_type.__doc__ or "").split("\n")[0],
    }


def _province_codes() -> list[str]:
    from data.provinces import PROVINCES_2021

    return [code for code, _, _ in PROVINCES_2021]
