"""HTTP endpoints for planners' investment portfolios under case scenarios (issue 18)."""

from __future__ import annotations

from web.common import API_PREFIX
from web.openapi import ApiBlueprint

bp = ApiBlueprint("investment", __name__, url_prefix=API_PREFIX)
