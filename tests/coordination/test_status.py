"""Hours to empty checked by hand: deliveries since the report, a stale report, a stock in doubt.

The hand case, at 2021-08-20 10:00 Asia/Ho_Chi_Minh (03:00 UTC), default conversions
(1 L LOX = 1.141 kg x 0.7 m³/kg = 0.7987 m³; a 40 L cylinder = 6 m³), thresholds 8 h / 24 h:

- **A** reported on 19 Aug at 15:00: 200 L liquid (159.74 m³) + 10 x 40 L (60 m³) = 219.74 m³;
  20 patients on cannula/mask, declared use 240 m³/24 h, inside the plausible band
  (0.5 x 20 x 8.064 = 80.64 to 2 x 20 x 14.4 = 576): burn 10 m³/h, "declared use". A liquid
  delivery of 100 m³ arrived at 06:00. 19 h later: 219.74 + 100 - 190 = 129.74 m³, 12.974 h:
  warning. Tank first: liquid 159.74 + 100 - 190 = 69.74, cylinders 60. A tanker of 300 m³ is on
  its way, ETA 12:30.
- **C** reported on 19 Aug at 16:00: 5 x 40 L = 30 m³; 2 high-flow patients, declared 0 (below
  the band 0.5 x 2 x 20.448 = 20.448): patients x flows 2 x 43.2 = 86.4 m³/day = 3.6 m³/h. It ran
  dry at 00:20 (30 / 3.6 = 8.33 h), then received 6 cylinders (36 m³) at 07:00: 36 - 3 x 3.6 =
  25.2 m³ now (not 30 + 36 - 64.8 = 1.2: the hours it had nothing are not burnt twice), 7.0 h:
  critical.
- **B** last reported on 16 Aug at 15:00: 91 h old, beyond the 72 h limit: unknown, not zero.
- **D** never reported: unknown.
- **E** reported on 19 Aug (09:00) a stock flagged and unreviewed (5,000 L, the rule
  ``history.stock_jump``): that stock is skipped, the report of 18 Aug (15:00, 20 x 40 L = 120
  m³, use 96 m³/24 h = 4 m³/h with 10 patients on cannula/mask) is used: 43 h later 120 - 172 <
  0, so 0 m³, 0 h: critical. The burn comes from the newest report (19 Aug, its use not in
  doubt: 96 m³ too).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordination.status import (
    STALE_AFTER_H,
    act_first_lines,
    burn_per_day,
    compute_statuses,
)
from data.flows import PATIENT_FIELDS
from data.plausibility import Bound, Finding, Severity
from data.reporting import LOCAL_TZ
from data.schema.live import Level, StatusThresholds
from data.store.reviews import ReportCheck
from data.store.status_inputs import (
    StatusDelivery,
    StatusFacility,
    StatusInputs,
    StatusReport,
    stock_instant,
)
from data.units import OxygenConversions
from matcher.demand import reported_demand

AT = dt.datetime(2021, 8, 20, 10, 0, tzinfo=LOCAL_TZ)
CONVERSIONS = OxygenConversions()
THRESHOLDS = StatusThresholds()


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2021, 8, day, hour, minute, tzinfo=LOCAL_TZ)


def report(
    facility_id: str,
    day: int,
    hour: int,
    *,
    liquid_l: float | None = None,
    cylinders: int = 0,
    used_m3: float,
    patients: tuple[int, ...] = (0, 0, 0, 0, 0),
    flags: tuple[Finding, ...] = (),
) -> StatusReport:
    report_date = dt.date(2021, 8, day)
    return StatusReport(
        facility_id=facility_id,
        report_date=report_date,
        revision=1,
        stock_at=stock_instant(report_date, local(day, hour)),
        liquid_stock_l=liquid_l,
        cylinders_full={"40L": cylinders} if cylinders else {},
        oxygen_used_24h_m3=used_m3,
        patients=patients,
        check=ReportCheck(facility_id, report_date, 1, flags, None),
    )


STOCK_FLAG = Finding(
    "history.stock_jump",
    Severity.FLAG,
    "liquid_stock_l",
    5000.0,
    1000.0,
    Bound.ABOVE,
    "tồn kho tăng bất thường",
    "stock jumped",
)


def hand_inputs() -> StatusInputs:
    facilities = tuple(
        StatusFacility(fid, name, "79")
        for fid, name in (
            ("A", "Bệnh viện Chợ Rẫy"),
            ("B", "Bệnh viện Nhân dân Gia Định"),
            ("C", "Trạm y tế Phường 5"),
            ("D", "Bệnh viện dã chiến số 1"),
            ("E", "Bệnh viện Quận 5"),
        )
    )
    reports = (
        report("A", 19, 15, liquid_l=200.0, cylinders=10, used_m3=240.0, patients=(20, 0, 0, 0, 0)),
        report("B", 16, 15, cylinders=40, used_m3=100.0, patients=(10, 0, 0, 0, 0)),
        report("C", 19, 16, cylinders=5, used_m3=0.0, patients=(0, 2, 0, 0, 0)),
        report(
            "E",
            19,
            9,
            liquid_l=5000.0,
            used_m3=96.0,
            patients=(10, 0, 0, 0, 0),
            flags=(STOCK_FLAG,),
        ),
        report("E", 18, 15, cylinders=20, used_m3=96.0, patients=(10, 0, 0, 0, 0)),
    )
    received = (
        StatusDelivery("A", "liquid", 100.0, local(20, 6)),
        StatusDelivery("C", "cylinders", 36.0, local(20, 7)),
        # before A's report: already in its stock, not counted again
        StatusDelivery("A", "liquid", 500.0, local(19, 9)),
    )
    in_transit = (
        StatusDelivery("A", "liquid", 200.0, local(20, 14)),
        StatusDelivery("A", "liquid", 100.0, local(20, 12, 30)),
    )
    last = {
        "A": (dt.date(2021, 8, 19), local(19, 15)),
        "B": (dt.date(2021, 8, 16), local(16, 15)),
        "C": (dt.date(2021, 8, 19), local(19, 16)),
        "E": (dt.date(2021, 8, 19), local(19, 9)),
    }
    return StatusInputs(AT, facilities, reports, received, in_transit, last)


@pytest.fixture
def statuses():  # type: ignore[no-untyped-def]
    return {s.facility_id: s for s in compute_statuses(hand_inputs(), AT, THRESHOLDS, CONVERSIONS)}


def test_deliveries_since_the_report_add_and_earlier_ones_do_not(statuses) -> None:  # type: ignore[no-untyped-def]
    a = statuses["A"]
    assert a.burn_basis == "declared use"
    assert a.burn_m3_per_h == pytest.approx(10.0)
    assert a.stock_m3 == pytest.approx(219.74 + 100 - 190, abs=1e-3)
    assert a.hours_to_empty == pytest.approx(12.974, abs=1e-3)
    assert a.level is Level.WARNING
    assert a.liquid_stock_m3 == pytest.approx(69.74, abs=1e-3)
    assert a.cylinders_stock_m3 == pytest.approx(60.0)
    assert a.report_date == dt.date(2021, 8, 19)
    assert a.report_age_h == pytest.approx(19.0)
    assert a.in_transit_m3 == pytest.approx(300.0)
    assert a.next_arrival == local(20, 12, 30)
    assert a.next_arrival is not None and a.next_arrival.utcoffset() == dt.timedelta(hours=7)
    assert a.name == "Bệnh viện Chợ Rẫy"


def test_a_facility_that_ran_dry_holds_what_arrived_less_use_since(statuses) -> None:  # type: ignore[no-untyped-def]
    c = statuses["C"]
    assert c.burn_basis == "patients x flows"
    assert c.burn_m3_per_h == pytest.approx(3.6)
    assert c.stock_m3 == pytest.approx(25.2)
    assert c.hours_to_empty == pytest.approx(7.0)
    assert c.level is Level.CRITICAL
    assert c.liquid_stock_m3 == 0.0
    assert c.cylinders_stock_m3 == pytest.approx(25.2)


def test_a_stale_report_gives_unknown_never_zero(statuses) -> None:  # type: ignore[no-untyped-def]
    b = statuses["B"]
    assert b.level is Level.UNKNOWN
    assert b.hours_to_empty is None and b.stock_m3 is None
    assert b.report_date == dt.date(2021, 8, 16)
    assert b.report_age_h == pytest.approx(91.0)
    assert b.report_age_h > STALE_AFTER_H
    d = statuses["D"]
    assert d.level is Level.UNKNOWN and d.report_date is None and d.report_age_h is None
    assert d.burn_basis == "unknown"


def test_a_stock_in_doubt_falls_back_to_the_report_before(statuses) -> None:  # type: ignore[no-untyped-def]
    e = statuses["E"]
    assert e.report_date == dt.date(2021, 8, 18)
    assert e.report_age_h == pytest.approx(43.0)
    assert e.stock_m3 == 0.0
    assert e.hours_to_empty == 0.0
    assert e.level is Level.CRITICAL


def test_most_urgent_first() -> None:
    ordered = compute_statuses(hand_inputs(), AT, THRESHOLDS, CONVERSIONS)
    assert [s.facility_id for s in ordered] == ["E", "C", "A", "D", "B"]


def test_thresholds_per_province_change_the_level() -> None:
    wide = StatusThresholds(critical_hours=13.0, warning_hours=48.0)
    by_id = {
        s.facility_id: s
        for s in compute_statuses(
            hand_inputs(), AT, THRESHOLDS, CONVERSIONS, thresholds_by_province={"79": wide}
        )
    }
    assert by_id["A"].level is Level.CRITICAL


def test_no_use_means_never_empty() -> None:
    inputs = StatusInputs(
        AT,
        (StatusFacility("Z", "Trạm y tế", "79"),),
        (report("Z", 20, 8, cylinders=3, used_m3=0.0),),
        (),
        (),
        {},
    )
    (status,) = compute_statuses(inputs, AT, THRESHOLDS, CONVERSIONS)
    assert status.hours_to_empty == float("inf")
    assert status.level is Level.OK
    assert status.stock_m3 == pytest.approx(18.0)


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compute_statuses(hand_inputs(), AT.replace(tzinfo=None), THRESHOLDS, CONVERSIONS)


# ------------------------------------------------------------------------- properties

counts = st.tuples(*[st.integers(0, 40)] * len(PATIENT_FIELDS))


@given(
    st.lists(
        st.tuples(counts, st.floats(0, 5000), st.booleans(), st.booleans()),
        min_size=1,
        max_size=20,
    )
)
@settings(max_examples=200, deadline=None)
def test_burn_matches_the_demand_rule_of_plans(rows) -> None:  # type: ignore[no-untyped-def]
    use, basis = burn_per_day(
        np.array([r[0] for r in rows], dtype=np.float64),
        np.array([r[1] for r in rows]),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
    )
    for k, (patients, declared, in_doubt, accepted) in enumerate(rows):
        expected = reported_demand(
            tuple(zip(PATIENT_FIELDS, patients, strict=True)),
            declared,
            use_in_doubt="flag x, unreviewed" if in_doubt else "",
            use_confirmed=accepted,
        )
        names = {"declared_use": 0, "patients_x_flows": 1, "unknown": 2}
        assert basis[k] == names[expected.basis.value]
        if expected.demand_m3 is None:
            assert np.isnan(use[k])
        else:
            assert use[k] == pytest.approx(expected.demand_m3)


@given(
    st.lists(st.tuples(st.integers(-30, 20), st.floats(0, 200)), max_size=6),
    st.floats(0, 300),
    st.floats(0, 300),
    st.integers(0, 30),
)
@settings(max_examples=200, deadline=None)
def test_more_delivered_never_lowers_hours_to_empty(  # type: ignore[no-untyped-def]
    deliveries, extra_m3, used_m3, extra_hour
) -> None:
    def hours(extra: float) -> float:
        received = [
            StatusDelivery("A", "cylinders", m3, AT + dt.timedelta(hours=h))
            for h, m3 in deliveries
            if h < 0
        ]
        if extra:
            received.append(
                StatusDelivery("A", "liquid", extra, AT - dt.timedelta(hours=extra_hour))
            )
        inputs = StatusInputs(
            AT,
            (StatusFacility("A", "A", "79"),),
            (
                report(
                    "A",
                    19,
                    8,
                    cylinders=10,
                    liquid_l=100.0,
                    used_m3=used_m3,
                    patients=(30, 0, 0, 0, 0),
                ),
            ),
            tuple(received),
            (),
            {},
        )
        (status,) = compute_statuses(inputs, AT, THRESHOLDS, CONVERSIONS)
        assert status.stock_m3 is not None and status.stock_m3 >= 0
        assert status.liquid_stock_m3 is not None and status.liquid_stock_m3 >= 0
        assert status.cylinders_stock_m3 is not None and status.cylinders_stock_m3 >= -1e-9
        assert status.hours_to_empty is not None
        return status.hours_to_empty

    assert hours(extra_m3) >= hours(0.0) - 1e-9


def test_act_first_lists_the_shortest_with_what_arrives() -> None:
    ordered = compute_statuses(hand_inputs(), AT, THRESHOLDS, CONVERSIONS)
    planned = {"C": [(local(20, 11), 60.0)]}
    lines = act_first_lines(ordered, planned, limit=3)
    text = "\n".join(lines)
    assert lines[0].startswith("Act first")
    body = lines[1:]
    assert len(body) == 3
    assert body[0].startswith("1. Bệnh viện Quận 5 (E)")
    assert "empty now" in body[0] and "nothing planned" in body[0]
    assert body[1].startswith("2. Trạm y tế Phường 5 (C)")
    assert "7.0 h" in body[1] and "60 m³" in body[1] and "11:00" in body[1]
    assert "in time" in body[1]
    assert "Bệnh viện Chợ Rẫy (A)" in body[2]
    assert "300 m³ on its way" in body[2] and "12:30" in body[2]
    assert "Gia Định" not in text  # beyond the limit
