"""The JSON problem format: every bad input is refused with a message naming the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from data.errors import InvalidInputError
from matcher.problem_json import problem_from_json, problem_from_json_text, problem_to_json


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # negative demand
        (
            _set(["facilities", 0, "demand_m3_per_day"], [60, -5]),
            r"facilities\[0\]\.demand_m3_per_day\[1\]: -5 is not a finite number >= 0",
        ),
        # NaN demand (json.loads reads NaN)
        (
            _set(["facilities", 1, "demand_m3_per_day"], [float("nan"), 1]),
            r"facilities\[1\]\.demand_m3_per_day\[0\]: nan",
        ),
        # unknown product in accepted products
        (
            _set(["facilities", 2, "accepted_products"], ["oxygen_bottle"]),
            r"facilities\[2\]\.accepted_products\[0\]: unknown product 'oxygen_bottle'",
        ),
        # unknown product offered by a supplier
        (
            _set(["suppliers", 0, "products"], {"lox": {"capacity_m3_per_day": 5}}),
            r"suppliers\[0\]\.products\.lox: unknown product 'lox'",
        ),
        # matrix with a missing row
        (
            _set(["travel_time_s"], [[600, 1200, None, None]]),
            r"travel_time_s: 1 rows of lengths \[4\], expected 2 rows",
        ),
        # negative travel time
        (_set(["travel_time_s", 0, 1], -3), r"travel_time_s\[0\]\[1\]: -3 is not seconds >= 0"),
        # per-day list of the wrong length
        (
            _set(["suppliers", 1, "products", "cylinder", "capacity_m3_per_day"], [1, 2, 3]),
            r"capacity_m3_per_day: has 3 values, expected horizon_days=2",
        ),
        # two capacity keys at once
        (
            _set(["suppliers", 0, "products", "bulk_liquid", "capacity_lox_t_per_day"], 1),
            "give exactly one of capacity_cylinders_per_day, capacity_lox_t_per_day",
        ),
        # duplicate facility id
        (_set(["facilities", 1, "facility_id"], "H1"), "id 'H1' appears more than once"),
        # unknown option
        (_set(["options"], {"fairnes": True}), r"options\.fairnes: unknown option"),
        # misspelt key at the top level
        (_set(["horizon"], 2), "horizon: unknown key"),
        # coordinates in [lat, lon] order by mistake
        (
            _set(["facilities", 0, "lonlat"], [10.8, 206.7]),
            r"facilities\[0\]\.lonlat: must be \[lon, lat\]",
        ),
        # travel time beyond int64 (an OverflowError before)
        (
            _set(["travel_time_s", 0, 0], 2**63),
            r"travel_time_s\[0\]\[0\]: 9223372036854775808 seconds is too large",
        ),
        (_set(["travel_time_s", 0, 0], 1e308), r"travel_time_s\[0\]\[0\]: 1e\+308 seconds is too"),
        # a list as cylinder size (TypeError: unhashable, before)
        (
            _set(["conversions"], {"cylinder_size": ["40L"]}),
            r"conversions\.cylinder_size: unknown size \['40L'\]",
        ),
        # an int beyond the float range (OverflowError in math.isfinite, before)
        (
            _set(["conversions"], {"gas_m3_per_lox_t": 10**400}),
            r"conversions\.gas_m3_per_lox_t: must be a positive finite number",
        ),
        (
            _set(["facilities", 0, "demand_m3_per_day"], [10**400, 1]),
            r"facilities\[0\]\.demand_m3_per_day\[0\]: 1000.* is not a finite number",
        ),
        # true is not a conversion factor of 1
        (
            _set(["conversions"], {"gas_m3_per_lox_t": True}),
            r"conversions\.gas_m3_per_lox_t: must be a positive finite number, got True",
        ),
        # tonnes that convert beyond the float range: the path, not a bare capacity_m3_per_day
        (
            _set(
                ["suppliers", 0, "products"],
                {"bulk_liquid": {"capacity_lox_t_per_day": 1e306}},
            ),
            r"suppliers\[0\]\.products\.bulk_liquid\.capacity_lox_t_per_day\[0\]: 1e\+306 is too",
        ),
        # a horizon that would expand into per-day lists without end (OverflowError, MemoryError)
        (_set(["horizon_days"], 2**63), r"horizon_days: must be an integer from 1 to 3660"),
        # a date as a number or an ISO week; only YYYY-MM-DD is documented
        (_set(["start_date"], 20210820), "start_date: 20210820 is not an ISO date"),
        (_set(["start_date"], "2021-W33-5"), "start_date: '2021-W33-5' is not an ISO date"),
        # version true is not version 1
        (_set(["version"], True), "version: got True"),
        # estimated is a flag
        (_set(["facilities", 0, "estimated"], "yes"), r"facilities\[0\]\.estimated: must be true"),
    ],
)
def test_bad_documents_are_refused(
    hand_document: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    document = copy.deepcopy(hand_document)
    change(document)
    with pytest.raises(InvalidInputError, match=message):
        problem_from_json(document)


def test_every_problem_is_listed_at_once(hand_document: dict[str, Any]) -> None:
    document = copy.deepcopy(hand_document)
    document["facilities"][0]["demand_m3_per_day"] = [-1, 1]
    document["travel_time_s"][1][0] = "far"
    with pytest.raises(InvalidInputError) as raised:
        problem_from_json(document)
    assert len(raised.value.problems) == 2


def test_a_refused_facility_does_not_make_the_matrix_the_wrong_shape(
    hand_document: dict[str, Any],
) -> None:
    # The matrix was checked against the facilities that parsed, so it was reported with three
    # columns expected as well.
    document = copy.deepcopy(hand_document)
    document["facilities"][0]["tier"] = 3.0
    document["suppliers"][1]["supplier_id"] = 5
    with pytest.raises(InvalidInputError) as raised:
        problem_from_json(document)
    assert [p.split(":")[0] for p in raised.value.problems] == [
        "suppliers[1].supplier_id",
        "facilities[0].tier",
    ]


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="nested too deeply"):
        problem_from_json_text("[" * 100_000 + "]" * 100_000)


def test_not_json_names_line_and_column() -> None:
    with pytest.raises(InvalidInputError, match="not valid JSON at line 1 column 2"):
        problem_from_json_text("{,}")


def test_native_units_convert_to_m3(hand_document: dict[str, Any]) -> None:
    document = copy.deepcopy(hand_document)
    document["suppliers"][0]["products"] = {"bulk_liquid": {"capacity_lox_t_per_day": 1.0}}
    document["suppliers"][1]["products"] = {"cylinder": {"capacity_cylinders_per_day": [10, 0]}}
    problem = problem_from_json(document).problem
    assert problem.suppliers[0].capacities[0].capacity_m3_per_day == (700.0, 700.0)
    assert problem.suppliers[1].capacities[0].capacity_m3_per_day == (60.0, 0.0)


def test_serialising_and_parsing_back_gives_the_same_problem(
    hand_document: dict[str, Any],
) -> None:
    request = problem_from_json(hand_document)
    document = json.loads(json.dumps(problem_to_json(request)))
    again = problem_from_json(document)
    assert problem_to_json(again) == document
    assert again.problem.suppliers == request.problem.suppliers
    assert again.problem.facilities == request.problem.facilities


def test_every_option_survives_the_round_trip(hand_document: dict[str, Any]) -> None:
    document = copy.deepcopy(hand_document)
    document["options"] = {
        "single_sourcing": True,
        "single_sourcing_scope": "day",
        "workers": 2,
        "single_sourcing_time_limit_s": 3.0,
        "max_delivery_time_s": 7200,
    }
    request = problem_from_json(document)
    again = problem_from_json(json.loads(json.dumps(problem_to_json(request))))
    assert again.problem.options == request.problem.options
    assert again.problem.options.single_sourcing_scope == "day"
