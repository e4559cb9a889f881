"""Reliability harnesses shared by the tests and ``benchmarks/bench_api_reliability.py``.

- :func:`fuzz_api`: schemathesis over the whole OpenAPI document against the app through WSGI,
  positive and negative cases for every operation, with schemathesis' default checks plus a 1 s
  response-time limit. ``positive_data_acceptance`` also accepts 422: the API answers 422 for
  domain rules JSON Schema cannot state (an unknown province or operator referenced, a period
  over 366 days, a tanker without a tank), as issue 3 specifies.
- :func:`registry_machine`: a Hypothesis state machine of submit / correct / approve / unlock /
  compliance checked against a plain model (on time as modelled, rates <= 100 %, writes after a
  lock 409, one audit row per change).
"""

from __future__ import annotations

import collections
import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api import ApiConfig, create_app
from data.reporting import LOCAL_TZ, report_deadline
from tests.registry_world import Clock

POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
MAX_RESPONSE_TIME_S = 1.0


@dataclass
class FuzzReport:
    """What a schemathesis run did and found."""

    operations: int = 0
    cases: int = 0
    cases_by_operation: collections.Counter[str] = field(default_factory=collections.Counter)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    server_errors: int = 0
    slowest_s: float = 0.0
    elapsed_s: float = 0.0

    def summary(self) -> str:
        """Return the figures as one line."""
        per_operation = self.cases_by_operation.values()
        return (
            f"{self.operations} operations, {self.cases} cases "
            f"(min {min(per_operation, default=0)} per operation; "
            f"{sum(n >= 100 for n in per_operation)} operations with >= 100), "
            f"{self.server_errors} 5xx, "
            f"{len(self.failures)} check failures, "
            f"slowest response {self.slowest_s * 1000:.0f} ms, "
            f"{self.elapsed_s:.1f} s; statuses {dict(sorted(self.statuses.items()))}"
        )


def fuzz_api(app: Any, token: str, *, max_examples: int, seed: int) -> FuzzReport:
    """Run schemathesis over every operation of the app's OpenAPI document.

    Parameters
    ----------
    app
        The Flask app (called through WSGI, no server).
    token
        An admin token, sent on every request (schemathesis' ``ignored_auth`` check also sends
        requests without it).
    max_examples
        Cases per operation and generation mode (positive, negative).
    seed
        Hypothesis seed (the same seed replays the same cases on the same code).
    """
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.core.failures import FailureGroup

    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {token}"},
            "checks": {
                "max_response_time": MAX_RESPONSE_TIME_S,
                "positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED},
            },
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    report = FuzzReport()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=max_examples,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.seed(seed)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                began = time.perf_counter()
                response = case.call()
                report.slowest_s = max(report.slowest_s, time.perf_counter() - began)
                report.cases += 1
                # run() is called at once, inside this iteration: the loop variables are current.
                report.cases_by_operation[operation.label] += 1  # noqa: B023
                report.statuses[response.status_code] += 1
                report.server_errors += response.status_code >= 500
                try:
                    case.validate_response(response)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        report.failures.append(
                            f"{operation.label} [{mode.value}] "  # noqa: B023
                            f"{type(failure).__name__} "
                            f"{response.status_code}: {str(failure).splitlines()[0]} | "
                            f"{case.as_curl_command()}"
                        )

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # No negative case exists for an operation without parameters or body.
                if mode is GenerationMode.POSITIVE:
                    raise
    report.elapsed_s = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------- stateful model

FACILITIES = {"79-A": "79", "79-B": "79", "01-C": "01"}
REPORTERS = {"79-A": "repA", "79-B": "repB", "01-C": "repC"}
COORDINATORS = {"79": "coord79", "01": "coord01"}
DAYS = [dt.date(2021, 8, 18), dt.date(2021, 8, 19), dt.date(2021, 8, 20)]
START_LOCAL = dt.datetime(2021, 8, 20, 8, 0)


class _RegistryMachine(RuleBasedStateMachine):
    """Submit, correct, approve, unlock and read compliance; compare with the model.

    :func:`registry_machine` makes a subclass that knows its template database and tokens.
    """

    template_path: Path
    tokens: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="oxy-stateful-"))
        shutil.copyfile(self.template_path, self.folder / "db.sqlite3")
        self.clock = Clock(START_LOCAL.replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC))
        self.app = create_app(
            ApiConfig(
                database_url=f"sqlite:///{self.folder / 'db.sqlite3'}",
                clock=self.clock,
                upgrade_schema=False,
                failed_auth_limit=10**9,
            )
        )
        self.client = self.app.test_client()
        # The model: latest content and first submission per (facility, day); locks.
        self.latest: dict[tuple[str, dt.date], int] = {}
        self.revisions: dict[tuple[str, dt.date], int] = {}
        self.first_at: dict[tuple[str, dt.date], dt.datetime] = {}
        self.locked: set[tuple[str, dt.date]] = set()
        self.mutations = 0

    def teardown(self) -> None:
        self.app.extensions["oxyroute"].store.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _call(self, method: str, user: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    def _today(self) -> dt.date:
        return self.clock.now.astimezone(LOCAL_TZ).date()

    @rule(minutes=st.sampled_from([10, 90, 240, 480]))
    def advance_clock(self, minutes: int) -> None:
        self.clock.now += dt.timedelta(minutes=minutes)

    @rule(
        facility=st.sampled_from(sorted(FACILITIES)),
        day=st.sampled_from(DAYS),
        used=st.integers(0, 3),
        by_coordinator=st.booleans(),
    )
    def submit(self, facility: str, day: dt.date, used: int, by_coordinator: bool) -> None:
        province = FACILITIES[facility]
        user = COORDINATORS[province] if by_coordinator else REPORTERS[facility]
        response = self._call(
            "post",
            user,
            f"/facilities/{facility}/reports",
            json={"report_date": day.isoformat(), "oxygen_used_24h_m3": used},
        )
        key = (facility, day)
        if (province, day) in self.locked:
            assert response.status_code == 409, response.get_data(as_text=True)
            return
        if self.latest.get(key) == used:
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.get_json()["created"] is False
            return
        assert response.status_code == 201, response.get_data(as_text=True)
        self.revisions[key] = self.revisions.get(key, 0) + 1
        self.latest[key] = used
        self.first_at.setdefault(key, self.clock.now)
        body = response.get_json()
        assert body["revision"] == self.revisions[key]
        assert body["on_time"] == (self.first_at[key] <= report_deadline(day))
        self.mutations += 1

    @rule(
        province=st.sampled_from(sorted(COORDINATORS)),
        day=st.sampled_from(DAYS),
        actor=st.sampled_from(["own", "other", "admin"]),
    )
    def approve(self, province: str, day: dt.date, actor: str) -> None:
        user = self._actor(province, actor)
        response = self._call("post", user, f"/approvals/{province}/{day}")
        if actor == "other":
            assert response.status_code == 403
        elif day > self._today():
            assert response.status_code == 422
        elif (province, day) in self.locked:
            assert response.status_code == 409
        else:
            assert response.status_code == 201, response.get_data(as_text=True)
            self.locked.add((province, day))
            self.mutations += 1

    @precondition(lambda self: bool(self.locked))
    @rule(data=st.data(), actor=st.sampled_from(["own", "other", "admin"]))
    def unlock_locked(self, data: Any, actor: str) -> None:
        province, day = data.draw(st.sampled_from(sorted(self.locked)))
        self._unlock(province, day, actor)

    @rule(
        province=st.sampled_from(sorted(COORDINATORS)),
        day=st.sampled_from(DAYS),
        actor=st.sampled_from(["own", "admin"]),
    )
    def unlock_any(self, province: str, day: dt.date, actor: str) -> None:
        self._unlock(province, day, actor)

    def _unlock(self, province: str, day: dt.date, actor: str) -> None:
        user = self._actor(province, actor)
        response = self._call(
            "post", user, f"/approvals/{province}/{day}/unlock", json={"reason": "sửa số liệu"}
        )
        if actor == "other":
            assert response.status_code == 403
        elif (province, day) not in self.locked:
            assert response.status_code == 409
        else:
            assert response.status_code == 200, response.get_data(as_text=True)
            self.locked.discard((province, day))
            self.mutations += 1

    def _actor(self, province: str, actor: str) -> str:
        if actor == "admin":
            return "admin"
        if actor == "own":
            return COORDINATORS[province]
        return next(c for p, c in COORDINATORS.items() if p != province)

    @rule(province=st.sampled_from(sorted(COORDINATORS)))
    def compliance_matches_the_model(self, province: str) -> None:
        response = self._call(
            "get",
            COORDINATORS[province],
            f"/compliance/daily?date_from={DAYS[0]}&date_to={DAYS[-1]}",
        )
        assert response.status_code == 200
        rows = {row["report_date"]: row for row in response.get_json()["rows"]}
        facilities = [f for f, p in FACILITIES.items() if p == province]
        for day in DAYS:
            row = rows[day.isoformat()]
            reported = [f for f in facilities if (f, day) in self.first_at]
            on_time = [f for f in reported if self.first_at[(f, day)] <= report_deadline(day)]
            past = self.clock.now > report_deadline(day)
            unreported = len(facilities) - len(reported)
            assert row["expected_reports"] == len(facilities)
            assert row["actual_reports"] == len(reported)
            assert row["actual_reports_on_time"] == len(on_time)
            assert row["late_reports"] == len(reported) - len(on_time)
            assert row["missing_reports"] == (unreported if past else 0)
            assert row["pending_reports"] == (0 if past else unreported)
            assert 0 <= row["reporting_rate_on_time"] <= row["reporting_rate"] <= 100

    @invariant()
    def one_audit_row_per_change(self) -> None:
        store = self.app.extensions["oxyroute"].store
        rows = store.audit_trail(entity="reports") + store.audit_trail(entity="approvals")
        assert len(rows) == self.mutations


def registry_machine(template_path: Path, tokens: dict[str, str]) -> type:
    """Return a state machine class over fresh copies of the template database.

    Each example copies ``template_path`` (the registry test template: three facilities of
    provinces 79 and 01 reporting from 2021-08-01, one user per role) into a temporary folder,
    builds an app on it with a settable clock, and checks every answer against the model.
    """
    attributes = {"template_path": template_path, "tokens": tokens}
    return type("RegistryMachine", (_RegistryMachine,), attributes)
