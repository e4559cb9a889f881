"""The optional ``[status]`` table of a region TOML: hours to empty of the levels (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.errors import InvalidInputError
from data.region import load_region, region_status_settings
from data.schema.live import StatusThresholds

HEADER = 'name = "Vùng thử"\nprovince_code = "79"\n[roads]\noverpass_query = "Quận 5"\n'


def write(tmp_path: Path, status: str) -> str:
    path = tmp_path / "thu.toml"
    path.write_text(HEADER + status, encoding="utf-8")
    return str(path)


def test_bundled_regions_declare_the_defaults() -> None:
    settings = region_status_settings("hcmc_d5")
    assert settings.province_code == "79"
    assert settings.thresholds == StatusThresholds(8.0, 24.0)
    assert load_region("hcmc_d5").status == StatusThresholds(8.0, 24.0)


def test_absent_table_gives_the_defaults(tmp_path: Path) -> None:
    assert region_status_settings(write(tmp_path, "")).thresholds == StatusThresholds()


def test_a_region_sets_its_own(tmp_path: Path) -> None:
    path = write(tmp_path, "[status]\ncritical_hours = 5\nwarning_hours = 12.5\n")
    assert region_status_settings(path).thresholds == StatusThresholds(5.0, 12.5)
    assert load_region(path).status == StatusThresholds(5.0, 12.5)
    only_critical = write(tmp_path, "[status]\ncritical_hours = 5\n")
    assert region_status_settings(only_critical).thresholds == StatusThresholds(5.0, 24.0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # a negative number of hours
        ("critical_hours = -1", "status.critical_hours: must be a positive number, got -1"),
        # zero hours: nothing would ever be critical
        ("critical_hours = 0", "status.critical_hours: must be a positive number, got 0"),
        # text instead of a number
        ('warning_hours = "24h"', "status.warning_hours: must be a positive number, got '24h'"),
        # critical not below warning
        ("critical_hours = 30", "status.critical_hours: must be below status.warning_hours (24 h)"),
        # a typo
        ("critcal_hours = 5", "status.critcal_hours: unknown key"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    path = write(tmp_path, f"[status]\n{table}\n")
    with pytest.raises(InvalidInputError, match="status") as caught:
        region_status_settings(path)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems
    with pytest.raises(InvalidInputError) as from_load:
        load_region(path)
    assert any(message in problem for problem in from_load.value.problems)


def test_status_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "thu.toml"
    path.write_text("status = 8\n" + HEADER, encoding="utf-8")
    with pytest.raises(InvalidInputError, match="status: must be a table"):
        region_status_settings(str(path))
