"""DHIS2 ``dataValueSets`` over HTTP: daily reports out as JSON, CSV or ADX, and data values in.

Conventions of DHIS2 (INTEROP.md): codes as ids (``idScheme=code``), ``yyyyMMdd`` periods, an
``orgUnit`` that is a facility or a province with its children, ``lastUpdated``, ``dryRun`` and
an import summary listing conflicts. Formats are in :mod:`data.exchange.dhis2`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Response, jsonify, request

from data.access import authorize
from data.errors import InvalidInputError, MalformedInputError
from data.schema.registry import Role
from web.common import (
    API_PREFIX,
    app_state,
    authorize_facility,
    check_period,
    current_store,
    json_body,
    principal,
    query_bool,
    query_date,
    today,
)
from web.openapi import (
    DATE_SCHEMA,
    ERROR_RESPONSE,
    OK_RESPONSE,
    ApiBlueprint,
    error_responses,
    operation,
    query_parameter,
    schema_ref,
)

bp = ApiBlueprint("dhis2", __name__, url_prefix=API_PREFIX)

_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")
# Any spelling of "code" (the server compares in lower case).
_ID_SCHEME = query_parameter("idScheme", {"type": "string", "pattern": "^[Cc][Oo][Dd][Ee]$"})
_DATA_VALUE_SET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["dataValues"],
    "properties": {
        "dataSet": {"type": "string", "enum": ["OXY_DAILY"]},
        "period": {"type": "string"},
        "orgUnit": {"type": "string"},
        "completeDate": {"type": "string"},
        "attributeOptionCombo": {"type": "string"},
        "dataValues": {
            "type": "array",
            "maxItems": 200000,
            "items": {
                "type": "object",
                "required": ["dataElement", "value"],
                "properties": {
                    "dataElement": {"type": "string"},
                    "period": {"type": "string"},
                    "orgUnit": {"type": "string"},
                    "categoryOptionCombo": {"type": "string"},
                    "attributeOptionCombo": {"type": "string"},
                    "value": {"type": ["string", "number"]},
                    "storedBy": {"type": "string"},
                    "created": {"type": "string"},
                    "lastUpdated": {"type": "string"},
                    "comment": {"type": "string"},
                    "followup": {"type": "boolean"},
                    "deleted": {"type": "boolean"},
                },
            },
        },
    },
}
"""The JSON body of a DHIS2 import (``POST /dhis2/dataValueSets``)."""
bp.component_schemas["DataValueSet"] = lambda: _DATA_VALUE_SET_SCHEMA


@operation(
    bp,
    "GET",
    "/dhis2/dataValueSets.<any(json, csv, adx):ext>",
    summary="Daily reports as a DHIS2 dataValueSet (JSON, CSV or ADX)",
    parameters=[
        query_parameter(
            "orgUnit",
            {"type": "string"},
            "facility id, or a 2021 province code for all its facilities",
        ),
        query_parameter("startDate", DATE_SCHEMA),
        query_parameter("endDate", DATE_SCHEMA),
        query_parameter("period", {"type": "string", "pattern": "^[0-9]{8}$"}, "yyyyMMdd"),
        query_parameter(
            "lastUpdated",
            {
                "anyOf": [
                    {"type": "string", "format": "date-time"},
                    {"type": "string", "format": "date"},
                ]
            },
            "only facility-days changed at or after this instant (RFC 3339)",
        ),
        _ID_SCHEME,
    ],
    responses={"200": {"description": "dataValueSet (JSON, CSV or ADX XML)"}, **_ERRORS},
)
def export_data_value_set(ext: str) -> Response:
    """Return the latest reports of an org unit and period as DHIS2 data values."""
    from data.exchange.dhis2 import (
        ADX_MEDIA_TYPE,
        data_value_set,
        data_values,
        data_values_adx,
        data_values_csv,
    )

    _check_id_scheme()
    facility_id, province_code = _dhis2_scope()
    date_from, date_to = _dhis2_period()
    last_updated = _query_instant("lastUpdated")
    store = current_store()
    revisions = store.latest_reports(
        date_from=date_from,
        date_to=date_to,
        facility_id=facility_id,
        province_code=province_code,
    )
    if last_updated is not None:
        revisions = [r for r in revisions if r.submitted_at >= last_updated]
    firsts = {
        (s.facility_id, s.report_date): s.first_submitted_at
        for s in store.first_submissions(date_from=date_from, date_to=date_to)
    }
    config = app_state().config
    values = data_values(revisions, firsts, conversions=config.conversions)
    if ext == "csv":
        response = Response(data_values_csv(values), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="dataValueSets.csv"'
        return response
    if ext == "adx":
        return Response(data_values_adx(values, exported=config.clock()), mimetype=ADX_MEDIA_TYPE)
    return jsonify(data_value_set(values))


@operation(
    bp,
    "POST",
    "/dhis2/dataValueSets",
    summary="Import DHIS2 data values (upsert; conflicts listed; dryRun)",
    parameters=[
        query_parameter("dryRun", {"type": "string", "enum": ["true", "false"]}),
        _ID_SCHEME,
    ],
    request_body={
        "required": True,
        "content": {
            "application/json": {"schema": schema_ref("DataValueSet")},
            "text/csv": {"schema": {"type": "string"}},
            "application/adx+xml": {"schema": {"type": "string"}},
        },
    },
    responses={"200": OK_RESPONSE, "413": ERROR_RESPONSE, **_ERRORS},
)
def import_data_value_set() -> Response:
    """Import data values (JSON, CSV or ADX) as report revisions; return DHIS2's summary."""
    from data.exchange.dhis2 import (
        ADX_MEDIA_TYPE,
        import_data_values,
        parse_data_value_set_json,
        parse_data_values_adx,
        parse_data_values_csv,
    )

    _check_id_scheme()
    dry_run = query_bool("dryRun")
    if request.mimetype == "text/csv":
        values = parse_data_values_csv(request.get_data(cache=False))
    elif request.mimetype in (ADX_MEDIA_TYPE, "application/xml", "text/xml"):
        values = parse_data_values_adx(request.get_data(cache=False))
    else:
        values = parse_data_value_set_json(json_body())
    summary = import_data_values(current_store(), values, principal=principal(), dry_run=dry_run)
    return jsonify(summary)


def _check_id_scheme() -> None:
    scheme = request.args.get("idScheme", "code")
    if scheme.lower() != "code":
        raise MalformedInputError(
            "idScheme: unsupported", [f"idScheme: only 'code' is supported, got {scheme!r}"]
        )


def _dhis2_scope() -> tuple[str | None, str | None]:
    """Return (facility id, province code) of a DHIS2 export from ``orgUnit``, authorized.

    ``orgUnit`` is a facility id or a 2021 province code (a parent org unit with its children);
    by default a reporter gets its facility, a coordinator its province, national roles all.
    """
    user = principal()
    org_unit = request.args.get("orgUnit")
    if org_unit is None and user.role == Role.FACILITY_REPORTER:
        org_unit = user.facility_id
    if org_unit is None:
        province_code = user.province_code
        authorize(user, "reports:read", province_code=province_code)
        return None, province_code
    if re.fullmatch(r"[0-9]{2}", org_unit):
        authorize(user, "reports:read", province_code=org_unit)
        return None, org_unit
    authorize_facility(org_unit, "reports:read")
    return org_unit, None


def _dhis2_period() -> tuple[dt.date, dt.date]:
    from data.exchange.dhis2 import parse_period

    period = request.args.get("period")
    if period is not None:
        if "startDate" in request.args or "endDate" in request.args:
            raise InvalidInputError("period: give either period or startDate and endDate, not both")
        if not re.fullmatch(r"[0-9]{8}", period):
            raise MalformedInputError(
                "period: bad period", [f"period: must be yyyyMMdd, got {period!r}"]
            )
        day = parse_period(period)  # eight digits but no such day: 422
        return day, day
    date_to = query_date("endDate", today())
    date_from = query_date("startDate", date_to)
    check_period(date_from, date_to)
    return date_from, date_to


_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?"
)


def _query_instant(name: str) -> dt.datetime | None:
    """Parse an RFC 3339 date-time or a date (midnight UTC) from the query; None if absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    match = _INSTANT.fullmatch(raw)
    try:
        if match is None:
            raise ValueError(raw)
        return _instant(*match.groups())
    except ValueError:
        raise MalformedInputError(
            f"{name}: bad instant",
            [f"{name}: must be an RFC 3339 date-time or a date (UTC midnight), got {raw!r}"],
        ) from None


def _instant(*parts: str | None) -> dt.datetime:
    """Return the instant of :data:`_INSTANT`'s groups; ValueError if there is no such time."""
    year, month, day, hour, minute, second, fraction, zone = parts
    assert year is not None
    assert month is not None
    assert day is not None
    if hour is None or minute is None or second is None or zone is None:
        return dt.datetime(int(year), int(month), int(day), tzinfo=dt.UTC)
    offset = dt.timedelta(0)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        offset = sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        min(int(second), 59),  # a leap second counts as :59
        int(((fraction or ".0") + "000000")[1:7]),
        tzinfo=dt.timezone(offset),
    )
