"""Oxygen unit conversions."""

import pytest

from data.errors import InvalidInputError
from data.units import OxygenConversions, flow_l_per_min_to_m3_per_day


def test_who_severe_flow_is_14_4_m3_per_day() -> None:
    # 10 L/min for 24 h = 14,400 L (oxygen-parameters.md, WHO/ESFT severe).
    assert flow_l_per_min_to_m3_per_day(10) == pytest.approx(14.4)


def test_default_conversions() -> None:
    conversions = OxygenConversions()
    assert conversions.lox_t_to_gas_m3(1.3) == pytest.approx(910)
    assert conversions.cylinders_to_gas_m3(10) == pytest.approx(60)
    assert conversions.cylinders_to_gas_m3(1, "10L") == pytest.approx(1.5)
    assert conversions.gas_m3_to_lox_t(conversions.lox_t_to_gas_m3(2.5)) == pytest.approx(2.5)


def test_unknown_cylinder_size_is_named() -> None:
    with pytest.raises(InvalidInputError, match="unknown size '50L'"):
        OxygenConversions().cylinders_to_gas_m3(1, "50L")


def test_bad_factor_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="gas_m3_per_lox_t"):
        OxygenConversions(gas_m3_per_lox_t=-1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # 5e-324 m³ per tonne made every quantity in tonnes infinite (Infinity in plan JSON)
        ({"gas_m3_per_lox_t": 5e-324}, r"gas_m3_per_lox_t: must be between 1 and 100000"),
        ({"lox_kg_per_l": 1e9}, r"lox_kg_per_l: must be between 0.01 and 100"),
        ({"cylinder_gas_m3": {"40L": 1e-300}}, r"cylinder_gas_m3\['40L'\]: must be between"),
    ],
)
def test_implausible_factor_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        OxygenConversions(**fields)  # type: ignore[arg-type]
