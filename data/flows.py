"""Oxygen flow per patient by device: the planning and observed tables, each figure sourced.

Shared by the demand projection (:mod:`matcher.demand`) and the report plausibility rules
(:mod:`data.plausibility`), so that both bound a facility's use with the same figures
(``../shared/oxygen-parameters.md``). Planners override any figure with
:meth:`FlowTable.with_overrides`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from data.errors import InvalidInputError
from data.units import flow_l_per_min_to_m3_per_day


class OxygenNeed(StrEnum):
    """Device category of a patient on oxygen, as the Vietnamese MOH bulletin reports them."""

    CANNULA_MASK = "cannula_mask"
    HIGH_FLOW = "high_flow"
    NON_INVASIVE = "non_invasive"
    INVASIVE = "invasive"
    ECMO = "ecmo"


PATIENT_FIELDS: Mapping[OxygenNeed, str] = {
    OxygenNeed.CANNULA_MASK: "patients_cannula_mask",
    OxygenNeed.HIGH_FLOW: "patients_high_flow",
    OxygenNeed.NON_INVASIVE: "patients_niv",
    OxygenNeed.INVASIVE: "patients_invasive",
    OxygenNeed.ECMO: "patients_ecmo",
}
"""The daily report's patient count field of each need (``DailyReport.patients_*``)."""


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


_WHO = "WHO/ESFT (covidqanda.org/?p=1651; Hvarfner et al.)"
_PROXY = "PROXY-COVID, 275 ICU patients, PMID 36972693"


@dataclass(frozen=True, slots=True)
class FlowRate:
    """Oxygen flow of one patient category, with where the figure comes from.

    Parameters
    ----------
    need
        Patient category.
    flow_l_per_min
        Continuous oxygen flow (L/min, > 0).
    source
        Where the figure comes from (or ``"planner override"``).
    """

    need: OxygenNeed
    flow_l_per_min: float
    source: str

    def __post_init__(self) -> None:
        if not _positive(self.flow_l_per_min):
            raise InvalidInputError(
                f"flow_l_per_min[{self.need}]: must be a positive finite number, "
                f"got {self.flow_l_per_min!r}"
            )

    @property
    def m3_per_patient_day(self) -> float:
        """Gas m³ one patient uses per day (24 h)."""
        return flow_l_per_min_to_m3_per_day(self.flow_l_per_min)


@dataclass(frozen=True, slots=True)
class FlowTable:
    """One flow rate per oxygen need.

    Raises
    ------
    InvalidInputError
        If a need is missing or listed twice.
    """

    name: str
    rates: tuple[FlowRate, ...]

    def __post_init__(self) -> None:
        needs = [rate.need for rate in self.rates]
        problems = [f"rates: {need} listed twice" for need in set(needs) if needs.count(need) > 1]
        problems += [f"rates: no flow rate for {need}" for need in OxygenNeed if need not in needs]
        if problems:
            raise InvalidInputError.from_problems(f"flow table {self.name!r}", problems)

    def rate(self, need: OxygenNeed) -> FlowRate:
        """Return the flow rate of ``need``."""
        return next(rate for rate in self.rates if rate.need == need)

    def with_overrides(self, overrides: Mapping[OxygenNeed, float]) -> FlowTable:
        """Return a copy where the given needs use the planner's flows (L/min), sourced as such."""
        return FlowTable(
            name=f"{self.name} + planner overrides",
            rates=tuple(
                FlowRate(r.need, float(overrides[r.need]), "planner override")
                if r.need in overrides
                else r
                for r in self.rates
            ),
        )


PLANNING_FLOW_TABLE = FlowTable(
    name="planning (conservative)",
    rates=(
        FlowRate(
            OxygenNeed.CANNULA_MASK,
            10.0,
            f"{_WHO}: severe 10 L/min; covers MOH/HSCC mask "
            "start 8 L/min and reservoir mask 12 L/min",
        ),
        FlowRate(OxygenNeed.HIGH_FLOW, 30.0, f"{_WHO}: critical 30 L/min"),
        FlowRate(OxygenNeed.NON_INVASIVE, 30.0, f"{_WHO}: critical 30 L/min"),
        FlowRate(OxygenNeed.INVASIVE, 30.0, f"{_WHO}: critical 30 L/min (India EG ICU 24 L/min)"),
        FlowRate(OxygenNeed.ECMO, 30.0, f"{_WHO}: critical 30 L/min (no ECMO-specific source)"),
    ),
)
"""Planning defaults: WHO/ESFT 10 L/min severe, 30 L/min critical (oxygen-parameters.md)."""

OBSERVED_FLOW_TABLE = FlowTable(
    name="observed (calibrated)",
    rates=(
        FlowRate(
            OxygenNeed.CANNULA_MASK,
            5.6,
            "ZSFG, 1,076 patients: mean 5.6 L/min "
            "(medrxiv 10.1101/2024.03.13.24304251; Sweden ward mean 3.0)",
        ),
        FlowRate(OxygenNeed.HIGH_FLOW, 14.2, f"{_PROXY}: HFNO median 14.2 L/min"),
        FlowRate(
            OxygenNeed.NON_INVASIVE,
            14.2,
            f"{_PROXY}: HFNO median used as proxy (no NIV-specific observed figure)",
        ),
        FlowRate(OxygenNeed.INVASIVE, 2.9, f"{_PROXY}: IMV median 2.9 L/min"),
        FlowRate(OxygenNeed.ECMO, 30.0, f"{_WHO}: critical 30 L/min kept (no observed figure)"),
    ),
)
"""Observed values: critical patients on IMV use less than HFNC patients (oxygen-parameters.md)."""
