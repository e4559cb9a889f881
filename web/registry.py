"""Registry records over HTTP: list, create, read, replace and delete; CSV and XLSX files.

One route per verb serves every collection of :data:`data.schema.registry.REGISTRY_RECORD_TYPES`
(``/facilities``, ``/suppliers``...); the OpenAPI document spells each collection out with the
schema derived from its dataclass. Facilities are scoped (a reporter sees its own, a coordinator
its province); the other collections are shared regional registries. Imports take all rows or
none. ``POST /facilities/{facility_id}/merge`` merges a duplicate facility into the one kept
(``Store.merge_facilities``, docs/registry.md "Duplicates").
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

from flask import Response, jsonify

from data.access import authorize
from data.errors import InvalidInputError, MalformedInputError, RecordNotFoundError
from data.schema.registry import REGISTRY_RECORD_TYPES, Facility, RegistryRecord, Role, id_field
from data.store.registry import FacilityMerge
from web.common import (
    API_PREFIX,
    authorize_facility,
    created,
    current_store,
    json_body,
    principal,
    query_int,
    query_province,
    scoped_province,
)
from web.openapi import (
    ID_SCHEMA,
    OK_RESPONSE,
    PROVINCE_CODE_SCHEMA,
    ApiBlueprint,
    OperationDoc,
    error_responses,
    json_request,
    operation,
    path_parameter,
    query_parameter,
    record_schema,
    schema_ref,
    spelled_out_operation,
)
from web.shapes import district_shapes, province_shapes

bp = ApiBlueprint("registry", __name__, url_prefix=API_PREFIX)
for _record_type in REGISTRY_RECORD_TYPES.values():
    bp.component_schemas[_record_type.__name__] = partial(record_schema, _record_type)

_COLLECTION = "<any(" + ", ".join(f"'{c}'" for c in REGISTRY_RECORD_TYPES) + "):collection>"
_FILE_KINDS = "<any(facilities, suppliers, vehicles, reports):kind>"
_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
PROVINCE_QUERY = query_parameter(
    "province_code", PROVINCE_CODE_SCHEMA, "2021 province code (coordinators: their own)"
)
"""The ``province_code`` filter of scoped reads (a coordinator's own province by default)."""
PERIOD_QUERY = [
    query_parameter("date_from", {"type": "string", "format": "date"}),
    query_parameter("date_to", {"type": "string", "format": "date"}),
]
"""The ``date_from``/``date_to`` period of reads over days."""
_RECORD_ID = path_parameter("record_id", ID_SCHEMA)


def _list_doc(collection: str) -> OperationDoc:
    return OperationDoc(
        f"List {collection}",
        {"200": OK_RESPONSE, **_ERRORS},
        [
            PROVINCE_QUERY,
            query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
            query_parameter("offset", {"type": "integer", "minimum": 0, "maximum": 999_999_999}),
        ],
    )


def _create_doc(collection: str) -> OperationDoc:
    body = json_request(schema_ref(REGISTRY_RECORD_TYPES[collection].__name__))
    return OperationDoc(
        f"Create one of {collection}", {"201": OK_RESPONSE, **_ERRORS}, request_body=body
    )


def _replace_doc(collection: str) -> OperationDoc:
    record_type = REGISTRY_RECORD_TYPES[collection]
    # The id comes from the path: the body may leave it out (or repeat it).
    body = json_request(record_schema(record_type, fixed=[id_field(record_type)]))
    return OperationDoc(
        "Replace one (the id comes from the path)",
        {"200": OK_RESPONSE, **_ERRORS},
        [_RECORD_ID],
        body,
    )


@spelled_out_operation(bp, "GET", f"/{_COLLECTION}", "collection", _list_doc)
def list_records(collection: str) -> Response:
    """List a collection's records (facilities: those of the caller's scope)."""
    user = principal()
    limit = query_int("limit", 100, 1, 1000)
    offset = query_int("offset", 0, 0, 10**9)
    store = current_store()
    records: list[RegistryRecord]
    if collection == "facilities" and user.role == Role.FACILITY_REPORTER:
        authorize(user, "facilities:read", facility_id=user.facility_id)
        records = [store.get_record("facilities", user.facility_id or "")]
    elif collection == "facilities":
        records = store.list_records(
            collection,
            province_code=scoped_province("facilities:read"),
            limit=limit,
            offset=offset,
        )
    else:
        authorize(user, f"{collection}:read")
        records = store.list_records(
            collection, province_code=query_province(), limit=limit, offset=offset
        )
    return jsonify(
        {
            collection.replace("-", "_"): [r.to_dict() for r in records],
            "limit": limit,
            "offset": offset,
        }
    )


@spelled_out_operation(bp, "POST", f"/{_COLLECTION}", "collection", _create_doc)
def create_record(collection: str) -> Response:
    """Create a record from the JSON body; 201 with its ``Location``."""
    record = REGISTRY_RECORD_TYPES[collection].from_mapping(json_body())
    _authorize_record(collection, "write", record)
    record, warnings = _checked_facility(record)
    current_store().create_record(record, actor=principal().username)
    body = record.to_dict() | ({"warnings": warnings} if warnings else {})
    return created(body, f"{API_PREFIX}/{collection}/{_record_id(record)}")


def _checked_facility(record: RegistryRecord) -> tuple[RegistryRecord, list[dict[str, Any]]]:
    """Run an import's facility checks on one record sent as JSON (issue 13).

    Province from the point (refused beyond the border tolerance of the declared one), district
    from the point when none is declared, duplicates of stored facilities refused (a record's
    own id is an update, not a duplicate). Returns the record (with its district) and warnings.
    """
    if not isinstance(record, Facility):
        return record, []
    from data.exchange.facility_checks import check_facility_rows

    checks = check_facility_rows(
        [(1, record)],
        current_store().list_facilities(),
        province_shapes=province_shapes(),
        district_shapes=district_shapes(),
    )
    if checks.problems:
        raise InvalidInputError.from_problems(
            "facility", [f"{p.column}: {p.reason}" for p in checks.problems]
        )
    if 1 in checks.districts:
        record = dataclasses.replace(record, district=checks.districts[1])
    return record, checks.warnings


@spelled_out_operation(
    bp,
    "GET",
    f"/{_COLLECTION}/<record_id>",
    "collection",
    lambda _: OperationDoc("Read one", {"200": OK_RESPONSE, **_ERRORS}, [_RECORD_ID]),
)
def get_record(collection: str, record_id: str) -> Response:
    """Return one record."""
    _preauthorize_facility(collection, record_id)
    record = current_store().get_record(collection, record_id)
    _authorize_record(collection, "read", record)
    return jsonify(record.to_dict())


@spelled_out_operation(bp, "PUT", f"/{_COLLECTION}/<record_id>", "collection", _replace_doc)
def replace_record(collection: str, record_id: str) -> Response:
    """Replace one record by the JSON body (the id comes from the path)."""
    _preauthorize_facility(collection, record_id, "write")
    record_type = REGISTRY_RECORD_TYPES[collection]
    fixed: dict[str, Any] = {id_field(record_type): record_id}
    record = record_type.from_mapping(json_body(), **fixed)
    store = current_store()
    _authorize_record(collection, "write", store.get_record(collection, record_id))
    _authorize_record(collection, "write", record)
    record, warnings = _checked_facility(record)
    store.replace_record(record, actor=principal().username)
    return jsonify(record.to_dict() | ({"warnings": warnings} if warnings else {}))


@spelled_out_operation(
    bp,
    "DELETE",
    f"/{_COLLECTION}/<record_id>",
    "collection",
    lambda _: OperationDoc(
        "Delete one (409 while referenced)",
        {"204": {"description": "deleted"}, **_ERRORS},
        [_RECORD_ID],
    ),
)
def delete_record(collection: str, record_id: str) -> Response:
    """Delete one record (409 while other records refer to it)."""
    _preauthorize_facility(collection, record_id, "write")
    store = current_store()
    _authorize_record(collection, "write", store.get_record(collection, record_id))
    store.delete_record(collection, record_id, actor=principal().username)
    return Response(status=204)


def _record_id(record: RegistryRecord) -> str:
    return str(getattr(record, id_field(type(record))))


def _preauthorize_facility(collection: str, record_id: str, verb: str = "read") -> None:
    # Refuse a scoped user before the record is read, alike for a missing facility and one out
    # of its scope, so that ids outside its scope cannot be probed (authorize_facility).
    user = principal()
    if collection == "facilities" and user.role in (
        Role.FACILITY_REPORTER,
        Role.PROVINCE_COORDINATOR,
    ):
        authorize_facility(record_id, f"facilities:{verb}")


def _authorize_record(collection: str, verb: str, record: RegistryRecord) -> None:
    user = principal()
    if isinstance(record, Facility):
        authorize(
            user,
            f"facilities:{verb}",
            facility_id=record.facility_id,
            province_code=record.province_code,
        )
    else:
        authorize(user, f"{collection}:{verb}")


# ---------------------------------------------------------------------------- merging duplicates

MERGE_REASON_MAX = 2000
"""Characters of a merge's reason (kept in its audit row)."""
_MERGE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["duplicate_id", "reason"],
    "properties": {
        "duplicate_id": ID_SCHEMA,
        "reason": {"type": "string", "minLength": 1, "maxLength": MERGE_REASON_MAX},
    },
}


@operation(
    bp,
    "POST",
    "/facilities/<facility_id>/merge",
    summary="Merge a duplicate facility into this one; both histories stay (audited)",
    parameters=[path_parameter("facility_id", ID_SCHEMA)],
    request_body=json_request(_MERGE_BODY),
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def merge_facility(facility_id: str) -> Response:
    """Merge ``duplicate_id`` into the facility of the path (docs/registry.md "Duplicates").

    Both facilities must be in the caller's scope (``facilities:write``: a coordinator's own
    province, admins everywhere). 404 for an unknown id (a coordinator: 403, as for another
    province's facility), 409 with the days both reported, 422 for
    the same id twice or two provinces; nothing is changed on refusal.
    """
    keep = authorize_facility(facility_id, "facilities:write")
    duplicate_id, reason = _merge_body(json_body())
    try:
        duplicate = authorize_facility(duplicate_id, "facilities:write")
    except RecordNotFoundError:
        # Name the body's field, not the path's.
        raise RecordNotFoundError(f"duplicate_id: no facility {duplicate_id!r}") from None
    merge = current_store().merge_facilities(
        facility_id, duplicate_id, actor=principal().username, reason=reason
    )
    return jsonify(_merge_json(merge, keep, duplicate))


def _merge_body(body: Any) -> tuple[str, str]:
    """Return the duplicate's id and the reason; 400 for another shape, 422 for bad values."""
    if not isinstance(body, dict) or set(body) - {"duplicate_id", "reason"}:
        raise MalformedInputError(
            "body: bad merge request",
            ['body: send {"duplicate_id": "<facility id>", "reason": "why"} and nothing else'],
        )
    duplicate_id, reason = body.get("duplicate_id"), body.get("reason")
    problems = []
    if not isinstance(duplicate_id, str) or not duplicate_id.strip():
        problems.append(
            f"duplicate_id: the id of the facility to merge into this one is required, got "
            f"{duplicate_id!r:.80} / cần mã cơ sở trùng"
        )
    if not isinstance(reason, str) or not reason.strip():
        problems.append(
            f"reason: say why the two are one facility, got {reason!r:.80} / cần ghi lý do gộp"
        )
    elif len(reason) > MERGE_REASON_MAX:
        problems.append(
            f"reason: at most {MERGE_REASON_MAX} characters, got {len(reason)} / lý do quá dài"
        )
    if problems:
        raise InvalidInputError.from_problems("merge request", problems)
    assert isinstance(duplicate_id, str)
    assert isinstance(reason, str)
    return duplicate_id, reason.strip()


def _merge_json(merge: FacilityMerge, keep: Facility, duplicate: Facility) -> dict[str, Any]:
    return {
        "keep_id": merge.keep_id,
        "keep_name": keep.name,
        "duplicate_id": merge.duplicate_id,
        "duplicate_name": duplicate.name,
        "reason": merge.reason,
        "days": [day.isoformat() for day in merge.days],
        "revisions": [
            {"duplicate_revision_id": old, "revision_id": new} for old, new in merge.revisions
        ],
        "reviews": merge.reviews,
        "reporting_until": merge.reporting_until.isoformat(),
    }
