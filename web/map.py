"""The offline web map: a Leaflet page at ``/`` and the GeoJSON base layers it draws.

Everything the page needs is served by the application itself: Leaflet from the ``xstatic-leaflet``
package, our JavaScript and CSS from ``web/static``, and the base layers (roads, province and
district outlines, facilities, suppliers) as ``application/geo+json`` under ``/map/v1`` (beside the
registry's ``/api/v1``, whose OpenAPI document covers the registry only; ``/map/v1/openapi.json``
covers these, generated from the operations declared on the views). Map tiles are used only
when :attr:`WebMapConfig.tile_url` is set. See ``docs/webmap.md``.

Public surface: :class:`WebMapConfig`, :func:`register_webmap` (what ``api.create_app`` calls),
:func:`load_map_resources`, :data:`bp` (the blueprint; its per-app resources come from
``app.extensions["oxyroute_webmap"]``, set by :func:`register_webmap`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, request, send_from_directory

from data.errors import InvalidInputError, MissingDataFileError
from web.auth import authenticate_request
from web.common import error_response
from web.openapi import (
    ApiBlueprint,
    error_responses,
    operation,
    path_parameter,
    public_endpoints,
)
from web.openapi import openapi_document as build_openapi_document

if TYPE_CHECKING:
    from data.store import Store
    from data.units import OxygenConversions
    from web.auth import FailedAuthLimiter
    from web.map_layers import EncodedLayer, MapResources

__all__ = [
    "TILE_URL_ENV",
    "WebMapConfig",
    "bp",
    "load_map_resources",
    "register_webmap",
]

#: Environment variable that :meth:`WebMapConfig.from_environment` reads for the tile server.
TILE_URL_ENV = "OXYROUTE_TILE_URL"
#: Environment variable listing the regions to serve (comma-separated, e.g. ``hcmc,hcmc_d5``).
MAP_REGIONS_ENV = "OXYROUTE_MAP_REGIONS"

GEOJSON_MEDIA_TYPE = "application/geo+json"
#: Where the base-layer endpoints live (same token and error envelope as ``/api/v1``).
MAP_API_PREFIX = "/map/v1"
_STATIC = Path(__file__).resolve().parent / "static"
# The page and its files are public; so are the documented operations marked public.
_PAGE_ENDPOINTS = frozenset({"webmap.index", "webmap.static", "webmap.leaflet", "webmap.config"})


@dataclass(frozen=True, slots=True)
class WebMapConfig:
    """Settings of the web map.

    Parameters
    ----------
    regions
        Region names or paths (as ``--region`` takes them) whose base layers are served; their road
        networks are loaded when the app is created. Empty (the default): the page is served and
        says that no region is configured.
    data_dir, cache_dir
        Shared data and graph cache directories; ``None`` resolves them as the CLI does
        (``OXYROUTE_DATA_DIR``, ``OXYROUTE_CACHE_DIR``, then the defaults).
    tile_url
        An online XYZ tile server such as ``https://tile.example.org/{z}/{x}/{y}.png``; ``None``
        (the default) draws no tiles, so the map works with no internet.
    tile_attribution
        Credit shown for the tiles (OpenStreetMap's credit is always shown).
    road_tolerance_m
        Simplification of the road layer, metres (default 5).
    """

    regions: tuple[str, ...] = ()
    data_dir: Path | None = None
    cache_dir: Path | None = None
    tile_url: str | None = None
    tile_attribution: str = ""
    road_tolerance_m: float = 5.0

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.regions, str):
            problems.append(f"regions: give a tuple of names, got the string {self.regions!r}")
        if self.tile_url is not None:
            parts = urlsplit(self.tile_url)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or not all(k in self.tile_url for k in ("{z}", "{x}", "{y}"))
            ):
                problems.append(
                    f"tile_url: must be an http(s) URL with {{z}}, {{x}} and {{y}}, got "
                    f"{self.tile_url!r}"
                )
        if not self.road_tolerance_m >= 0:
            problems.append(f"road_tolerance_m: must be >= 0, got {self.road_tolerance_m!r}")
        if problems:
            raise InvalidInputError.from_problems("web map settings", problems)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WebMapConfig:
        """Return settings from ``OXYROUTE_MAP_REGIONS`` and ``OXYROUTE_TILE_URL`` (for the CLI)."""
        env = os.environ if environ is None else environ
        regions = tuple(r.strip() for r in env.get(MAP_REGIONS_ENV, "").split(",") if r.strip())
        return cls(regions=regions, tile_url=env.get(TILE_URL_ENV) or None)


def load_map_resources(
    config: WebMapConfig | None, *, conversions: OxygenConversions | None = None
) -> MapResources:
    """Load the regions of ``config`` and their road networks (from the graph cache, else built).

    Raises
    ------
    MissingDataFileError, InvalidInputError
        If a region or its files cannot be found or read (as :func:`data.region.load_region`).
    """
    from data.region import load_region
    from data.settings import resolve_cache_dir, resolve_data_dir
    from routing.graph import network_for_region
    from web.map_layers import MapResources

    config = config or WebMapConfig()
    try:
        data_dir: Path | None = resolve_data_dir(config.data_dir)
    except MissingDataFileError:
        if config.data_dir is not None or config.regions:
            raise
        data_dir = None  # no region served: the page works, outline layers say what is missing
    loaded = {}
    if config.regions:
        cache_dir = resolve_cache_dir(config.cache_dir)
        for name in config.regions:
            region = load_region(name, data_dir=data_dir)
            loaded[region.region_id] = (region, network_for_region(region, cache_dir=cache_dir))
    return MapResources(
        loaded, data_dir=data_dir, conversions=conversions, road_tolerance_m=config.road_tolerance_m
    )


def _content_security_policy(tile_url: str | None) -> str:
    img = "'self' data:"
    if tile_url is not None:
        parts = urlsplit(tile_url.replace("{s}", "*"))
        img += f" {parts.scheme}://{parts.netloc}"
    # No CDN, no inline script: everything comes from this server (the map works offline).
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def _geojson_response(layer: EncodedLayer) -> Response:
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    response = Response(layer.gzipped if gzipped else layer.body, mimetype=GEOJSON_MEDIA_TYPE)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding, Authorization"
    response.headers["Cache-Control"] = "private, no-cache"  # revalidate: the ETag makes it cheap
    response.set_etag(layer.etag)
    response.make_conditional(request)  # turns itself into 304 when the ETag matches
    return response


@dataclass(frozen=True, slots=True)
class _MapState:
    """Per-app resources of the map blueprint (``app.extensions["oxyroute_webmap"]``)."""

    resources: MapResources
    store: Store
    limiter: FailedAuthLimiter
    tile_url: str | None
    tile_attribution: str
    csp: str
    page: bytes
    public_endpoints: frozenset[str]


def _state() -> _MapState:
    return current_app.extensions["oxyroute_webmap"]  # type: ignore[no-any-return]


bp = ApiBlueprint(
    "webmap",
    __name__,
    static_folder=str(_STATIC),
    static_url_path="/webmap/static",
    rule_prefix=MAP_API_PREFIX,
)
"""The map page, its files and (under :data:`MAP_API_PREFIX`) the documented layer endpoints.

Public: ``GET /`` (the page), ``/webmap/static/...``, ``/webmap/leaflet/...``,
``/webmap/config.json``, ``/map/v1/openapi.json``. With a token: ``GET /map/v1/regions``,
``/map/v1/provinces.geojson``, ``/map/v1/regions/{region}/{layer}.geojson`` for ``roads``,
``districts``, ``facilities`` and ``suppliers``. An unknown region or layer is 404 in the JSON
error envelope.
"""
_ERRORS = error_responses("401", "404", "429", "503")
_GEOJSON = {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}}}


@bp.before_request
def _authenticate() -> None:
    state = _state()
    if request.endpoint in state.public_endpoints:
        return
    authenticate_request(
        authorization=request.headers.get("Authorization", ""),
        query_names=request.args,
        client=request.remote_addr or "unknown",
        store=state.store,
        limiter=state.limiter,
    )


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint == "webmap.index":
        response.headers["Content-Security-Policy"] = _state().csp
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/")
def index() -> Response:
    """Serve the map page."""
    response = Response(_state().page, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/webmap/leaflet/<path:filename>")
def leaflet(filename: str) -> Response:
    """Serve Leaflet's files from the ``xstatic-leaflet`` package."""
    import xstatic.pkg.leaflet as xstatic_leaflet

    return send_from_directory(xstatic_leaflet.BASE_DIR, filename, max_age=3600)


@bp.get("/webmap/config.json")
def config() -> Response:
    """Return what the page needs to know: tiles, credits, Leaflet's version, unit factor."""
    import xstatic.pkg.leaflet as xstatic_leaflet

    from web.map_layers import PROVINCE_ATTRIBUTION

    state = _state()
    return jsonify(
        {
            "tile_url": state.tile_url,
            "tile_attribution": state.tile_attribution,
            "attribution": ["© OpenStreetMap contributors", PROVINCE_ATTRIBUTION],
            "leaflet_version": xstatic_leaflet.VERSION,
            "gas_m3_per_lox_t": state.resources.conversions.gas_m3_per_lox_t,
        }
    )


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the base-layer endpoints (:data:`MAP_API_PREFIX`)."""
    return build_openapi_document(
        [bp],
        title="oxyroute web map layers",
        description="RFC 7946 GeoJSON, WGS84 [lon, lat], 6 decimals; gzip and ETag. "
        "© OpenStreetMap contributors; province shapes: Open Development "
        "Vietnam. See docs/webmap.md.",
        server_url=MAP_API_PREFIX,
    )


@operation(
    bp,
    "GET",
    "/openapi.json",
    summary="This document",
    public=True,
    responses={"200": {"description": "OK"}},
)
def openapi() -> Response:
    """Return the OpenAPI document of the layer endpoints (public)."""
    return jsonify(openapi_document())


@operation(
    bp,
    "GET",
    "/regions",
    summary="Served regions: id, name, bbox, province, layers",
    responses={"200": {"description": "OK"}, **_ERRORS},
)
def regions() -> Response:
    """Return the served regions."""
    served = _state().resources.regions
    return jsonify({"regions": [r.info() for _, r in sorted(served.items())]})


@operation(
    bp,
    "GET",
    "/provinces.geojson",
    summary="The 63 provinces of 2021, simplified outlines",
    responses={"200": {"description": "OK", "content": _GEOJSON}, **_ERRORS},
)
def provinces() -> Response:
    """Return the provinces' outlines as GeoJSON."""
    return _geojson_response(_state().resources.provinces.get())


@operation(
    bp,
    "GET",
    "/regions/<region>/<layer>.geojson",
    summary="A base layer of a served region",
    parameters=[
        path_parameter(
            "layer",
            {"type": "string", "enum": ["roads", "districts", "facilities", "suppliers"]},
        )
    ],
    responses={"200": {"description": "OK", "content": _GEOJSON}, **_ERRORS},
)
def region_layer(region: str, layer: str) -> Response:
    """Return one base layer of a served region as GeoJSON."""
    from data.errors import RecordNotFoundError

    resources = _state().resources
    served = resources.regions.get(region)
    if served is None:
        known = ", ".join(sorted(resources.regions)) or "none configured"
        raise RecordNotFoundError(f"region: {region!r} is not served (served: {known})")
    once = served.layers.get(layer)
    if once is None:
        raise RecordNotFoundError(
            f"layer: {region!r} has no layer {layer!r} (it has: {', '.join(served.layers)})"
        )
    return _geojson_response(once.get())


@bp.errorhandler(MissingDataFileError)
def _missing_data(error: MissingDataFileError) -> Response:
    current_app.logger.error("web map layer unavailable: %s", error)
    # The message names server paths: it goes to the log, not to the client.
    return error_response(
        503, "layer unavailable: a shared data file is missing on the server (see its log)"
    )


def register_webmap(
    app: Flask,
    config: WebMapConfig | None,
    *,
    store: Store,
    limiter: FailedAuthLimiter,
    conversions: OxygenConversions | None = None,
) -> MapResources:
    """Load the map's regions (:func:`load_map_resources`) and register its blueprint on ``app``.

    ``None`` serves the page with no region. Road networks load here, once per application; the
    loaded resources are returned so that the app's other parts can use the same networks.
    """
    config = config or WebMapConfig()
    resources = load_map_resources(config, conversions=conversions)
    app.extensions["oxyroute_webmap"] = _MapState(
        resources=resources,
        store=store,
        limiter=limiter,
        tile_url=config.tile_url,
        tile_attribution=config.tile_attribution,
        csp=_content_security_policy(config.tile_url),
        page=(_STATIC / "index.html").read_bytes(),
        public_endpoints=_PAGE_ENDPOINTS | public_endpoints([bp]),
    )
    app.register_blueprint(bp)
    return resources
