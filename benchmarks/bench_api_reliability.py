"""Benchmark: the RELIABILITY.md runs at full size, too slow for the test suite.

1. schemathesis over the whole OpenAPI document against the app through WSGI: ``--examples``
   (default 100) positive and as many negative cases per operation, seeded, schemathesis' default
   checks plus a 1 s response-time limit (``positive_data_acceptance`` also accepts 422, the API's
   answer to domain rules JSON Schema cannot state; see tests/web/reliability.py).
2. The Hypothesis stateful model of submit / correct / approve / unlock / compliance at
   ``--stateful-examples`` x ``--steps`` (default 500 x 50), derandomised.
3. Authorization between peers (officers of provinces 79 and 01; reporters of hospitals 79-X and
   01-Y, and 79-X and 79-W; see tests/web/authz.py): object-level checks with ``--authz-examples``
   (default 25) schemathesis cases per operation aimed at each owner's objects, and
   ``ignored_auth`` with every peer's token at as many cases per operation and peer.

    PYTHONPATH=. python benchmarks/bench_api_reliability.py [--examples 100] [--seed 20210820]
        [--stateful-examples 500] [--steps 50] [--authz-examples 25] [--skip-fuzz]
        [--skip-stateful] [--skip-authz]

Prints the figures; exits 1 if any failure was found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.db import create_db_engine, upgrade_database
from data.provinces import provinces_with_2025_units
from data.settings import resolve_data_dir
from data.store import Store
from tests.registry_world import FACILITY_A, FACILITY_B, FACILITY_C, USERS, Clock


def build_template(folder: Path) -> tuple[Path, dict[str, str]]:
    """Build the registry test template (provinces, three facilities, one user per role)."""
    path = folder / "template.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    store = Store(engine, clock=Clock())
    store.upsert_provinces(provinces_with_2025_units(resolve_data_dir()))
    store.create_records([FACILITY_A, FACILITY_B, FACILITY_C], actor="bench")
    tokens = {}
    for username, (role, facility_id, province_code) in USERS.items():
        store.add_user(username, role, facility_id=facility_id, province_code=province_code)
        tokens[username] = store.issue_token(username)
    engine.dispose()
    return path, tokens


def main() -> int:
    """Run the benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20210820)
    parser.add_argument("--stateful-examples", type=int, default=500)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--skip-fuzz", action="store_true")
    parser.add_argument("--skip-stateful", action="store_true")
    parser.add_argument("--authz-examples", type=int, default=25)
    parser.add_argument("--skip-authz", action="store_true")
    args = parser.parse_args()

    import shutil

    from hypothesis import HealthCheck, settings

    from api import ApiConfig, create_app
    from tests.web.reliability import fuzz_api, registry_machine

    failed = False
    with tempfile.TemporaryDirectory(prefix="oxy-bench-") as tmp:
        folder = Path(tmp)
        template, tokens = build_template(folder)
        if not args.skip_fuzz:
            shutil.copyfile(template, folder / "fuzz.sqlite3")
            app = create_app(
                ApiConfig(
                    database_url=f"sqlite:///{folder / 'fuzz.sqlite3'}",
                    clock=Clock(),
                    failed_auth_limit=10**9,
                )
            )
            report = fuzz_api(app, tokens["admin"], max_examples=args.examples, seed=args.seed)
            app.extensions["oxyroute"].store.engine.dispose()
            print(
                f"schemathesis (seed {args.seed}, {args.examples} positive + up to "
                f"{args.examples} negative per operation): {report.summary()}"
            )
            for failure in report.failures[:20]:
                print("  FAILURE", failure)
            failed |= bool(report.failures) or report.server_errors > 0
        if not args.skip_stateful:
            machine = registry_machine(template, tokens)
            runner = machine.TestCase
            runner.settings = settings(
                max_examples=args.stateful_examples,
                stateful_step_count=args.steps,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            started = time.perf_counter()
            try:
                runner("runTest").runTest()
                outcome = "0 invariant violations"
            except Exception as error:  # report the falsifying run, then fail
                outcome = f"FAILED: {type(error).__name__}: {error}"
                failed = True
            print(
                f"stateful model ({args.stateful_examples} examples x up to {args.steps} steps): "
                f"{outcome} in {time.perf_counter() - started:.1f} s"
            )
        if not args.skip_authz:
            failed |= not _run_authz(folder, template, tokens, args.authz_examples, args.seed)
    return 1 if failed else 0


def _run_authz(
    folder: Path, template: Path, tokens: dict[str, str], examples: int, seed: int
) -> bool:
    """Run the peers' authorization checks on a copy of the template; return whether all passed."""
    import shutil

    from api import ApiConfig, create_app, openapi_document
    from tests.web.authz import build_peer_world, check_ignored_auth, check_object_level

    shutil.copyfile(template, folder / "authz.sqlite3")
    plans_dir = folder / "authz-plans"
    app = create_app(
        ApiConfig(
            database_url=f"sqlite:///{folder / 'authz.sqlite3'}",
            clock=Clock(),
            failed_auth_limit=10**9,
            plans_dir=str(plans_dir),
        )
    )
    try:
        world, client = build_peer_world(app, tokens["admin"], tokens["planner"], plans_dir)
        document = openapi_document()
        fallbacks = {name: tokens[name] for name in ("planner", "admin", "ministry", "dispatcher")}
        report = check_object_level(
            world, client, document, examples=examples, seed=seed, fallback_tokens=fallbacks
        )
        check_ignored_auth(world, client, document, examples=examples, seed=seed, report=report)
    finally:
        app.extensions["oxyroute"].store.engine.dispose()
    print(
        f"authorization between peers (seed {seed}, {examples} cases per operation): {report.summary()}"
    )
    for finding in report.findings[:20]:
        print("  FINDING", finding)
    if report.unproven:
        print("  UNPROVEN (no control succeeded)", report.unproven)
    return not report.findings and not report.unproven


if __name__ == "__main__":
    sys.exit(main())
