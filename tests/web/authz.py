"""Authorization harness with peers: officers of two provinces, reporters of three hospitals.

Shared by ``tests/web/test_authz.py`` and ``benchmarks/bench_api_reliability.py``.

- :func:`build_peer_world`: creates the peers the way an admin does (``POST /users`` and
  ``POST /users/{username}/tokens``) and gives each one data through the API: hospitals, daily
  reports, a locked and an open day, and for Hồ Chí Minh City (the only province with a served
  region) a plan, routes, a planner's scenario, a run of it and an investment. Every owner's
  data carries a canary string that must never reach anyone else.
- :data:`OPERATIONS`: every operation of the OpenAPI document, classified. :func:`classify`
  refuses a document with an operation that is not classified (or a stale entry), so a new
  endpoint cannot slip past the object-level check.
- :func:`check_object_level`: for every ordered pair of peers, the intruder sends its own valid
  token to the owner's objects: the canonical request of each operation, then schemathesis'
  generated cases with the owner's ids put in. Then the owners repeat the canonical requests on
  their own objects (the control: the same requests succeed for the right user, so a refusal is
  the scope check and not a broken request).
- :func:`check_ignored_auth`: schemathesis' ``ignored_auth`` check with each peer's token over
  every operation that requires authentication, plus explicit probes without credentials or with
  broken ones on every such operation (those must all answer 401).
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

DAY_REPORTS = ("2021-08-18", "2021-08-19")  # days with reports (the clock is 20 August)
DAY_LOCKED = "2021-08-15"  # approved (locked) by the province's officer in the world
DAY_OPEN = "2021-08-16"  # open: the owner's control approves it
PLAN_REGION = "hcmc_d5"
PERIOD = {
    "date_from": "2021-08-01",
    "date_to": "2021-08-20",
    "startDate": "2021-08-01",
    "endDate": "2021-08-20",
    "month": "2021-08",
}  # the only served regions are in province 79

# Scope parameters: a query parameter of one of these names narrows a request to a province or
# facility, so an operation that has one must be classified too.
SCOPE_PARAMETERS = frozenset({"province_code", "facility_id", "orgUnit", "entity_id", "region"})


class Kind(StrEnum):
    """How an operation relates to province- and facility-scoped objects."""

    PUBLIC = "public"  # no authentication
    SELF = "self"  # the caller's own identity only
    SHARED = "shared"  # shared regional registries (suppliers, fleet, provinces): not scoped
    NATIONAL = "national"  # national roles only: every scoped peer is refused
    ADMIN = "admin"  # user administration: admins only
    OBJECT = "object"  # reads or writes one object of a province or facility
    COLLECTION = "collection"  # lists or aggregates scoped data; filtered to the caller's scope
    CREATE = "create"  # creates data whose body names a province or facility


@dataclass(frozen=True)
class Spec:
    """The classification of one operation and how to aim its canonical request at an owner.

    ``days`` picks the owner's day for a ``report_date`` path parameter (``reports``: a day with
    a report; ``locked``/``open``: an approval day). ``body`` returns the JSON (or a
    ``(content type, bytes)`` pair) of a write from the owner's world; None when the operation
    takes no body. ``last`` runs the owner's control after every other one (it destroys).
    """

    kind: Kind
    days: str = "reports"
    body: Callable[[Owner], Any] | None = None
    last: bool = False


def _report(owner: Owner, day: str, *, used_m3: float = 150.0) -> dict[str, Any]:
    return {
        "report_date": day,
        "oxygen_used_24h_m3": used_m3,
        "patients_cannula_mask": 20,
        "patients_high_flow": 4,
        "patients_invasive": 2,
        "cylinders_full": {"40L": 10},
        "note": f"báo cáo {owner.canary}",
    }


def _facility_body(owner: Owner) -> dict[str, Any]:
    return {**owner.facility_document, "beds_oxygen": 41}


def _new_facility(owner: Owner) -> dict[str, Any]:
    # Another name: the same name at the same point is refused as a duplicate (issue 13).
    return {
        **owner.facility_document,
        "facility_id": f"{owner.record_id}-NEW",
        "name": f"Trạm y tế mới {owner.canary}",
    }


def _scenario(owner: Owner) -> dict[str, Any]:
    return {
        "name": f"Kịch bản {owner.canary}",
        "region": PLAN_REGION,
        "date": "2021-08-20",
        "horizon_days": 1,
        "changes": [
            {"type": "supplier_capacity", "supplier_id": "TDS", "capacity_factor": 0.5, "days": [0]}
        ],
    }


def _investment(owner: Owner) -> dict[str, Any]:
    # One day, one surge, the region's default candidates: small enough for every control.
    return {
        "region": PLAN_REGION,
        "date": "2021-08-20",
        "scenarios": {
            "horizon_days": 1,
            "scenarios": [{"name": f"Đầu tư {owner.canary}", "weight": 1, "surge_factor": 2}],
        },
        "budget_vnd": 2e9,
        "deadline_weeks": 8,
        "time_limit_s": 5,
    }


ROUTE_VEHICLES = [
    {
        "vehicle_id": "TK1",
        "kind": "cryogenic_tanker",
        "tank_capacity_lox_kg": 5000,
        "home_depot_id": "ALV-SHTP",
    },
    {
        "vehicle_id": "CT1",
        "kind": "cylinder_truck",
        "cylinder_capacity": 150,
        "home_depot_id": "TDS",
    },
]
ROUTES_BODY = {
    "day": 0,
    "vehicles": ROUTE_VEHICLES,
    # any vehicle may load anywhere: the world needs routes, not a company's rules (issue 15)
    "options": {"time_limit_s": 1, "max_iterations": 50, "seed": 1, "cross_company_loading": True},
}

OPERATIONS: dict[str, Spec] = {
    "GET /health": Spec(Kind.PUBLIC),
    "GET /openapi.json": Spec(Kind.PUBLIC),
    "GET /me": Spec(Kind.SELF),
    "GET /provinces": Spec(Kind.SHARED),
    # registry records: facilities are scoped, the rest are shared regional resources
    "GET /facilities": Spec(Kind.COLLECTION),
    "POST /facilities": Spec(Kind.CREATE, body=_new_facility),
    "GET /facilities/{record_id}": Spec(Kind.OBJECT),
    "PUT /facilities/{record_id}": Spec(Kind.OBJECT, body=_facility_body),
    "DELETE /facilities/{record_id}": Spec(Kind.OBJECT, last=True),
    # an officer merges its disposable facility (no reports) into its hospital; reporters may not
    "POST /facilities/{facility_id}/merge": Spec(
        Kind.OBJECT,
        body=lambda owner: (
            owner.province_code
            and {"duplicate_id": owner.record_id, "reason": f"trùng {owner.canary}"}
        ),
    ),
    **{
        f"{method} /{collection}{suffix}": Spec(Kind.SHARED)
        for collection in ("suppliers", "transport-operators", "vehicles", "equipment-suppliers")
        for method, suffix in (
            ("GET", ""),
            ("POST", ""),
            ("GET", "/{record_id}"),
            ("PUT", "/{record_id}"),
            ("DELETE", "/{record_id}"),
        )
    },
    # suppliers' daily supply declarations: a shared regional registry like the suppliers
    "GET /supply-declarations": Spec(Kind.SHARED),
    "POST /supply-declarations": Spec(Kind.SHARED),
    # daily reports
    "POST /facilities/{facility_id}/reports": Spec(
        Kind.OBJECT, body=lambda owner: _report(owner, DAY_REPORTS[-1], used_m3=152.0)
    ),
    "GET /facilities/{facility_id}/reports": Spec(Kind.OBJECT),
    "GET /facilities/{facility_id}/reports/{report_date}": Spec(Kind.OBJECT),
    "GET /facilities/{facility_id}/reports/{report_date}/revisions": Spec(Kind.OBJECT),
    "GET /reports": Spec(Kind.COLLECTION),
    # compliance and demand
    "GET /compliance/daily": Spec(Kind.COLLECTION),
    "GET /compliance/national": Spec(Kind.NATIONAL),
    "GET /compliance/monthly": Spec(Kind.COLLECTION),
    "GET /demand/provinces": Spec(Kind.COLLECTION),
    "GET /audit": Spec(Kind.NATIONAL),
    # approval and locking
    "GET /approvals": Spec(Kind.COLLECTION),
    "GET /approvals/{province_code}/{report_date}": Spec(Kind.OBJECT, days="locked"),
    "POST /approvals/{province_code}/{report_date}": Spec(Kind.OBJECT, days="open"),
    "POST /approvals/{province_code}/{report_date}/unlock": Spec(
        Kind.OBJECT, days="locked", body=lambda owner: {"reason": f"sửa {owner.canary}"}
    ),
    # review of flagged reports (province officers)
    "GET /review/reports": Spec(Kind.COLLECTION),
    "POST /review/reports/{facility_id}/{report_date}/accept": Spec(
        Kind.OBJECT, body=lambda owner: {"reason": f"đã gọi xác nhận {owner.canary}"}
    ),
    "POST /review/reports/{facility_id}/{report_date}/correction": Spec(
        Kind.OBJECT, body=lambda owner: {"reason": f"sửa số bệnh nhân {owner.canary}"}
    ),
    # DHIS2
    "GET /dhis2/dataValueSets.{ext}": Spec(Kind.COLLECTION),
    "POST /dhis2/dataValueSets": Spec(Kind.CREATE, body=lambda owner: owner.dhis2_import),
    # users
    "POST /users": Spec(
        Kind.ADMIN,
        body=lambda owner: {
            "username": f"{owner.username}-2",
            "role": owner.role,
            "facility_id": owner.facility_id if owner.province_code is None else None,
            "province_code": owner.province_code,
        },
    ),
    "POST /users/{username}/tokens": Spec(Kind.ADMIN),
    "POST /users/{username}/disable": Spec(Kind.ADMIN),
    "POST /users/{username}/enable": Spec(Kind.ADMIN),
    "GET /users/{username}/tokens": Spec(Kind.ADMIN),
    # token_id: a second token of the spare user, which the admin's control revokes
    "POST /users/{username}/tokens/{token_id}/revoke": Spec(Kind.ADMIN, last=True),
    # files
    "POST /imports/{kind}": Spec(Kind.CREATE, body=lambda owner: owner.imports),
    "GET /exports/{kind}.{ext}": Spec(Kind.COLLECTION),
    # plans, routes, scenarios (files)
    "POST /plans": Spec(
        Kind.CREATE,
        body=lambda owner: (
            owner.plan_region
            and {"region": owner.plan_region, "date": "2021-08-20", "horizon_days": 1}
        ),
    ),
    "GET /plans/{plan_id}": Spec(Kind.OBJECT),
    "POST /plans/{plan_id}/routes": Spec(Kind.OBJECT, body=lambda owner: ROUTES_BODY),
    "GET /plans/{plan_id}/routes/{routes_id}": Spec(Kind.OBJECT),
    "GET /plans/{plan_id}/routes/{routes_id}/sheets/{vehicle_id}": Spec(Kind.OBJECT),
    # re-plan the owner's routes from 09:00 as they stand (no event): stored as new routes
    "POST /plans/{plan_id}/routes/{routes_id}/replan": Spec(
        Kind.OBJECT,
        body=lambda owner: {
            "now": "2021-08-20T09:00:00+07:00",
            "events": [],
            "options": {"time_limit_s": 1, "max_iterations": 50, "seed": 1},
        },
    ),
    "POST /scenarios": Spec(Kind.CREATE, body=_scenario),
    "GET /scenarios": Spec(Kind.COLLECTION),
    "GET /scenarios/{scenario_id}": Spec(Kind.OBJECT),
    "PUT /scenarios/{scenario_id}": Spec(Kind.OBJECT, body=_scenario),
    "POST /scenarios/{scenario_id}/copy": Spec(Kind.OBJECT, body=lambda owner: {"name": "bản sao"}),
    "POST /scenarios/{scenario_id}/run": Spec(Kind.OBJECT, body=lambda owner: {}),
    "GET /scenarios/{scenario_id}/runs": Spec(Kind.OBJECT),
    "GET /scenarios/{scenario_id}/runs/{run_id}": Spec(Kind.OBJECT),
    # investment portfolios (issue 18): planners compute, the province's officers read
    "POST /investments": Spec(
        Kind.CREATE, body=lambda owner: owner.plan_region and _investment(owner)
    ),
    "GET /investments/{investment_id}": Spec(Kind.OBJECT),
    # FHIR views of the same data (ids fac-<facility id>); the capabilities are public
    "GET /fhir/metadata": Spec(Kind.PUBLIC),
    "GET /fhir/Organization": Spec(Kind.COLLECTION),
    "GET /fhir/Organization/{resource_id}": Spec(Kind.OBJECT),
    "GET /fhir/Location": Spec(Kind.COLLECTION),
    "GET /fhir/Location/{resource_id}": Spec(Kind.OBJECT),
    "GET /fhir/plans/{plan_id}/SupplyRequest": Spec(Kind.OBJECT),
    "GET /fhir/plans/{plan_id}/routes/{routes_id}/SupplyDelivery": Spec(Kind.OBJECT),
    "GET /fhir/InventoryReport": Spec(Kind.COLLECTION),
}
"""Every operation of the API document. A new operation fails :func:`classify` until added."""

SHARED_FILE_KINDS = frozenset({"suppliers", "vehicles"})
"""``kind`` values of imports and exports that are shared registries, not scoped data."""

SCOPED_KINDS = (Kind.OBJECT, Kind.COLLECTION, Kind.CREATE, Kind.NATIONAL, Kind.ADMIN)


@dataclass
class Owner:
    """A peer and the objects it owns in the world (None: it owns none of that kind)."""

    key: str
    username: str
    role: str
    token: str
    province_code: str | None  # officers
    facility_id: str | None  # reporters: theirs; officers: a hospital of their province
    record_id: str  # the facility GET/PUT/DELETE /facilities/{record_id} aims at
    facility_document: dict[str, Any]
    canary: str  # carried by what the owner writes
    canaries: tuple[str, ...]  # every canary of the owner's scope
    facility_ids: frozenset[str]  # every facility in the owner's scope
    plan_id: str | None = None
    routes_id: str | None = None
    vehicle_id: str | None = None
    scenario_id: str | None = None
    run_id: str | None = None
    plan_region: str | None = None
    dhis2_import: Any = None
    imports: dict[str, Any] = field(default_factory=dict)  # kind -> (content type, corrected file)
    # ids of objects made by the extensions' world builders, by path parameter name
    objects: dict[str, str] = field(default_factory=dict)

    def scope_codes(self) -> dict[str, str]:
        """Return the values of scope parameters that aim a request at this owner."""
        codes = {
            "facility_id": self.facility_id or "",
            "orgUnit": self.facility_id or "",
            "entity_id": self.facility_id or "",
        }
        if self.province_code is not None:
            codes |= {
                "province_code": self.province_code,
                "orgUnit": self.province_code,
                "region": PLAN_REGION if self.plan_id else "none",
            }
        return codes


@dataclass
class World:
    """The app, its peers and the pairs that must not see each other's objects."""

    app: Any
    owners: dict[str, Owner]
    pairs: list[tuple[str, str]]
    spare_user: str
    plans_dir: Path

    def ordered_pairs(self) -> list[tuple[Owner, Owner]]:
        """(owner, intruder) in both directions of every pair."""
        return [
            (self.owners[a], self.owners[b]) for x, y in self.pairs for a, b in ((x, y), (y, x))
        ]


@dataclass
class AuthzReport:
    """What the checks did and found."""

    operations: int = 0
    classified: collections.Counter[str] = field(default_factory=collections.Counter)
    object_level_operations: set[str] = field(default_factory=set)  # an intruder tried them
    ignored_auth_operations: set[str] = field(default_factory=set)  # they require a token
    peers: int = 0
    requests: int = 0
    intruder_requests: int = 0
    generated_requests: int = 0
    controls: int = 0
    controls_succeeded: int = 0
    scoped_refusals: int = 0  # owner succeeded, intruder refused: the scope check at work
    not_applicable: int = 0  # the owner has no such object (no plan outside province 79)
    ignored_auth_cases: int = 0
    ignored_auth_probed: int = 0
    broken_credential_probes: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    # canonical intruder refusals (403/404) per (owner, path), matched with the owner's controls
    refusals: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    # statuses of the owners' controls per operation
    control_statuses: collections.defaultdict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    findings: list[str] = field(default_factory=list)
    unproven: list[str] = field(default_factory=list)  # operations no control could perform
    elapsed_s: float = 0.0

    def summary(self) -> str:
        """Return the figures as one line."""
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.classified.items()))
        return (
            f"{self.operations} operations classified ({kinds}); "
            f"object level: {len(self.object_level_operations)} operations, "
            f"{self.intruder_requests} canonical + {self.generated_requests} generated requests "
            f"by intruders, {self.controls} controls ({self.controls_succeeded} succeeded; "
            f"{self.scoped_refusals} owner-yes/intruder-no decisions), {self.not_applicable} "
            f"pair-operations without such an object; ignored_auth: "
            f"{len(self.ignored_auth_operations)} operations x {self.peers} peers, {self.ignored_auth_cases} "
            f"cases ({self.ignored_auth_probed} re-sent without/with broken credentials) + "
            f"{self.broken_credential_probes} broken-credential probes; {self.requests} requests; "
            f"{len(self.findings)} findings; {self.elapsed_s:.1f} s"
        )


# --------------------------------------------------------------------------- classification


def classify(document: dict[str, Any]) -> dict[str, Spec]:
    """Return the spec of every operation of ``document``.

    Raises
    ------
    AssertionError
        If an operation is not in :data:`OPERATIONS` (saying whether it has a path or scope
        parameter), if :data:`OPERATIONS` names an operation the document lacks, or if an
        operation with a path or scope parameter is classified public or self.
    """
    found: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            parameters = [*shared, *operation.get("parameters", [])]
            found[f"{method.upper()} {path}"] = [
                p["name"] for p in parameters if p["in"] == "path" or p["name"] in SCOPE_PARAMETERS
            ]
    missing = {label: names for label, names in found.items() if label not in OPERATIONS}
    assert not missing, (
        f"operations not classified in tests/web/authz.py (scope parameters): {missing}"
    )
    stale = sorted(set(OPERATIONS) - set(found))
    assert not stale, f"classified operations the document no longer has: {stale}"
    loose = [
        label
        for label, names in found.items()
        if names and OPERATIONS[label].kind in (Kind.PUBLIC, Kind.SELF)
    ]
    assert not loose, f"operations with path or scope parameters classified public/self: {loose}"
    return {label: OPERATIONS[label] for label in found}


# --------------------------------------------------------------------------- the world


class _Client:
    """Counts every request reaching the app (schemathesis' probes included)."""

    def __init__(self, app: Any) -> None:
        self.count = 0
        inner = app.wsgi_app

        def counting(environ: Any, start_response: Any) -> Any:
            self.count += 1
            return inner(environ, start_response)

        app.wsgi_app = counting
        self.flask = app.test_client()

    def call(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        authorization: str | None = None,
    ) -> Any:
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": headers, "query_string": query or {}}
        if isinstance(body, tuple):
            headers["Content-Type"] = body[0]
            kwargs["data"] = body[1]
        elif body is not None:
            kwargs["json"] = body
        return self.flask.open(f"/api/v1{path}", method=method, **kwargs)


def _ok(response: Any, what: str) -> Any:
    assert response.status_code < 300, (
        f"{what}: {response.status_code} {response.get_data(as_text=True)[:400]}"
    )
    return response


FACILITIES = {
    # key: (facility id, province, lon, lat); X lies in District 5, on the plan's map
    "79X": ("79-X", "79", 106.6663, 10.7555),
    "79W": ("79-W", "79", 106.7009, 10.7769),
    "01Y": ("01-Y", "01", 105.8480, 21.0040),
    "79D": ("79-D", "79", 106.7100, 10.7900),  # disposable: the officer's DELETE control
    "01D": ("01-D", "01", 105.8300, 21.0200),
}


def build_peer_world(
    app: Any, admin_token: str, planner_token: str, plans_dir: Path
) -> tuple[World, _Client]:
    """Create the peers and their data through the API, as an admin and the users would.

    Peers: officers of provinces 79 and 01 (``province_coordinator``), reporters of hospitals
    79-X and 01-Y (two provinces) and 79-W (79-X's neighbour in the same province). Pairs:
    (officer 79, officer 01), (reporter 79-X, reporter 01-Y), (reporter 79-X, reporter 79-W).
    """
    client = _Client(app)
    documents = {}
    for key, (facility_id, province, lon, lat) in FACILITIES.items():
        documents[key] = {
            "facility_id": facility_id,
            "name": f"Bệnh viện {facility_id} canary-{key}",
            "province_code": province,
            "lon": lon,
            "lat": lat,
            "tier": 2,
            "reporting_from": "2021-08-01",
        }
        _ok(client.call("POST", "/facilities", admin_token, body=documents[key]), f"facility {key}")
    users = {
        "officer79": ("province_coordinator", None, "79"),
        "officer01": ("province_coordinator", None, "01"),
        "reporter79X": ("facility_reporter", "79-X", None),
        "reporter01Y": ("facility_reporter", "01-Y", None),
        "reporter79W": ("facility_reporter", "79-W", None),
        "spare": ("planner", None, None),
    }
    tokens: dict[str, str] = {}
    for username, (role, user_facility, user_province) in users.items():
        _ok(
            client.call(
                "POST",
                "/users",
                admin_token,
                body={
                    "username": username,
                    "role": role,
                    "facility_id": user_facility,
                    "province_code": user_province,
                },
            ),
            f"user {username}",
        )
        answer = _ok(client.call("POST", f"/users/{username}/tokens", admin_token), username)
        tokens[username] = answer.get_json()["token"]

    revocable = _ok(
        client.call("POST", "/users/spare/tokens", admin_token, body={"label": "to revoke"}),
        "spare token",
    ).get_json()["token_id"]

    def reporter(key: str) -> Owner:
        facility_id = FACILITIES[key][0]
        return Owner(
            key=f"reporter {facility_id}",
            username=f"reporter{key}",
            role="facility_reporter",
            token=tokens[f"reporter{key}"],
            province_code=None,
            facility_id=facility_id,
            record_id=facility_id,
            facility_document=documents[key],
            canary=f"canary-{key}",
            canaries=(f"canary-{key}",),
            facility_ids=frozenset({facility_id}),
        )

    def officer(province: str) -> Owner:
        hospital, disposable = f"{province}{'X' if province == '79' else 'Y'}", f"{province}D"
        scope = frozenset(f for f, p, _, _ in FACILITIES.values() if p == province)
        keys = tuple(f"canary-{k}" for k, (_, p, _, _) in FACILITIES.items() if p == province)
        return Owner(
            key=f"officer {province}",
            username=f"officer{province}",
            role="province_coordinator",
            token=tokens[f"officer{province}"],
            province_code=province,
            facility_id=FACILITIES[hospital][0],
            record_id=FACILITIES[disposable][0],
            facility_document=documents[disposable],
            canary=f"canary-{hospital}",
            canaries=keys,
            facility_ids=scope,
        )

    owners = {
        o.key: o
        for o in (officer("79"), officer("01"), reporter("79X"), reporter("01Y"), reporter("79W"))
    }
    for owner in owners.values():
        owner.objects["token_id"] = str(revocable)
    for owner in owners.values():
        if owner.province_code is None:
            for day in DAY_REPORTS:
                _ok(
                    client.call(
                        "POST",
                        f"/facilities/{owner.facility_id}/reports",
                        owner.token,
                        body=_report(owner, day),
                    ),
                    f"report {owner.key}",
                )
    for owner in owners.values():
        if owner.province_code is not None:
            _ok(
                client.call("POST", f"/approvals/{owner.province_code}/{DAY_LOCKED}", owner.token),
                f"approval {owner.key}",
            )
            # Its own exports, edited for re-import: corrected reports, renamed (new) facilities.
            for kind, column, edit in (
                ("reports", "oxygen_used_24h_m3", lambda value: "151"),
                ("facilities", "facility_id", lambda value: f"{value}-IMP"),
            ):
                exported = _ok(
                    client.call(
                        "GET",
                        f"/exports/{kind}.csv",
                        owner.token,
                        query={"date_from": DAY_REPORTS[0], "date_to": DAY_REPORTS[-1]},
                    ),
                    f"{kind} export",
                )
                owner.imports[kind] = ("text/csv", _edit_csv(exported.get_data(), column, edit))
        # DHIS2 export of the owner's scope (a reporter's facility, an officer's province)
        exported = _ok(
            client.call(
                "GET",
                "/dhis2/dataValueSets.json",
                owner.token,
                query={"startDate": DAY_REPORTS[0], "endDate": DAY_REPORTS[-1]},
            ),
            "dhis2 export",
        )
        owner.dhis2_import = _bump_dhis2(exported.get_json())
    # Plans and scenarios exist only where a region is served: Hồ Chí Minh City (79).
    hcmc = owners["officer 79"]
    plan = _ok(
        client.call(
            "POST",
            "/plans",
            hcmc.token,
            body={"region": PLAN_REGION, "date": "2021-08-20", "horizon_days": 1},
        ),
        "plan",
    )
    hcmc.plan_id, hcmc.plan_region = plan.get_json()["plan_id"], PLAN_REGION
    routes = _ok(
        client.call("POST", f"/plans/{hcmc.plan_id}/routes", hcmc.token, body=ROUTES_BODY), "routes"
    ).get_json()
    hcmc.routes_id = routes["routes_id"]
    hcmc.vehicle_id = next(iter(routes["links"]["sheets"]), None)
    scenario = _ok(
        client.call("POST", "/scenarios", planner_token, body=_scenario(hcmc)), "scenario"
    )
    hcmc.scenario_id = scenario.get_json()["scenario_id"]
    run = _ok(
        client.call("POST", f"/scenarios/{hcmc.scenario_id}/run", planner_token, body={}), "run"
    )
    hcmc.run_id = run.get_json()["run_id"]
    for owner in owners.values():
        owner.objects["investment_id"] = None  # type: ignore[assignment] # only where served
    investment = _ok(
        client.call("POST", "/investments", planner_token, body=_investment(hcmc)), "investment"
    )
    hcmc.objects["investment_id"] = investment.get_json()["investment_id"]
    for module in _extensions():
        extend = getattr(module, "extend_world", None)
        if extend is not None:
            extend(client, owners, admin_token=admin_token, planner_token=planner_token)
    world = World(
        app,
        owners,
        [
            ("officer 79", "officer 01"),
            ("reporter 79-X", "reporter 01-Y"),
            ("reporter 79-X", "reporter 79-W"),
        ],
        "spare",
        plans_dir,
    )
    return world, client


def _edit_csv(content: bytes, column: str, edit: Callable[[str], str]) -> bytes:
    """Return a CSV export with ``edit`` applied to ``column`` in every row."""
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows, "the owner's export is empty"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, column: edit(row[column])})
    return out.getvalue().encode("utf-8")


def _bump_dhis2(document: dict[str, Any]) -> dict[str, Any]:
    values = [v for v in document["dataValues"] if str(v.get("value", "")).isdigit()]
    assert values, "the owner's DHIS2 export has no integer value to correct"
    return {"dataValues": [{**values[0], "value": str(int(values[0]["value"]) + 1)}]}


# --------------------------------------------------------------------------- requests and checks


@dataclass(frozen=True)
class Request:
    """One concrete request aimed at an owner's object."""

    label: str
    method: str
    path: str
    query: dict[str, str]
    body: Any


def _fill(template: str, values: dict[str, str]) -> str:
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", value)
    return out


def _enums(document: dict[str, Any], path: str, method: str) -> dict[str, list[str]]:
    item = document["paths"][path]
    parameters = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
    return {
        p["name"]: p["schema"]["enum"]
        for p in parameters
        if p["in"] == "path" and "enum" in p.get("schema", {})
    }


def _path_values(
    label: str, spec: Spec, owner: Owner, document: dict[str, Any]
) -> dict[str, str] | None:
    """Return the owner's values of the operation's object path parameters (None: it has none)."""
    method, path = label.split(" ", 1)
    day = {"reports": DAY_REPORTS[-1], "locked": DAY_LOCKED, "open": DAY_OPEN}[spec.days]
    objects = {
        "facility_id": owner.facility_id,
        "record_id": owner.record_id,
        "resource_id": f"fac-{owner.record_id}",
        "report_date": day,
        "province_code": owner.province_code,
        "plan_id": owner.plan_id,
        "routes_id": owner.routes_id,
        "vehicle_id": owner.vehicle_id,
        "scenario_id": owner.scenario_id,
        "run_id": owner.run_id,
        "username": owner.username,
        **owner.objects,
    }
    enums = _enums(document, path, method)
    names = [n for n in re.findall(r"{([^}]+)}", path) if n not in enums]
    unknown = [n for n in names if n not in objects]
    assert not unknown, f"{label}: no owner object for path parameters {unknown}"
    if any(objects[n] is None for n in names):
        return None
    return {n: str(objects[n]) for n in names}


def _scope_query(label: str, owner: Owner, document: dict[str, Any]) -> dict[str, str]:
    method, path = label.split(" ", 1)
    item = document["paths"][path]
    parameters = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
    codes = owner.scope_codes()
    return {
        p["name"]: codes[p["name"]]
        for p in parameters
        if p["in"] == "query" and p["name"] in codes and codes[p["name"]]
    }


def canonical_requests(
    label: str, spec: Spec, owner: Owner, document: dict[str, Any], *, scoped_query: bool
) -> Iterator[Request]:
    """Yield the requests of ``label`` aimed at ``owner`` (none when it owns no such object).

    Enumerated path parameters (``kind``, ``ext``) take each of their values. ``scoped_query``
    adds the owner's scope parameters that the operation documents.
    """
    method, path = label.split(" ", 1)
    values = _path_values(label, spec, owner, document)
    if values is None:
        return
    item = document["paths"][path]
    documented = {
        p["name"]
        for p in [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
    }
    # The whole month of the world's data, where the operation takes a period.
    query = {k: v for k, v in PERIOD.items() if k in documented}
    if scoped_query:
        query |= _scope_query(label, owner, document)
    body = spec.body(owner) if spec.body is not None else None
    if spec.body is not None and body is None:
        return  # the owner has nothing of this kind to write (no region served outside 79)
    enums = _enums(document, path, method)
    for combination in itertools.product(*enums.values()):
        filled = {**values, **dict(zip(enums, combination, strict=True))}
        if filled.get("kind") in SHARED_FILE_KINDS:
            continue
        if label == "POST /imports/{kind}":
            # The owner re-imports its own corrected export (reporters have none: they may not).
            if not isinstance(body, dict) or filled["kind"] not in body:
                continue
            yield Request(label, method, _fill(path, filled), dict(query), body[filled["kind"]])
            continue
        yield Request(label, method, _fill(path, filled), dict(query), body)


def _response_text(response: Any) -> str:
    data = response.get_data()
    if data[:2] == b"PK":  # xlsx
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            ",".join("" if c is None else str(c) for c in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return str(data.decode("utf-8", errors="replace"))


def _scoped_values(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("facility_id", "province_code", "orgUnit") and isinstance(value, str):
                yield key, value
            else:
                yield from _scoped_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scoped_values(item)


def leaks(response: Any, owner: Owner, request_text: str) -> list[str]:
    """Return what of ``owner``'s data the response shows (its canaries, its facilities/province).

    A canary the request itself carried is an echo, not a leak. Structured fields are checked in
    successful JSON, CSV and XLSX answers: ``facility_id``/``orgUnit`` in the owner's facilities,
    or (officers) ``province_code``/``orgUnit`` equal to its province, even when the request
    named them (a list filtered to the owner's province is the owner's data).
    """
    text = _response_text(response)
    found = [
        f"canary {canary!r}"
        for canary in owner.canaries
        if canary in text and canary not in request_text
    ]
    owned = set(owner.facility_ids) | ({owner.province_code} if owner.province_code else set())
    rows: Any = None
    if response.mimetype and "json" in response.mimetype:
        rows = json.loads(text)
    elif (
        response.mimetype == "text/csv"
        or text.startswith("\ufeff")
        or response.get_data()[:2] == b"PK"
    ):
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    if response.status_code < 300 and rows is not None:
        found += [f"{key}={value}" for key, value in _scoped_values(rows) if value in owned]
    return sorted(set(found))


def _snapshot(world: World) -> tuple[Any, ...]:
    """Return the row count of every table and the plan files: equal before and after = no write.

    Every mutation of the registry adds a row (a revision, an approval, a token, an audit event),
    and plans, routes and scenarios are files, so a write cannot hide from this.
    """
    from sqlalchemy import func, select

    from data.db import models

    store = world.app.extensions["oxyroute"].store
    counts = select(
        *(
            select(func.count()).select_from(table).scalar_subquery()
            for _, table in sorted(models.metadata.tables.items())
        )
    )
    with store.engine.connect() as connection:
        rows = tuple(connection.execute(counts).one())
    files = sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(world.plans_dir)
        for name in names
    )
    return rows, tuple(files)


def _describe(request: Request, status: int) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    return f"{request.method} {request.path}{'?' + query if query else ''} -> {status}"


def _judge(
    report: AuthzReport,
    world: World,
    client: _Client,
    spec: Spec,
    request: Request,
    owner: Owner,
    intruder: Owner,
    *,
    generated: bool,
) -> int:
    """Send ``request`` as ``intruder`` and record a finding if it got or changed owner's data."""
    before = _snapshot(world)
    response = client.call(
        request.method, request.path, intruder.token, query=request.query, body=request.body
    )
    status = response.status_code
    report.statuses[status] += 1
    if generated:
        report.generated_requests += 1
    else:
        report.intruder_requests += 1
    request_text = json.dumps(
        [request.path, request.query, request.body], ensure_ascii=False, default=repr
    )
    problems = leaks(response, owner, request_text)
    if _snapshot(world) != before:
        problems.append("the request changed stored data")
    if status >= 500:
        problems.append("server error")
    if spec.kind in (Kind.OBJECT, Kind.NATIONAL, Kind.ADMIN) and status < 400:
        problems.append("not refused")
    if (
        spec.kind in (Kind.OBJECT, Kind.NATIONAL, Kind.ADMIN)
        and not generated
        and status not in (403, 404)
    ):
        problems.append("canonical request not answered 403/404")
    if not generated and status in (403, 404):
        report.refusals[(owner.key, request.path)] += 1
    if problems:
        report.findings.append(
            f"{intruder.key} on {owner.key}'s {'generated' if generated else 'canonical'} "
            f"{_describe(request, status)}: {'; '.join(problems)} | "
            f"{_response_text(response)[:200]}"
        )
    return int(status)


def _draw(operation: Any, examples: int, seed: int) -> list[Any]:
    """Return ``examples`` positive schemathesis cases of ``operation`` (seeded)."""
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings

    cases: list[Any] = []

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.seed(seed)
    @given(case=operation.as_strategy())
    def draw(case: Any) -> None:
        cases.append(case)

    draw()
    return cases


def _generated_cases(
    world: World, labels: list[str], examples: int, seed: int
) -> dict[str, list[Any]]:
    """Draw cases of every operation in ``labels`` once; every pair replays them."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    operations = (result.ok() for result in schema.get_all_operations())
    return {_label(op): _draw(op, examples, seed) for op in operations if _label(op) in labels}


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _aim(case: Any, owner: Owner, document: dict[str, Any], spec: Spec) -> Request | None:
    """Put the owner's ids into a generated case: path parameters, scope query and body keys."""
    method, path = case.method.upper(), case.operation.path
    label = f"{method} {path}"
    values = _path_values(label, spec, owner, document)
    if values is None:
        return None
    generated = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    if generated.get("kind") in SHARED_FILE_KINDS:
        return None
    query = {k: str(v) for k, v in (case.query or {}).items()}
    query |= _scope_query(label, owner, document)
    codes = owner.scope_codes()
    body = case.body
    if isinstance(body, dict):
        body = {**body, **{k: codes[k] for k in body if codes.get(k)}}
    elif not isinstance(body, list):
        body = None  # bytes and files: the canonical requests cover the owner's own file
    return Request(label, method, _fill(path, {**generated, **values}), query, body)


CONTROL_FALLBACKS = ("planner", "admin", "ministry", "dispatcher")


def check_object_level(
    world: World,
    client: _Client,
    document: dict[str, Any],
    *,
    examples: int,
    seed: int,
    fallback_tokens: dict[str, str],
    report: AuthzReport | None = None,
) -> AuthzReport:
    """Run the intruders' requests, then the owners' controls; return the figures and findings.

    A finding is an intruder's request that was not refused (object, national, admin and
    create operations), that changed stored data, that showed any of the owner's data (its
    canaries, its facilities or province in a list), or that ended in a server error. Canonical
    requests on objects must be answered exactly 403 or 404.
    """
    report = report or AuthzReport()
    started, before = time.perf_counter(), client.count
    specs = classify(document)
    report.operations = len(specs)
    report.classified = collections.Counter(str(s.kind) for s in specs.values())
    scoped = [label for label, spec in specs.items() if spec.kind in SCOPED_KINDS]
    generated = _generated_cases(world, scoped, examples, seed) if examples else {}
    # 1. Intruders, before any owner control changes the world.
    _run_intruders(world, client, document, specs, scoped, generated, report)
    # 2. Controls: each owner on its own objects; destructive ones last.
    ordered = sorted(scoped, key=lambda label: specs[label].last)
    proven = _run_owner_controls(world, client, document, specs, ordered, report)
    # 3. Operations no peer's role may use: another role performs the same canonical request.
    _run_fallback_controls(world, client, document, specs, ordered, fallback_tokens, proven, report)
    report.unproven = sorted(set(scoped) - proven)
    report.requests += client.count - before
    report.elapsed_s += time.perf_counter() - started
    return report


def _run_intruders(
    world: World,
    client: _Client,
    document: dict[str, Any],
    specs: dict[str, Spec],
    scoped: list[str],
    generated: dict[str, list[Any]],
    report: AuthzReport,
) -> None:
    """Send every intruder each owner's canonical and generated requests, and judge the answers."""
    for owner, intruder in world.ordered_pairs():
        for label in scoped:
            spec = specs[label]
            variants = [True, False] if spec.kind is Kind.COLLECTION else [True]
            requests = [
                r
                for scoped_query in variants
                for r in canonical_requests(label, spec, owner, document, scoped_query=scoped_query)
            ]
            if not requests:
                report.not_applicable += 1
                continue
            report.object_level_operations.add(label)
            for request in requests:
                _judge(report, world, client, spec, request, owner, intruder, generated=False)
            for case in generated.get(label, []):
                aimed = _aim(case, owner, document, spec)
                if aimed is not None:
                    _judge(report, world, client, spec, aimed, owner, intruder, generated=True)


def _run_owner_controls(
    world: World,
    client: _Client,
    document: dict[str, Any],
    specs: dict[str, Spec],
    ordered: list[str],
    report: AuthzReport,
) -> set[str]:
    """Let each owner perform the canonical requests on its own objects; return the proven ones."""
    proven: set[str] = set()
    for label in ordered:
        spec = specs[label]
        if spec.kind in (Kind.NATIONAL, Kind.ADMIN):
            continue
        for owner in world.owners.values():
            for request in canonical_requests(label, spec, owner, document, scoped_query=True):
                report.controls += 1
                if _control(world, client, request, owner.token, report):
                    report.controls_succeeded += 1
                    proven.add(label)
                    report.scoped_refusals += report.refusals[(owner.key, request.path)]
    return proven


def _run_fallback_controls(
    world: World,
    client: _Client,
    document: dict[str, Any],
    specs: dict[str, Spec],
    ordered: list[str],
    fallback_tokens: dict[str, str],
    proven: set[str],
    report: AuthzReport,
) -> None:
    """Prove the operations no peer may use with another role's token (adds to ``proven``)."""
    first = next(iter(world.owners.values()))
    for label in ordered:
        spec = specs[label]
        if label in proven:
            continue
        owners = [
            o
            for o in world.owners.values()
            if next(canonical_requests(label, spec, o, document, scoped_query=True), None)
        ]
        for name in CONTROL_FALLBACKS:
            target = owners[0] if owners else first
            if spec.kind is Kind.ADMIN:
                target = _spare(target, world.spare_user)
            fallback = next(
                canonical_requests(label, spec, target, document, scoped_query=True), None
            )
            if fallback is None:
                continue
            report.controls += 1
            if _control(world, client, fallback, fallback_tokens[name], report):
                report.controls_succeeded += 1
                proven.add(label)
                break


def _control(
    world: World, client: _Client, request: Request, token: str, report: AuthzReport
) -> bool:
    """Send a control request; return whether it succeeded (and, unless a read, wrote something)."""
    before = _snapshot(world)
    response = client.call(
        request.method, request.path, token, query=request.query, body=request.body
    )
    report.control_statuses[request.label][response.status_code] += 1
    wrote = request.method == "GET" or _snapshot(world) != before
    return bool(response.status_code < 300 and wrote)


def _spare(owner: Owner, username: str) -> Owner:
    from dataclasses import replace

    return replace(owner, username=username)


def check_ignored_auth(
    world: World,
    client: _Client,
    document: dict[str, Any],
    *,
    examples: int,
    seed: int,
    report: AuthzReport,
) -> AuthzReport:
    """Run ``ignored_auth`` with every peer's token, then send broken credentials everywhere.

    schemathesis' ``ignored_auth`` re-sends a request that succeeded without credentials and
    with invalid ones; either succeeding is a finding. Its probes only follow a success, so every
    operation that requires authentication also gets, once per peer, requests with no
    ``Authorization``, a malformed token, an unknown well-formed token, the peer's token with one
    character changed and the peer's token under the Basic scheme: each must be answered 401.
    """
    import schemathesis
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import ignored_auth

    started = time.perf_counter()
    before = client.count
    report.peers = len(world.owners)
    for owner in world.owners.values():
        # The token goes through the bearer scheme's auth setting, not a raw header: with a raw
        # header, schemathesis took the Authorization of cases with a header parameter
        # (Idempotency-Key) for a generated one and reported "accepts invalid authentication"
        # for a valid token's 201.
        config = schemathesis.Config.from_dict(
            {"auth": {"openapi": {"bearer": {"bearer": owner.token}}}}
        )
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app, config=config)
        for result in schema.get_all_operations():
            operation = result.ok()
            if not _requires_auth(document, operation.path, operation.method):
                continue
            report.ignored_auth_operations.add(_label(operation))
            cases = _draw(operation, examples, seed)
            for case in cases:
                sent = client.count
                response = case.call()
                report.ignored_auth_cases += 1
                report.statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=[ignored_auth])
                except FailureGroup as group:
                    report.findings += [
                        f"ignored_auth {owner.key} {_label(operation)} "
                        f"({response.status_code} with the token): "
                        f"{' / '.join(str(f).splitlines()[:6])} | {case.as_curl_command()}"
                        for f in group.exceptions
                    ]
                report.ignored_auth_probed += client.count - sent - 1
            _broken_credentials(report, client, cases[0], owner, _label(operation))
    report.requests += client.count - before
    report.elapsed_s += time.perf_counter() - started
    return report


def _requires_auth(document: dict[str, Any], path: str, method: str) -> bool:
    operation = document["paths"][path][method.lower()]
    return bool(operation.get("security", document.get("security", [])))


def _broken_credentials(
    report: AuthzReport, client: _Client, case: Any, owner: Owner, label: str
) -> None:
    flipped = owner.token[:-1] + ("A" if owner.token[-1] != "A" else "B")
    for authorization in (
        "",
        "Bearer",
        "Bearer not-a-token",
        "Bearer oxy_" + "A" * 43,
        f"Bearer {flipped}",
        f"Basic {owner.token}",
    ):
        path = case.formatted_path
        response = client.flask.open(
            f"/api/v1{path}",
            method=case.method,
            query_string=case.query or {},
            headers={"Authorization": authorization} if authorization else {},
            **({"json": case.body} if isinstance(case.body, (dict, list)) else {}),
        )
        report.broken_credential_probes += 1
        report.statuses[response.status_code] += 1
        if response.status_code != 401:
            report.findings.append(
                f"broken credentials {authorization[:12]!r}… on {label} ({path}) as {owner.key}: "
                f"{response.status_code}"
            )


# --------------------------------------------------------------------------- extensions

EXTENSION_MODULES = (
    "tests.web.authz_status",
    "tests.web.authz_requests",
    "tests.web.authz_deliveries",
    "tests.web.authz_alerts",
    "tests.web.authz_irp",
)
"""Modules that classify an area's operations (their ``OPERATIONS``) and may give the owners
objects of that area (``extend_world(client, owners, *, admin_token, planner_token)``, which
sets ``owner.objects[<path parameter>]``). One module per area, so that areas grow apart."""


def _extensions() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in EXTENSION_MODULES]


for _module in _extensions():
    _overlap = set(_module.OPERATIONS) & set(OPERATIONS)
    assert not _overlap, f"{_module.__name__} classifies operations twice: {sorted(_overlap)}"
    OPERATIONS.update(_module.OPERATIONS)
