"""Allocation: the hand-checkable optimum, reasons, modes, determinism and the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from data.errors import InvalidInputError
from data.schema.allocation import AllocationOptions, AllocationPlan, UnmetReason
from matcher.allocation import (
    allocate_supply,
    allocate_supply_matrix,
    travel_matrix_from_seconds,
)
from matcher.problem_json import plan_to_json, problem_from_json
from tests.matcher.national_instance import generate_instance


def _solve(document: dict[str, Any]) -> AllocationPlan:
    request = problem_from_json(document)
    return allocate_supply(request.problem, conversions=request.conversions)


def _delivered(plan: AllocationPlan) -> dict[tuple[str, str, int, str], float]:
    return {
        (f.supplier_id, f.facility_id, f.day, f.product.value): f.quantity_m3 for f in plan.flows
    }


def test_hand_instance_optimum(hand_document: dict[str, Any]) -> None:
    plan = _solve(hand_document)
    assert plan.solver_status == "optimal"
    assert _delivered(plan) == {
        ("P", "H1", 0, "bulk_liquid"): 50.0,
        ("P", "H2", 0, "bulk_liquid"): 50.0,
        ("C", "H1", 0, "cylinder"): 10.0,
        ("C", "H3", 0, "cylinder"): 20.0,
        ("P", "H1", 1, "bulk_liquid"): 60.0,
        ("P", "H2", 1, "bulk_liquid"): 40.0,
        ("C", "H3", 1, "cylinder"): 10.0,
    }
    assert [(u.facility_id, u.day, u.unmet_m3) for u in plan.unmet] == [
        ("H4", 0, 15.0),
        ("H2", 1, 10.0),
        ("H3", 1, 10.0),
        ("H4", 1, 15.0),
    ]
    assert {u.reason for u in plan.unmet} == {UnmetReason.NO_CAPACITY_LEFT}
    assert plan.totals.transport_m3_s == 201_000
    assert (plan.totals.demand_m3, plan.totals.delivered_m3, plan.totals.unmet_m3) == (
        290.0,
        240.0,
        50.0,
    )
    assert plan.totals.lower_bound == plan.totals.objective


def test_flows_are_stated_in_tonnes_and_cylinders(hand_document: dict[str, Any]) -> None:
    flows = {(f.facility_id, f.day, f.product.value): f for f in _solve(hand_document).flows}
    bulk = flows[("H1", 0, "bulk_liquid")]
    assert bulk.quantity == pytest.approx(50 / 700, abs=1e-4) and bulk.unit == "t_lox"
    cylinders = flows[("H3", 0, "cylinder")]  # 20 m³ / 6 m³ per 40 L cylinder, rounded up
    assert (cylinders.quantity, cylinders.unit) == (4, "cylinders_40L")


def test_unreachable_facility_is_unmet_with_reason(document: dict[str, Any]) -> None:
    document["travel_time_s"][1][3] = None  # H4 now has no road from C, its only product source
    plan = _solve(document)
    h4 = [u for u in plan.unmet if u.facility_id == "H4"]
    assert [(u.day, u.unmet_m3, u.reason) for u in h4] == [
        (0, 15.0, UnmetReason.UNREACHABLE),
        (1, 15.0, UnmetReason.UNREACHABLE),
    ]


def test_max_delivery_time_reason(document: dict[str, Any]) -> None:
    document["options"] = {"max_delivery_time_s": 500}  # H3 is 600 s from C
    plan = _solve(document)
    h3 = {u.day: u for u in plan.unmet if u.facility_id == "H3"}
    assert h3[0].reason is UnmetReason.BEYOND_MAX_DELIVERY_TIME
    assert "600 s" in h3[0].detail


def test_no_compatible_product_reason(document: dict[str, Any]) -> None:
    document["suppliers"][1]["products"] = {"bulk_liquid": {"capacity_m3_per_day": 5}}
    plan = _solve(document)
    assert {u.reason for u in plan.unmet if u.facility_id in ("H3", "H4")} == {
        UnmetReason.NO_COMPATIBLE_PRODUCT
    }


def test_receiving_limit_caps_delivery_and_is_explained(document: dict[str, Any]) -> None:
    document["facilities"][1]["receiving_limit_m3_per_day"] = {"bulk_liquid": 30}
    plan = _solve(document)
    assert max(f.quantity_m3 for f in plan.flows if f.facility_id == "H2") == 30.0
    h2 = [u for u in plan.unmet if u.facility_id == "H2"]
    assert h2
    assert all("receiving limit" in u.detail for u in h2)


def test_priority_override_changes_who_is_served(document: dict[str, Any]) -> None:
    document["facilities"][3]["priority"] = 99  # H4 now before H3 for the scarce cylinders
    plan = _solve(document)
    unmet = {(u.facility_id, u.day): u.unmet_m3 for u in plan.unmet}
    # Day 1 has 10 m³ of cylinders: all to H4 (short 5), none to H3 (short 20).
    assert (unmet[("H4", 1)], unmet[("H3", 1)]) == (5.0, 20.0)


def test_carry_over_moves_spare_supply_ahead(document: dict[str, Any]) -> None:
    base = _solve(document).totals.unmet_m3
    document["options"] = {"carry_over": True}
    plan = _solve(document)
    # Day 0 has no spare supply either (130 < 145), so carry-over cannot help here...
    assert plan.totals.unmet_m3 == base
    document["suppliers"][1]["products"]["cylinder"]["capacity_m3_per_day"] = [60, 0]
    plan = _solve(document)
    # ...but with 60 m³ of cylinders on day 0 and none on day 1, stock is carried to day 1.
    h3 = [f for f in plan.flows if f.facility_id == "H3"]
    assert sum(f.quantity_m3 for f in h3) == 40.0
    assert {f.day for f in h3} == {0}


def test_fairness_lowers_the_largest_unmet_share(document: dict[str, Any]) -> None:
    default = _solve(document)
    document["options"] = {"fairness": True}
    fair = _solve(document)
    assert fair.solver == "glop_fairness"
    assert default.totals.max_unmet_share == 1.0  # H4 gets nothing
    # Day 1: 10 m³ of cylinders for H3 + H4 (35 m³, cylinders only): 25/35 unmet each in an LP,
    # but plans are in quanta of 0.1 m³: H3 short 14.3 of 20 (0.715), H4 10.7 of 15 (0.7133) is
    # the best (14.2 of 20 leaves H4 10.8 of 15, 0.72).
    assert fair.totals.max_unmet_share == pytest.approx(0.715, abs=1e-9)
    day_1 = {entry.facility_id: entry.unmet_m3 for entry in fair.unmet if entry.day == 1}
    assert day_1["H3"] == pytest.approx(14.3) and day_1["H4"] == pytest.approx(10.7)
    assert fair.totals.unmet_m3 == pytest.approx(default.totals.unmet_m3, abs=1e-4)


def test_single_sourcing_uses_one_supplier_per_facility_product(
    document: dict[str, Any],
) -> None:
    document["suppliers"].append(
        {"supplier_id": "C2", "products": {"cylinder": {"capacity_m3_per_day": 30}}}
    )
    document["travel_time_s"].append([800, 800, 700, 700])
    document["options"] = {"single_sourcing": True}
    plan = _solve(document)
    sources: dict[tuple[str, str], set[str]] = {}
    for flow in plan.flows:
        sources.setdefault((flow.facility_id, flow.product.value), set()).add(flow.supplier_id)
    assert all(len(s) == 1 for s in sources.values())
    assert plan.totals.objective >= plan.totals.lower_bound


def test_same_input_gives_the_same_plan(hand_document: dict[str, Any]) -> None:
    first, second = plan_to_json(_solve(hand_document)), plan_to_json(_solve(hand_document))
    first.pop("run_time_s")
    second.pop("run_time_s")
    assert first == second


def test_demand_rounds_up_and_capacity_down_to_the_resolution() -> None:
    plan = allocate_supply_matrix(
        ["S"],
        ["F"],
        np.array([[10]]),
        np.array([[[0.0], [1.06]]]),
        np.array([[1.01]]),
        options=AllocationOptions(quantity_resolution_m3=0.1),
    )
    assert plan.totals.demand_m3 == pytest.approx(1.1)
    assert plan.totals.delivered_m3 == pytest.approx(1.0)
    assert plan.totals.unmet_m3 == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # wrong matrix shape (one supplier missing)
        ({"travel_time_s": np.zeros((2, 1), np.int64)}, r"travel_time_s: shape \(2, 1\)"),
        # NaN demand
        ({"demand_m3": np.array([[np.nan]])}, r"demand_m3\['F', day 0\]: nan"),
        # negative capacity
        ({"capacity_m3": -np.ones((1, 2, 1))}, r"capacity_m3\['S', bulk_liquid, day 0\]: -1.0"),
        # priority below one
        ({"priority": np.array([0])}, "priority: must be integers >= 1"),
        # more quanta than int64 holds: wrapped around to a plan without demand before
        (
            {"demand_m3": np.array([[1e20]])},
            r"demand_m3: 1e\+20 m³ in all \(largest demand_m3\['F'",
        ),
        (
            {"capacity_m3": np.full((1, 2, 1), 1e308)},
            r"capacity_m3: inf m³ in all \(largest capacity_m3\['S', bulk_liquid, day 0\]",
        ),
    ],
)
def test_matrix_core_refuses_bad_arrays(change: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "travel_time_s": np.array([[5]]),
        "capacity_m3": np.ones((1, 2, 1)),
        "demand_m3": np.ones((1, 1)),
    }
    priority = change.pop("priority", None)
    arguments.update(change)
    with pytest.raises(InvalidInputError, match=message):
        allocate_supply_matrix(["S"], ["F"], priority=priority, **arguments)


@pytest.mark.parametrize("resolution", [1e-300, 1e-7, 1e4])
def test_an_extreme_resolution_is_refused(resolution: float) -> None:
    # 1 m³ in quanta of 1e-300 m³ cast to int64 gave a plan with demand 0 and nothing unmet;
    # with quanta of 1e10 m³ a demand of 5 m³ rounded to no quantum: a plan without demand.
    with pytest.raises(InvalidInputError, match=r"quantity_resolution_m3: must be from 0\.000001"):
        AllocationOptions(quantity_resolution_m3=resolution)


def test_too_many_quanta_are_refused_not_wrapped_around() -> None:
    # 1e13 m³ in quanta of 1e-6 m³ is beyond exact integer solving: refused, not wrapped.
    with pytest.raises(InvalidInputError, match=r"too many quanta of quantity_resolution_m3=1e-06"):
        allocate_supply_matrix(
            ["S"],
            ["F"],
            np.array([[5]]),
            np.ones((1, 2, 1)),
            np.full((1, 1), 1e13),
            options=AllocationOptions(quantity_resolution_m3=1e-6),
        )


def test_a_priority_beyond_int64_is_refused(document: dict[str, Any]) -> None:
    # It was an OverflowError in np.array(..., dtype=np.int64).
    document["facilities"][0]["priority"] = 2**63
    with pytest.raises(
        InvalidInputError, match=r"facilities\['H1'\]\.priority: 9223372036854775808"
    ):
        _solve(document)


def test_too_many_quanta_name_the_problem_fields(document: dict[str, Any]) -> None:
    # The matrix core named its arrays (demand_m3, capacity_m3), not the problem's fields.
    document["facilities"][1]["demand_m3_per_day"] = 1e20
    with pytest.raises(
        InvalidInputError,
        match=r"facilities\['H2'\]\.demand_m3_per_day: 1e\+20 on day 0 .* too many quanta",
    ):
        _solve(document)
    document["facilities"][1]["demand_m3_per_day"] = 10
    document["suppliers"][1]["products"]["cylinder"]["capacity_m3_per_day"] = 1e19
    with pytest.raises(
        InvalidInputError,
        match=r"suppliers\['C'\]\.products\.cylinder: capacity 1e\+19 m³ on day 0 .* too many",
    ):
        _solve(document)


def test_quantities_whose_sum_overflows_are_refused_without_warnings(
    document: dict[str, Any],
) -> None:
    # 1e308 m³ twice sums to inf: the check warned "overflow encountered in reduce" first.
    document["facilities"][0]["demand_m3_per_day"] = 1e308
    document["facilities"][1]["demand_m3_per_day"] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidInputError, match=r"demand_m3_per_day: 1e\+308 on day 0 \(inf"):
            _solve(document)


def test_travel_seconds_beyond_int64_from_a_provider_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"travel_time_s\[0\]\[1\]: 1e\+300 seconds is too"):
        travel_matrix_from_seconds([[5, 1e300]], 1, 2)


def test_fairness_states_no_zero_flows() -> None:
    # The LP left about 1e-6 of a quantum on an arc, stated as a flow of 0.0 m³ (-0.0 cylinders).
    plan = _solve(
        {
            "horizon_days": 3,
            "suppliers": [
                {"supplier_id": "S1", "products": {"cylinder": {"capacity_m3_per_day": 63.7}}},
                {
                    "supplier_id": "S2",
                    "products": {"cylinder": {"capacity_m3_per_day": [18.262, 36.771, 27.3]}},
                },
            ],
            "facilities": [
                {
                    "facility_id": "F0",
                    "demand_m3_per_day": [19, 77.144, 118.078],
                    "accepted_products": ["cylinder"],
                },
                {
                    "facility_id": "F2",
                    "demand_m3_per_day": [60.0, 0, 54.0],
                    "accepted_products": ["cylinder"],
                },
            ],
            "travel_time_s": [[None, 5421], [8333, 2442]],
            "options": {"fairness": True},
        }
    )
    assert plan.flows and all(flow.quantity_m3 > 0 and flow.quantity > 0 for flow in plan.flows)
    assert all(entry.unmet_m3 > 0 for entry in plan.unmet)
    assert plan.totals.delivered_m3 + plan.totals.unmet_m3 == pytest.approx(plan.totals.demand_m3)


def test_fairness_with_an_unlimited_supplier(document: dict[str, Any]) -> None:
    # Bulk liquid without limit: GLOP returned ABNORMAL at once on a supply 1e16 quanta above the
    # demand, reported as a time limit (SolverTimeoutError) instead of a plan.
    document["suppliers"][0]["products"] = {"bulk_liquid": {"capacity_m3_per_day": 1e15}}
    document["options"] = {"fairness": True}
    plan = _solve(document)
    assert plan.solver_status == "optimal"
    # Only the cylinders are short: 35 m³ a day wanted by H3 and H4, 30 and 10 m³ offered.
    assert plan.totals.unmet_m3 == pytest.approx(30, abs=1e-3)
    assert sum(f.quantity_m3 for f in plan.flows if f.supplier_id == "P") == pytest.approx(220)


def test_fairness_with_an_absurd_demand_is_a_plan(document: dict[str, Any]) -> None:
    # One facility asking for 2.1e9 m³ a day: GLOP called the LP (always feasible: demand may go
    # unmet) infeasible on quantities 10 orders apart, an error instead of a plan; then the last
    # stage's slack, a millionth of the unmet quantity, let it drop every delivery.
    document["facilities"][1]["demand_m3_per_day"] = [2_147_483_648, 2_147_483_648]
    document["options"] = {"fairness": True}
    plan = _solve(document)
    assert plan.solver_status == "optimal"
    # Every m³ offered is still delivered: 2 x 100 bulk, 30 + 10 cylinders.
    assert plan.totals.delivered_m3 == pytest.approx(240, abs=1e-3)


def test_matrix_provider_feeds_the_travel_times(hand_document: dict[str, Any]) -> None:
    document = json.loads(json.dumps(hand_document))
    matrix = document.pop("travel_time_s")
    for position, item in enumerate(document["suppliers"]):
        item["lonlat"] = [106.0 + position, 10.0]
    for position, item in enumerate(document["facilities"]):
        item["lonlat"] = [106.5, 10.0 + position / 10]
    request = problem_from_json(document)
    calls: list[tuple[int, int]] = []

    def provider(origins: Any, destinations: Any) -> Any:
        calls.append((len(origins), len(destinations)))
        return [[float("inf") if v is None else v for v in row] for row in matrix]

    plan = allocate_supply(request.problem, matrix_provider=provider)
    assert calls == [(2, 4)]
    assert plan.totals.transport_m3_s == 201_000
    with pytest.raises(InvalidInputError, match="travel_time_s: missing"):
        allocate_supply(request.problem)


def test_cli_allocate_writes_the_plan(hand_document: dict[str, Any], tmp_path: Path) -> None:
    problem_file = tmp_path / "problem.json"
    problem_file.write_text(json.dumps(hand_document), encoding="utf-8")
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, ["allocate", str(problem_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["totals"]["unmet_m3"] == 50.0
    assert plan["unmet"][0] == {
        "facility_id": "H4",
        "day": 0,
        "unmet_m3": 15.0,
        "demand_m3": 15.0,
        "reason": "no_capacity_left",
        "detail": "1 supplier(s) within reach had 30 m³ on day 0, all used by this and "
        "higher-priority or nearer facilities",
    }


def test_cli_refuses_coordinates_without_matrix(
    hand_document: dict[str, Any],
    tmp_path: Path,
) -> None:
    document = json.loads(json.dumps(hand_document))
    document.pop("travel_time_s")
    problem_file = tmp_path / "problem.json"
    problem_file.write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(main, ["allocate", str(problem_file)])
    assert result.exit_code == 2
    assert "travel_time_s: missing; give a travel-time matrix" in result.output
    assert "--region" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # not UTF-8 (a traceback before)
        (b'{"horizon_days": "\xff"}', "problem.json: not UTF-8 text (byte 18: invalid start byte)"),
        # not an object
        (b"[1, 2]", "document: must be a JSON object, got list"),
        # nested too deeply for the parser (a RecursionError before)
        (b"[" * 100_000 + b"]" * 100_000, "problem JSON: nested too deeply to read"),
    ],
)
def test_cli_refuses_a_bad_problem_file_with_status_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    problem_file = tmp_path / "problem.json"
    problem_file.write_bytes(content)
    result = CliRunner().invoke(main, ["allocate", str(problem_file)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_cli_reads_a_problem_file_with_a_byte_order_mark(
    hand_document: dict[str, Any], tmp_path: Path
) -> None:
    problem_file = tmp_path / "problem.json"
    problem_file.write_bytes(json.dumps(hand_document, ensure_ascii=False).encode("utf-8-sig"))
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, ["allocate", str(problem_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["totals"]["unmet_m3"] == 50.0


def test_cli_reports_an_unwritable_out_file(hand_document: dict[str, Any], tmp_path: Path) -> None:
    problem_file = tmp_path / "problem.json"
    problem_file.write_text(json.dumps(hand_document), encoding="utf-8")
    out = tmp_path / "missing" / "plan.json"
    result = CliRunner().invoke(main, ["allocate", str(problem_file), "--out", str(out)])
    assert result.exit_code == 2 and "cannot write the plan there" in result.output


def test_cli_computes_road_times_from_coordinates_with_a_region(tmp_path: Path) -> None:
    # Two District 5 hospitals and one supplier on the map, no matrix: road times come from --region.
    document = {
        "horizon_days": 1,
        "suppliers": [
            {
                "supplier_id": "S",
                "lonlat": [106.6745, 10.7580],
                "products": {"cylinder": {"capacity_m3_per_day": 100}},
            }
        ],
        "facilities": [
            {
                "facility_id": "NTP",
                "lonlat": [106.66987, 10.75499],
                "demand_m3_per_day": 30,
                "accepted_products": ["cylinder"],
            },
            {
                "facility_id": "NT",
                "lonlat": [106.67494, 10.75674],
                "demand_m3_per_day": 20,
                "accepted_products": ["cylinder"],
            },
        ],
    }
    problem_file = tmp_path / "problem.json"
    problem_file.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        main, ["allocate", str(problem_file), "--region", "hcmc_d5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["totals"]["unmet_m3"] == 0
    assert all(0 < flow["travel_time_s"] < 900 for flow in plan["flows"])


def test_single_sourcing_per_day_may_change_supplier_between_days(
    document: dict[str, Any],
) -> None:
    # C2 has cylinders only on day 1; per day, H1 may take them from C on day 0 and C2 on day 1.
    document["suppliers"].append(
        {"supplier_id": "C2", "products": {"cylinder": {"capacity_m3_per_day": [0, 30]}}}
    )
    document["travel_time_s"].append([800, 800, 700, 700])
    document["options"] = {"single_sourcing": True, "single_sourcing_scope": "day"}
    plan = _solve(document)
    per_day: dict[tuple[str, str, int], set[str]] = {}
    for flow in plan.flows:
        per_day.setdefault((flow.facility_id, flow.product.value, flow.day), set()).add(
            flow.supplier_id
        )
    assert all(len(s) == 1 for s in per_day.values())
    horizon = _solve({**document, "options": {"single_sourcing": True}})
    # Per day is the weaker rule, so it never serves less than one supplier for the horizon.
    assert plan.totals.unmet_m3 <= horizon.totals.unmet_m3
    assert plan.totals.lower_bound == horizon.totals.lower_bound <= plan.totals.objective


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # unknown single-sourcing scope
        ({"single_sourcing_scope": "week"}, "single_sourcing_scope: must be 'horizon' or 'day'"),
        # no worker process
        ({"workers": 0}, "workers: must be an integer from 1 to 64"),
        # a time limit of zero
        ({"single_sourcing_time_limit_s": 0}, "single_sourcing_time_limit_s: must be a positive"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        AllocationOptions.from_mapping(options)


def test_fairness_at_moderate_size_is_built_from_arrays() -> None:
    # 400 facilities x 12 suppliers x 3 days (about 10,000 arcs): the GLOP model is built from
    # the arc arrays in one sparse matrix, so this takes well under a second.
    instance = generate_instance(
        n_facilities=400, n_suppliers=12, n_days=3, seed=7, max_delivery_time_s=6 * 3600
    )
    del instance["max_delivery_time_s"]
    options = AllocationOptions(max_delivery_time_s=6 * 3600)
    default = allocate_supply_matrix(**instance, options=options)
    fair = allocate_supply_matrix(
        **instance, options=AllocationOptions(max_delivery_time_s=6 * 3600, fairness=True)
    )
    assert fair.solver_status == "optimal"

    def largest_share(plan: AllocationPlan) -> float:
        # Facility-days no supplier can serve are short whatever the plan; leave them out.
        return max(
            u.unmet_m3 / u.demand_m3 for u in plan.unmet if u.reason is UnmetReason.NO_CAPACITY_LEFT
        )

    assert largest_share(fair) < largest_share(default) - 0.1
    # Fairness spreads the shortage; it cannot serve more than the weighted optimum does.
    assert fair.totals.unmet_m3 >= default.totals.unmet_m3 - 1e-6
    assert fair.totals.delivered_m3 + fair.totals.unmet_m3 == pytest.approx(fair.totals.demand_m3)
    assert fair.run_time_s < 30


def test_fairness_ignores_a_facility_no_supplier_can_deliver_to() -> None:
    # F0 may receive nothing (limit 0): it used to count as servable, pinned the largest share
    # at 1 and left fairness with nothing to do, F2 getting nothing as in the default mode.
    limits = np.array([[0.0, 0.0], [np.inf, np.inf], [np.inf, np.inf]])
    capacity = np.zeros((1, 2, 1))
    capacity[0, 1, 0] = 10.0  # cylinders
    plan = allocate_supply_matrix(
        ["S"],
        ["F0", "F1", "F2"],
        np.array([[5, 10, 20]]),
        capacity,
        np.full((3, 1), 10.0),
        receiving_limit_m3=limits,
        options=AllocationOptions(fairness=True),
    )
    received = {f.facility_id: f.quantity_m3 for f in plan.flows}
    assert received == {"F1": pytest.approx(5.0), "F2": pytest.approx(5.0)}
