"""The API's own endpoints: liveness, this OpenAPI document, the caller, the provinces."""

from __future__ import annotations

from flask import Response, jsonify

from data.access import authorize
from web.common import API_PREFIX, app_state, current_store, plain, principal
from web.openapi import OK_RESPONSE, ApiBlueprint, error_responses, operation

bp = ApiBlueprint("meta", __name__, url_prefix=API_PREFIX)
_ERRORS = error_responses("400", "401", "403", "404", "409", "422", "429")


@operation(bp, "GET", "/health", summary="Liveness", public=True, responses={"200": OK_RESPONSE})
def health() -> Response:
    """Say the app is up (public)."""
    return jsonify({"status": "ok"})


@operation(
    bp, "GET", "/openapi.json", summary="This document", public=True, responses={"200": OK_RESPONSE}
)
def openapi() -> Response:
    """Return the app's OpenAPI document (public: clients read it before signing in)."""
    return jsonify(app_state().openapi)


@operation(
    bp, "GET", "/me", summary="The authenticated user", responses={"200": OK_RESPONSE, **_ERRORS}
)
def me() -> Response:
    """Return the authenticated user: name, role and scope."""
    return jsonify(plain(principal()))


@operation(
    bp,
    "GET",
    "/provinces",
    summary="The 63 provinces of 2021 and their 2025 units",
    responses={"200": OK_RESPONSE, **_ERRORS},
)
def list_provinces() -> Response:
    """Return the provinces of 2021 with the units they became in 2025."""
    authorize(principal(), "provinces:read")
    return jsonify({"provinces": [p.to_dict() for p in current_store().list_provinces()]})
