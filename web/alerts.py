"""HTTP endpoints for alerts, their live stream and webhook subscriptions (issue 14)."""

from __future__ import annotations

from web.common import API_PREFIX
from web.openapi import ApiBlueprint

bp = ApiBlueprint("alerts", __name__, url_prefix=API_PREFIX)
