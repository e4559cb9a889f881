"""Seed data for the registry: HCMC hospitals, suppliers, a generated fleet and August 2021.

:func:`build_seed` is the pure core: given facilities and supplier places it returns every seed
record, deterministically (same inputs and :class:`SeedParameters`, same records). :func:`hcmc_seed`
reads the inputs of Hồ Chí Minh City (the curated hospitals and the region's suppliers file) and
calls it; :func:`store_seed` writes a seed into a :class:`~data.store.Store` (``oxyroute db seed``).

What is sourced and what is generated
-------------------------------------
- **Hospitals** (sourced): the curated OSM hospitals, tiers by the documented name rule
  (:func:`data.exchange.importers.hcmc_tier`).
- **Suppliers** (sourced): ``data/regions/hcmc_suppliers.csv``, read through the region
  (capacities with their source URL; positions at their industrial parks, the ``location_basis``
  column says how each was placed). Both go into ``source``. A plant's liquid output is what it
  gives to medical use (``medical_lox_t_per_day``, derived in ``medical_basis``), not its
  capacity (docs/seed.md, "Supply").
- **Oxygen beds, tanks and cylinders** (generated): beds by level hold the facility's patients
  of the curve's highest day at ``peak_oxygen_bed_occupancy`` (:func:`oxygen_beds_by_level`), so
  planning's beds x tier estimate has something to work with; tanks and cylinders by tier.
- **Fleet** (generated): one transport operator per supplier company, cryogenic tankers at the
  liquid producers and cylinder trucks at the filling stations, sized from the suppliers'
  capacities (see :func:`build_fleet`). ``source`` starts with ``generated:``.
- **Daily reports for August 2021** (generated): from the epidemic curve of
  :meth:`SeedParameters.city_demand_t_per_day`, spread over the hospitals by their role
  (:mod:`data.seed_roles`: a COVID-designated general hospital takes twenty times an eye or
  maternity hospital) and a per-hospital size factor, turned into patients by oxygen device with
  the MOH bulletin's severity mix and the WHO planning flows, and submitted at generated times
  (some late, some missing, a few corrected).
  Every revision is stored with ``generated=True`` and ``source`` naming the generator and seed.

Randomness comes only from :meth:`random.Random.random` (whose sequence Python guarantees across
versions) seeded per (seed, facility, day) from a SHA-256, so adding a facility does not change
the reports of the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import random
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data.errors import InvalidInputError
from data.reporting import LOCAL_TZ, days_between
from data.schema.network import Place
from data.schema.registry import (
    DailyReport,
    Facility,
    Supplier,
    SupplierKind,
    TransportOperator,
    Vehicle,
    VehicleKind,
)
from data.seed_cleaning import (
    PROVINCE_NAMES as PROVINCE_NAMES,  # re-exported: the cleaning moved to seed_cleaning
)
from data.seed_cleaning import (
    assign_districts,
    assign_provinces,
    merge_duplicates,
)
from data.seed_roles import (
    DEFAULT_ROLE_PROFILES,
    FacilityRole,
    RoleProfile,
    facility_role,
    role_profile,
)
from data.units import OxygenConversions, flow_l_per_min_to_m3_per_day

SEED_VERSION = "v1"
SEED_SUBMITTER = "seed:generated"
FLEET_SOURCE = (
    "generated: plausible fleet by oxyroute seed "
    f"{SEED_VERSION}, sized from the supplier's sourced capacity and oxygen-parameters.md; "
    "not a real vehicle or company fleet"
)

# Patients by device, in the order of DailyReport's patient fields.
DEVICES = ("cannula_mask", "high_flow", "niv", "invasive", "ecmo")

# Vietnam MOH daily bulletin, 25 Feb 2022: 3,137 severe patients = 2,464 on mask, 280 HFNC,
# 87 NIV, 294 invasive ventilation, 12 ECMO (oxygen-parameters.md, "Flow rates").
MOH_BULLETIN_SEVERE = {
    "cannula_mask": 2464,
    "high_flow": 280,
    "niv": 87,
    "invasive": 294,
    "ecmo": 12,
}


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {device: counts.get(device, 0) / total for device in DEVICES}


TIER_SEVERITY_MIX: dict[int, dict[str, float]] = {
    # Tier 3 (intensive care) takes the bulletin's whole mix.
    3: _shares(MOH_BULLETIN_SEVERE),
    # Tier 2 gives mask and HFNC only (QĐ 4111 model, oxygen-parameters.md), in the bulletin's
    # mask : HFNC ratio; tier 1 (not among the seeded hospitals) gives masks only.
    2: _shares({"cannula_mask": 2464, "high_flow": 280}),
    1: _shares({"cannula_mask": 1}),
}
"""Share of a facility's oxygen patients on each device, by COVID treatment tier."""

# WHO/ESFT planning flows (oxygen-parameters.md): severe 10 L/min, critical 30 L/min; every
# device beyond a mask counts as critical. The conservative planning table, not the observed one.
PLANNING_FLOW_L_PER_MIN = {
    "cannula_mask": 10.0,
    "high_flow": 30.0,
    "niv": 30.0,
    "invasive": 30.0,
    "ecmo": 30.0,
}

# Fleet sizing (see build_fleet).
LARGE_TANKER_LOX_KG = 20_000.0  # ISO tank container 20 t (oxygen-parameters.md, "Cryogenic tanker")
SMALL_TANKER_LOX_KG = 5_500.0  # small tanker 5-6 t, midpoint (same row)
MEDICAL_SHARE_OF_LOX = 80.0 / 274.3  # Nippon Sanso: ~80 t/day to medical sites of 274.3 t/day
TANKER_TRIPS_PER_DAY = 2
# Cylinders per truck are an assumption (no source in oxygen-parameters.md): a full 40 L steel
# cylinder weighs about 60-65 kg (a J-type is 78 kg), so a 5 t truck carries about 80 and a
# 2.5 t light truck about 40.
MEDIUM_TRUCK_CYLINDERS = 80
LIGHT_TRUCK_CYLINDERS = 40
TRUCK_TRIPS_PER_DAY = 2


@dataclass(frozen=True, slots=True)
class ReportingBehaviour:
    """How reliably a group of facilities reports: shares of days missed and of late reports."""

    name: str
    share_of_facilities: float
    missing_rate: float
    late_rate: float


@dataclass(frozen=True, slots=True)
class SeedParameters:
    """Settings of the generated seed data; every default is documented and overridable.

    Parameters
    ----------
    seed
        Seed of every random draw (default 20210801).
    date_from, date_to
        Days to generate reports for (default August 2021, inclusive).
    demand_anchor_t_per_day
        The city's demand on ``anchor_date``, tonnes of liquid oxygen a day: 170 t/day, the HCMC
        COVID facilities' reported demand (``derived/vn_oxygen_supply_facts_2021.csv``,
        VnExpress, December 2021). A December figure used as the August level: an assumption.
    anchor_date
        Day on which the curve passes through the anchor (default 19 August 2021, the
        reporting day of the default plan, ``make plan`` for 20 August): the seeded hospitals'
        reports of that day add up to ``registered_share`` of the anchor (less the days some
        facilities miss). None: the anchor is the curve's upper level, reached only at the end
        of the month (the seed before issue 13, whose 20 August sat at 87 % of it).
    start_share, mid_date, growth_scale_days
        Shape of the curve (an assumption, not sourced): a logistic rise from ``start_share``
        of its upper level to that level, halfway on ``mid_date``, ``growth_scale_days`` wide.
    registered_share
        Share of the city's demand used by the seeded hospitals (default 0.6, an assumption):
        the rest went to field hospitals and tier-1 sites, which are not in the 2018 map.
    roles
        What each facility role generates (:data:`data.seed_roles.DEFAULT_ROLE_PROFILES`): its
        weight in the city's demand (a COVID-designated general hospital 1, a district hospital
        1/3, an eye or maternity hospital 0.05; assumptions), its severity mix and least beds.
    size_sigma
        Spread of a per-hospital log-normal size factor (default 0.5), times the role's weight.
    peak_oxygen_bed_occupancy
        Share of a facility's oxygen beds its patients fill on the curve's highest day (default
        0.9, an assumption: the hospitals were full in late August 2021); sets the generated beds.
    use_noise
        Day-to-day spread of oxygen used around the device formula (± 10 %).
    behaviours
        Reporting behaviour groups (shares of facilities, missed days, late reports).
    correction_rate
        Share of reports corrected a few hours later (a new revision).
    conversions
        Unit factors (m³ of gas per tonne of liquid).
    """

    seed: int = 20210801
    date_from: dt.date = dt.date(2021, 8, 1)
    date_to: dt.date = dt.date(2021, 8, 31)
    demand_anchor_t_per_day: float = 170.0
    anchor_date: dt.date | None = dt.date(2021, 8, 19)
    start_share: float = 0.5
    mid_date: dt.date = dt.date(2021, 8, 16)
    growth_scale_days: float = 4.0
    registered_share: float = 0.6
    roles: tuple[RoleProfile, ...] = DEFAULT_ROLE_PROFILES
    #: Liquid tank (VIE) volume by tier, litres of LOX: tier-3 hospitals (central oxygen, ICU)
    #: get a 10,000 L tank, inside the 500-25,000 L range of hospital VIE tanks in
    #: oxygen-parameters.md; tier 2 has none and takes cylinders (a generated assumption).
    tank_l_by_tier: tuple[tuple[int, float], ...] = ((3, 10_000.0),)
    #: Liquid tank by role, before the tier's: a hospital of a low-COVID specialty (eye,
    #: maternity, dental, ...; tier 2 by :func:`~data.exchange.importers.hcmc_tier`) gets the
    #: smallest standard VIE tank, 1,895 L (500 gal, oxygen-parameters.md, "Hospital VIE tank"):
    #: its seeded use at the peak, about 140 to 240 m³/day, is above the 27,500-40,000 m³ a year
    #: (75-110 m³/day) where a VIE tank overtakes cylinders (same file, "VIE vs liquid cylinders").
    tank_l_by_role: tuple[tuple[FacilityRole, float], ...] = ((FacilityRole.FEW_COVID, 1_895.0),)
    #: 40 L cylinders a hospital owns (its cylinder storage), by tier (a generated assumption).
    cylinders_by_tier: tuple[tuple[int, int], ...] = ((1, 20), (2, 150), (3, 300))
    size_sigma: float = 0.5
    peak_oxygen_bed_occupancy: float = 0.9
    use_noise: float = 0.10
    behaviours: tuple[ReportingBehaviour, ...] = (
        ReportingBehaviour("prompt", 0.70, missing_rate=0.02, late_rate=0.05),
        ReportingBehaviour("irregular", 0.20, missing_rate=0.10, late_rate=0.30),
        ReportingBehaviour("poor", 0.10, missing_rate=0.40, late_rate=0.50),
    )
    correction_rate: float = 0.04
    conversions: OxygenConversions = field(default_factory=OxygenConversions)

    def __post_init__(self) -> None:
        problems = []
        if self.date_to < self.date_from:
            problems.append(f"date_to: must not be before date_from ({self.date_from})")
        for name in ("demand_anchor_t_per_day", "growth_scale_days", "peak_oxygen_bed_occupancy"):
            if not getattr(self, name) > 0:
                problems.append(f"{name}: must be positive, got {getattr(self, name)!r}")
        for name in (
            "start_share",
            "registered_share",
            "use_noise",
            "correction_rate",
            "peak_oxygen_bed_occupancy",
        ):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name}: must be between 0 and 1, got {getattr(self, name)!r}")
        missing = [r.value for r in FacilityRole if r not in {p.role for p in self.roles}]
        if missing:
            problems.append(f"roles: no profile for {', '.join(missing)}")
        if abs(sum(b.share_of_facilities for b in self.behaviours) - 1.0) > 1e-9:
            problems.append("behaviours: shares of facilities must add up to 1")
        if problems:
            raise InvalidInputError.from_problems("seed parameters", problems)

    def city_demand_t_per_day(self, day: dt.date) -> float:
        """Return the city's oxygen demand on ``day`` (t/day of liquid) on the seed's curve.

        The curve's shape scaled so that it equals ``demand_anchor_t_per_day`` on
        ``anchor_date`` (or tends to it, when ``anchor_date`` is None).
        """
        level = self.demand_anchor_t_per_day
        if self.anchor_date is not None:
            level /= self._shape(self.anchor_date)
        return level * self._shape(day)

    def _shape(self, day: dt.date) -> float:
        """Share of the curve's upper level on ``day``: a logistic rise from ``start_share``."""
        x = (day - self.mid_date).days / self.growth_scale_days
        rise = 1.0 / (1.0 + math.exp(-x))
        return self.start_share + (1 - self.start_share) * rise

    @property
    def source(self) -> str:
        """The label every generated report carries."""
        return (
            f"generated: oxyroute seed {SEED_VERSION}, HCMC epidemic curve anchored on "
            f"{self.demand_anchor_t_per_day:g} t/day"
            + (f" on {self.anchor_date.isoformat()}" if self.anchor_date else "")
            + f" (seed {self.seed}); not a real report"
        )


@dataclass(frozen=True, slots=True)
class SeedData:
    """Every record of a seed, ready to store.

    ``reports`` are (report, submission instant) in submission order; a second item for the
    same facility-day is a correction. ``curve`` is the city demand by day (t/day of liquid).
    """

    facilities: tuple[Facility, ...]
    suppliers: tuple[Supplier, ...]
    transport_operators: tuple[TransportOperator, ...]
    vehicles: tuple[Vehicle, ...]
    reports: tuple[tuple[DailyReport, dt.datetime], ...]
    curve: tuple[tuple[dt.date, float], ...]
    source: str


# --------------------------------------------------------------------------- randomness


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _uniform(rng: random.Random, low: float, high: float) -> float:
    return low + (high - low) * rng.random()


def _normal(rng: random.Random) -> float:
    # Box-Muller from random() alone: other Random methods may change between Python versions.
    u1 = 1.0 - rng.random()
    u2 = rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _split(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total`` patients by ``shares`` (largest remainder, ties in device order)."""
    raw = {device: total * shares[device] for device in DEVICES}
    counts = {device: math.floor(value) for device, value in raw.items()}
    left = total - sum(counts.values())
    order = sorted(DEVICES, key=lambda d: (-(raw[d] - counts[d]), DEVICES.index(d)))
    for device in order[:left]:
        counts[device] += 1
    return counts


# --------------------------------------------------------------------------- suppliers and fleet


def _province_key(name: str) -> str:
    text = (
        unicodedata.normalize("NFC", name).casefold().replace("\u2013", "-").replace("\u2014", "-")
    )
    for prefix in ("thành phố ", "tỉnh ", "tp. ", "tp "):
        text = text.removeprefix(prefix)
    return " ".join(text.replace(" - ", "-").split())


def province_code_for(name: str) -> str:
    """Return the 2021 province code of a province written by name ("Đồng Nai", "TP Hồ Chí Minh").

    Raises
    ------
    InvalidInputError
        If no 2021 province has that name.
    """
    from data.provinces import PROVINCES_2021

    key = _province_key(name)
    for code, official, topojson_name in PROVINCES_2021:
        if key in (_province_key(official), _province_key(topojson_name)):
            return code
    raise InvalidInputError(f"province_2021: no 2021 province named {name!r}")


_SUPPLIER_KINDS = {kind.value for kind in SupplierKind}


def _liquid_t_per_day(capacity: str, medical: str) -> float | None:
    """Liquid output a plan may count on: the medical figure when known, else the capacity."""
    if medical:
        value = float(medical)
        if not (math.isfinite(value) and value >= 0):
            raise InvalidInputError(
                f"medical_lox_t_per_day: must be a non-negative number, got {medical!r}"
            )
        if capacity and value > float(capacity):
            raise InvalidInputError(
                f"medical_lox_t_per_day: {value:g} exceeds capacity_lox_t_per_day {capacity}; "
                "the medical share of a plant cannot exceed its output"
            )
        return value
    return float(capacity) if capacity else None


def _supplier_source(props: Mapping[str, str], capacity: str, medical: str) -> str:
    source = (
        f"capacity: {props.get('capacity_source', '').strip() or 'unknown'}; "
        f"location: {props.get('location_basis', '').strip() or 'unknown'}"
    )
    if medical:
        source += (
            f"; liquid output = medical_lox_t_per_day {medical} t/day of the plant's "
            f"{capacity or '?'} t/day (medical_basis in the suppliers file)"
        )
    return source


def suppliers_from_places(places: Sequence[Place]) -> list[Supplier]:
    """Turn the rows of a region's suppliers file into suppliers, keeping their sources.

    The file's columns (besides id, name, lon, lat): ``kind``, ``province_2021`` (a name),
    ``capacity_lox_t_per_day``, ``capacity_cylinders_per_day``, ``location_basis``,
    ``capacity_source`` and, optionally, ``medical_lox_t_per_day`` and ``medical_basis``.
    ``source`` keeps the capacity's URL and how the site was placed.

    A supplier's ``liquid_output_t_per_day`` is what it gives to medical use: the row's
    ``medical_lox_t_per_day`` when present (how it was derived is in ``medical_basis``: a plant's
    capacity is not its medical supply, and Air Liquide's capacities are liquid O2, N2 and Ar
    combined), else ``capacity_lox_t_per_day`` (docs/seed.md, "Supply").

    Raises
    ------
    InvalidInputError
        Listing every row that cannot become a supplier.
    """
    suppliers = []
    problems = []
    for place in places:
        props = place.properties
        try:
            kind = props.get("kind", "")
            if kind not in _SUPPLIER_KINDS:
                raise InvalidInputError(f"kind: must be one of {sorted(_SUPPLIER_KINDS)}")
            lox = props.get("capacity_lox_t_per_day", "").strip()
            medical = props.get("medical_lox_t_per_day", "").strip()
            cylinders = props.get("capacity_cylinders_per_day", "").strip()
            products: tuple[str, ...] = ("liquid",) if lox or medical else ()
            products += ("cylinder_40L",) if cylinders or kind == "filling_station" else ()
            suppliers.append(
                Supplier(
                    supplier_id=place.place_id,
                    name=place.name,
                    kind=SupplierKind(kind),
                    province_code=province_code_for(props.get("province_2021", "")),
                    lon=place.lon,
                    lat=place.lat,
                    liquid_output_t_per_day=_liquid_t_per_day(lox, medical),
                    cylinders_per_day=int(float(cylinders)) if cylinders else None,
                    products=products,
                    source=_supplier_source(props, lox, medical),
                )
            )
        except (InvalidInputError, ValueError) as error:
            problems.append(f"{place.place_id}: {error}")
    if problems:
        raise InvalidInputError.from_problems("suppliers file", problems)
    return suppliers


def _company(supplier: Supplier) -> tuple[str, str]:
    """Return (operator id, company name) of a supplier: the part of its id before '-'."""
    prefix = supplier.supplier_id.split("-")[0].upper()
    company = supplier.name.split(" \u2013 ")[0].strip()  # "Company \u2013 site"
    return f"GEN-OP-{prefix}", company


def build_fleet(
    suppliers: Sequence[Supplier],
    *,
    plant_capacity_t_per_day: Mapping[str, float] | None = None,
) -> tuple[list[TransportOperator], list[Vehicle]]:
    """Generate a plausible fleet homed at the suppliers (labelled generated in ``source``).

    One transport operator per supplier company. Each liquid producer gets
    ``ceil(capacity x 80/274.3 / (20 t x 2 trips))`` (at least one) 20 t tankers for the share of
    a plant's capacity that goes to hospitals (Nippon Sanso's 80 of 274.3 t/day) plus one 5.5 t
    tanker for small tanks. The capacity is the plant's from ``plant_capacity_t_per_day`` (the
    suppliers file's ``capacity_lox_t_per_day``, by supplier id), else the supplier's
    ``liquid_output_t_per_day``; the seed passes the capacities, so the fleet (and its vehicle ids)
    did not change when suppliers' output became their medical figure (docs/seed.md). Each
    filling station gets ``ceil(cylinders/day / (80 x 2 trips))`` trucks of 80
    cylinders plus one light truck of 40. Tanker payloads come from oxygen-parameters.md; the
    cylinders per truck are an assumption (see the module constants).
    """
    operators: dict[str, TransportOperator] = {}
    vehicles: list[Vehicle] = []
    for supplier in sorted(suppliers, key=lambda s: s.supplier_id):
        operator_id, company = _company(supplier)
        operators.setdefault(
            operator_id,
            TransportOperator(
                operator_id=operator_id,
                name=f"Đội xe {company} (generated)",
                province_code=supplier.province_code,
                source=FLEET_SOURCE,
            ),
        )

        if supplier.liquid_output_t_per_day:
            capacity_t = (plant_capacity_t_per_day or {}).get(
                supplier.supplier_id, supplier.liquid_output_t_per_day
            )
            medical_t = capacity_t * MEDICAL_SHARE_OF_LOX
            large = max(
                1,
                math.ceil(medical_t / (LARGE_TANKER_LOX_KG / 1000 * TANKER_TRIPS_PER_DAY)),
            )
            for number in range(1, large + 1):
                vehicles.append(
                    _vehicle(
                        supplier,
                        operator_id,
                        f"T{number}",
                        tank_capacity_lox_kg=LARGE_TANKER_LOX_KG,
                    )
                )
            vehicles.append(
                _vehicle(supplier, operator_id, "S1", tank_capacity_lox_kg=SMALL_TANKER_LOX_KG)
            )
        if supplier.cylinders_per_day:
            medium = math.ceil(
                supplier.cylinders_per_day / (MEDIUM_TRUCK_CYLINDERS * TRUCK_TRIPS_PER_DAY)
            )
            for number in range(1, medium + 1):
                vehicles.append(
                    _vehicle(
                        supplier,
                        operator_id,
                        f"C{number}",
                        cylinder_capacity=MEDIUM_TRUCK_CYLINDERS,
                    )
                )
            vehicles.append(
                _vehicle(supplier, operator_id, "L1", cylinder_capacity=LIGHT_TRUCK_CYLINDERS)
            )
    return list(operators.values()), vehicles


def _vehicle(
    supplier: Supplier,
    operator_id: str,
    suffix: str,
    *,
    tank_capacity_lox_kg: float | None = None,
    cylinder_capacity: int | None = None,
) -> Vehicle:
    return Vehicle(
        vehicle_id=f"GEN-{supplier.supplier_id}-{suffix}",
        operator_id=operator_id,
        kind=VehicleKind.CYLINDER_TRUCK if cylinder_capacity else VehicleKind.CRYOGENIC_TANKER,
        tank_capacity_lox_kg=tank_capacity_lox_kg,
        cylinder_capacity=cylinder_capacity,
        home_depot_id=supplier.supplier_id,
        source=FLEET_SOURCE,
    )


# --------------------------------------------------------------------------- reports


def _local(day: dt.date, hours: float) -> dt.datetime:
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=LOCAL_TZ)
    # Whole seconds, so that stored and rebuilt instants compare equal.
    return (start + dt.timedelta(seconds=round(hours * 3600))).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class _FacilityDraws:
    """What the seed draws once per facility: its demand weight, mix and reporting behaviour."""

    weights: dict[str, float]
    mixes: dict[str, dict[str, float]]
    behaviours: dict[str, ReportingBehaviour]

    def target_patients(
        self, facility_id: str, city_m3: float, parameters: SeedParameters
    ) -> float:
        """Return the facility's oxygen patients for a city demand of ``city_m3`` (m³/day)."""
        mix = self.mixes[facility_id]
        per_patient_m3 = sum(mix[d] * _PLANNING_FLOW_M3[d] for d in DEVICES)
        share = self.weights[facility_id] / sum(self.weights.values())
        return city_m3 * parameters.registered_share * share / per_patient_m3


_PLANNING_FLOW_M3 = {d: flow_l_per_min_to_m3_per_day(PLANNING_FLOW_L_PER_MIN[d]) for d in DEVICES}


def severity_mix(facility: Facility, parameters: SeedParameters) -> dict[str, float]:
    """Return the device shares of a facility's patients: its role's tier mix, else its tier's."""
    profile = role_profile(facility_role(facility), parameters.roles)
    tier = profile.severity_tier if profile.severity_tier is not None else facility.tier
    return TIER_SEVERITY_MIX.get(tier, TIER_SEVERITY_MIX[3])


def _draw_facilities(facilities: Sequence[Facility], parameters: SeedParameters) -> _FacilityDraws:
    """Draw each facility's size and behaviour (seeded per facility) and weigh it by its role."""
    weights: dict[str, float] = {}
    mixes: dict[str, dict[str, float]] = {}
    behaviours: dict[str, ReportingBehaviour] = {}
    for facility in facilities:
        rng = _rng(parameters.seed, "facility", facility.facility_id)
        size = math.exp(parameters.size_sigma * _normal(rng))
        profile = role_profile(facility_role(facility), parameters.roles)
        weights[facility.facility_id] = profile.weight * size
        mixes[facility.facility_id] = severity_mix(facility, parameters)
        draw, cumulative = rng.random(), 0.0
        behaviours[facility.facility_id] = parameters.behaviours[-1]
        for group in parameters.behaviours:
            cumulative += group.share_of_facilities
            if draw < cumulative:
                behaviours[facility.facility_id] = group
                break
    return _FacilityDraws(weights, mixes, behaviours)


def generate_reports(
    facilities: Sequence[Facility], parameters: SeedParameters
) -> list[tuple[DailyReport, dt.datetime]]:
    """Generate the daily reports of ``facilities`` on the seed's curve (see the module docs).

    Per facility: a weight (its role's weight, :mod:`data.seed_roles`, x a log-normal size
    factor) and a reporting behaviour drawn once. Per day: the facility's share of
    ``registered_share`` x the city demand (m³), turned into patients by its role's severity mix
    and the planning flows; oxygen used is the flows' total x (1 ± ``use_noise``); cylinders on
    hand and deliveries expected scale with it. The report is then missing, on time (09:00-15:59
    local) or late (16:01-23:30, or the next morning), and sometimes corrected 1-6 hours later.

    Returns
    -------
    list of (DailyReport, datetime)
        Reports with their submission instants (UTC), ordered by instant.
    """
    if not facilities:
        return []
    conversions = parameters.conversions
    draws = _draw_facilities(facilities, parameters)
    flow_m3 = _PLANNING_FLOW_M3
    items: list[tuple[DailyReport, dt.datetime]] = []
    for day in days_between(parameters.date_from, parameters.date_to):
        city_m3 = conversions.lox_t_to_gas_m3(parameters.city_demand_t_per_day(day))
        for facility in facilities:
            if not facility.expected_on(day):
                continue
            rng = _rng(parameters.seed, "report", facility.facility_id, day.isoformat())
            group = draws.behaviours[facility.facility_id]
            if rng.random() < group.missing_rate:
                continue
            patients = _split(
                round(draws.target_patients(facility.facility_id, city_m3, parameters)),
                draws.mixes[facility.facility_id],
            )
            formula_m3 = sum(patients[d] * flow_m3[d] for d in DEVICES)
            used_m3 = round(
                formula_m3 * _uniform(rng, 1 - parameters.use_noise, 1 + parameters.use_noise), 1
            )
            cylinder_m3 = conversions.cylinder_gas_m3["40L"]
            report = DailyReport(
                facility_id=facility.facility_id,
                report_date=day,
                oxygen_used_24h_m3=used_m3,
                patients_cannula_mask=patients["cannula_mask"],
                patients_high_flow=patients["high_flow"],
                patients_niv=patients["niv"],
                patients_invasive=patients["invasive"],
                patients_ecmo=patients["ecmo"],
                # The tank level has its own random stream, so tanks change no other draw.
                liquid_stock_l=round(
                    facility.liquid_tank_capacity_l
                    * _uniform(
                        _rng(parameters.seed, "tank", facility.facility_id, day.isoformat()),
                        0.15,
                        0.6,
                    )
                )
                if facility.liquid_tank_capacity_l
                else None,
                cylinders_full={"40L": round(used_m3 * _uniform(rng, 0.3, 1.5) / cylinder_m3)},
                cylinders_empty={"40L": round(used_m3 * _uniform(rng, 0.2, 0.8) / cylinder_m3)},
                deliveries_expected_m3=round(used_m3 * _uniform(rng, 0.8, 1.2), 1),
            )
            if rng.random() < group.late_rate:
                late_hours = (
                    _uniform(rng, 16.02, 23.5) if rng.random() < 0.8 else _uniform(rng, 31, 35)
                )
                submitted_at = _local(day, late_hours)
            else:
                submitted_at = _local(day, _uniform(rng, 9.0, 15.98))
            items.append((report, submitted_at))
            if rng.random() < parameters.correction_rate:
                corrected_m3 = round(used_m3 * _uniform(rng, 0.9, 1.1), 1)
                correction = DailyReport(
                    **{
                        **{name: getattr(report, name) for name in _REPORT_FIELDS},
                        "oxygen_used_24h_m3": corrected_m3,
                        "note": "Sửa số liệu oxy đã dùng (correction)",
                    }
                )
                items.append((correction, submitted_at + dt.timedelta(hours=_uniform(rng, 1, 6))))
    items.sort(key=lambda item: (item[1], item[0].facility_id, item[0].report_date))
    # Whole seconds everywhere (corrections add fractional hours).
    return [(report, at.replace(microsecond=0)) for report, at in items]


_REPORT_FIELDS = tuple(DailyReport.field_hints())


INFRASTRUCTURE_SOURCE = (
    f"generated by oxyroute seed {SEED_VERSION}: tank by role and tier, cylinders by tier, "
    "oxygen beds by role "
    "{role} (docs/seed.md); not declared by the hospital"
)
"""The label added to a seeded facility's ``source`` ({role}: its role, :mod:`data.seed_roles`)."""

_BED_FIELDS = {
    "cannula_mask": "beds_oxygen",
    "high_flow": "beds_high_flow",
    "niv": "beds_niv",
    "invasive": "beds_invasive",
    "ecmo": "beds_ecmo",
}


def oxygen_beds_by_level(
    facilities: Sequence[Facility], parameters: SeedParameters
) -> dict[str, dict[str, int]]:
    """Generate each facility's oxygen beds by level from its role (docs/seed.md).

    Beds hold the facility's patients on the curve's highest day at
    ``peak_oxygen_bed_occupancy`` (so no generated report has more patients than beds), at
    least the role's ``min_oxygen_beds``, split over the levels by the facility's severity mix
    (largest remainder). Keys are the :class:`~data.schema.registry.Facility` bed fields.
    """
    if not facilities:
        return {}
    draws = _draw_facilities(facilities, parameters)
    peak_m3 = max(
        parameters.conversions.lox_t_to_gas_m3(parameters.city_demand_t_per_day(day))
        for day in days_between(parameters.date_from, parameters.date_to)
    )
    beds = {}
    for facility in facilities:
        profile = role_profile(facility_role(facility), parameters.roles)
        peak = draws.target_patients(facility.facility_id, peak_m3, parameters)
        total = max(
            profile.min_oxygen_beds,
            math.ceil(round(peak) / parameters.peak_oxygen_bed_occupancy),
        )
        split = _split(total, draws.mixes[facility.facility_id])
        beds[facility.facility_id] = {_BED_FIELDS[d]: split[d] for d in DEVICES}
    return beds


def equip_facilities(facilities: Sequence[Facility], parameters: SeedParameters) -> list[Facility]:
    """Give each facility generated oxygen infrastructure and beds, labelled in ``source``.

    Tanks by role, else by tier (``tank_l_by_role``, ``tank_l_by_tier``), cylinders by tier
    (``cylinders_by_tier``); oxygen beds by role
    (:func:`oxygen_beds_by_level`). Facilities that already declare a tank or cylinders keep
    them, and those that declare beds keep theirs.
    """
    tanks = dict(parameters.tank_l_by_tier)
    role_tanks = dict(parameters.tank_l_by_role)
    cylinders = dict(parameters.cylinders_by_tier)
    beds = oxygen_beds_by_level(facilities, parameters)
    equipped = []
    for facility in facilities:
        declared_beds = any(getattr(facility, name) is not None for name in _BED_FIELDS.values())
        declared_oxygen = bool(facility.liquid_tank_capacity_l or facility.cylinders_on_hand)
        if declared_beds and declared_oxygen:
            equipped.append(facility)
            continue
        role = facility_role(facility)
        label = INFRASTRUCTURE_SOURCE.format(role=role.value)
        changes: dict[str, Any] = {
            "source": "; ".join(part for part in (facility.source, label) if part)
        }
        if not declared_beds:
            changes.update(beds[facility.facility_id])
        if not declared_oxygen:
            tank_l = role_tanks.get(role, tanks.get(facility.tier))
            changes.update(
                liquid_tank_capacity_l=tank_l,
                cylinders_on_hand={"40L": cylinders.get(facility.tier, 0)},
                has_manifold=facility.tier >= 2,
                has_pipeline=tank_l is not None,
            )
        equipped.append(dataclasses.replace(facility, **changes))
    return equipped


def build_seed(
    facilities: Sequence[Facility],
    supplier_places: Sequence[Place],
    *,
    parameters: SeedParameters | None = None,
) -> SeedData:
    """Build every seed record from facilities and the rows of a suppliers file (pure).

    Parameters
    ----------
    facilities
        The facilities to seed (for HCMC: :func:`data.exchange.importers.hcmc_facilities`).
    supplier_places
        Rows of the region's suppliers file (``load_region(...).suppliers.read()``).
    parameters
        Seed settings (default :class:`SeedParameters`).

    Returns
    -------
    SeedData
        The same records for the same inputs and parameters.

    Raises
    ------
    InvalidInputError
        If a supplier row cannot be read (every bad row is listed).
    """
    parameters = parameters or SeedParameters()
    facilities = equip_facilities(facilities, parameters)
    suppliers = suppliers_from_places(supplier_places)
    operators, vehicles = build_fleet(
        suppliers,
        plant_capacity_t_per_day={
            p.place_id: float(p.properties["capacity_lox_t_per_day"])
            for p in supplier_places
            if p.properties.get("capacity_lox_t_per_day", "").strip()
        },
    )
    reports = generate_reports(facilities, parameters)
    curve = tuple(
        (day, round(parameters.city_demand_t_per_day(day), 3))
        for day in days_between(parameters.date_from, parameters.date_to)
    )
    return SeedData(
        facilities=tuple(facilities),
        suppliers=tuple(suppliers),
        transport_operators=tuple(operators),
        vehicles=tuple(vehicles),
        reports=tuple(reports),
        curve=curve,
        source=parameters.source,
    )


def hcmc_seed(data_dir: Path, *, parameters: SeedParameters | None = None) -> SeedData:
    """Build the Hồ Chí Minh City seed from the shared data directory and the bundled region.

    Raises
    ------
    MissingDataFileError
        If the curated hospitals or a file of the region is missing from ``data_dir``.
    """
    from data.districts import DISTRICTS_OSM, districts_from_osm
    from data.exchange.importers import hcmc_facilities
    from data.provinces import province_shapes_2021
    from data.region import load_region

    region = load_region("hcmc", data_dir=data_dir)
    places = region.suppliers.read() if region.suppliers is not None else []
    # Duplicates merged, then provinces from the points (12 of the curated "HCMC" hospitals lie
    # in Đồng Nai or Bình Dương), then districts from the OSM boundaries of 2018 (19 of 24 close
    # inside the extract) for the facilities of the city only (docs/seed.md).
    facilities, _ = merge_duplicates(hcmc_facilities(data_dir))
    facilities, _ = assign_provinces(facilities, province_shapes_2021(data_dir))
    in_city = [f for f in facilities if f.province_code == "79"]
    districted = {
        f.facility_id: f
        for f in assign_districts(in_city, districts_from_osm(data_dir / DISTRICTS_OSM))
    }
    facilities = [districted.get(f.facility_id, f) for f in facilities]
    return build_seed(facilities, places, parameters=parameters)


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """How many records :func:`store_seed` added (records already present are skipped)."""

    facilities: int
    suppliers: int
    transport_operators: int
    vehicles: int
    report_revisions: int
    facility_days_skipped: int


def store_seed(store: Any, seed: SeedData, *, actor: str = "cli:seed") -> SeedSummary:
    """Store a seed; records and facility-days already in the store are left alone.

    Running it twice adds nothing the second time. Reports go in with
    :meth:`data.store.Store.load_generated_reports` (``generated=True``, ``source`` set).

    Raises
    ------
    InvalidInputError, ConflictError
        As the store's bulk writes (nothing of that step is stored).
    """
    added: dict[str, int] = {}
    for collection, records in (
        ("facilities", seed.facilities),
        ("suppliers", seed.suppliers),
        ("transport-operators", seed.transport_operators),
        ("vehicles", seed.vehicles),
    ):
        present = {
            getattr(r, _id_name(collection)) for r in store.list_records(collection, limit=None)
        }
        new = [r for r in records if getattr(r, _id_name(collection)) not in present]
        if new:
            store.create_records(new, actor=actor)
        added[collection] = len(new)
    reported = set()
    if seed.reports:
        days = [report.report_date for report, _ in seed.reports]
        reported = {
            (r.report.facility_id, r.report.report_date)
            for r in store.latest_reports(date_from=min(days), date_to=max(days))
        }
    items = [
        (report, at)
        for report, at in seed.reports
        if (report.facility_id, report.report_date) not in reported
    ]
    stored = store.load_generated_reports(items, submitted_by=SEED_SUBMITTER, source=seed.source)
    return SeedSummary(
        facilities=added["facilities"],
        suppliers=added["suppliers"],
        transport_operators=added["transport-operators"],
        vehicles=added["vehicles"],
        report_revisions=stored,
        facility_days_skipped=len(reported),
    )


def _id_name(collection: str) -> str:
    from data.schema.registry import REGISTRY_RECORD_TYPES, id_field

    return id_field(REGISTRY_RECORD_TYPES[collection])
