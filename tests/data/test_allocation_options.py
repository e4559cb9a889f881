"""Allocation solver settings loaded from TOML: round trips and field-named refusals."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from data.errors import InvalidInputError
from data.schema.allocation import AllocationOptions


def _toml(options: AllocationOptions, *, table: str | None = "allocation") -> str:
    """Write ``options`` as TOML, leaving out None (TOML has no null)."""
    lines = [f"[{table}]"] if table else []
    for name, value in dataclasses.asdict(options).items():
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"{name} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f"{name} = {json.dumps(value)}")
        else:
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "options",
    [
        AllocationOptions(),  # the defaults
        AllocationOptions(
            max_delivery_time_s=7200,
            single_sourcing=True,
            single_sourcing_scope="day",
            single_sourcing_time_limit_s=2.5,
            quantity_resolution_m3=0.5,
            workers=2,
        ),
        AllocationOptions(fairness=True, carry_over=True, time_limit_s=30.0),
    ],
)
@pytest.mark.parametrize("table", ["allocation", None])
def test_options_round_trip_through_toml(
    tmp_path: Path, options: AllocationOptions, table: str | None
) -> None:
    path = tmp_path / "solver.toml"
    path.write_text(_toml(options, table=table), encoding="utf-8")
    assert AllocationOptions.from_toml(path) == options


def test_other_tables_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "solver.toml"
    path.write_text('[routing]\nengine = "pyvrp"\n\n[allocation]\nworkers = 3\n', encoding="utf-8")
    assert AllocationOptions.from_toml(path) == AllocationOptions(workers=3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # a misspelt option is refused, not silently ignored
        ("[allocation]\nworkerz = 2\n", r"options\.workerz: unknown option; known: .*workers"),
        # a value out of range names the option and shows the value
        ("[allocation]\nworkers = 0\n", r"workers: must be an integer from 1 to 64 .*got 0"),
        # a quoted boolean is text, not true
        ('[allocation]\nfairness = "yes"\n', r"fairness: must be true or false, got 'yes'"),
        # both modes at once
        (
            "[allocation]\nfairness = true\nsingle_sourcing = true\n",
            r"fairness and single_sourcing: cannot both be on",
        ),
        # every problem is listed at once
        (
            "[allocation]\nworkers = 99\ntime_limit_s = -1\n",
            r"(?s)workers: must be .*time_limit_s: must be a positive finite number, got -1",
        ),
        # not TOML
        ("[allocation\nworkers = 2\n", r"not valid TOML"),
        # allocation is a value, not a table
        ("allocation = 3\n", r"allocation: must be a table of options"),
    ],
)
def test_bad_toml_options_are_refused_by_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "solver.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        AllocationOptions.from_toml(path)
