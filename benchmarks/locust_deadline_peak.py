"""Locust users of the deadline-peak load test; run by ``benchmarks/bench_load.py``, not on its own.

This file runs inside locust's own virtual environment (``.venv-locust``): it imports nothing from
oxyroute and talks to the server over HTTP only. ``bench_load.py`` writes the scenario (host-side
facts: facility ids, tokens, the local date) to a JSON file named by ``$OXYROUTE_LOAD_SCENARIO``
and reads back every request this process made from ``$OXYROUTE_LOAD_SAMPLES`` (JSON lines:
``name``, ``response_time_ms``, ``ok``, ``status``, ``error``, ``at_s``), so percentiles are exact
rather than locust's rounded buckets.

User classes (pick them on the locust command line):

- :class:`FacilityReporter` (weight 9): a hospital's reporter at the 16:00 deadline. Each task
  takes the next facility of a shared round robin over every seeded facility (so every facility
  reports, evenly) and POSTs a daily report with a new ``Idempotency-Key``: the facility's first
  submission is today's report; after that, 30 % are corrections of today's report (changed
  content, so a new revision) and the rest are new days going back from yesterday (backfilling).
  Anything but ``201`` with ``"created": true`` is a failure.
- :class:`ComplianceReader` (weight 1): officers watching the deadline: the province
  coordinator's daily compliance of its province (weight 2), the ministry's national compliance
  (1) and monthly table (1), all for today.
- :class:`HealthBaseline`: ``GET /api/v1/health`` only, the baseline of the same load.

The scenario's ``wait_min_s`` and ``wait_max_s`` set every user's think time (0 and 0 for the
saturation runs) and ``fast_client`` picks locust's ``FastHttpUser`` instead of ``HttpUser``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust import FastHttpUser, HttpUser, User, between, events, task

SCENARIO: dict[str, Any] = json.loads(Path(os.environ["OXYROUTE_LOAD_SCENARIO"]).read_text())
SAMPLES_PATH = Path(os.environ["OXYROUTE_LOAD_SAMPLES"])
API = "/api/v1"
CORRECTION_SHARE = 0.3

REPORT_POST = "POST /facilities/{id}/reports"
COMPLIANCE_DAILY = "GET /compliance/daily"
COMPLIANCE_NATIONAL = "GET /compliance/national"
COMPLIANCE_MONTHLY = "GET /compliance/monthly"
HEALTH = "GET /health"

# The saturation runs (no think time) use locust's cheaper client (geventhttpclient), so that
# locust, on the same 2 cores, leaves the server as much CPU as it can; the deadline peak keeps
# the requests-based client its published figures were measured with.
_Client: type[User] = FastHttpUser if SCENARIO.get("fast_client") else HttpUser
_rng = random.Random(SCENARIO["seed"])
_today = dt.date.fromisoformat(SCENARIO["today"])
_samples: list[dict[str, Any]] = []


@dataclass(slots=True)
class _FacilityState:
    """What one facility has submitted so far (mutated between yields, so gevent-safe)."""

    facility_id: str
    token: str
    days_back: int = -1
    corrections: int = 0
    today_sent: bool = False


_facilities = [
    _FacilityState(facility_id, token)
    for facility_id, token in sorted(SCENARIO["reporters"].items())
]
_round_robin = itertools.cycle(_facilities)


def _report_body(day: dt.date, note: str | None) -> dict[str, Any]:
    """Return a plausible daily report for ``day`` (random figures of a large hospital)."""
    high_flow = _rng.randint(0, 40)
    return {
        "report_date": day.isoformat(),
        "oxygen_used_24h_m3": round(_rng.uniform(20.0, 4000.0), 1),
        "patients_cannula_mask": _rng.randint(0, 200),
        "patients_high_flow": high_flow,
        "patients_niv": _rng.randint(0, 20),
        "patients_invasive": _rng.randint(0, 30),
        "cylinders_full": {"40L": _rng.randint(0, 300), "10L": _rng.randint(0, 50)},
        "cylinders_empty": {"40L": _rng.randint(0, 300)},
        "deliveries_expected_m3": round(_rng.uniform(0.0, 3000.0), 1),
        "note": note,
    }


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: BaseException | None = None,
    **_kwargs: Any,
) -> None:
    _samples.append(
        {
            "name": name,
            "response_time_ms": response_time,
            "ok": exception is None,
            "status": getattr(response, "status_code", 0),
            "error": None if exception is None else str(exception)[:300],
            "at_s": time.time(),
        }
    )


@events.quitting.add_listener
def _write_samples(**_kwargs: Any) -> None:
    with SAMPLES_PATH.open("w", encoding="utf-8") as out:
        for sample in _samples:
            out.write(json.dumps(sample) + "\n")


class FacilityReporter(_Client):
    """A facility reporter submitting daily reports at the deadline (see the module docstring)."""

    weight = 9
    wait_time = between(SCENARIO["wait_min_s"], SCENARIO["wait_max_s"])

    @task
    def submit_report(self) -> None:
        """POST the next facility's report (today, a correction of today, or an earlier day)."""
        state = next(_round_robin)
        if not state.today_sent:
            day, note = _today, None
            state.today_sent = True
        elif _rng.random() < CORRECTION_SHARE:
            state.corrections += 1
            day, note = _today, f"sửa lần {state.corrections}: số liệu cập nhật lúc cao điểm"
        else:
            state.days_back += 1
            day, note = _today - dt.timedelta(days=1 + state.days_back), "bổ sung báo cáo"
        headers = {
            "Authorization": f"Bearer {state.token}",
            "Idempotency-Key": f"load-{uuid.uuid4()}",
        }
        with self.client.post(
            f"{API}/facilities/{state.facility_id}/reports",
            json=_report_body(day, note),
            headers=headers,
            name=REPORT_POST,
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
            elif response.json().get("created") is not True:
                response.failure(f"not created: {response.text[:200]}")


class ComplianceReader(_Client):
    """Province and ministry officers refreshing today's compliance during the peak."""

    weight = 1
    wait_time = between(SCENARIO["wait_min_s"], SCENARIO["wait_max_s"])

    def _get(self, path: str, token: str, name: str) -> None:
        with self.client.get(
            f"{API}{path}",
            headers={"Authorization": f"Bearer {token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")

    @task(2)
    def province_daily(self) -> None:
        """Read the coordinator's compliance of its province, today."""
        day = _today.isoformat()
        self._get(
            f"/compliance/daily?province_code={SCENARIO['province_code']}"
            f"&date_from={day}&date_to={day}",
            SCENARIO["coordinator_token"],
            COMPLIANCE_DAILY,
        )

    @task(1)
    def national_daily(self) -> None:
        """Read the ministry's national compliance, today."""
        day = _today.isoformat()
        self._get(
            f"/compliance/national?date_from={day}&date_to={day}",
            SCENARIO["ministry_token"],
            COMPLIANCE_NATIONAL,
        )

    @task(1)
    def monthly_table(self) -> None:
        """Read the ministry's monthly reporting table of this month."""
        self._get(
            f"/compliance/monthly?month={_today:%Y-%m}",
            SCENARIO["ministry_token"],
            COMPLIANCE_MONTHLY,
        )


class HealthBaseline(_Client):
    """The baseline: the same users and pacing against the trivial health endpoint."""

    weight = 1
    wait_time = between(SCENARIO["wait_min_s"], SCENARIO["wait_max_s"])

    @task
    def health(self) -> None:
        """GET the liveness endpoint (no authentication, no database)."""
        with self.client.get(f"{API}/health", name=HEALTH, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
