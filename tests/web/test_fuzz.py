"""RELIABILITY.md checks sized for the test suite.

Schemathesis over the whole OpenAPI document (a few seeded cases per operation) and a Hypothesis
stateful model of submit / correct / approve / unlock / compliance. The full-size runs are in
``benchmarks/bench_api_reliability.py``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

from tests.web.reliability import fuzz_api, registry_machine

FUZZ_EXAMPLES = 6
FUZZ_SEED = 20210820


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    db_url: str, clock: Any, template_db: Any
) -> None:
    from api import ApiConfig, create_app, openapi_document

    # The negative cases include requests without credentials: no lockout for this client.
    app = create_app(ApiConfig(database_url=db_url, clock=clock, failed_auth_limit=10**9))
    try:
        report = fuzz_api(
            app, template_db.tokens["admin"], max_examples=FUZZ_EXAMPLES, seed=FUZZ_SEED
        )
    finally:
        app.extensions["oxyroute"].store.engine.dispose()
    print(report.summary())
    documented = sum(
        len(set(item) - {"parameters"}) for item in openapi_document()["paths"].values()
    )
    assert report.operations == documented - 1  # schemathesis skips the document it loaded
    assert min(report.cases_by_operation.values()) >= 1
    assert (report.server_errors, report.failures) == (0, []), report.failures


def test_stateful_model_of_reports_approvals_and_compliance(template_db: Any) -> None:
    machine = registry_machine(template_db.path, template_db.tokens)
    runner = machine.TestCase
    runner.settings = settings(
        max_examples=12,
        stateful_step_count=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    runner("runTest").runTest()
