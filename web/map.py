"""The offline web map: a Leaflet page at ``/`` and the GeoJSON base layers it draws.

Everything the page needs is served by the application itself: Leaflet from the ``xstatic-leaflet``
package, our JavaScript and CSS from ``web/static``, and the base layers (roads, province and
district outlines, facilities, suppliers) as ``application/geo+json`` under ``/map/v1`` (beside the
registry's ``/api/v1``, whose OpenAPI document covers the registry only; ``/map/v1/openapi.json``
covers these). Map tiles
are used only when :attr:`WebMapConfig.tile_url` is set. See ``docs/webmap.md``.

Public surface: :class:`WebMapConfig`, :func:`register_webmap` (what ``api.create_app`` calls),
:func:`load_map_resources`, :func:`create_webmap_blueprint`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory

from data.errors import InvalidInputError, MissingDataFileError

if TYPE_CHECKING:
    from data.store import Store
    from data.units import OxygenConversions
    from web.auth import FailedAuthLimiter
    from web.map_layers import EncodedLayer, MapResources

__all__ = [
    "TILE_URL_ENV",
    "WebMapConfig",
    "create_webmap_blueprint",
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
_PUBLIC_ENDPOINTS = {
    "webmap.index",
    "webmap.static",
    "webmap.leaflet",
    "webmap.config",
    "webmap.openapi",
}


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


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the base-layer endpoints (:data:`MAP_API_PREFIX`)."""
    geojson = {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}}}
    error = {
        "description": "error envelope (as /api/v1)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    errors = {"401": error, "404": error, "429": error, "503": error}
    region = {"name": "region", "in": "path", "required": True, "schema": {"type": "string"}}
    layer = {
        "name": "layer",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["roads", "districts", "facilities", "suppliers"]},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "oxyroute web map layers",
            "version": "1",
            "description": "RFC 7946 GeoJSON, WGS84 [lon, lat], 6 decimals; gzip and ETag. "
            "© OpenStreetMap contributors; province shapes: Open Development "
            "Vietnam. See docs/webmap.md.",
        },
        "servers": [{"url": MAP_API_PREFIX}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OK"}},
                }
            },
            "/regions": {
                "get": {
                    "summary": "Served regions: id, name, bbox, province, layers",
                    "responses": {"200": {"description": "OK"}, **errors},
                }
            },
            "/provinces.geojson": {
                "get": {
                    "summary": "The 63 provinces of 2021, simplified outlines",
                    "responses": {"200": {"description": "OK", "content": geojson}, **errors},
                }
            },
            "/regions/{region}/{layer}.geojson": {
                "get": {
                    "summary": "A base layer of a served region",
                    "parameters": [region, layer],
                    "responses": {"200": {"description": "OK", "content": geojson}, **errors},
                }
            },
        },
    }


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


def create_webmap_blueprint(
    resources: MapResources,
    *,
    store: Store,
    limiter: FailedAuthLimiter,
    tile_url: str | None = None,
    tile_attribution: str = "",
) -> Blueprint:
    """Return the blueprint of the map page and its base-layer endpoints.

    Parameters
    ----------
    resources
        Loaded regions and outline layers (:func:`load_map_resources`).
    store, limiter
        The application's registry store (token check) and failed-authentication limiter: the
        layer endpoints need ``Authorization: Bearer <token>`` like ``/api/v1``.
    tile_url, tile_attribution
        Optional online tile server (see :class:`WebMapConfig`).

    Notes
    -----
    Public: ``GET /`` (the page), ``/webmap/static/...``, ``/webmap/leaflet/...``,
    ``/webmap/config.json``, ``/map/v1/openapi.json``. With a token: ``GET /map/v1/regions``,
    ``/map/v1/provinces.geojson``, ``/map/v1/regions/{region}/{layer}.geojson`` for ``roads``,
    ``districts``, ``facilities`` and ``suppliers``. An unknown region or layer is 404 in the
    JSON error envelope.
    """
    import xstatic.pkg.leaflet as xstatic_leaflet

    from data.errors import RecordNotFoundError
    from web.auth import authenticate_request
    from web.map_layers import PROVINCE_ATTRIBUTION

    blueprint = Blueprint(
        "webmap", __name__, static_folder=str(_STATIC), static_url_path="/webmap/static"
    )
    csp = _content_security_policy(tile_url)
    page = (_STATIC / "index.html").read_bytes()

    @blueprint.before_request
    def _authenticate() -> None:
        if request.endpoint in _PUBLIC_ENDPOINTS:
            return
        authenticate_request(
            authorization=request.headers.get("Authorization", ""),
            query_names=request.args,
            client=request.remote_addr or "unknown",
            store=store,
            limiter=limiter,
        )

    @blueprint.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.endpoint == "webmap.index":
            response.headers["Content-Security-Policy"] = csp
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @blueprint.get("/")
    def index() -> Response:
        response = Response(page, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @blueprint.get("/webmap/leaflet/<path:filename>")
    def leaflet(filename: str) -> Response:
        return send_from_directory(xstatic_leaflet.BASE_DIR, filename, max_age=3600)

    @blueprint.get("/webmap/config.json")
    def config() -> Response:
        return jsonify(
            {
                "tile_url": tile_url,
                "tile_attribution": tile_attribution,
                "attribution": ["© OpenStreetMap contributors", PROVINCE_ATTRIBUTION],
                "leaflet_version": xstatic_leaflet.VERSION,
                "gas_m3_per_lox_t": resources.conversions.gas_m3_per_lox_t,
            }
        )

    def _region(region_id: str) -> Any:
        served = resources.regions.get(region_id)
        if served is None:
            known = ", ".join(sorted(resources.regions)) or "none configured"
            raise RecordNotFoundError(f"region: {region_id!r} is not served (served: {known})")
        return served

    @blueprint.get(f"{MAP_API_PREFIX}/openapi.json")
    def openapi() -> Response:
        return jsonify(openapi_document())

    @blueprint.get(f"{MAP_API_PREFIX}/regions")
    def regions() -> Response:
        return jsonify({"regions": [r.info() for _, r in sorted(resources.regions.items())]})

    @blueprint.get(f"{MAP_API_PREFIX}/provinces.geojson")
    def provinces() -> Response:
        return _geojson_response(resources.provinces.get())

    @blueprint.get(f"{MAP_API_PREFIX}/regions/<region_id>/<layer>.geojson")
    def region_layer(region_id: str, layer: str) -> Response:
        served = _region(region_id)
        once = served.layers.get(layer)
        if once is None:
            raise RecordNotFoundError(
                f"layer: {region_id!r} has no layer {layer!r} (it has: {', '.join(served.layers)})"
            )
        return _geojson_response(once.get())

    @blueprint.errorhandler(MissingDataFileError)
    def _missing_data(error: MissingDataFileError) -> Response:
        current_app.logger.error("web map layer unavailable: %s", error)
        from api import error_response

        # The message names server paths: it goes to the log, not to the client.
        return error_response(
            503, "layer unavailable: a shared data file is missing on the server (see its log)"
        )

    return blueprint


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
    app.register_blueprint(
        create_webmap_blueprint(
            resources,
            store=store,
            limiter=limiter,
            tile_url=config.tile_url,
            tile_attribution=config.tile_attribution,
        )
    )
    return resources
