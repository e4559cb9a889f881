"""HTTP endpoints for urgent requests (SOS) and their sourcing (issue 14)."""

from __future__ import annotations

from web.common import API_PREFIX
from web.openapi import ApiBlueprint

bp = ApiBlueprint("urgent_requests", __name__, url_prefix=API_PREFIX)
