"""Vehicle profiles: the speeds and the roads of a loaded cryogenic tanker, from the one road graph.

The road graph is built once (``routing/graph.py``) with the general speed table and the
restriction tags of every edge (:class:`routing.network.EdgeAccess`). A profile derives its own
travel times from it, without reading OSM again:

- **Speeds.** Each edge's time is its length at the profile's speed for the edge's road class,
  but never less than the general time: a tanker drives no faster than the posted ``maxspeed``
  (already in the general time) nor than the traffic of a road a what-if slowed down
  (``change_roads(..., factor=...)``). Closed roads stay closed.
- **Roads it may not use** get ``inf`` time, with the reason in ``edge_bars`` (bits of
  :class:`Bar`): ``hgv=no``, ``hazmat=no`` (or an ADR tunnel category C-E), tunnels, and posted
  weight, height and width limits below the vehicle's. A place whose nearest road is barred is
  unreachable for the profile, with that reason; it is never moved to another road.

Derived networks share the general network's hierarchy and geometry; each profile's times are
derived once per set of general times (:func:`network_for_profile` keeps them, keyed by the
profile's digest and the times' digest) and get their own CCH customization, keyed by the
profile's name. ``"general"`` is the network itself: its matrices do not change.
See ``docs/tanker-profile.md`` for the sources and the assumptions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from data.errors import InvalidInputError
from routing.network import EdgeAccess, RoadNetwork
from routing.speeds import TANKER_FALLBACK_SPEED_KPH, TANKER_SPEEDS_KPH, validate_speeds

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The profile of the network as built: the general speed table, every road open.
GENERAL = "general"

#: How many derived profile networks a network family keeps in memory.
_KEPT_PROFILES = 8


class Bar(enum.IntFlag):
    """Why a profile may not use an edge (bits of ``RoadNetwork.edge_bars``)."""

    HGV = 1
    HAZMAT = 2
    TUNNEL = 4
    WEIGHT = 8
    HEIGHT = 16
    WIDTH = 32


#: A reader's reason for each bar, in Vietnamese and English.
BAR_REASONS: Mapping[Bar, str] = MappingProxyType(
    {
        Bar.HGV: "cấm xe tải nặng / closed to heavy goods vehicles (hgv=no)",
        Bar.HAZMAT: "cấm xe chở hàng nguy hiểm / closed to dangerous goods (hazmat=no)",
        Bar.TUNNEL: "hầm: cấm xe bồn hàng nguy hiểm / tunnel closed to dangerous-goods tankers",
        Bar.WEIGHT: "tải trọng cho phép thấp hơn xe / weight limit below the vehicle's mass",
        Bar.HEIGHT: "chiều cao cho phép thấp hơn xe / height limit below the vehicle's height",
        Bar.WIDTH: "chiều rộng cho phép hẹp hơn xe / width limit below the vehicle's width",
    }
)


def bar_reasons(bars: int) -> str:
    """Return the readable reasons of a bar mask, joined with ``"; "`` (``""`` for 0)."""
    return "; ".join(text for bar, text in BAR_REASONS.items() if bars & bar)


@dataclass(frozen=True, slots=True)
class VehicleProfile:
    """How one kind of vehicle drives: its speed per road class and the roads it may not use.

    Parameters
    ----------
    name
        The profile's name (``"tanker"``); ``"general"`` is reserved for the network as built.
    speeds_kph
        Speed (km/h) per OSM road class; each edge's time is never below its general time.
    fallback_speed_kph
        Speed (km/h) on a road class the table does not list.
    mass_t, height_m, width_m
        Loaded gross mass (t), height (m) and width (m), compared with the posted ``maxweight``,
        ``maxheight`` and ``maxwidth`` of each road; None ignores that limit.
    heavy_goods
        True for a goods vehicle over 3.5 t: roads tagged ``hgv=no`` are barred.
    dangerous_goods
        True when it carries dangerous goods: roads tagged ``hazmat=no`` are barred.
    avoid_tunnels
        True bars every tunnel (``tunnel=yes``; a ``building_passage`` is not a tunnel).

    Raises
    ------
    InvalidInputError
        Listing every problem: an empty or reserved name, an unknown road class, a speed or a
        dimension that is not a positive finite number.
    """

    name: str
    speeds_kph: Mapping[str, float]
    fallback_speed_kph: float
    mass_t: float | None = None
    height_m: float | None = None
    width_m: float | None = None
    heavy_goods: bool = False
    dangerous_goods: bool = False
    avoid_tunnels: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.name or self.name == GENERAL:
            problems.append(f"name: must be a non-empty name other than {GENERAL!r}")
        try:
            validate_speeds(self.speeds_kph)
        except InvalidInputError as exc:
            problems.append(str(exc))
        for field_name in ("fallback_speed_kph", "mass_t", "height_m", "width_m"):
            value = getattr(self, field_name)
            if field_name != "fallback_speed_kph" and value is None:
                continue
            if not _positive(value):
                problems.append(f"{field_name}: must be a positive finite number, got {value!r}")
        if problems:
            raise InvalidInputError.from_problems(f"vehicle profile {self.name!r}", problems)
        object.__setattr__(self, "speeds_kph", MappingProxyType(dict(self.speeds_kph)))

    def digest(self) -> str:
        """Return a short stable hash of everything the profile's times depend on."""
        payload = json.dumps(
            {
                "name": self.name,
                "speeds_kph": dict(sorted(self.speeds_kph.items())),
                "fallback_speed_kph": self.fallback_speed_kph,
                "mass_t": self.mass_t,
                "height_m": self.height_m,
                "width_m": self.width_m,
                "heavy_goods": self.heavy_goods,
                "dangerous_goods": self.dangerous_goods,
                "avoid_tunnels": self.avoid_tunnels,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


#: A loaded liquid-oxygen semi-trailer tanker (UN 1073, class 2.2, subsidiary 5.1). Mass: the
#: fleet's largest tanker, 20 t of LOX (data/seed.py) plus about 20 t of tractor, trailer and
#: vacuum-insulated tank, 40 t, the gross limit of a five-axle tractor-semi-trailer in Vietnam
#: (an assumption); height 4.0 m (within Vietnam's 4.2 m limit for trucks, an assumption);
#: width 2.5 m (the legal maximum). See docs/tanker-profile.md.
TANKER = VehicleProfile(
    name="tanker",
    speeds_kph=TANKER_SPEEDS_KPH,
    fallback_speed_kph=TANKER_FALLBACK_SPEED_KPH,
    mass_t=40.0,
    height_m=4.0,
    width_m=2.5,
    heavy_goods=True,
    dangerous_goods=True,
    avoid_tunnels=True,
)

#: The named profiles a caller may ask for besides ``"general"``.
PROFILES: Mapping[str, VehicleProfile] = MappingProxyType({TANKER.name: TANKER})

#: Every profile name, ``"general"`` first.
PROFILE_NAMES: tuple[str, ...] = (GENERAL, *PROFILES)


def resolve_profile(profile: str | VehicleProfile) -> VehicleProfile | None:
    """Return the profile named ``profile`` (None for ``"general"``), or ``profile`` itself.

    Raises
    ------
    InvalidInputError
        If the name is not one of :data:`PROFILE_NAMES`.
    """
    if isinstance(profile, VehicleProfile):
        return profile
    if profile == GENERAL:
        return None
    if isinstance(profile, str) and profile in PROFILES:
        return PROFILES[profile]
    raise InvalidInputError(
        f"profile: {profile!r} is not a vehicle profile; use one of {', '.join(PROFILE_NAMES)}"
    )


def profile_bars(network: RoadNetwork, profile: VehicleProfile) -> IntArray:
    """Return, per edge, the :class:`Bar` bits of why ``profile`` may not use it (0 = allowed)."""
    access = network.edge_access or EdgeAccess.unrestricted(network.edge_count)
    bars = np.zeros(network.edge_count, dtype=np.int64)
    if profile.heavy_goods:
        bars[(access.flags & EdgeAccess.HGV_NO) != 0] |= Bar.HGV
    if profile.dangerous_goods:
        bars[(access.flags & EdgeAccess.HAZMAT_NO) != 0] |= Bar.HAZMAT
    if profile.avoid_tunnels:
        bars[(access.flags & EdgeAccess.TUNNEL) != 0] |= Bar.TUNNEL
    for limit, size, bar in (
        (access.maxweight_t, profile.mass_t, Bar.WEIGHT),
        (access.maxheight_m, profile.height_m, Bar.HEIGHT),
        (access.maxwidth_m, profile.width_m, Bar.WIDTH),
    ):
        if size is not None:
            with np.errstate(invalid="ignore"):
                bars[limit < size] |= bar  # nan (no limit) compares False
    return bars


def profile_edge_times(network: RoadNetwork, profile: VehicleProfile) -> FloatArray:
    """Return the profile's time (s) of every edge: its class speed, never below the general time.

    ``network`` must be a general network (any what-if changes applied); barred edges are
    ``inf``.
    """
    class_speed_kph = np.array(
        [profile.speeds_kph.get(c, profile.fallback_speed_kph) for c in network.road_classes]
        or [profile.fallback_speed_kph],
        dtype=np.float64,
    )
    own_s = network.edge_length_m / (class_speed_kph[network.edge_class] / 3.6)
    times = np.maximum(network.edge_time_s, own_s)
    times[profile_bars(network, profile) != 0] = np.inf
    return times


def network_for_profile(
    network: RoadNetwork, profile: str | VehicleProfile = GENERAL
) -> RoadNetwork:
    """Return ``network`` as driven by ``profile`` (derived once per set of times, then kept).

    ``"general"`` returns ``network`` itself, unchanged. Another profile returns a variant with the
    profile's times, ``inf`` on the roads it may not use and their reasons in ``edge_bars``; it
    shares the hierarchy, geometry and caches of ``network``. A network already of that profile
    is returned as it is.

    Raises
    ------
    InvalidInputError
        If the profile name is unknown, or ``network`` is of another profile than ``"general"``
        (derive every profile from the general network).
    """
    wanted = resolve_profile(profile)
    if wanted is None:
        if network.profile != GENERAL:
            raise InvalidInputError(
                f"profile: the network is of profile {network.profile!r}; the general times "
                "come from the general network it was derived from"
            )
        return network
    if network.profile == wanted.name:
        return network
    if network.profile != GENERAL:
        raise InvalidInputError(
            f"profile: the network is of profile {network.profile!r}, not {wanted.name!r}; "
            "derive every profile from the general network"
        )
    kept: dict[tuple[str, bytes], RoadNetwork] = network._shared.setdefault("profiles", {})
    key = (wanted.digest(), network.time_digest())
    derived = kept.get(key)
    if derived is None:
        if len(kept) >= _KEPT_PROFILES:
            kept.pop(next(iter(kept)))
        derived = dataclasses.replace(
            network,
            edge_time_s=profile_edge_times(network, wanted),
            profile=wanted.name,
            edge_bars=profile_bars(network, wanted),
        )
        kept[key] = derived
    return derived


def barred_edge_count(network: RoadNetwork, profile: str | VehicleProfile) -> dict[str, int]:
    """Return how many edges ``profile`` may not use, in total and per :class:`Bar` reason."""
    wanted = resolve_profile(profile)
    if wanted is None:
        return {"total": 0}
    bars = profile_bars(network, wanted)
    counts = {"total": int((bars != 0).sum())}
    counts.update({str(bar.name).lower(): int(((bars & bar) != 0).sum()) for bar in Bar})
    return counts


#: OSM keys read into :class:`routing.network.EdgeAccess` when the graph is built.
ACCESS_KEYS = (
    "hgv",
    "hgv:conditional",
    "hazmat",
    "hazmat:conditional",
    "hazmat:C",
    "hazmat:D",
    "hazmat:E",
    "hazmat:adr_tunnel_cat",
    "tunnel",
    "maxweight",
    "maxweight:conditional",
    "maxweight:hgv",
    "maxweight:hgv:conditional",
    "maxweightrating",
    "maxweightrating:hgv",
    "maxweightrating:hgv:conditional",
    "maxgcweight",
    "maxheight",
    "maxheight:physical",
    "maxwidth",
    "maxwidth:physical",
)

#: Access of a way or edge: flags (EdgeAccess bits) and maxweight (t), maxheight, maxwidth (m).
WayAccess = tuple[int, float, float, float]

#: A way with no restriction tag.
NO_RESTRICTION: WayAccess = (0, math.nan, math.nan, math.nan)

_UNITS_TO_T = (("kg", 0.001), ("lbs", 0.000453592), ("st", 0.907185), ("t", 1.0))
_UNITS_TO_M = (("cm", 0.01), ("ft", 0.3048), ("m", 1.0))


def _values(value: object) -> list[str]:
    """Split a tag value (or osmnx's list of them) into its parts, without ``@ (...)`` times.

    A ``:conditional`` restriction is taken as always in force (``"2.5 @ (06:00-22:00)"`` reads
    ``"2.5"``): deliveries run in the day, when such limits apply.
    """
    items = value if isinstance(value, list) else [value]
    parts: list[str] = []
    for item in items:
        if item is None:
            continue
        for part in str(item).split(";"):
            text = part.split("@")[0].strip().lower()
            if text:
                parts.append(text)
    return parts


def parse_measure(value: object, units: tuple[tuple[str, float], ...]) -> float:
    """Return the lowest number in an OSM measure (``"2.5"``, ``"8000 kg"``, ``"4.3 m"``), or nan.

    Feet and inches (``14'6"``) are read for lengths; words such as ``default`` or ``none`` give
    nan (no limit).
    """
    found: list[float] = []
    for text in _values(value):
        if "'" in text:  # feet and inches
            feet, _, inches = text.partition("'")
            with contextlib.suppress(ValueError):
                found.append(float(feet) * 0.3048 + float(inches.strip('" ') or 0) * 0.0254)
            continue
        factor = 1.0
        for suffix, unit_factor in units:
            if text.endswith(suffix):
                text, factor = text[: -len(suffix)].strip(), unit_factor
                break
        try:
            number = float(text) * factor
        except ValueError:
            continue
        if math.isfinite(number) and number > 0:
            found.append(number)
    return min(found) if found else math.nan


def way_access(tags: Mapping[str, object]) -> WayAccess:
    """Return the access of a way (or of an osmnx edge's merged tags) from its OSM tags."""
    flags = 0
    if {"no", "private"} & {v for k in ("hgv", "hgv:conditional") for v in _values(tags.get(k))}:
        flags |= EdgeAccess.HGV_NO
    hazmat = {v for k in ("hazmat", "hazmat:conditional") for v in _values(tags.get(k))}
    tunnel_category = set(_values(tags.get("hazmat:adr_tunnel_cat")))
    if (
        "no" in hazmat
        or any("no" in _values(tags.get(f"hazmat:{c}")) for c in "CDE")
        or tunnel_category & {"c", "d", "e"}
    ):
        flags |= EdgeAccess.HAZMAT_NO
    if "yes" in _values(tags.get("tunnel")):
        flags |= EdgeAccess.TUNNEL
    weight = [
        parse_measure(tags.get(k), _UNITS_TO_T)
        for k in ACCESS_KEYS
        if k.startswith(("maxweight", "maxgcweight"))
    ]
    height = [parse_measure(tags.get(k), _UNITS_TO_M) for k in ("maxheight", "maxheight:physical")]
    width = [parse_measure(tags.get(k), _UNITS_TO_M) for k in ("maxwidth", "maxwidth:physical")]
    return (flags, _nanmin(weight), _nanmin(height), _nanmin(width))


def _nanmin(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return min(finite) if finite else math.nan


def combine_access(accesses: list[WayAccess]) -> WayAccess:
    """Return the strictest of several ways' access (an edge osmnx merged from them)."""
    if not accesses:
        return NO_RESTRICTION
    flags = 0
    for access in accesses:
        flags |= access[0]
    return (
        flags,
        _nanmin([a[1] for a in accesses]),
        _nanmin([a[2] for a in accesses]),
        _nanmin([a[3] for a in accesses]),
    )
