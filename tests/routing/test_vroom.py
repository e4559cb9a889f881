"""Tests of the VROOM JSON adapter and of ``oxyroute vrp solve``."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from data.errors import InvalidInputError
from routing.route_validation import validate_route_plan
from routing.vehicle_routes import SolverParams, solve_routes
from routing.vroom import CODE_INPUT_ERROR, CODE_OK, parse_vroom_problem, to_vroom_solution

FIXTURES = Path(__file__).parent / "fixtures"
FAST = SolverParams(time_limit_s=2.0, seed=0, max_iterations=200)


@pytest.fixture(scope="session")
def square_document() -> dict[str, Any]:
    """``fixtures/square.json``: the corners of a square (side 10 s, diagonal 20 s), depot at 0.

    Two vehicles of capacity 2 and three unit deliveries at corners 1, 2, 3. Optimum cost 60
    (routes 0-1-2-0 and 0-3-0, or the mirror image), distance 600 m.
    """
    return json.loads((FIXTURES / "square.json").read_text())  # type: ignore[no-any-return]


def solve_document(document: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Parse, solve, validate and serialise a VROOM document."""
    parsed = parse_vroom_problem(document, **kwargs)
    plan = solve_routes(parsed.problem, FAST)
    validate_route_plan(parsed.problem, plan)
    return to_vroom_solution(parsed, plan)


def test_square_solution_in_vroom_format(square_document: dict[str, Any]) -> None:
    """The square fixture comes back in VROOM form: cost 60, 600 m, loads and descriptions."""
    answer = solve_document(square_document)
    assert answer["code"] == CODE_OK
    summary = answer["summary"]
    assert (summary["cost"], summary["routes"], summary["unassigned"]) == (60, 2, 0)
    assert summary["distance"] == 600
    assert summary["delivery"] == [3]
    assert summary["priority"] == 5
    assert answer["unassigned"] == []
    jobs = sorted(
        step["id"] for route in answer["routes"] for step in route["steps"] if step["type"] == "job"
    )
    assert jobs == [11, 12, 13]
    for route in answer["routes"]:
        steps = route["steps"]
        assert steps[0]["type"] == "start"
        assert steps[-1]["type"] == "end"
        assert steps[0]["load"] == [sum(1 for s in steps if s["type"] == "job")]
        assert steps[-1]["duration"] == route["duration"]
        assert {"arrival", "duration", "service", "waiting_time", "load", "location_index"} <= set(
            steps[1]
        )
    first_vehicle = next(r for r in answer["routes"] if r["vehicle"] == 1)
    assert first_vehicle["description"] == "tanker 29C-001"
    assert first_vehicle["steps"][0]["location"] == [106.70, 10.77]


def test_unservable_job_is_unassigned_with_reason(square_document: dict[str, Any]) -> None:
    """A job larger than any capacity is listed in unassigned with its reason."""
    document = copy.deepcopy(square_document)
    document["jobs"].append({"id": 14, "location_index": 2, "delivery": [3]})
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 1
    (entry,) = answer["unassigned"]
    assert (entry["id"], entry["type"], entry["location_index"]) == (14, "job", 2)
    assert "exceeds every vehicle's capacity: needs [3]" in entry["reason"]


def test_shipments_and_skills(square_document: dict[str, Any]) -> None:
    """A shipment needing skill 4 goes to vehicle 2, pickup before delivery.

    Its priority counts on the pickup and on the delivery, as VROOM sums it.
    """
    document = copy.deepcopy(square_document)
    document["vehicles"][1]["skills"] = [4]
    document["shipments"] = [
        {
            "amount": [1],
            "skills": [4],
            "priority": 7,
            "pickup": {"id": 21, "location_index": 1, "service": 30},
            "delivery": {"id": 22, "location_index": 3, "service": 30},
        }
    ]
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 0
    route = next(r for r in answer["routes"] if r["vehicle"] == 2)
    kinds = [(s["type"], s.get("id")) for s in route["steps"]]
    assert kinds.index(("pickup", 21)) < kinds.index(("delivery", 22))
    assert answer["summary"]["priority"] == 5 + 2 * 7  # job 13, then the shipment's two steps


def test_reload_extension(square_document: dict[str, Any]) -> None:
    """One vehicle of capacity 1 with reloads at the depot serves the three jobs in three trips."""
    document = copy.deepcopy(square_document)
    document["vehicles"] = [
        {
            "id": 1,
            "start_index": 0,
            "end_index": 0,
            "capacity": [1],
            "reload_indices": [0],
            "reload_service": 60,
        }
    ]
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 0
    steps = answer["routes"][0]["steps"]
    assert [s["type"] for s in steps].count("reload") == 2
    assert answer["summary"]["cost"] == 80


def test_coordinates_use_the_injected_matrix_provider(square_document: dict[str, Any]) -> None:
    """Coordinates without matrices are routed through the injected provider, called once."""
    document = copy.deepcopy(square_document)
    del document["matrices"]
    points = [[106.70, 10.77], [106.66, 10.76], [106.68, 10.80], [106.72, 10.79]]
    for vehicle in document["vehicles"]:
        vehicle.pop("start_index"), vehicle.pop("end_index")
        vehicle["start"] = vehicle["end"] = points[0]
    for job, point in zip(document["jobs"], points[1:], strict=True):
        job.pop("location_index")
        job["location"] = point
    calls: list[Sequence[tuple[float, float]]] = []

    def provider(locations: Sequence[tuple[float, float]]) -> tuple[np.ndarray, None]:
        calls.append(locations)
        order = [points.index(list(p)) for p in locations]
        square = np.array(square_document["matrices"]["car"]["durations"])
        return square[np.ix_(order, order)], None

    answer = solve_document(document, matrix_provider=provider)
    assert len(calls) == 1
    assert sorted(map(list, calls[0])) == sorted(points)
    assert answer["summary"]["cost"] == 60
    assert all("location" in step for route in answer["routes"] for step in route["steps"])


def test_job_pickup_and_delivery_ids_are_separate_namespaces(
    square_document: dict[str, Any],
) -> None:
    """As in VROOM, a job, a pickup and a delivery may share an id; the answer keeps the ids."""
    document = copy.deepcopy(square_document)
    document["shipments"] = [
        {
            "amount": [1],
            "pickup": {"id": 11, "location_index": 1, "description": "nạp chai"},
            "delivery": {"id": 11, "location_index": 3, "description": "giao chai"},
        }
    ]
    answer = solve_document(document)
    assert answer["summary"]["unassigned"] == 0
    served = sorted(
        (step["type"], step["id"], step.get("description"))
        for route in answer["routes"]
        for step in route["steps"]
        if step["type"] in ("job", "pickup", "delivery")
    )
    assert served == [
        ("delivery", 11, "giao chai"),
        ("job", 11, "Cho Ray hospital"),
        ("job", 12, None),
        ("job", 13, None),
        ("pickup", 11, "nạp chai"),
    ]
    # An unassigned step is reported with its own id and type too.
    document["shipments"][0]["amount"] = [3]
    answer = solve_document(document)
    assert sorted((u["type"], u["id"]) for u in answer["unassigned"]) == [
        ("delivery", 11),
        ("pickup", 11),
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # the same id twice among the jobs, or twice among the pickups
        (
            lambda d: d["jobs"][1].update(id=11),
            r"jobs\[1\]\.id: 11 is already the id of jobs\[0\]; job ids must be unique",
        ),
        (
            lambda d: d.update(
                shipments=[
                    {
                        "pickup": {"id": 5, "location_index": 1},
                        "delivery": {"id": 6, "location_index": 2},
                    },
                    {
                        "pickup": {"id": 5, "location_index": 2},
                        "delivery": {"id": 7, "location_index": 3},
                    },
                ]
            ),
            r"shipments\[1\]\.pickup\.id: 5 is already the id of shipments\[0\]\.pickup; "
            r"pickup ids must be unique",
        ),
        # a job pointing outside the matrix
        (
            lambda d: d["jobs"][0].update(location_index=9),
            r"jobs\[0\]\.location_index: 9 is outside the matrix",
        ),
        # a negative amount
        (
            lambda d: d["jobs"][1].update(delivery=[-1]),
            r"jobs\[1\]\.delivery\[0\]: must be >= 0, got -1",
        ),
        # a matrix that is not square
        (
            lambda d: d["matrices"]["car"]["durations"].pop(),
            r"matrices\.car\.durations: must be square",
        ),
        # an unknown key
        (lambda d: d["vehicles"][0].update(breaks=[]), r"vehicles\[0\]\.breaks: unsupported key"),
        # an unknown top-level key
        (lambda d: d.update(options={"g": True}), r"problem\.options: unsupported key"),
        # several time windows on a shipment step (jobs may have several)
        (
            lambda d: d.update(
                shipments=[
                    {
                        "pickup": {
                            "id": 21,
                            "location_index": 1,
                            "time_windows": [[0, 5], [9, 20]],
                        },
                        "delivery": {"id": 22, "location_index": 3},
                    }
                ]
            ),
            r"shipments\[0\]\.pickup\.time_windows: 2 time windows given; a shipment step takes",
        ),
        # a speed factor outside (0, 5]
        (
            lambda d: d["vehicles"][0].update(speed_factor=6),
            r"vehicles\[0\]\.speed_factor: must be a number in \(0, 5\], got 6",
        ),
        # a negative fixed cost
        (
            lambda d: d["vehicles"][0].update(costs={"fixed": -1}),
            r"vehicles\[0\]\.costs\.fixed: must be >= 0, got -1",
        ),
        # a cost key VROOM has but oxyroute does not support
        (
            lambda d: d["vehicles"][0].update(costs={"per_task_hour": 10}),
            r"vehicles\[0\]\.costs\.per_task_hour: unsupported key",
        ),
        # per_hour together with a costs matrix (VROOM refuses it too)
        (
            lambda d: (
                d["matrices"]["car"].update(costs=d["matrices"]["car"]["durations"]),
                d["vehicles"][0].update(costs={"per_hour": 100}),
            ),
            r"vehicles\[0\]\.costs\.per_hour: cannot be combined with matrices\.car\.costs",
        ),
        # max_tasks that is not an integer
        (
            lambda d: d["vehicles"][0].update(max_tasks=1.5),
            r"vehicles\[0\]\.max_tasks: must be an integer, got 1\.5",
        ),
        # max_distance below zero
        (
            lambda d: d["vehicles"][0].update(max_distance=-3),
            r"vehicles\[0\]\.max_distance: must be >= 0, got -3",
        ),
        # a window that ends before it starts
        (
            lambda d: d["vehicles"][0].update(time_window=[50, 10]),
            r"vehicles\[0\]\.time_window: starts after it ends",
        ),
        # a non-integer amount
        (
            lambda d: d["vehicles"][0].update(capacity=[2.5]),
            r"vehicles\[0\]\.capacity\[0\]: must be an integer",
        ),
        # a matrix entry beyond 64-bit integers (crashed with OverflowError, code 1)
        (
            lambda d: d["matrices"]["car"]["durations"][0].__setitem__(1, 10**30),
            r"matrices\.car\.durations: entries must be integers in \[0, 4294967295\], got 1000",
        ),
        # a time window end beyond VROOM's 32-bit limit (crashed in the engine)
        (
            lambda d: d["vehicles"][0].update(time_window=[0, 2**64]),
            r"vehicles\[0\]\.time_window\[1\]: must be <= 4294967295, got 18446744073709551616",
        ),
        # a capacity beyond the limit
        (
            lambda d: d["vehicles"][0].update(capacity=[2**63]),
            r"vehicles\[0\]\.capacity\[0\]: must be <= 4294967295",
        ),
        # an id beyond VROOM's 64-bit ids
        (
            lambda d: d["jobs"][0].update(id=2**64),
            r"jobs\[0\]\.id: must be <= 18446744073709551615, got 18446744073709551616",
        ),
        # reload_indices that is not a list (crashed with TypeError, code 1)
        (
            lambda d: d["vehicles"][0].update(reload_indices=5),
            r"vehicles\[0\]\.reload_indices: must be a list of matrix indices",
        ),
        # coordinates without a matrix and no provider
        (
            lambda d: (
                d.pop("matrices"),
                [j.update(location=[106.7, 10.8]) or j.pop("location_index") for j in d["jobs"]],
                [
                    v.pop("start_index") or v.pop("end_index") or v.update(start=[106.7, 10.8])
                    for v in d["vehicles"]
                ],
            ),
            r"a travel-time matrix is required",
        ),
    ],
)
def test_bad_input_names_the_field(
    square_document: dict[str, Any], edit: Any, message: str
) -> None:
    """Each bad input is refused with a message naming the VROOM field."""
    document = copy.deepcopy(square_document)
    edit(document)
    with pytest.raises(InvalidInputError, match=message):
        parse_vroom_problem(document)


def test_cli_solves_a_file(tmp_path: Path) -> None:
    """'oxyroute vrp solve --out' writes VROOM's answer and exits 0."""
    out = tmp_path / "solution.json"
    result = CliRunner().invoke(
        main,
        [
            "vrp",
            "solve",
            str(FIXTURES / "square.json"),
            "--time-limit",
            "2",
            "--max-iterations",
            "200",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == CODE_OK, result.output
    answer = json.loads(out.read_text())
    assert answer["code"] == CODE_OK
    assert answer["summary"]["cost"] == 60


def test_cli_refuses_bad_input_with_code_2(tmp_path: Path, square_document: dict[str, Any]) -> None:
    """An unsupported key gives VROOM code 2 on stdout and exit code 2."""
    document = copy.deepcopy(square_document)
    document["jobs"][0]["setup"] = 30
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["vrp", "solve", str(path)])
    assert result.exit_code == CODE_INPUT_ERROR
    answer = json.loads(result.stdout.splitlines()[0])
    assert answer["code"] == CODE_INPUT_ERROR
    assert "jobs[0].setup: unsupported key" in answer["error"]


def test_cli_refuses_invalid_utf8_with_code_2(tmp_path: Path) -> None:
    """A file that is not UTF-8 is an input error (code 2), not an internal one (was code 1)."""
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"vehicles": [], "jobs": [{"description": "B\xe1nh"}]}')
    result = CliRunner().invoke(main, ["vrp", "solve", str(path)])
    assert result.exit_code == CODE_INPUT_ERROR
    answer = json.loads(result.stdout.splitlines()[0])
    assert answer["code"] == CODE_INPUT_ERROR
    assert "cannot read" in answer["error"] and "utf-8" in answer["error"]


def test_cli_refuses_malformed_json(tmp_path: Path) -> None:
    """A file that is not JSON gives code 2."""
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = CliRunner().invoke(main, ["vrp", "solve", str(path)])
    assert result.exit_code == CODE_INPUT_ERROR
    assert "cannot read" in json.loads(result.stdout.splitlines()[0])["error"]
