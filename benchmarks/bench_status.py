"""Benchmark the live status (hours to empty) of 10,000 facilities in a SQLite store.

Run: ``PYTHONPATH=. python benchmarks/bench_status.py [--facilities 10000] [--repeat 5]
[--seed 2021]``.

The store is built in a temporary folder: one province, ``--facilities`` facilities (30 % with a
liquid tank), three days of generated reports each (patients on oxygen, declared use inside or
outside the plausible band, liquid and 40 L cylinders; 5 % of facilities never report, 5 % last
reported 4 days ago, 3 % with their newest report sent back for correction), one confirmed delivery for half of them after their last report, and one
delivery on its way for a quarter of them. Timed, best of ``--repeat`` after a first (cold) call:

- ``compute``: :func:`coordination.status.compute_statuses` on the inputs read once (warm);
- ``query``: :meth:`data.store.Store.status_inputs` (five set-based queries);
- ``end to end``: :func:`coordination.status.current_statuses` (query + compute);
- ``baseline``: the same model written as a per-facility Python loop (below), on the same
  inputs: the reference the vectorised core is checked against (hours to empty must agree to
  1e-6 h for every facility) and compared with.

Target (issue 14): the status of 10,000 facilities under 200 ms warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from coordination.report_doubts import STOCK_FIELDS, USE_FIELD, doubts_of_check
from coordination.status import STALE_AFTER_H, compute_statuses, current_statuses
from data.db import create_db_engine, upgrade_database
from data.db.models import deliveries
from data.flows import PATIENT_FIELDS
from data.reporting import LOCAL_TZ
from data.schema.live import FacilityStatus, StatusThresholds
from data.schema.registry import DailyReport, Facility, Province
from data.store import ReviewDecision, Store
from data.store.status_inputs import StatusInputs
from data.units import OxygenConversions
from matcher.demand import DemandBasis, reported_demand

AT = dt.datetime(2021, 8, 20, 10, 0, tzinfo=LOCAL_TZ)
_BASES = {
    DemandBasis.DECLARED_USE: "declared use",
    DemandBasis.PATIENTS_X_FLOWS: "patients x flows",
    DemandBasis.UNKNOWN: "unknown",
}


def build_store(folder: Path, n: int, seed: int) -> Store:
    """Return a store with ``n`` generated facilities, their reports and deliveries."""
    rng = random.Random(seed)
    engine = create_db_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    upgrade_database(engine)
    store = Store(engine, clock=lambda: AT.astimezone(dt.UTC))
    store.upsert_provinces([Province("79", "TP Hồ Chí Minh")])
    facilities = [
        Facility(
            facility_id=f"F{i:05d}",
            name=f"Bệnh viện số {i}",
            province_code="79",
            lon=106.6 + rng.random() * 0.2,
            lat=10.7 + rng.random() * 0.2,
            tier=rng.choice((1, 2, 3)),
            district="Quận 5",
            reporting_from=dt.date(2021, 8, 1),
        )
        for i in range(n)
    ]
    store.create_records(facilities, actor="bench")  # type: ignore[arg-type]
    items = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.05:
            continue  # never reports
        days = (16,) if kind < 0.10 else (17, 18, 19)
        tank = rng.random() < 0.3
        for day in days:
            patients = [rng.randint(0, 30), rng.randint(0, 5), rng.randint(0, 3), 0, 0]
            computed = patients[0] * 14.4 + sum(patients[1:]) * 43.2
            declared = computed * rng.choice((0.2, 0.8, 1.0, 1.2, 3.0))
            report = DailyReport(
                facility_id=f"F{i:05d}",
                report_date=dt.date(2021, 8, day),
                oxygen_used_24h_m3=round(declared, 1),
                liquid_stock_l=round(rng.uniform(100, 3000), 0) if tank else None,
                cylinders_full={"40L": rng.randint(0, 80)},
                **dict(zip(PATIENT_FIELDS.values(), patients, strict=True)),
            )
            when = dt.datetime(2021, 8, day, rng.randint(8, 16), tzinfo=LOCAL_TZ)
            items.append((report, when.astimezone(dt.UTC)))
    store.load_generated_reports(items, submitted_by="bench", source="bench_status")
    # 3 % of the newest reports are sent back for correction: the status falls back on the
    # report before (their stock and use are in doubt).
    reported = sorted({r.facility_id for r, _ in items if r.report_date.day == 19})
    for facility_id in rng.sample(reported, k=len(reported) * 3 // 100):
        store.review_report(
            facility_id,
            dt.date(2021, 8, 19),
            decision=ReviewDecision.CORRECTION_REQUESTED,
            reason="số bình không khớp",
            actor="bench",
        )
    stamp = dt.datetime(2021, 8, 19, 1, tzinfo=dt.UTC)
    # One set of keys for every row (an executemany binds the same columns).
    blank = {"received_m3": None, "received_at": None, "eta": None}
    rows: list[dict[str, Any]] = []
    for i in range(n):
        if rng.random() < 0.5:
            rows.append(
                {
                    **blank,
                    "facility_id": f"F{i:05d}",
                    "product": rng.choice(("liquid", "cylinders")),
                    "planned_m3": 120.0,
                    "state": "delivered",
                    "received_m3": rng.choice((60.0, 120.0)),
                    "received_at": (AT - dt.timedelta(hours=rng.uniform(0, 10))).astimezone(dt.UTC),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "version": 2,
                }
            )
        if rng.random() < 0.25:
            rows.append(
                {
                    **blank,
                    "facility_id": f"F{i:05d}",
                    "product": "liquid",
                    "planned_m3": 700.0,
                    "state": "in_transit",
                    "eta": (AT + dt.timedelta(hours=rng.uniform(1, 8))).astimezone(dt.UTC),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "version": 1,
                }
            )
    with engine.begin() as connection:
        connection.execute(insert(deliveries), rows)
    return store


def loop_hours(
    inputs: StatusInputs, at: dt.datetime, conversions: OxygenConversions
) -> dict[str, float | None]:
    """Return hours to empty by facility: the model as a per-facility loop (the baseline)."""
    by_facility: dict[str, list[Any]] = {}
    for report in inputs.reports:
        by_facility.setdefault(report.facility_id, []).append(report)
    received: dict[str, list[Any]] = {}
    for delivery in inputs.received:
        received.setdefault(delivery.facility_id, []).append(delivery)
    out: dict[str, float | None] = {}
    for facility in inputs.facilities:
        stock_report, burn = None, None
        for report in by_facility.get(facility.facility_id, []):
            if (at - report.stock_at).total_seconds() / 3600 > STALE_AFTER_H:
                continue
            pairs, status = doubts_of_check(report.check)
            fields = {field for field, _ in pairs}
            if stock_report is None and not fields & set(STOCK_FIELDS):
                stock_report = report
            if burn is None:
                demand = reported_demand(
                    tuple(zip(PATIENT_FIELDS, report.patients, strict=True)),
                    report.oxygen_used_24h_m3,
                    use_in_doubt="in doubt" if USE_FIELD in fields else "",
                    use_confirmed=status == "accepted",
                )
                if demand.demand_m3 is not None:
                    burn = demand.demand_m3 / 24.0
        if stock_report is None or burn is None:
            out[facility.facility_id] = None
            continue
        stock = conversions.lox_l_to_gas_m3(stock_report.liquid_stock_l or 0.0) + sum(
            conversions.cylinders_to_gas_m3(c, s) for s, c in stock_report.cylinders_full.items()
        )
        clock = stock_report.stock_at
        for delivery in sorted(received.get(facility.facility_id, []), key=lambda d: d.at):
            if delivery.at <= stock_report.stock_at:
                continue
            stock = max(stock - burn * (delivery.at - clock).total_seconds() / 3600, 0.0)
            stock += delivery.gas_m3
            clock = delivery.at
        stock = max(stock - burn * (at - clock).total_seconds() / 3600, 0.0)
        out[facility.facility_id] = stock / burn if burn > 0 else math.inf
    return out


def best_ms(function: Callable[[], Any], repeat: int) -> float:
    """Return the best wall time of ``repeat`` calls after a first one, in ms."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def check_agreement(statuses: list[FacilityStatus], reference: dict[str, float | None]) -> int:
    """Return how many facilities' hours to empty differ from the loop's by more than 1e-6 h."""
    differ = 0
    for status in statuses:
        expected = reference[status.facility_id]
        got = status.hours_to_empty
        if (expected is None) != (got is None) or (
            expected is not None
            and got is not None
            and not ((math.isinf(expected) and math.isinf(got)) or abs(expected - got) <= 1e-6)
        ):
            differ += 1
    return differ


def main() -> None:
    """Build the store, time the status and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--facilities", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    thresholds, conversions = StatusThresholds(), OxygenConversions()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = build_store(Path(folder), args.facilities, args.seed)
        build_s = time.perf_counter() - started
        inputs = store.status_inputs(AT)
        statuses = compute_statuses(inputs, AT, thresholds, conversions)
        differ = check_agreement(statuses, loop_hours(inputs, AT, conversions))
        compute = best_ms(
            lambda: compute_statuses(inputs, AT, thresholds, conversions), args.repeat
        )
        query = best_ms(lambda: store.status_inputs(AT), args.repeat)
        end_to_end = best_ms(lambda: current_statuses(store, AT, thresholds), args.repeat)
        baseline = best_ms(lambda: loop_hours(inputs, AT, conversions), args.repeat)
        store.engine.dispose()
    levels: dict[str, int] = {}
    for status in statuses:
        levels[status.level.value] = levels.get(status.level.value, 0) + 1
    print(
        f"{args.facilities:,} facilities, {len(inputs.reports):,} reports in the window, "
        f"{len(inputs.received):,} deliveries received, {len(inputs.in_transit):,} on their way "
        f"(store built in {build_s:.1f} s)"
    )
    print(f"levels: {levels}")
    print(f"agreement with the per-facility loop: {len(statuses) - differ:,} of {len(statuses):,}")
    print(f"compute (warm, vectorised):   {compute:8.1f} ms   (target < 200 ms)")
    print(f"baseline (per-facility loop): {baseline:8.1f} ms   ({baseline / compute:.1f}x slower)")
    print(f"query (5 set-based queries):  {query:8.1f} ms")
    print(f"end to end (query + compute): {end_to_end:8.1f} ms")
    if differ:
        raise SystemExit(f"{differ} facilities differ from the loop")


if __name__ == "__main__":
    main()
