"""Authorization classification of the alerts operations (issue 14); see :mod:`tests.web.authz`.

``OPERATIONS`` classifies every operation of this area; ``extend_world`` (optional) gives the
owners objects of this area through the API and records their ids in ``owner.objects``.
"""

from __future__ import annotations

from tests.web.authz import Spec

OPERATIONS: dict[str, Spec] = {}
