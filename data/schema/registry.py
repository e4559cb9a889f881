"""Registry value types: provinces, facilities, suppliers, fleet and daily oxygen reports.

Every record is a frozen dataclass with slots that validates itself on construction and raises
:class:`~data.errors.InvalidInputError` listing *every* problem at once. Records are built from
JSON bodies or spreadsheet rows through ``from_mapping``, which first checks the shape (unknown or
missing fields, wrong types) and raises :class:`MalformedInputError` (an HTTP 400), then builds the
record, whose domain rules (negative stock, unknown cylinder size, tier outside 1-3) raise
:class:`~data.errors.InvalidInputError` (an HTTP 422).

Conventions: coordinates are WGS84 ``lon``/``lat`` in degrees; gas volumes are m³ at normal
conditions (suffix ``_m3``); liquid oxygen is in litres of liquid (``_l``) or kilograms (``_kg``);
cylinder counts are keyed by size label (``"40L"``), the labels of
:class:`data.units.OxygenConversions`. Text is normalised to Unicode NFC so that Vietnamese
diacritics typed on any system compare equal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
import types
import typing
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Self

from data.errors import InvalidInputError, MalformedInputError
from data.schema.cell_values import parse_value
from data.schema.contacts import email_problem, normalise_email, normalise_phone, phone_problem
from data.schema.number_text import NumberLocale
from data.units import OxygenConversions

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
PROVINCE_CODE_PATTERN = re.compile(r"^[0-9]{2}$")
MAX_NAME_CHARS = 300
MAX_NOTE_CHARS = 2000
MAX_COUNT = 1_000_000
MAX_GAS_M3 = 1e9
TIERS = (1, 2, 3)
FIRST_REPORT_DATE = dt.date(2000, 1, 1)
"""No daily report is for an earlier day (a typo guard; the month table also starts in 2000)."""
CYLINDER_SIZES = frozenset(OxygenConversions().cylinder_gas_m3)


class Role(StrEnum):
    """What a user may do; see :mod:`data.access` for the permission table."""

    FACILITY_REPORTER = "facility_reporter"
    PROVINCE_COORDINATOR = "province_coordinator"
    MINISTRY = "ministry"
    DISPATCHER = "dispatcher"
    PLANNER = "planner"
    ADMIN = "admin"


class SupplierKind(StrEnum):
    """What a supplier site does."""

    LIQUID_PRODUCER = "liquid_producer"
    FILLING_STATION = "filling_station"
    DEPOT = "depot"


class VehicleKind(StrEnum):
    """What a vehicle carries."""

    CRYOGENIC_TANKER = "cryogenic_tanker"
    CYLINDER_TRUCK = "cylinder_truck"


# --------------------------------------------------------------------------- shape checks


@functools.cache
def optional_hint(hint: Any) -> tuple[bool, Any]:
    """Return whether a field's type hint is ``X | None``, and ``X`` (or the hint itself).

    Cached: records are checked field by field on every construction, rows read included.
    """
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def _contradiction(name: str, given: Any, fixed: Any) -> list[str]:
    """Return the problem of a sent value that differs from the one the caller fixed, if any."""
    if given is not None and given != "" and str(given) != str(fixed):
        return [f"{name}: is {fixed!r} here (from the address), got {given!r}"]
    return []


def is_required_field(field: dataclasses.Field[Any]) -> bool:
    """Return whether a dataclass field has neither a default nor a default factory."""
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


@functools.cache
def _resolved_field_hints(record_type: type) -> types.MappingProxyType[str, Any]:
    # Resolved once per class: with postponed annotations typing.get_type_hints compiles every
    # annotation string on each call, and records resolve their hints on every construction
    # (a compliance request builds every facility: about 70 % of its time went here, cProfile).
    hints = typing.get_type_hints(record_type)
    return types.MappingProxyType({f.name: hints[f.name] for f in dataclasses.fields(record_type)})


class RegistryRecord:
    """Mix-in giving records ``from_mapping``, ``to_dict`` and a type check on construction."""

    __slots__ = ()
    # Fields the server fills in; a client may not send them.
    READ_ONLY_FIELDS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def field_hints(cls) -> dict[str, Any]:
        """Return the resolved type of every field, in declaration order."""
        return dict(_resolved_field_hints(cls))  # type: ignore[arg-type]  # classes are hashable

    @classmethod
    def from_mapping(
        cls,
        data: Any,
        *,
        text: bool = False,
        number_locale: NumberLocale | None = None,
        **fixed: Any,
    ) -> Self:
        """Build a record from a JSON object or a spreadsheet row.

        Parameters
        ----------
        data
            Field name to value. JSON values must have the field's type; with ``text=True``
            (CSV and XLSX cells) text is converted and empty cells mean "no value".
        text
            Whether values come from a spreadsheet.
        number_locale
            With ``text``: how the file writes numbers as text (:class:`NumberLocale`, ``vi``
            ``5.200,5`` or ``en`` ``5,200.5``); number cells are taken as they are. None (the
            default: the file declared nothing) reads a text number only when it means the same
            in both locales, or when only one can read it (``650``, ``650.5``, ``12,5``), and
            refuses ambiguous text such as ``5.200`` (5,200 or 5.2) as malformed.
        **fixed
            Values set by the caller (for example the facility id from the URL); they override
            nothing: sending a different value in ``data`` is a problem.

        Raises
        ------
        MalformedInputError
            On a field that is unknown, missing or of the wrong type (every one is listed).
        InvalidInputError
            When the values break a domain rule (see the class docstring).
        """
        what = cls.__name__
        if not isinstance(data, Mapping):
            raise MalformedInputError(
                f"{what}: the body must be a JSON object, got {type(data).__name__}",
                [f"body: must be a JSON object, got {type(data).__name__}"],
            )
        hints = cls.field_hints()
        problems: list[str] = []
        contradictions: list[str] = []
        for key in data:
            if key not in hints:
                problems.append(f"{key}: unknown field; known fields: {', '.join(hints)}")
        values: dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for name, hint in hints.items():
            optional, base = optional_hint(hint)
            if name in fixed:
                # Well-formed but contradicting the address: a broken rule (422), not a
                # malformed body.
                contradictions.extend(_contradiction(name, data.get(name), fixed[name]))
                values[name] = fixed[name]
                continue
            if name in cls.READ_ONLY_FIELDS:
                if name in data and data[name] not in (None, ""):
                    problems.append(f"{name}: is set by the server; leave it out")
                continue
            raw = data.get(name)
            if text and isinstance(raw, str) and not raw.strip():
                raw = None
            if raw is None:
                required = is_required_field(fields[name])
                if optional and (name in data or required):
                    values[name] = None  # an explicit null, or a required optional field
                elif required:
                    problems.append(f"{name}: is required")
                continue
            parsed = parse_value(
                name, base, raw, text=text, problems=problems, number_locale=number_locale
            )
            if parsed is not None:
                values[name] = parsed
        if problems:
            raise MalformedInputError.from_problems(what, problems + contradictions)
        if contradictions:
            raise InvalidInputError.from_problems(what, contradictions)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (dates as ``YYYY-MM-DD``, mappings as plain objects)."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            out[field.name] = _jsonable(getattr(self, field.name))
        return out

    def _check(self, problems: list[str]) -> None:
        """Check types (a guard for direct construction), normalise text, then raise if needed."""
        for name, hint in type(self).field_hints().items():
            value = getattr(self, name)
            optional, base = optional_hint(hint)
            if value is None:
                if not optional:
                    problems.insert(0, f"{name}: is required")
                continue
            if base is str:
                object.__setattr__(
                    self,
                    name,
                    unicodedata.normalize("NFC", value.strip())
                    if isinstance(value, str)
                    else value,
                )
            elif base is float and isinstance(value, int) and not isinstance(value, bool):
                # 12 and 12.0 are the same quantity: keep one form so content hashes agree.
                object.__setattr__(self, name, float(value))
            elif typing.get_origin(base) in (Mapping, dict) and isinstance(value, Mapping):
                object.__setattr__(self, name, types.MappingProxyType(dict(value)))
            type_problems: list[str] = []
            if isinstance(base, type) and issubclass(base, StrEnum):
                ok = isinstance(value, base)
            elif base is float:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            elif base is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif typing.get_origin(base) in (Mapping, dict):
                ok = isinstance(value, Mapping)
            elif typing.get_origin(base) is tuple:
                ok = isinstance(value, tuple)
            elif base is dt.date:
                ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
            else:
                ok = isinstance(value, base)
            if not ok:
                type_problems.append(f"{name}: has the wrong type {type(value).__name__}")
            problems[:0] = type_problems
        if problems:
            raise InvalidInputError.from_problems(type(self).__name__, problems)


def _jsonable(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------- domain checks


def _check_id(problems: list[str], name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        problems.append(
            f"{name}: must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or "
            f"digit), got {value!r}"
        )


def _check_province(problems: list[str], name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not PROVINCE_CODE_PATTERN.fullmatch(value):
        problems.append(
            f"{name}: must be a two-digit 2021 province code such as '79', got {value!r}"
        )


def _check_text(
    problems: list[str],
    name: str,
    value: Any,
    *,
    limit: int = MAX_NAME_CHARS,
    optional: bool = False,
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{name}: must not be empty")
    elif len(value) > limit:
        problems.append(f"{name}: must be at most {limit} characters, got {len(value)}")
    elif any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        problems.append(f"{name}: must not contain control characters")


def _check_range(
    problems: list[str], name: str, value: Any, low: float, high: float, *, optional: bool = True
) -> None:
    if value is None:
        if not optional:
            problems.append(f"{name}: is required")
        return
    if isinstance(value, int | float) and not isinstance(value, bool) and not low <= value <= high:
        problems.append(f"{name}: must be between {low:g} and {high:g}, got {value!r}")


def _check_counts(problems: list[str], name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        return
    for size, count in value.items():
        if size not in CYLINDER_SIZES:
            problems.append(
                f"{name}: unknown cylinder size {size!r}; known sizes: "
                f"{', '.join(sorted(CYLINDER_SIZES))}"
            )
        if isinstance(count, int) and not 0 <= count <= MAX_COUNT:
            problems.append(f"{name}[{size!r}]: must be between 0 and {MAX_COUNT}, got {count!r}")


def _check_lon_lat(problems: list[str], lon: Any, lat: Any, *, optional: bool = False) -> None:
    if lon is None and lat is None and optional:
        return
    if (lon is None) != (lat is None):
        problems.append("lon, lat: give both or neither")
        return
    _check_range(problems, "lon", lon, -180.0, 180.0, optional=False)
    _check_range(problems, "lat", lat, -90.0, 90.0, optional=False)


def _check_contacts(record: Any, problems: list[str]) -> None:
    """Check a record's contact fields, and store its phone and e-mail in their normal form."""
    _check_text(problems, "contact_name", record.contact_name, optional=True)
    for name, problem, normalise in (
        ("contact_phone", phone_problem, normalise_phone),
        ("contact_email", email_problem, normalise_email),
    ):
        value = getattr(record, name)
        if not isinstance(value, str):
            continue  # None, or a wrong type that _check reports
        found = problem(name, value)
        if found is None:
            object.__setattr__(record, name, normalise(value))
        else:
            problems.append(found)


# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True, slots=True)
class Province(RegistryRecord):
    """A provincial unit of 2021 (one of 63), with the 2025 unit (one of 34) it became part of.

    Parameters
    ----------
    province_code
        Two-digit code of the General Statistics Office (``"79"`` for Hồ Chí Minh City).
    name
        Official 2021 name with diacritics.
    unit_2025_code, unit_2025_name
        The post-1 July 2025 unit whose polygon holds this province (see :mod:`data.provinces`);
        None when the mapping was not loaded.
    """

    province_code: str
    name: str
    unit_2025_code: str | None = None
    unit_2025_name: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_province(problems, "province_code", self.province_code)
        _check_text(problems, "name", self.name)
        self._check(problems)


@dataclasses.dataclass(frozen=True, slots=True)
class Facility(RegistryRecord):
    """A treatment facility, its beds by oxygen level and its oxygen infrastructure.

    Parameters
    ----------
    facility_id
        Stable code (letters, digits, ``.``, ``_``, ``-``; at most 64).
    name, province_code, district, address
        Name with diacritics; 2021 province code; district and address as written locally.
    lon, lat
        WGS84 position in degrees.
    tier
        COVID treatment tier (1: mild, 2: moderate with oxygen, 3: intensive care).
    beds_oxygen, beds_high_flow, beds_niv, beds_invasive, beds_ecmo
        Beds by the oxygen support they can give (standard oxygen, high-flow nasal cannula,
        non-invasive ventilation, invasive ventilation, ECMO); None when not declared.
    liquid_tank_capacity_l
        Liquid-oxygen tank capacity in litres of liquid (None: no tank).
    cylinders_on_hand
        Cylinders the facility owns, by size label (for example ``{"40L": 120}``).
    has_manifold, has_pipeline
        Whether cylinders feed a manifold, and whether wards have piped oxygen.
    psa_output_m3_per_day
        Output of on-site PSA generators (m³/day; None: none).
    concentrators, concentrator_output_l_per_min
        Number of oxygen concentrators and the flow of each (L/min).
    reporting_from, reporting_until
        Dates (inclusive) between which the facility must send daily reports; None means open.
    source
        Where the record comes from; generated or assumed values say so here.
    contact_name, contact_phone, contact_email
        The focal person (đầu mối) to call about reports and deliveries: name, phone and e-mail,
        each optional. The phone is a Vietnamese number typed in any usual way and stored in its
        normalised national form (``028 3855 4137``, ``0903 123 456``; see
        :mod:`data.schema.contacts`); the e-mail's domain is stored in lower case.
    """

    facility_id: str
    name: str
    province_code: str
    lon: float
    lat: float
    tier: int
    district: str | None = None
    address: str | None = None
    beds_oxygen: int | None = None
    beds_high_flow: int | None = None
    beds_niv: int | None = None
    beds_invasive: int | None = None
    beds_ecmo: int | None = None
    liquid_tank_capacity_l: float | None = None
    cylinders_on_hand: Mapping[str, int] = dataclasses.field(default_factory=dict)
    has_manifold: bool = False
    has_pipeline: bool = False
    psa_output_m3_per_day: float | None = None
    concentrators: int | None = None
    concentrator_output_l_per_min: float | None = None
    reporting_from: dt.date | None = None
    reporting_until: dt.date | None = None
    source: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "facility_id", self.facility_id)
        _check_text(problems, "name", self.name)
        _check_province(problems, "province_code", self.province_code)
        _check_text(problems, "district", self.district, optional=True)
        _check_text(problems, "address", self.address, optional=True)
        _check_lon_lat(problems, self.lon, self.lat)
        if isinstance(self.tier, int) and self.tier not in TIERS:
            problems.append(f"tier: must be 1, 2 or 3, got {self.tier!r}")
        for name in (
            "beds_oxygen",
            "beds_high_flow",
            "beds_niv",
            "beds_invasive",
            "beds_ecmo",
            "concentrators",
        ):
            _check_range(problems, name, getattr(self, name), 0, MAX_COUNT)
        for name in (
            "liquid_tank_capacity_l",
            "psa_output_m3_per_day",
            "concentrator_output_l_per_min",
        ):
            _check_range(problems, name, getattr(self, name), 0, MAX_GAS_M3)
        _check_counts(problems, "cylinders_on_hand", self.cylinders_on_hand)
        if (
            self.reporting_from is not None
            and self.reporting_until is not None
            and isinstance(self.reporting_from, dt.date)
            and isinstance(self.reporting_until, dt.date)
            and self.reporting_until < self.reporting_from
        ):
            problems.append(
                f"reporting_until: must not be before reporting_from "
                f"({self.reporting_from}), got {self.reporting_until}"
            )
        _check_text(problems, "source", self.source, optional=True)
        _check_contacts(self, problems)
        self._check(problems)

    def expected_on(self, day: dt.date) -> bool:
        """Return whether the facility must report for ``day`` (its reporting period holds it)."""
        return (self.reporting_from is None or self.reporting_from <= day) and (
            self.reporting_until is None or day <= self.reporting_until
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Supplier(RegistryRecord):
    """An oxygen supplier site: liquid producer, cylinder filling station or depot.

    Parameters
    ----------
    supplier_id, name, kind, province_code
        Stable code, name, :class:`SupplierKind`, 2021 province code.
    lon, lat
        WGS84 position in degrees (None when not yet placed).
    liquid_output_t_per_day
        Liquid oxygen production (tonnes/day); producers only.
    cylinders_per_day
        Cylinders it can fill per day.
    products
        What it sells, for example ``("liquid", "cylinder_40L")``.
    liquid_storage_t, cylinder_storage
        Storage: tonnes of liquid, number of cylinders.
    source
        Where the figures come from (a URL); generated or assumed values say so.
    contact_name, contact_phone, contact_email
        The focal person to call about supply, as for :class:`Facility`.
    """

    supplier_id: str
    name: str
    kind: SupplierKind
    province_code: str
    lon: float | None = None
    lat: float | None = None
    liquid_output_t_per_day: float | None = None
    cylinders_per_day: int | None = None
    products: tuple[str, ...] = ()
    liquid_storage_t: float | None = None
    cylinder_storage: int | None = None
    source: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "supplier_id", self.supplier_id)
        _check_text(problems, "name", self.name)
        _check_province(problems, "province_code", self.province_code)
        _check_lon_lat(problems, self.lon, self.lat, optional=True)
        _check_range(problems, "liquid_output_t_per_day", self.liquid_output_t_per_day, 0, 1e6)
        _check_range(problems, "cylinders_per_day", self.cylinders_per_day, 0, MAX_COUNT)
        _check_range(problems, "liquid_storage_t", self.liquid_storage_t, 0, 1e6)
        _check_range(problems, "cylinder_storage", self.cylinder_storage, 0, MAX_COUNT)
        for product in self.products if isinstance(self.products, tuple) else ():
            _check_text(problems, "products", product, limit=60)
        _check_text(problems, "source", self.source, optional=True, limit=1000)
        _check_contacts(self, problems)
        self._check(problems)


@dataclasses.dataclass(frozen=True, slots=True)
class TransportOperator(RegistryRecord):
    """A company or unit that runs oxygen vehicles."""

    operator_id: str
    name: str
    province_code: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "operator_id", self.operator_id)
        _check_text(problems, "name", self.name)
        _check_province(problems, "province_code", self.province_code, optional=True)
        _check_text(problems, "source", self.source, optional=True, limit=1000)
        self._check(problems)


@dataclasses.dataclass(frozen=True, slots=True)
class Vehicle(RegistryRecord):
    """A cryogenic tanker or a cylinder truck.

    Parameters
    ----------
    vehicle_id, operator_id, kind
        Stable code, the operator running it, :class:`VehicleKind`.
    tank_capacity_lox_kg
        Tanker payload in kg of liquid oxygen (a tank of V m³ liquid holds V x 1141 kg,
        :attr:`data.units.OxygenConversions.lox_kg_per_l`); tankers only.
    cylinder_capacity
        Number of 40 L cylinders a truck carries; cylinder trucks only.
    home_depot_id
        Supplier id of the depot where it starts and ends its day.
    plate
        Registration plate.
    """

    vehicle_id: str
    operator_id: str
    kind: VehicleKind
    tank_capacity_lox_kg: float | None = None
    cylinder_capacity: int | None = None
    home_depot_id: str | None = None
    plate: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "vehicle_id", self.vehicle_id)
        _check_id(problems, "operator_id", self.operator_id)
        _check_id(problems, "home_depot_id", self.home_depot_id, optional=True)
        _check_range(problems, "tank_capacity_lox_kg", self.tank_capacity_lox_kg, 1, 100_000)
        _check_range(problems, "cylinder_capacity", self.cylinder_capacity, 1, 10_000)
        if self.kind == VehicleKind.CRYOGENIC_TANKER and self.tank_capacity_lox_kg is None:
            problems.append("tank_capacity_lox_kg: is required for a cryogenic_tanker")
        if self.kind == VehicleKind.CYLINDER_TRUCK and self.cylinder_capacity is None:
            problems.append("cylinder_capacity: is required for a cylinder_truck")
        _check_text(problems, "plate", self.plate, optional=True, limit=20)
        _check_text(problems, "source", self.source, optional=True, limit=1000)
        self._check(problems)


@dataclasses.dataclass(frozen=True, slots=True)
class EquipmentSupplier(RegistryRecord):
    """A supplier of oxygen equipment and what it has in stock."""

    equipment_supplier_id: str
    name: str
    province_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    concentrators_in_stock: int = 0
    cylinders_in_stock: Mapping[str, int] = dataclasses.field(default_factory=dict)
    regulators_in_stock: int = 0
    ventilators_in_stock: int = 0
    source: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "equipment_supplier_id", self.equipment_supplier_id)
        _check_text(problems, "name", self.name)
        _check_province(problems, "province_code", self.province_code, optional=True)
        _check_lon_lat(problems, self.lon, self.lat, optional=True)
        for name in ("concentrators_in_stock", "regulators_in_stock", "ventilators_in_stock"):
            _check_range(problems, name, getattr(self, name), 0, MAX_COUNT)
        _check_counts(problems, "cylinders_in_stock", self.cylinders_in_stock)
        _check_text(problems, "source", self.source, optional=True, limit=1000)
        self._check(problems)


@dataclasses.dataclass(frozen=True, slots=True)
class DailyReport(RegistryRecord):
    """The content of one facility's daily oxygen report (what the facility declares).

    Parameters
    ----------
    facility_id
        The reporting facility.
    report_date
        The day reported on, in Asia/Ho_Chi_Minh local time; due by 16:00 that day.
    patients_cannula_mask, patients_high_flow, patients_niv, patients_invasive, patients_ecmo
        Patients by oxygen need at report time.
    oxygen_used_24h_m3
        Oxygen used in the last 24 h (m³ gas).
    liquid_stock_l
        Liquid oxygen in the tank (litres of liquid; None: no tank).
    cylinders_full, cylinders_empty
        Cylinders on hand by size label.
    deliveries_expected_m3
        Deliveries expected in the next 24 h (m³ gas).
    note
        Free text for the coordinator.
    """

    facility_id: str
    report_date: dt.date
    oxygen_used_24h_m3: float
    patients_cannula_mask: int = 0
    patients_high_flow: int = 0
    patients_niv: int = 0
    patients_invasive: int = 0
    patients_ecmo: int = 0
    liquid_stock_l: float | None = None
    cylinders_full: Mapping[str, int] = dataclasses.field(default_factory=dict)
    cylinders_empty: Mapping[str, int] = dataclasses.field(default_factory=dict)
    deliveries_expected_m3: float | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "facility_id", self.facility_id)
        if isinstance(self.report_date, dt.date) and self.report_date < FIRST_REPORT_DATE:
            problems.append(
                f"report_date: must not be before {FIRST_REPORT_DATE}, got {self.report_date}"
            )
        for name in (
            "patients_cannula_mask",
            "patients_high_flow",
            "patients_niv",
            "patients_invasive",
            "patients_ecmo",
        ):
            _check_range(problems, name, getattr(self, name), 0, MAX_COUNT)
        _check_range(
            problems, "oxygen_used_24h_m3", self.oxygen_used_24h_m3, 0, MAX_GAS_M3, optional=False
        )
        _check_range(problems, "liquid_stock_l", self.liquid_stock_l, 0, MAX_GAS_M3)
        _check_range(problems, "deliveries_expected_m3", self.deliveries_expected_m3, 0, MAX_GAS_M3)
        _check_counts(problems, "cylinders_full", self.cylinders_full)
        _check_counts(problems, "cylinders_empty", self.cylinders_empty)
        _check_text(problems, "note", self.note, optional=True, limit=MAX_NOTE_CHARS)
        self._check(problems)

    def content_hash(self) -> str:
        """Return a SHA-256 of the canonical content: equal reports have equal hashes."""
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def stock_on_hand_m3(self, conversions: OxygenConversions) -> float:
        """Return the oxygen on hand as m³ gas: liquid stock plus full cylinders.

        Uses ``conversions`` (:mod:`data.units`) for litres of liquid and cylinder sizes.
        """
        liquid_m3 = conversions.lox_l_to_gas_m3(self.liquid_stock_l or 0.0)
        cylinders_m3 = sum(
            conversions.cylinders_to_gas_m3(count, size)
            for size, count in self.cylinders_full.items()
        )
        return liquid_m3 + cylinders_m3


@dataclasses.dataclass(frozen=True, slots=True)
class ReportRevision:
    """One stored revision of a daily report; revisions are never changed or deleted.

    Parameters
    ----------
    report
        What was declared.
    revision
        1 for the first submission of (facility, date), then 2, 3... for each correction.
    submitted_at
        When the server stored it (timezone-aware, UTC).
    submitted_by
        Username of the submitter.
    content_hash
        :meth:`DailyReport.content_hash` of ``report``.
    generated
        True for reports made up by a generator (the seed data), never for real submissions.
    source
        What produced a generated revision (generator, version, seed); None for real ones.
    """

    report: DailyReport
    revision: int
    submitted_at: dt.datetime
    submitted_by: str
    content_hash: str
    generated: bool = False
    source: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.revision < 1:
            problems.append(f"revision: must be at least 1, got {self.revision}")
        if self.submitted_at.tzinfo is None:
            problems.append("submitted_at: must be timezone-aware")
        if problems:
            raise InvalidInputError.from_problems("ReportRevision", problems)


@dataclasses.dataclass(frozen=True, slots=True)
class SupplyDeclaration(RegistryRecord):
    """What a supplier declares it can give to medical use on one day, and its stock.

    One declaration per supplier and day (a correction replaces it, audited). Plans take a
    day's declaration instead of the supplier record's medical figure
    (``Supplier.liquid_output_t_per_day``, ``cylinders_per_day``); see docs/declarations.md.

    Parameters
    ----------
    supplier_id
        The declaring supplier.
    declaration_date
        The day the quantities are available (Asia/Ho_Chi_Minh local date).
    liquid_lox_t
        Liquid oxygen it can give to medical use that day, tonnes of liquid (1 m³ of liquid is
        1.141 t, :attr:`data.units.OxygenConversions.lox_kg_per_l`); 0 when it gives none.
        Never above the plant's capacity (checked where the declaration is stored).
    cylinders_filled
        Filled 40 L cylinders (6 m³ gas each) it can give that day; 0 when none.
    liquid_stock_t
        Liquid oxygen in its storage tanks at declaration time, tonnes (None: not given).
    note
        Free text for the coordinator (why the figure changed, an outage...).
    """

    supplier_id: str
    declaration_date: dt.date
    liquid_lox_t: float
    cylinders_filled: int
    liquid_stock_t: float | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check_id(problems, "supplier_id", self.supplier_id)
        if isinstance(self.declaration_date, dt.date) and self.declaration_date < FIRST_REPORT_DATE:
            problems.append(
                f"declaration_date: must not be before {FIRST_REPORT_DATE}, "
                f"got {self.declaration_date}"
            )
        _check_range(problems, "liquid_lox_t", self.liquid_lox_t, 0, 1e6, optional=False)
        _check_range(
            problems, "cylinders_filled", self.cylinders_filled, 0, MAX_COUNT, optional=False
        )
        _check_range(problems, "liquid_stock_t", self.liquid_stock_t, 0, 1e6)
        _check_text(problems, "note", self.note, optional=True, limit=MAX_NOTE_CHARS)
        self._check(problems)


REGISTRY_RECORD_TYPES: dict[str, type[RegistryRecord]] = {
    "facilities": Facility,
    "suppliers": Supplier,
    "transport-operators": TransportOperator,
    "vehicles": Vehicle,
    "equipment-suppliers": EquipmentSupplier,
}
"""Registry collections by their URL name, each with its record type."""


def id_field(record_type: type[RegistryRecord]) -> str:
    """Return the name of a record type's id field (its first field)."""
    return dataclasses.fields(record_type)[0].name  # type: ignore[arg-type]
