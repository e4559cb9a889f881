"""RELIABILITY.md: ``ignored_auth`` and object-level authorization with peers give 0 findings.

Peers: officers of provinces 79 and 01; reporters of hospitals 79-X and 01-Y, and of 79-X and 79-W
(same province). A run with the province check switched off must find holes (the harness can
fail). The full-size run is in ``benchmarks/bench_api_reliability.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.authz import (
    OPERATIONS,
    AuthzReport,
    Kind,
    build_peer_world,
    check_ignored_auth,
    check_object_level,
    classify,
)

EXAMPLES = 2  # generated cases per operation (object level) and per peer (ignored_auth)
SEED = 20210820
FALLBACKS = ("planner", "admin", "ministry", "dispatcher")


@pytest.fixture
def world(db_url: str, clock: Any, template_db: Any, tmp_path: Path):  # type: ignore[no-untyped-def]
    from api import ApiConfig, create_app

    plans_dir = tmp_path / "plans"
    # Broken credentials are sent on purpose: no lockout for this client.
    app = create_app(
        ApiConfig(
            database_url=db_url, clock=clock, failed_auth_limit=10**9, plans_dir=str(plans_dir)
        )
    )
    built, client = build_peer_world(
        app, template_db.tokens["admin"], template_db.tokens["planner"], plans_dir
    )
    yield built, client, {name: template_db.tokens[name] for name in FALLBACKS}
    app.extensions["oxyroute"].store.engine.dispose()


def test_every_operation_is_classified() -> None:
    from api import openapi_document

    specs = classify(openapi_document())
    assert set(specs) == set(OPERATIONS)
    document = {
        "paths": {
            "/facilities/{record_id}/secrets": {
                "get": {
                    "parameters": [
                        {
                            "name": "record_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ]
                }
            }
        }
    }
    with pytest.raises(AssertionError, match="not classified"):
        classify(document)  # a new scoped endpoint fails the test until it is classified


def test_peers_see_and_change_nothing_of_each_other(world: Any) -> None:
    from api import openapi_document

    built, client, fallbacks = world
    document = openapi_document()
    report = check_object_level(
        built, client, document, examples=EXAMPLES, seed=SEED, fallback_tokens=fallbacks
    )
    check_ignored_auth(built, client, document, examples=EXAMPLES, seed=SEED, report=report)
    print(report.summary())
    for finding in report.findings[:20]:
        print("  FINDING", finding)
    scoped = sum(
        report.classified[str(k)]
        for k in (Kind.OBJECT, Kind.COLLECTION, Kind.CREATE, Kind.NATIONAL, Kind.ADMIN)
    )
    assert report.operations == len(OPERATIONS) and scoped >= 30
    assert report.unproven == [], report.unproven  # every scoped request is valid: someone may
    assert report.scoped_refusals >= 50  # the owner succeeded where the intruder was refused
    assert report.ignored_auth_probed > 0 and report.broken_credential_probes > 0
    assert report.findings == []


def test_the_harness_finds_holes_when_the_province_check_is_off(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import openapi_document
    from data import access as auth

    built, client, fallbacks = world
    monkeypatch.setattr(auth, "SCOPED_COLLECTIONS", frozenset())
    report = check_object_level(
        built,
        client,
        openapi_document(),
        examples=0,
        seed=SEED,
        fallback_tokens=fallbacks,
        report=AuthzReport(),
    )
    print(report.summary())
    holes = {finding.split(" -> ")[0] for finding in report.findings}
    assert any("officer 01 on officer 79's canonical GET /plans/" in h for h in holes)
    assert any("officer 01 on officer 79's canonical POST /approvals/79/" in h for h in holes)
    assert any(
        "officer 79 on officer 01's canonical GET /facilities/01-Y/reports" in h for h in holes
    )
    assert any("officer 01 on officer 79's canonical GET /compliance/daily" in h for h in holes)
    assert any(
        "reporter 79-W on reporter 79-X's canonical POST /facilities/79-X/reports" in h
        for h in holes
    )
