"""Plausibility rules for daily reports: refuse the impossible, flag the doubtful.

:func:`check_report` takes one report, its facility's record and the facility's recent reports
(plain data, no database) and returns a :class:`PlausibilityResult`: **refusals** (physically
impossible values; the report must not be stored) and **flags** (doubtful values; the report is
stored with them and waits for a province officer's review). Each finding names its rule, the
field, the value, the limit it broke and a message in Vietnamese and English.

Every threshold is a field of :class:`PlausibilityLimits` with its source; ``docs/plausibility.md``
lists the rules. The flow bounds are the two flow tables of :mod:`data.flows` (observed and
planning), the ones demand projection uses. Gas volumes are m³ at normal conditions; liquid oxygen
is in litres of liquid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from data.flows import OBSERVED_FLOW_TABLE, PATIENT_FIELDS, PLANNING_FLOW_TABLE
from data.schema.registry import DailyReport, Facility
from data.units import OxygenConversions, flow_l_per_min_to_m3_per_day

MAX_EXCESS = 1e6
"""Cap of :attr:`Finding.excess` (a limit of zero makes any excess infinite)."""


class Severity(StrEnum):
    """What a finding does to its report."""

    REFUSE = "refuse"  # physically impossible: nothing is stored (HTTP 422)
    FLAG = "flag"  # doubtful: stored with the flag, waits for a province officer's review


class Bound(StrEnum):
    """Which side of its limit a value broke."""

    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True, slots=True)
class PatientFlow:
    """The flow bounds of one patient category of the daily report (L/min per patient).

    ``observed_l_per_min`` is the low bound (:data:`data.flows.OBSERVED_FLOW_TABLE`),
    ``planning_l_per_min`` the high one (:data:`data.flows.PLANNING_FLOW_TABLE`).
    """

    patients_field: str
    observed_l_per_min: float
    planning_l_per_min: float


_DEFAULT_FLOWS = tuple(
    PatientFlow(
        field,
        OBSERVED_FLOW_TABLE.rate(need).flow_l_per_min,
        PLANNING_FLOW_TABLE.rate(need).flow_l_per_min,
    )
    for need, field in PATIENT_FIELDS.items()
)


@dataclass(frozen=True, slots=True)
class PlausibilityLimits:
    """The thresholds of the rules, each with its source (``docs/plausibility.md``).

    Parameters
    ----------
    flows
        Per patient category, the observed (low) and planning (high) flows in L/min, the two
        flow tables of :mod:`data.flows` (oxygen-parameters.md).
    use_high_factor
        Flag use above this many times patients x planning flows (3: piped supply can raise
        consumption "up to 300%", oxygen-parameters.md, OCC demand FAQ).
    use_low_factor
        Flag use below this share of patients x observed flows (0.5: the lowest observed ward
        mean, Sweden 3.0 L/min, is 0.54 of the ZSFG mean 5.6 L/min the observed table uses).
    jump_factor
        Flag use more than this many times (or less than 1/this of) the median of the recent
        reports (3: assumption; the Delhi audit's inflated claim was 4x the formula figure).
    jump_min_change_m3
        ... unless it moved by less than this (43.2 m³: one critical patient-day at 30 L/min).
    history_days
        How many days before the report count as recent history (7).
    idle_use_m3
        Use allowed with no patient on oxygen, beside the tank's boil-off (6 m³: one 40 L
        cylinder, oxygen-parameters.md).
    boil_off_share_per_day
        Liquid lost per day as a share of the tank's capacity (0.5 %/day, oxygen-parameters.md,
        VIE tanks).
    stock_rise_tolerance_m3, stock_rise_tolerance_share
        A stock may rise without an announced delivery by a gauge error of this much
        (6 m³, one cylinder) plus this share of the previous stock (5 %); assumptions.
    max_use_m3_per_day
        Refuse a daily use or delivery above the country's whole liquid-oxygen output
        (1,430 t/day at full capacity, AIGA-VN, x 700 m³/t = 1,001,000 m³).
    largest_tank_l
        Refuse liquid stock above the largest standard hospital tank when the facility declares
        no tank (75,700 L, 20,000 gal; oxygen-parameters.md, VIE sizes).
    """

    flows: tuple[PatientFlow, ...] = _DEFAULT_FLOWS
    use_high_factor: float = 3.0
    use_low_factor: float = 0.5
    jump_factor: float = 3.0
    jump_min_change_m3: float = 43.2
    history_days: int = 7
    idle_use_m3: float = 6.0
    boil_off_share_per_day: float = 0.005
    stock_rise_tolerance_m3: float = 6.0
    stock_rise_tolerance_share: float = 0.05
    max_use_m3_per_day: float = 1_001_000.0
    largest_tank_l: float = 75_700.0

    def expected_use_m3(self, report: DailyReport) -> tuple[float, float]:
        """Return the use patients x flows imply over 24 h: (observed, planning) m³."""
        low = high = 0.0
        for flow in self.flows:
            patients = getattr(report, flow.patients_field)
            low += patients * flow_l_per_min_to_m3_per_day(flow.observed_l_per_min)
            high += patients * flow_l_per_min_to_m3_per_day(flow.planning_l_per_min)
        return low, high


DEFAULT_LIMITS = PlausibilityLimits()


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule: the field, its value, the limit, and what to do, in vi and en.

    ``excess`` says how far beyond the limit the value is (value / limit above it, limit /
    value below it; at most :data:`MAX_EXCESS`): the review queue shows the largest first.
    """

    rule_id: str
    severity: Severity
    field: str
    value: float
    limit: float
    bound: Bound
    message_vi: str
    message_en: str

    @property
    def excess(self) -> float:
        """How many times beyond the limit the value is (at least 1)."""
        high, low = (
            (self.value, self.limit) if self.bound is Bound.ABOVE else (self.limit, self.value)
        )
        if low <= 0:
            return MAX_EXCESS
        return min(max(high / low, 1.0), MAX_EXCESS)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (stored with the revision and shown by the API)."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "field": self.field,
            "value": self.value,
            "limit": round(self.limit, 3),
            "bound": self.bound.value,
            "excess": round(self.excess, 3),
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Build a finding from :meth:`to_dict`'s form (``excess`` is recomputed)."""
        return cls(
            rule_id=str(data["rule_id"]),
            severity=Severity(data["severity"]),
            field=str(data["field"]),
            value=float(data["value"]),
            limit=float(data["limit"]),
            bound=Bound(data["bound"]),
            message_vi=str(data["message_vi"]),
            message_en=str(data["message_en"]),
        )

    def problem(self) -> str:
        """Return the finding as an error-envelope problem (``field: reason``)."""
        return (
            f"{self.field}: {self.message_en} (value {_en(self.value)}, limit {_en(self.limit)}, "
            f"rule {self.rule_id}) / {self.message_vi}"
        )


@dataclass(frozen=True, slots=True)
class PlausibilityResult:
    """What the rules found in one report: refusals (nothing stored) and flags (stored)."""

    refusals: tuple[Finding, ...] = ()
    flags: tuple[Finding, ...] = ()

    @property
    def refused(self) -> bool:
        """Whether the report must not be stored."""
        return bool(self.refusals)


@dataclass(frozen=True, slots=True)
class _Context:
    report: DailyReport
    facility: Facility
    recent: tuple[DailyReport, ...]
    limits: PlausibilityLimits
    conversions: OxygenConversions
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        rule_id: str,
        severity: Severity,
        field_name: str,
        value: float,
        limit: float,
        messages: tuple[str, str],
        *,
        bound: Bound = Bound.ABOVE,
    ) -> None:
        self.findings.append(
            Finding(rule_id, severity, field_name, value, round(limit, 3), bound, *messages)
        )


def _en(number: float) -> str:
    """Write a number the English way (``100,000``; ``12.5``)."""
    text = f"{number:,.1f}" if not float(number).is_integer() else f"{number:,.0f}"
    return text


def _vi(number: float) -> str:
    """Write a number the Vietnamese way (``100.000``; ``12,5``)."""
    return _en(number).replace(",", "\0").replace(".", ",").replace("\0", ".")


def _tank_l(facility: Facility) -> float | None:
    """Return the declared tank capacity (None when no tank is declared; 0 counts as none)."""
    return facility.liquid_tank_capacity_l or None


# --------------------------------------------------------------------------- the rules


def _physical_ranges(ctx: _Context) -> None:
    """Refuse use or deliveries above the country's whole liquid-oxygen output."""
    ceiling = ctx.limits.max_use_m3_per_day
    for name in ("oxygen_used_24h_m3", "deliveries_expected_m3"):
        value = getattr(ctx.report, name)
        if value is not None and value > ceiling:
            ctx.add(
                f"physical.{name}",
                Severity.REFUSE,
                name,
                value,
                ceiling,
                (
                    f"{_vi(value)} m³/ngày vượt toàn bộ sản lượng oxy lỏng của cả nước "
                    f"({_vi(ceiling)} m³/ngày); không thể đúng, hãy kiểm tra đơn vị và số",
                    f"{_en(value)} m³/day is more than the whole country's liquid-oxygen output "
                    f"({_en(ceiling)} m³/day); it cannot be right: check the unit and the figure",
                ),
            )


def _tank_capacity(ctx: _Context) -> None:
    """Refuse liquid stock above the declared tank; flag liquid stock without a declared tank."""
    stock_l = ctx.report.liquid_stock_l
    if stock_l is None or stock_l <= 0:
        return
    tank_l = _tank_l(ctx.facility)
    if tank_l is not None:
        if stock_l > tank_l:
            ctx.add(
                "capacity.liquid_above_tank",
                Severity.REFUSE,
                "liquid_stock_l",
                stock_l,
                tank_l,
                (
                    f"lượng oxy lỏng tồn {_vi(stock_l)} L vượt dung tích bồn {_vi(tank_l)} L đã "
                    "khai báo của cơ sở; hãy sửa số tồn, hoặc sửa liquid_tank_capacity_l của "
                    "cơ sở nếu bồn lớn hơn",
                    f"liquid stock {_en(stock_l)} L is above the {_en(tank_l)} L tank declared "
                    "for this facility; correct the stock, or the facility's "
                    "liquid_tank_capacity_l if the tank is larger",
                ),
            )
        return
    largest = ctx.limits.largest_tank_l
    if stock_l > largest:
        ctx.add(
            "capacity.liquid_above_largest_tank",
            Severity.REFUSE,
            "liquid_stock_l",
            stock_l,
            largest,
            (
                f"lượng oxy lỏng tồn {_vi(stock_l)} L vượt bồn bệnh viện lớn nhất "
                f"({_vi(largest)} L) và cơ sở chưa khai báo bồn; hãy kiểm tra đơn vị (lít lỏng)",
                f"liquid stock {_en(stock_l)} L is above the largest hospital tank "
                f"({_en(largest)} L) and the facility declares no tank; check the unit "
                "(litres of liquid)",
            ),
        )
        return
    ctx.add(
        "capacity.liquid_without_tank",
        Severity.FLAG,
        "liquid_stock_l",
        stock_l,
        0.0,
        (
            f"báo {_vi(stock_l)} L oxy lỏng nhưng cơ sở chưa khai báo bồn chứa; hãy khai báo "
            "liquid_tank_capacity_l của cơ sở",
            f"{_en(stock_l)} L of liquid reported but the facility declares no tank; declare "
            "its liquid_tank_capacity_l",
        ),
    )


def _cylinder_capacity(ctx: _Context) -> None:
    """Flag more cylinders (full + empty) of a size than the facility declares it owns."""
    owned = ctx.facility.cylinders_on_hand
    for size in sorted(set(ctx.report.cylinders_full) | set(ctx.report.cylinders_empty)):
        declared = owned.get(size, 0)
        if not declared:
            continue  # a size the registry does not list: nothing to compare with
        count = ctx.report.cylinders_full.get(size, 0) + ctx.report.cylinders_empty.get(size, 0)
        if count > declared:
            ctx.add(
                "capacity.cylinders_above_declared",
                Severity.FLAG,
                f"cylinders_full[{size!r}]",
                float(count),
                float(declared),
                (
                    f"{_vi(count)} bình {size} (đầy + rỗng) nhiều hơn {_vi(declared)} bình cơ sở "
                    "khai báo; bình mượn của nhà cung cấp? nếu không, hãy sửa số",
                    f"{_en(count)} {size} cylinders (full + empty) are more than the "
                    f"{_en(declared)} the facility declares; cylinders on loan from a supplier? "
                    "if not, correct the counts",
                ),
            )


def _use_against_patients(ctx: _Context) -> None:
    """Flag use far above patients x planning flows, or far below patients x observed flows."""
    report, limits = ctx.report, ctx.limits
    observed_m3, planning_m3 = limits.expected_use_m3(report)
    used = report.oxygen_used_24h_m3
    if planning_m3 <= 0:
        return
    high = planning_m3 * limits.use_high_factor
    low = observed_m3 * limits.use_low_factor
    if used > high:
        ctx.add(
            "use.above_patient_flows",
            Severity.FLAG,
            "oxygen_used_24h_m3",
            used,
            high,
            (
                f"lượng oxy đã dùng {_vi(used)} m³ lớn hơn {_vi(limits.use_high_factor)} lần "
                f"mức bệnh nhân x lưu lượng kế hoạch ({_vi(round(planning_m3, 1))} m³); hãy "
                "kiểm tra số dùng và số bệnh nhân",
                f"use {_en(used)} m³ is more than {_en(limits.use_high_factor)} times patients x "
                f"planning flows ({_en(round(planning_m3, 1))} m³); check the use and the "
                "patient counts",
            ),
        )
    elif used < low:
        ctx.add(
            "use.below_patient_flows",
            Severity.FLAG,
            "oxygen_used_24h_m3",
            used,
            low,
            (
                f"lượng oxy đã dùng {_vi(used)} m³ thấp hơn một nửa mức bệnh nhân x lưu lượng "
                f"quan sát ({_vi(round(observed_m3, 1))} m³); hãy kiểm tra số dùng và số bệnh nhân",
                f"use {_en(used)} m³ is below half of patients x observed flows "
                f"({_en(round(observed_m3, 1))} m³); check the use and the patient counts",
            ),
            bound=Bound.BELOW,
        )


def _use_without_patients(ctx: _Context) -> None:
    """Flag use beyond the tank's boil-off and one cylinder when no patient is on oxygen."""
    report, limits = ctx.report, ctx.limits
    if limits.expected_use_m3(report)[1] > 0:
        return
    boil_off_m3 = ctx.conversions.lox_l_to_gas_m3(
        (_tank_l(ctx.facility) or 0.0) * limits.boil_off_share_per_day
    )
    allowance = limits.idle_use_m3 + boil_off_m3
    used = report.oxygen_used_24h_m3
    if used > allowance:
        ctx.add(
            "use.without_patients",
            Severity.FLAG,
            "oxygen_used_24h_m3",
            used,
            round(allowance, 3),
            (
                f"dùng {_vi(used)} m³ oxy nhưng không có bệnh nhân thở oxy; hãy nhập số bệnh "
                "nhân theo loại hỗ trợ hoặc sửa số dùng",
                f"{_en(used)} m³ used with no patient on oxygen; enter the patients by support "
                "or correct the use",
            ),
        )


def _history(ctx: _Context) -> list[DailyReport]:
    """Return the facility's reports of the days before this one, within the window, by day."""
    first = ctx.report.report_date - dt.timedelta(days=ctx.limits.history_days)
    return sorted(
        (
            r
            for r in ctx.recent
            if r.facility_id == ctx.report.facility_id
            and first <= r.report_date < ctx.report.report_date
        ),
        key=lambda r: r.report_date,
    )


def _use_jump(ctx: _Context) -> None:
    """Flag use far from the median of the facility's recent reports."""
    history = _history(ctx)
    if not history:
        return
    uses = sorted(r.oxygen_used_24h_m3 for r in history)
    middle = len(uses) // 2
    median = uses[middle] if len(uses) % 2 else (uses[middle - 1] + uses[middle]) / 2
    used, factor = ctx.report.oxygen_used_24h_m3, ctx.limits.jump_factor
    if abs(used - median) < ctx.limits.jump_min_change_m3:
        return
    days = len(history)
    if used > median * factor:
        ctx.add(
            "history.use_jump",
            Severity.FLAG,
            "oxygen_used_24h_m3",
            used,
            median * factor,
            (
                f"lượng dùng {_vi(used)} m³ gấp hơn {_vi(factor)} lần trung vị {_vi(median)} m³ "
                f"của {days} báo cáo gần nhất; hãy kiểm tra số (thừa chữ số, sai đơn vị?)",
                f"use {_en(used)} m³ is more than {_en(factor)} times the median {_en(median)} m³ "
                f"of the last {days} reports; check the figure (an extra digit, a wrong unit?)",
            ),
        )
    elif used * factor < median:
        ctx.add(
            "history.use_drop",
            Severity.FLAG,
            "oxygen_used_24h_m3",
            used,
            median / factor,
            (
                f"lượng dùng {_vi(used)} m³ thấp hơn 1/{_vi(factor)} trung vị {_vi(median)} m³ "
                f"của {days} báo cáo gần nhất; hãy kiểm tra số",
                f"use {_en(used)} m³ is below 1/{_en(factor)} of the median {_en(median)} m³ of "
                f"the last {days} reports; check the figure",
            ),
            bound=Bound.BELOW,
        )


def _stock_rise(ctx: _Context) -> None:
    """Flag stock that rose since the day before by more than the announced delivery."""
    previous = [
        r for r in _history(ctx) if r.report_date == ctx.report.report_date - dt.timedelta(days=1)
    ]
    if not previous:
        return
    before = previous[-1]
    limits, conversions = ctx.limits, ctx.conversions
    stock_before_m3 = before.stock_on_hand_m3(conversions)
    stock_m3 = ctx.report.stock_on_hand_m3(conversions)
    allowed_m3 = (
        stock_before_m3
        + (before.deliveries_expected_m3 or 0.0)
        + (ctx.facility.psa_output_m3_per_day or 0.0)
        + limits.stock_rise_tolerance_m3
        + limits.stock_rise_tolerance_share * stock_before_m3
    )
    if stock_m3 > allowed_m3:
        ctx.add(
            "stock.rise_without_delivery",
            Severity.FLAG,
            "liquid_stock_l" if ctx.report.liquid_stock_l else "cylinders_full",
            round(stock_m3, 3),
            round(allowed_m3, 3),
            (
                f"tồn kho tăng từ {_vi(round(stock_before_m3, 1))} lên "
                f"{_vi(round(stock_m3, 1))} m³ mà hôm trước chỉ báo "
                f"{_vi(before.deliveries_expected_m3 or 0.0)} m³ sắp giao; hãy ghi lượng đã "
                "nhận hoặc sửa số tồn",
                f"stock rose from {_en(round(stock_before_m3, 1))} to {_en(round(stock_m3, 1))} "
                f"m³ while the day before announced {_en(before.deliveries_expected_m3 or 0.0)} "
                "m³ of deliveries; record the delivery or correct the stock",
            ),
        )


_RULES = (
    _physical_ranges,
    _tank_capacity,
    _cylinder_capacity,
    _use_against_patients,
    _use_without_patients,
    _use_jump,
    _stock_rise,
)


def check_report(
    report: DailyReport,
    facility: Facility,
    recent: Iterable[DailyReport] = (),
    *,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
    conversions: OxygenConversions | None = None,
) -> PlausibilityResult:
    """Check one report against its facility's record and recent reports.

    Parameters
    ----------
    report
        The report to check.
    facility
        Its facility's record (tank capacity, cylinders owned, PSA output).
    recent
        The facility's latest report of each earlier day (others are ignored: other facilities,
        this day or later, days before ``limits.history_days``).
    limits
        Thresholds (default :data:`DEFAULT_LIMITS`).
    conversions
        Unit factors for stock in m³ (default :class:`~data.units.OxygenConversions`).

    Returns
    -------
    PlausibilityResult
        Refusals and flags, each in the order of the rules (see ``docs/plausibility.md``).
    """
    if report.facility_id != facility.facility_id:
        raise ValueError(
            f"report of {report.facility_id!r} checked against {facility.facility_id!r}"
        )
    ctx = _Context(report, facility, tuple(recent), limits, conversions or OxygenConversions())
    for rule in _RULES:
        rule(ctx)
    return PlausibilityResult(
        refusals=tuple(f for f in ctx.findings if f.severity is Severity.REFUSE),
        flags=tuple(f for f in ctx.findings if f.severity is Severity.FLAG),
    )


def seriousness(flags: Sequence[Finding]) -> tuple[float, int]:
    """Return the sort key of a flagged report: the largest excess, then the number of flags."""
    return (max((f.excess for f in flags), default=0.0), len(flags))


def fields_in_doubt(flags: Iterable[Finding]) -> frozenset[str]:
    """Return the report fields that unreviewed ``flags`` put in doubt (cylinder keys folded).

    A plan must not take these fields at face value; ``docs/plausibility.md`` says what it uses
    instead.
    """
    return frozenset(f.field.split("[", 1)[0] for f in flags)
