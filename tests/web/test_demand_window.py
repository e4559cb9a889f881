"""``/demand/provinces`` carries reports forward like a plan's day 0, on the same registry.

The template registry has 79-A (Chợ Rẫy) and 79-B (Gia Định) in province 79, neither with beds.
79-A reports on 19 Aug only, 79-B on 20 Aug: asked for 20 Aug, 79-A's report is one day old and
carried forward (before, the view fetched the day's reports only and 79-A's demand was unknown).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

DAY = dt.date(2021, 8, 20)
REPORT_A = {"report_date": "2021-08-19", "oxygen_used_24h_m3": 650.0, "patients_cannula_mask": 40}
REPORT_B = {"report_date": "2021-08-20", "oxygen_used_24h_m3": 300.0, "patients_high_flow": 5}
SUPPLIER = {
    "supplier_id": "S-TEST",
    "name": "Trạm chiết nạp thử",
    "kind": "filling_station",
    "province_code": "79",
    "lon": 106.70,
    "lat": 10.80,
    "cylinders_per_day": 500,
}


class _MapOfHcmc:
    """A road network stand-in: plan_request_from_store only reads its bounding box."""

    def summary(self) -> dict[str, Any]:
        return {"bbox": [106.3, 10.3, 107.1, 11.2]}


def test_province_demand_carries_yesterday_forward_like_the_plan(app: Any, as_user: Any) -> None:
    from coordination.planning import _project_demand as plan_demand
    from coordination.planning import plan_request_from_store

    assert as_user("repA").post("/facilities/79-A/reports", json=REPORT_A).status_code == 201
    assert as_user("repB").post("/facilities/79-B/reports", json=REPORT_B).status_code == 201
    assert as_user("admin").post("/suppliers", json=SUPPLIER).status_code == 201
    response = as_user("coord79").get(f"/demand/provinces?date={DAY}")
    assert response.status_code == 200
    (row,) = response.get_json()["rows"]
    by_id = {d["facility_id"]: d for d in row["facility_demands"]}
    carried = by_id["79-A"]
    assert (carried["report_date"], carried["carried_forward_days"]) == ("2021-08-19", 1)
    assert carried["name"] == "Bệnh viện Chợ Rẫy" and carried["demand_m3_per_day"] == 650.0
    assert row["facilities_carried_forward"] == 1 and row["facilities_unknown"] == 0
    # Declared use of the day's own reports only (79-B), as before.
    assert row["oxygen_used_m3_per_day"] == 300.0 and row["facilities_reporting"] == 1
    assert row["demand_m3_per_day"] == pytest.approx(650.0 + 300.0)

    # The plan starting the next day, from the same store: its day 0 is the same figure.
    request = plan_request_from_store(
        app.extensions["oxyroute"].store,
        SimpleNamespace(region_id="hcmc", name="Hồ Chí Minh", suppliers=None),
        _MapOfHcmc(),
        start_date=DAY + dt.timedelta(days=1),
        horizon_days=1,
    )
    plan_day0 = {
        f.facility_id: f for f in plan_demand(request) if f.facility_id in ("79-A", "79-B")
    }
    assert set(plan_day0) == {"79-A", "79-B"}
    for facility_id, forecast in plan_day0.items():
        assert str(forecast.demand_basis) == by_id[facility_id]["basis"]
        assert forecast.carried_forward_days == by_id[facility_id]["carried_forward_days"]
    assert sum(f.demand_m3_per_day[0] for f in plan_day0.values()) == pytest.approx(
        row["demand_m3_per_day"]
    )


def test_province_demand_does_not_take_a_flagged_use_at_face_value(as_user: Any) -> None:
    """A use with no patients is flagged: unknown in the province figure until it is accepted."""
    no_patients = {"report_date": "2021-08-20", "oxygen_used_24h_m3": 300.0}
    answer = as_user("repB").post("/facilities/79-B/reports", json=no_patients)
    assert answer.status_code == 201 and answer.get_json()["warnings"]

    def demand_of_79b() -> dict[str, Any]:
        response = as_user("coord79").get(f"/demand/provinces?date={DAY}")
        assert response.status_code == 200
        (row,) = response.get_json()["rows"]
        return next(d for d in row["facility_demands"] if d["facility_id"] == "79-B")

    doubted = demand_of_79b()
    assert doubted["basis"] == "unknown" and doubted["demand_m3_per_day"] is None
    accepted = as_user("coord79").post(
        "/review/reports/79-B/2021-08-20/accept", json={"reason": "khoa hồi sức dùng oxy bình"}
    )
    assert accepted.status_code == 201, accepted.get_json()
    trusted = demand_of_79b()
    assert trusted["basis"] == "declared_use" and trusted["demand_m3_per_day"] == 300.0
