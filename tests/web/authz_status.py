"""Authorization classification of the status operations (issue 14); see :mod:`tests.web.authz`.

``OPERATIONS`` classifies every operation of this area; ``extend_world`` (optional) gives the
owners objects of this area through the API and records their ids in ``owner.objects``.

``GET /status`` lists facilities (names and ids, the owners' canaries among them) of the caller's
scope: a reporter's own facility, an officer's province; another owner's ``province_code`` or
``facility_id`` is refused (403). It takes no path id, so the world needs no extension.
"""

from __future__ import annotations

from tests.web.authz import Kind, Spec

OPERATIONS: dict[str, Spec] = {
    "GET /status": Spec(Kind.COLLECTION),
}
