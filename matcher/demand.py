"""Project each facility's oxygen use (m³/day of gas) over a horizon from patients and flow rates.

Flow rates come from one documented table per convention (planning defaults, observed values),
each figure with its source from ``../shared/oxygen-parameters.md``; planners override any
figure with :meth:`FlowTable.with_overrides`. Use is continuous, 24 h a day (the WHO planning
convention), converted with :func:`data.units.flow_l_per_min_to_m3_per_day`.

One demand rule (:func:`reported_demand`, used by the plans and by the province totals alike): a
facility's day-0 use is its **declared use** when the report gives one inside the plausible band
of its patients x flows (:func:`declared_use_band_m3`), else **patients x flows**; a report is
carried forward at most :data:`CARRY_FORWARD_DAYS` days (its age shown), after which the demand is
**estimated** from beds x the tier's share (flagged), and a facility without a usable report and
without beds has an **unknown** demand, never zero (docs/allocation.md, "Missing is never zero").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from data.errors import InvalidInputError
from data.flows import OBSERVED_FLOW_TABLE as OBSERVED_FLOW_TABLE
from data.flows import PLANNING_FLOW_TABLE as PLANNING_FLOW_TABLE
from data.flows import FlowRate as FlowRate
from data.flows import FlowTable as FlowTable
from data.flows import OxygenNeed as OxygenNeed


def _is_finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: object) -> bool:
    return _is_finite(value) and value > 0  # type: ignore[operator]


MOH_SEVERITY_MIX: tuple[tuple[OxygenNeed, float], ...] = (
    (OxygenNeed.CANNULA_MASK, 2464 / 3137),
    (OxygenNeed.HIGH_FLOW, 280 / 3137),
    (OxygenNeed.NON_INVASIVE, 87 / 3137),
    (OxygenNeed.INVASIVE, 294 / 3137),
    (OxygenNeed.ECMO, 12 / 3137),
)
"""Vietnam MOH bulletin, 25 Feb 2022: 3,137 severe = 2,464 mask, 280 HFNC, 87 NIV, 294 IMV, 12 ECMO
(vietgiaitri.com, via oxygen-parameters.md)."""


@dataclass(frozen=True, slots=True)
class TierEstimate:
    """How to estimate a facility's oxygen patients from its beds when it has not reported.

    Parameters
    ----------
    tier
        Treatment tier.
    oxygen_bed_share
        Share of beds occupied by patients on oxygen (0 to 1).
    mix
        ``(need, share)`` pairs summing to 1.
    source
        Basis of the figures.
    """

    tier: int
    oxygen_bed_share: float
    mix: tuple[tuple[OxygenNeed, float], ...]
    source: str

    def __post_init__(self) -> None:
        problems = []
        if not (_is_finite(self.oxygen_bed_share) and 0 <= self.oxygen_bed_share <= 1):
            problems.append(f"oxygen_bed_share: must be in [0, 1], got {self.oxygen_bed_share!r}")
        if not math.isclose(sum(share for _, share in self.mix), 1.0, abs_tol=1e-6):
            problems.append(f"mix: shares must sum to 1, got {self.mix!r}")
        if problems:
            raise InvalidInputError.from_problems(f"tier estimate {self.tier}", problems)


_TIER_BASIS = (
    "assumption synthesised from the tier model of oxygen-parameters.md (QĐ 4111/QĐ-BYT); "
    "replace with calibrated values"
)
_BEDS_BASIS = (
    "oxygen beds 90 % occupied (the hospitals were full in late August 2021, the seed's "
    "peak_oxygen_bed_occupancy) with the MOH bulletin's severity mix (docs/seed.md, 'Beds'): "
    "an assumption, flagged estimated"
)
#: Share of a tier-3 facility's oxygen beds occupied when its demand is estimated from its beds.
PEAK_OXYGEN_BED_OCCUPANCY = 0.9
DEFAULT_TIER_ESTIMATES: tuple[TierEstimate, ...] = (
    TierEstimate(1, 0.10, ((OxygenNeed.CANNULA_MASK, 1.0),), _TIER_BASIS),
    TierEstimate(
        2, 0.60, ((OxygenNeed.CANNULA_MASK, 0.85), (OxygenNeed.HIGH_FLOW, 0.15)), _TIER_BASIS
    ),
    # Tier 3 estimates from oxygen beds as the seed generates them (docs/seed.md): full beds,
    # the bulletin's mix, so its estimate per bed is what a report per bed was at the peak. It
    # once took every patient as critical (30 L/min): about twice the seeded reports per bed.
    TierEstimate(3, PEAK_OXYGEN_BED_OCCUPANCY, MOH_SEVERITY_MIX, _BEDS_BASIS),
)
"""Default estimates per tier (an assumption, flagged ``estimated`` in every forecast)."""


@dataclass(frozen=True, slots=True)
class FacilityProfile:
    """What is known about a facility without reports: province, tier, beds."""

    facility_id: str
    province_id: str
    tier: int
    beds: int

    def __post_init__(self) -> None:
        problems = []
        if not self.facility_id:
            problems.append("facility_id: must be non-empty")
        if not isinstance(self.beds, int) or self.beds < 0:
            problems.append(f"beds: must be an integer >= 0, got {self.beds!r}")
        if not isinstance(self.tier, int) or self.tier < 1:
            problems.append(f"tier: must be an integer >= 1, got {self.tier!r}")
        if problems:
            raise InvalidInputError.from_problems(f"facility {self.facility_id!r}", problems)


@dataclass(frozen=True, slots=True)
class PatientReport:
    """A facility's daily report: patients on oxygen by need, as of ``report_date``.

    ``declared_use_m3`` is the oxygen the facility says it used in the 24 h before the report (m³
    gas; ``None`` when not given); :func:`reported_demand` decides whether it is used.
    ``use_in_doubt`` says why the declared use is in doubt (e.g. ``"flag history.use_jump,
    unreviewed"``), ``""`` when it is not: such a figure is never taken at face value.
    ``use_confirmed`` says a person reviewed the report's flags and accepted them: the declared
    use is then taken as declared, even outside the plausible band.
    """

    facility_id: str
    report_date: date
    patients: tuple[tuple[OxygenNeed, int], ...]
    declared_use_m3: float | None = None
    use_in_doubt: str = ""
    use_confirmed: bool = False

    @property
    def usable(self) -> bool:
        """False when the declared use is in doubt and no patient is on oxygen (no basis)."""
        return not (self.use_in_doubt and not any(count > 0 for _, count in self.patients))

    def __post_init__(self) -> None:
        bad = [
            f"patients[{need}]: must be an integer >= 0, got {count!r}"
            for need, count in self.patients
            if not isinstance(count, int) or count < 0
        ]
        if self.declared_use_m3 is not None and not (
            _is_finite(self.declared_use_m3) and self.declared_use_m3 >= 0
        ):
            bad.append(
                f"declared_use_m3: must be a finite number >= 0 (m³), got {self.declared_use_m3!r}"
            )
        if bad:
            raise InvalidInputError.from_problems(f"report of {self.facility_id!r}", bad)


@dataclass(frozen=True, slots=True)
class Growth:
    """How patient numbers evolve: give exactly one of the three.

    Parameters
    ----------
    daily_growth_rate
        Daily growth (0.05 = +5 %/day; negative for decline, > -1).
    doubling_time_days
        Days to double (> 0).
    factors
        Explicit multipliers for each horizon day, relative to the latest report.
    """

    daily_growth_rate: float | None = None
    doubling_time_days: float | None = None
    factors: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        given = [
            v is not None for v in (self.daily_growth_rate, self.doubling_time_days, self.factors)
        ]
        problems = []
        if sum(given) != 1:
            problems.append("give exactly one of daily_growth_rate, doubling_time_days, factors")
        if self.daily_growth_rate is not None and not (
            _is_finite(self.daily_growth_rate) and self.daily_growth_rate > -1
        ):
            problems.append(f"daily_growth_rate: must be > -1, got {self.daily_growth_rate!r}")
        if self.doubling_time_days is not None and not _positive(self.doubling_time_days):
            problems.append(f"doubling_time_days: must be > 0, got {self.doubling_time_days!r}")
        if self.factors is not None and not all(_is_finite(f) and f >= 0 for f in self.factors):
            problems.append(f"factors: must be numbers >= 0, got {self.factors!r}")
        if problems:
            raise InvalidInputError.from_problems("growth", problems)

    def factor(self, horizon_day: int, days_since_report: int) -> float:
        """Return the patient multiplier for a horizon day ``days_since_report`` after the report.

        Raises
        ------
        InvalidInputError
            If an explicit series is shorter than the horizon.
        """
        if self.factors is not None:
            if horizon_day >= len(self.factors):
                raise InvalidInputError(
                    f"growth.factors: {len(self.factors)} values, the horizon needs day "
                    f"{horizon_day}; give one factor per horizon day"
                )
            return self.factors[horizon_day]
        if self.daily_growth_rate is not None:
            return float((1.0 + self.daily_growth_rate) ** days_since_report)
        assert self.doubling_time_days is not None  # guaranteed by validation
        return float(2.0 ** (days_since_report / self.doubling_time_days))


@dataclass(frozen=True, slots=True)
class CaseScenario:
    """Case growth by facility, else by province, else the default; and an optional severity mix.

    Parameters
    ----------
    default
        Growth for facilities and provinces not listed (default: flat, no growth).
    by_province, by_facility
        ``(id, Growth)`` pairs; a facility entry wins over its province's.
    severity_mix
        ``(need, share)`` pairs applied to every facility's projected patients; ``None`` keeps
        each facility's reported mix (or its tier's mix when estimated).
    """

    default: Growth = Growth(daily_growth_rate=0.0)
    by_province: tuple[tuple[str, Growth], ...] = ()
    by_facility: tuple[tuple[str, Growth], ...] = ()
    severity_mix: tuple[tuple[OxygenNeed, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.severity_mix is not None and not math.isclose(
            sum(share for _, share in self.severity_mix), 1.0, abs_tol=1e-6
        ):
            raise InvalidInputError(
                f"severity_mix: shares must sum to 1, got {self.severity_mix!r}"
            )

    def growth_for(self, facility_id: str, province_id: str) -> Growth:
        """Return the growth applying to a facility."""
        for key, growth in self.by_facility:
            if key == facility_id:
                return growth
        for key, growth in self.by_province:
            if key == province_id:
                return growth
        return self.default


CARRY_FORWARD_DAYS = 2
"""Days a report is carried forward after its own day before the demand is estimated instead.

A plan starting on day S reads the reports of S-1 (due 16:00); with 2 days of carry-forward the
reports of S-2 and S-3 still count, marked with their age. Basis: patients on oxygen stay on it
for about 3 days (ZSFG, 1,076 patients: median therapy 3.1 days, oxygen-parameters.md), so an
older report describes mostly other patients.
"""

DECLARED_USE_LOW_FACTOR = 0.5
"""Declared use below this share of patients x the observed flows is not plausible.

Basis: observed ward means differ by about this factor (Sweden 3.0 L/min against ZSFG 5.6 L/min,
oxygen-parameters.md), so a facility may honestly use half the observed table, not less.
"""

DECLARED_USE_HIGH_FACTOR = 2.0
"""Declared use above this multiple of patients x the planning flows is not plausible.

Basis: the planning table is already conservative (WHO 10/30 L/min); HFNC runs at most 60 L/min
total flow (PMC5359952), twice the 30 L/min planning value, so more than twice the planning
figure cannot come from the reported patients.
"""


#: Longest carry-forward a :class:`DemandRule` accepts (days): a month-old report is no basis.
MAX_CARRY_FORWARD_DAYS = 30


@dataclass(frozen=True, slots=True)
class DemandRule:
    """The parameters of the one demand rule, validated (docs/allocation.md, "Demand rule").

    Parameters
    ----------
    carry_forward_days
        Days a report is carried forward after its own day (default :data:`CARRY_FORWARD_DAYS`;
        an integer from 0 to :data:`MAX_CARRY_FORWARD_DAYS`).
    declared_use_low_factor
        Declared use below this share of patients x the observed flows is not plausible
        (default :data:`DECLARED_USE_LOW_FACTOR`; from 0 to 1).
    declared_use_high_factor
        Declared use above this multiple of patients x the planning flows is not plausible
        (default :data:`DECLARED_USE_HIGH_FACTOR`; from 1 to 10).

    Raises
    ------
    InvalidInputError
        Naming each field out of range, its value and the range.
    """

    carry_forward_days: int = CARRY_FORWARD_DAYS
    declared_use_low_factor: float = DECLARED_USE_LOW_FACTOR
    declared_use_high_factor: float = DECLARED_USE_HIGH_FACTOR

    def __post_init__(self) -> None:
        problems = []
        days = self.carry_forward_days
        if (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not 0 <= days <= MAX_CARRY_FORWARD_DAYS
        ):
            problems.append(
                f"carry_forward_days: must be an integer from 0 to {MAX_CARRY_FORWARD_DAYS}, "
                f"got {days!r}"
            )
        low, high = self.declared_use_low_factor, self.declared_use_high_factor
        if not (_is_finite(low) and 0 <= low <= 1):
            problems.append(f"declared_use_low_factor: must be from 0 to 1, got {low!r}")
        if not (_is_finite(high) and 1 <= high <= 10):
            problems.append(f"declared_use_high_factor: must be from 1 to 10, got {high!r}")
        if problems:
            raise InvalidInputError.from_problems("demand rule", problems)

    @property
    def max_report_age_days(self) -> int:
        """Oldest report age (days before the plan's first day) that still counts."""
        return 1 + self.carry_forward_days


DEFAULT_DEMAND_RULE = DemandRule()
"""The documented defaults: 2 days of carry-forward, declared use within 0.5x-2x."""


class DemandBasis(StrEnum):
    """What a facility's demand figure stands on (shown wherever demand is shown)."""

    DECLARED_USE = "declared_use"
    PATIENTS_X_FLOWS = "patients_x_flows"
    ESTIMATED = "estimated"
    UNKNOWN = "unknown"


def declared_use_band_m3(
    patients: Iterable[tuple[OxygenNeed, float]],
    rule: DemandRule = DEFAULT_DEMAND_RULE,
) -> tuple[float, float]:
    """Return the plausible range (m³/day) of declared use for ``(need, patients)`` pairs.

    From ``rule.declared_use_low_factor`` (default :data:`DECLARED_USE_LOW_FACTOR`) x the use
    under :data:`OBSERVED_FLOW_TABLE` to ``rule.declared_use_high_factor`` (default
    :data:`DECLARED_USE_HIGH_FACTOR`) x the use under :data:`PLANNING_FLOW_TABLE`; ``(0, 0)`` for
    no patients (use without patients on oxygen is not plausible).
    """
    pairs = tuple(patients)
    low = rule.declared_use_low_factor * oxygen_use_m3_per_day(pairs, OBSERVED_FLOW_TABLE)
    high = rule.declared_use_high_factor * oxygen_use_m3_per_day(pairs, PLANNING_FLOW_TABLE)
    return low, high


@dataclass(frozen=True, slots=True)
class ReportedDemand:
    """One day's demand of one facility under the one demand rule (:func:`reported_demand`).

    Parameters
    ----------
    demand_m3
        Gas use per day (m³); ``None`` when the basis is ``unknown``.
    basis
        Declared use, patients x flows, estimated or unknown.
    patients_x_flows_m3
        The patients x flows figure (``None`` without a report).
    declared_use_m3
        What the report declared (``None`` if nothing).
    note
        Why this basis (e.g. a declared figure outside the plausible band, with the band).
    """

    demand_m3: float | None
    basis: DemandBasis
    patients_x_flows_m3: float | None = None
    declared_use_m3: float | None = None
    note: str = ""


def reported_demand(
    patients: Iterable[tuple[OxygenNeed, float]],
    declared_use_m3: float | None,
    flow_table: FlowTable = PLANNING_FLOW_TABLE,
    *,
    rule: DemandRule = DEFAULT_DEMAND_RULE,
    use_in_doubt: str = "",
    use_confirmed: bool = False,
) -> ReportedDemand:
    """Apply the one demand rule to a report: declared use when plausible, else patients x flows.

    Parameters
    ----------
    patients
        ``(need, patients)`` pairs of the report.
    declared_use_m3
        Declared use in the 24 h before the report (m³ gas), ``None`` if not given.
    flow_table
        Flow rates of the patients x flows figure (the plausible band uses the two fixed tables).
    rule
        The band factors (:class:`DemandRule`).
    use_in_doubt
        Why the declared use is in doubt (an unreviewed plausibility flag, a correction asked
        for), ``""`` when it is not: a declared use in doubt is never taken at face value.
    use_confirmed
        A person accepted the report's plausibility flags on review: the declared use is taken
        as declared (basis ``declared_use``, with a note), even outside the band.

    Returns
    -------
    ReportedDemand
        ``declared_use`` when the declared figure is not in doubt and lies in
        :func:`declared_use_band_m3`, else ``patients_x_flows`` with a note saying why the
        declared figure was not used; ``unknown`` (demand ``None``) when the declared use is in
        doubt and no patient is on oxygen (nothing to compute from).
    """
    pairs = tuple(patients)
    computed = round(oxygen_use_m3_per_day(pairs, flow_table), 6)
    if declared_use_m3 is None:
        return ReportedDemand(
            computed, DemandBasis.PATIENTS_X_FLOWS, computed, None, "no declared use"
        )
    if use_in_doubt:
        declared = f"declared use {declared_use_m3:,.0f} m³ in doubt ({use_in_doubt})"
        if not any(n > 0 for _, n in pairs):
            return ReportedDemand(
                None,
                DemandBasis.UNKNOWN,
                computed,
                declared_use_m3,
                f"{declared} and no patient on oxygen to compute from",
            )
        return ReportedDemand(
            computed,
            DemandBasis.PATIENTS_X_FLOWS,
            computed,
            declared_use_m3,
            f"{declared}: patients x flows used instead",
        )
    if use_confirmed:
        return ReportedDemand(
            float(declared_use_m3),
            DemandBasis.DECLARED_USE,
            computed,
            declared_use_m3,
            "declared use accepted on review",
        )
    low, high = declared_use_band_m3(pairs, rule)
    if low - 1e-9 <= declared_use_m3 <= high + 1e-9:
        return ReportedDemand(
            float(declared_use_m3), DemandBasis.DECLARED_USE, computed, declared_use_m3
        )
    return ReportedDemand(
        computed,
        DemandBasis.PATIENTS_X_FLOWS,
        computed,
        declared_use_m3,
        f"declared {declared_use_m3:,.0f} m³ outside the plausible {low:,.0f}-{high:,.0f} m³ "
        f"for {sum(n for _, n in pairs):,.0f} patients on oxygen",
    )


@dataclass(frozen=True, slots=True)
class DemandForecast:
    """Projected oxygen use of one facility over the horizon.

    Parameters
    ----------
    facility_id
        Business id.
    start_date
        Date of horizon day 0.
    demand_m3_per_day
        Projected gas use per day (m³); zeros when the demand is unknown (``demand_basis``
        ``unknown``): nothing can be allocated to it, and it must not be read as "no need".
    patients_per_day
        Projected patients on oxygen per day.
    estimated
        True when no recent report existed and the figures come from beds and tier.
    basis
        What the projection stands on, in words (report date, flow table, growth).
    demand_basis
        Declared use, patients x flows, estimated or unknown (:class:`DemandBasis`).
    report_date
        Date of the report used (``None`` when estimated or unknown).
    report_age_days
        ``start_date`` - ``report_date`` in days (1 = the day before: fresh).
    note
        Why this basis, when it is not the first choice.
    """

    facility_id: str
    start_date: date
    demand_m3_per_day: tuple[float, ...]
    patients_per_day: tuple[float, ...]
    estimated: bool
    basis: str
    demand_basis: DemandBasis = DemandBasis.PATIENTS_X_FLOWS
    report_date: date | None = None
    report_age_days: int | None = None
    note: str = ""

    @property
    def demand_known(self) -> bool:
        """False when the demand is unknown (no usable report, no beds to estimate from)."""
        return self.demand_basis != DemandBasis.UNKNOWN

    @property
    def carried_forward_days(self) -> int:
        """Days the report was carried forward past the plan's reporting day (0 when fresh)."""
        return max(0, (self.report_age_days or 1) - 1)


def oxygen_use_m3_per_day(
    patients: Iterable[tuple[OxygenNeed, float]], flow_table: FlowTable = PLANNING_FLOW_TABLE
) -> float:
    """Return the gas m³/day used by ``(need, patients)`` pairs under ``flow_table``."""
    return sum(count * flow_table.rate(need).m3_per_patient_day for need, count in patients)


def project_demand(
    profiles: Iterable[FacilityProfile],
    reports: Iterable[PatientReport],
    *,
    start_date: date,
    horizon_days: int = 7,
    scenario: CaseScenario | None = None,
    flow_table: FlowTable = PLANNING_FLOW_TABLE,
    tier_estimates: tuple[TierEstimate, ...] = DEFAULT_TIER_ESTIMATES,
    max_report_age_days: int | None = None,
    rule: DemandRule = DEFAULT_DEMAND_RULE,
) -> tuple[DemandForecast, ...]:
    """Project each facility's oxygen use over ``horizon_days`` from ``start_date``.

    Day 0 follows the one demand rule (:func:`reported_demand`): the declared use of the latest
    recent report when plausible, else its patients x flows; growth scales it over the horizon
    (a scenario's severity mix replaces the reported mix, so it uses patients x flows).

    Parameters
    ----------
    profiles
        Every facility to forecast (province, tier, beds).
    reports
        Patient reports; the latest one dated before ``start_date`` and at most
        ``max_report_age_days`` old counts, others are ignored.
    start_date
        Date of horizon day 0 (typically the day after the 16:00 reports).
    horizon_days
        Days to project (default 7).
    scenario
        Case growth and severity mix (default: flat, reported mix).
    flow_table
        Flow rates (default :data:`PLANNING_FLOW_TABLE`; :data:`OBSERVED_FLOW_TABLE` or a table
        with planner overrides).
    tier_estimates
        Patients per bed and mix by tier for facilities without a recent report.
    max_report_age_days
        Reports older than this many days before ``start_date`` are not recent (default
        ``rule.max_report_age_days``: the day before plus ``rule.carry_forward_days``, 3).
    rule
        Carry-forward window and declared-use band (:class:`DemandRule`).

    A report whose declared use is in doubt (``PatientReport.use_in_doubt``) is used with
    patients x flows; when it has no patient on oxygen either, the facility's latest earlier
    recent report whose use is not in doubt is carried forward instead, and without one the
    demand is ``unknown`` (never 0, and not estimated from beds: the facility did report).

    Returns
    -------
    tuple of DemandForecast
        One per profile, in profile order; ``estimated`` marks those estimated from beds,
        ``demand_basis`` ``unknown`` those without a recent report and without beds (their
        demand is zeros for the arithmetic, and unknown for every reader).

    Raises
    ------
    InvalidInputError
        If ``horizon_days`` < 1, a report names an unknown facility, or a facility without a
        recent report has beds and a tier with no estimate; every problem is listed.
    """
    scenario = scenario if scenario is not None else CaseScenario()
    profiles = tuple(profiles)
    problems: list[str] = []
    if not isinstance(horizon_days, int) or horizon_days < 1:
        problems.append(f"horizon_days: must be an integer >= 1, got {horizon_days!r}")
    known = {p.facility_id for p in profiles}
    max_age = rule.max_report_age_days if max_report_age_days is None else max_report_age_days
    latest = _latest_reports(reports, known, start_date, max_age, problems)
    estimates = {estimate.tier: estimate for estimate in tier_estimates}
    for profile in profiles:
        if profile.facility_id not in latest and profile.beds > 0 and profile.tier not in estimates:
            problems.append(
                f"facilities[{profile.facility_id!r}].tier: {profile.tier} has no tier estimate "
                f"and no recent report; add a TierEstimate for tier {profile.tier}"
            )
    if problems:
        raise InvalidInputError.from_problems("demand projection", problems)
    context = _ForecastContext(estimates, scenario, start_date, horizon_days, flow_table, rule)
    return tuple(
        _forecast(profile, latest.get(profile.facility_id), context) for profile in profiles
    )


@dataclass(frozen=True, slots=True)
class _Choice:
    """The report a facility's forecast stands on, and the newer one set aside (a note)."""

    report: PatientReport | None
    set_aside: str = ""


@dataclass(frozen=True, slots=True)
class _ForecastContext:
    estimates: dict[int, TierEstimate]
    scenario: CaseScenario
    start_date: date
    horizon_days: int
    flow_table: FlowTable
    rule: DemandRule


def _latest_reports(
    reports: Iterable[PatientReport],
    known: set[str],
    start_date: date,
    max_report_age_days: int,
    problems: list[str],
) -> dict[str, _Choice]:
    """Return the report each facility's forecast stands on; list reports of unknown facilities.

    The latest recent report, unless it is not usable (use in doubt, no patients): then the
    latest earlier recent report whose use is not in doubt, or none (demand unknown).
    """
    recent: dict[str, list[PatientReport]] = {}
    for report in reports:
        if report.facility_id not in known:
            problems.append(
                f"reports[{report.facility_id!r}]: no facility profile with this id; add it or "
                "drop the report"
            )
            continue
        if 0 < (start_date - report.report_date).days <= max_report_age_days:
            recent.setdefault(report.facility_id, []).append(report)
    chosen: dict[str, _Choice] = {}
    for facility_id, found in recent.items():
        found.sort(key=lambda r: r.report_date, reverse=True)
        newest = found[0]
        if newest.usable:
            chosen[facility_id] = _Choice(newest)
            continue
        clean = next((r for r in found[1:] if not r.use_in_doubt), None)
        chosen[facility_id] = _Choice(
            clean,
            f"report of {newest.report_date.isoformat()} set aside: declared use "
            f"{newest.declared_use_m3 or 0:,.0f} m³ in doubt ({newest.use_in_doubt}) with no "
            "patient on oxygen",
        )
    return chosen


def _unknown_forecast(
    profile: FacilityProfile, start_date: date, horizon_days: int, set_aside: str = ""
) -> DemandForecast:
    if set_aside:
        basis = "unknown: the recent report is in doubt and no earlier clean report is recent"
        note = f"{set_aside}; no earlier unflagged or accepted report to carry forward"
    else:
        basis = "unknown: no recent report and no beds recorded to estimate from"
        note = "ask the facility for its report, or record its beds"
    return DemandForecast(
        facility_id=profile.facility_id,
        start_date=start_date,
        demand_m3_per_day=(0.0,) * horizon_days,
        patients_per_day=(0.0,) * horizon_days,
        estimated=False,
        basis=basis,
        demand_basis=DemandBasis.UNKNOWN,
        note=note,
    )


def _forecast(
    profile: FacilityProfile, choice: _Choice | None, ctx: _ForecastContext
) -> DemandForecast:
    """Forecast one facility from its chosen report, else from its tier's estimate."""
    found = choice.report if choice is not None else None
    set_aside = choice.set_aside if choice is not None else ""
    if found is None and (set_aside or profile.beds <= 0):
        return _unknown_forecast(profile, ctx.start_date, ctx.horizon_days, set_aside)
    growth = ctx.scenario.growth_for(profile.facility_id, profile.province_id)
    per_patient_m3: float | None = None
    flat_m3: float | None = None
    note = ""
    if found is not None:
        base_patients = float(sum(count for _, count in found.patients))
        mix = _shares(found.patients) if base_patients > 0 else ()
        offset = (ctx.start_date - found.report_date).days
        day0 = reported_demand(
            found.patients,
            found.declared_use_m3,
            ctx.flow_table,
            rule=ctx.rule,
            use_in_doubt=found.use_in_doubt,
            use_confirmed=found.use_confirmed,
        )
        demand_basis = day0.basis
        note = "; ".join(text for text in (set_aside, day0.note) if text)
        if day0.basis == DemandBasis.DECLARED_USE and base_patients > 0:
            per_patient_m3 = float(found.declared_use_m3 or 0.0) / base_patients
        elif day0.basis == DemandBasis.DECLARED_USE:
            # Use accepted on review with no patient on oxygen (e.g. wards outside the count):
            # nothing to grow with the case curve, so the declared figure holds over the horizon.
            flat_m3 = float(found.declared_use_m3 or 0.0)
        age_text = f", carried forward {offset - 1} d" if offset > 1 else ""
        basis = f"{demand_basis} of the report of {found.report_date.isoformat()}{age_text}"
    else:
        estimate = ctx.estimates[profile.tier]
        base_patients = profile.beds * estimate.oxygen_bed_share
        mix = estimate.mix
        offset = 0
        demand_basis = DemandBasis.ESTIMATED
        basis = f"estimate from {profile.beds} beds, tier {profile.tier}"
    if ctx.scenario.severity_mix is not None:
        mix = ctx.scenario.severity_mix
        per_patient_m3 = None
    patients = tuple(
        base_patients * growth.factor(day, offset + day) for day in range(ctx.horizon_days)
    )
    demand = tuple(
        round(
            flat_m3
            if flat_m3 is not None
            else n * per_patient_m3
            if per_patient_m3 is not None
            else oxygen_use_m3_per_day(((need, n * share) for need, share in mix), ctx.flow_table),
            6,
        )
        for n in patients
    )
    return DemandForecast(
        facility_id=profile.facility_id,
        start_date=ctx.start_date,
        demand_m3_per_day=demand,
        patients_per_day=tuple(round(n, 6) for n in patients),
        estimated=found is None,
        basis=f"{basis}; flow table {ctx.flow_table.name}",
        demand_basis=demand_basis,
        report_date=found.report_date if found is not None else None,
        report_age_days=offset if found is not None else None,
        note=note,
    )


def _shares(patients: tuple[tuple[OxygenNeed, int], ...]) -> tuple[tuple[OxygenNeed, float], ...]:
    total = sum(count for _, count in patients)
    return tuple((need, count / total) for need, count in patients)
