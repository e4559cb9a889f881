"""HTTP endpoints for the live re-plan of a published day's routes (issue 15)."""

from __future__ import annotations

from web.common import API_PREFIX
from web.openapi import ApiBlueprint

bp = ApiBlueprint("replan", __name__, url_prefix=API_PREFIX)
