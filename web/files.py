"""CSV and XLSX files over HTTP: import registry records or reports, export them.

An import takes all rows or none (every problem listed with its row and column); a dry run checks
without writing. Exports are CSV (UTF-8 with a byte-order mark, for Excel) or XLSX templates in
the layout imports read. Formats are in :mod:`data.exchange`. A facility reporter exports and
imports its own facility's reports only (issue 13): its XLSX is its facility's template.
"""

from __future__ import annotations

import re

from flask import Response, jsonify, request

from data.access import authorize
from data.errors import MalformedInputError, PermissionDeniedError
from data.schema.registry import Role
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    current_store,
    principal,
    query_bool,
    query_period,
    query_province,
    scoped_province,
)
from web.openapi import (
    ERROR_RESPONSE,
    OK_RESPONSE,
    ApiBlueprint,
    error_responses,
    operation,
    query_parameter,
)
from web.registry import PERIOD_QUERY, PROVINCE_QUERY
from web.shapes import district_shapes, province_shapes

bp = ApiBlueprint("files", __name__, url_prefix=API_PREFIX)

_FILE_KINDS = "<any(facilities, suppliers, vehicles, reports):kind>"
_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")


@operation(
    bp,
    "POST",
    f"/imports/{_FILE_KINDS}",
    summary="Import a CSV or XLSX file (all rows or none)",
    parameters=[
        query_parameter("format", {"type": "string", "enum": ["csv", "xlsx"]}),
        query_parameter("dry_run", {"type": "boolean"}),
        query_parameter(
            "crs",
            {"type": "string"},
            "facilities, suppliers: CRS of the coordinates (x/y or lon/lat), "
            "e.g. VN-2000 EPSG:4756 or EPSG:3405; stored as WGS84",
        ),
        query_parameter(
            "locale",
            {"type": "string", "enum": ["vi", "en"]},
            "how text numbers are written: vi 5.200,5 or en 5,200.5; default: the file's own "
            "declaration, else only unambiguous text (5.200 is refused)",
        ),
    ],
    request_body={
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    },
    responses={"200": OK_RESPONSE, "413": ERROR_RESPONSE, **_ERRORS},
)
def import_rows(kind: str) -> Response:
    """Import a CSV or XLSX file of records or reports; every problem listed, nothing half-done.

    A facility reporter imports reports of its own facility only (a row of another: 403, nothing
    stored). The summary of a reports import lists the plausibility ``warnings`` of the stored
    reports by row, as the JSON submission does, and the ``skipped_rows`` left blank.
    """
    from data.exchange.importers import import_file

    user = principal()
    authorize(
        user,
        "imports:write",
        province_code=user.province_code,
        facility_id=user.facility_id,
    )
    file_format = _file_format(request.args.get("format") or request.mimetype)
    dry_run = query_bool("dry_run")
    config = app_state().config
    summary = import_file(
        current_store(),
        kind,
        request.get_data(cache=False),
        file_format=file_format,
        principal=user,
        dry_run=dry_run,
        max_xlsx_uncompressed_bytes=config.max_xlsx_uncompressed_bytes,
        max_xlsx_entries=config.max_xlsx_entries,
        crs=request.args.get("crs"),
        province_shapes=province_shapes() if kind == "facilities" else None,
        district_shapes=district_shapes() if kind == "facilities" else None,
        locale=request.args.get("locale"),
    )
    return jsonify(summary)


@operation(
    bp,
    "GET",
    f"/exports/{_FILE_KINDS}.<any(csv, xlsx):ext>",
    summary="Export as CSV (UTF-8 with BOM) or XLSX (a facility reporter: its reports template)",
    parameters=[PROVINCE_QUERY, *PERIOD_QUERY],
    responses={"200": {"description": "file"}, **_ERRORS},
)
def export_rows(kind: str, ext: str) -> Response:
    """Return records or a period's reports as a CSV or XLSX attachment.

    A facility reporter exports only its own facility's reports; its XLSX is the one-facility
    template (bilingual headers, the facility's name, a blank row per unreported day, pick lists
    and data validation) that imports back within its scope.
    """
    from data.exchange.exporters import export_file

    if principal().role == Role.FACILITY_REPORTER and kind == "reports":
        return _facility_reports_export(ext)
    province_code = (
        scoped_province(f"{kind}:read")
        if kind in ("facilities", "reports")
        else _authorized_unscoped(f"{kind}:read")
    )
    date_from, date_to = query_period()
    content, mimetype = export_file(
        current_store(),
        kind,
        ext,
        province_code=province_code,
        date_from=date_from,
        date_to=date_to,
    )
    response = Response(content, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}.{ext}"'
    return response


def _facility_reports_export(ext: str) -> Response:
    """Return a facility reporter's own reports (XLSX: its template) as an attachment.

    A ``province_code`` in the query is refused (403): a reporter's scope is its facility.
    """
    from data.exchange.exporters import export_file

    user = principal()
    if query_province() is not None:
        raise PermissionDeniedError(
            f"a facility reporter exports its own facility {user.facility_id!r} only; "
            "leave province_code out"
        )
    facility = authorize_facility(str(user.facility_id), "reports:read")
    date_from, date_to = query_period()
    content, mimetype = export_file(
        current_store(),
        "reports",
        ext,
        province_code=None,
        facility=facility,
        date_from=date_from,
        date_to=date_to,
    )
    response = Response(content, content_type=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="reports-{_safe_name(facility.facility_id)}.{ext}"'
    )
    return response


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _authorized_unscoped(permission: str) -> str | None:
    """Check a permission that has no province scope; return ``None`` (no province filter).

    A ``province_code`` in the query (the operation documents it for the kinds that have a
    province) is still checked, so that a malformed one is a 400, not silently accepted.
    """
    query_province()
    authorize(principal(), permission)
    return None


def _file_format(raw: str) -> str:
    value = raw.lower()
    if value in ("csv", "text/csv"):
        return "csv"
    if value in ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
        return "xlsx"
    raise MalformedInputError("format: unknown", [f"format: must be csv or xlsx, got {raw!r}"])
