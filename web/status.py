"""HTTP endpoints for a facility's oxygen now: hours to empty (issue 14)."""

from __future__ import annotations

from web.common import API_PREFIX
from web.openapi import ApiBlueprint

bp = ApiBlueprint("status", __name__, url_prefix=API_PREFIX)
