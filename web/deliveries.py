"""HTTP endpoints for planned deliveries and proof of delivery (issue 14)."""

from __future__ import annotations

from web.common import API_PREFIX
from web.openapi import ApiBlueprint

bp = ApiBlueprint("deliveries", __name__, url_prefix=API_PREFIX)
