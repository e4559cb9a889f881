"""Access rules: API tokens, principals, roles and their scoped permissions.

Tokens are random (256 bits) and only their SHA-256 is stored; a fast hash is enough for a secret
of that entropy (unlike a password, it cannot be guessed from a dictionary). Every API operation
names one permission; :func:`authorize` also checks the scope of scoped roles: a facility reporter
acts only on its own facility, a province coordinator only inside its 2021 province.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from data.errors import PermissionDeniedError
from data.schema.registry import Role

TOKEN_PREFIX = "oxy_"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user as the API sees it.

    Parameters
    ----------
    user_id, username, role
        Identity and role.
    facility_id
        The facility of a facility reporter (None for other roles).
    province_code
        The 2021 province of a province coordinator (None for other roles).
    """

    user_id: int
    username: str
    role: Role
    facility_id: str | None = None
    province_code: str | None = None


_READ_REGISTRY = (
    "facilities:read",
    "suppliers:read",
    "transport-operators:read",
    "vehicles:read",
    "equipment-suppliers:read",
    "provinces:read",
)
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    # imports:write lets a reporter upload its facility's reports file (issue 13): the importer
    # checks every row against its facility, and refuses other kinds for want of their write.
    Role.FACILITY_REPORTER: frozenset(
        {
            "provinces:read",
            "facilities:read",
            "reports:read",
            "reports:write",
            "imports:write",
            # live operations (issue 14): its own status, alerts, urgent requests and deliveries
            "status:read",
            "alerts:read",
            "requests:read",
            "requests:write",
            "deliveries:read",
            "deliveries:write",
        }
    ),
    Role.PROVINCE_COORDINATOR: frozenset(
        {
            *_READ_REGISTRY,
            "facilities:write",
            "reports:read",
            "reports:write",
            "compliance:read",
            "demand:read",
            "imports:write",
            "plans:read",
            "plans:write",
            "scenarios:read",
            "approvals:read",
            "approvals:write",
            "reviews:read",
            "reviews:write",
            "supply-declarations:write",
            "routes:read",
            "routes:write",
            "status:read",
            "alerts:read",
            "alerts:write",
            "requests:read",
            "requests:write",
            "requests:decide",
            "requests:dispatch",
            "deliveries:read",
            "deliveries:write",
            "plans:publish",
            "webhooks:read",
            "webhooks:write",
        }
    ),
    Role.MINISTRY: frozenset(
        {
            *_READ_REGISTRY,
            "reports:read",
            "compliance:read",
            "demand:read",
            "audit:read",
            "approvals:read",
            "reviews:read",
            "status:read",
            "alerts:read",
            "requests:read",
            "deliveries:read",
        }
    ),
    Role.DISPATCHER: frozenset(
        {
            *_READ_REGISTRY,
            "reports:read",
            "demand:read",
            "transport-operators:write",
            "vehicles:write",
            "supply-declarations:write",
            "routes:read",
            "routes:write",
            "plans:read",
            "status:read",
            "alerts:read",
            "alerts:write",
            "requests:read",
            "requests:dispatch",
            "deliveries:read",
            "deliveries:write",
        }
    ),
    Role.PLANNER: frozenset(
        {
            *_READ_REGISTRY,
            "reports:read",
            "compliance:read",
            "demand:read",
            "approvals:read",
            "plans:read",
            "plans:write",
            "scenarios:read",
            "scenarios:write",
            "status:read",
            "alerts:read",
            "requests:read",
            "deliveries:read",
        }
    ),
    Role.ADMIN: frozenset(
        {
            *_READ_REGISTRY,
            "facilities:write",
            "suppliers:write",
            "transport-operators:write",
            "vehicles:write",
            "equipment-suppliers:write",
            "reports:read",
            "reports:write",
            "compliance:read",
            "demand:read",
            "audit:read",
            "users:admin",
            "imports:write",
            "approvals:read",
            "approvals:write",
            "reviews:read",
            "reviews:write",
            "supply-declarations:write",
            "status:read",
            "alerts:read",
            "alerts:write",
            "requests:read",
            "requests:write",
            "requests:decide",
            "requests:dispatch",
            "deliveries:read",
            "deliveries:write",
            "plans:read",
            "plans:publish",
            "webhooks:read",
            "webhooks:write",
        }
    ),
}
"""What each role may do. Facility reporters and province coordinators are further scoped."""

# Registry collections that carry a province and are scoped for coordinators; the others
# (suppliers, fleet) are shared regional resources every coordinator may read.
SCOPED_COLLECTIONS = frozenset(
    {
        "facilities",
        "reports",
        "compliance",
        "demand",
        "imports",
        "approvals",
        "reviews",
        "plans",
        "routes",
        "scenarios",
        "status",
        "alerts",
        "requests",
        "deliveries",
        "webhooks",
    }
)


def new_token() -> str:
    """Return a new random API token (``oxy_`` + 43 URL-safe characters, 256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a token, the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authorize(
    principal: Principal,
    permission: str,
    *,
    facility_id: str | None = None,
    province_code: str | None = None,
) -> None:
    """Check that ``principal`` may use ``permission`` on the resource described.

    Parameters
    ----------
    principal
        The authenticated user.
    permission
        ``"<collection>:<read|write>"`` or ``"users:admin"``.
    facility_id, province_code
        The facility and province the operation touches (None: national or unscoped).

    Raises
    ------
    PermissionDeniedError
        If the role lacks the permission, or a scoped role acts outside its scope; a national
        (unscoped) request from a scoped role is outside its scope.
    """
    if permission not in ROLE_PERMISSIONS[principal.role]:
        raise PermissionDeniedError(f"role {principal.role.value!r} may not use {permission!r}")
    collection = permission.split(":", 1)[0]
    # The role test and the scope test stay separate ifs (SIM102 would merge them): these are the
    # security-critical branches and each must read on its own.
    if principal.role == Role.FACILITY_REPORTER and collection in SCOPED_COLLECTIONS | {  # noqa: SIM102
        "facilities"
    }:
        if facility_id is None or facility_id != principal.facility_id:
            raise PermissionDeniedError(
                f"a facility reporter acts only on its own facility {principal.facility_id!r}; "
                f"this request touches {facility_id or 'all facilities'!r}"
            )
    if principal.role == Role.PROVINCE_COORDINATOR and collection in SCOPED_COLLECTIONS:  # noqa: SIM102
        if province_code is None or province_code != principal.province_code:
            raise PermissionDeniedError(
                f"a province coordinator acts only in its province {principal.province_code!r}; "
                f"this request touches {province_code or 'all provinces'!r}"
            )


def validate_role_scope(
    role: Role, facility_id: str | None, province_code: str | None
) -> list[str]:
    """Return the problems with a user's scope (empty when it fits the role).

    A facility reporter needs a facility and no province; a province coordinator a province and
    no facility; every other role neither.
    """
    problems = []
    if role == Role.FACILITY_REPORTER:
        if facility_id is None:
            problems.append("facility_id: a facility_reporter needs its facility")
        if province_code is not None:
            problems.append("province_code: a facility_reporter is scoped by its facility only")
    elif role == Role.PROVINCE_COORDINATOR:
        if province_code is None:
            problems.append("province_code: a province_coordinator needs its province")
        if facility_id is not None:
            problems.append("facility_id: a province_coordinator is scoped by province only")
    elif facility_id is not None or province_code is not None:
        problems.append(
            f"role: {role.value} is not scoped; leave facility_id and province_code out"
        )
    return problems
