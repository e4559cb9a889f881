"""The ``oxyroute`` command line: thin wrappers around the packages."""

from __future__ import annotations

import click


@click.group()
@click.option("--data-dir", envvar="OXYROUTE_DATA_DIR", default=None,
              help="Folder with the shared data (default: ../shared/data beside the checkout).")
@click.option("--cache-dir", envvar="OXYROUTE_CACHE_DIR", default=None,
              help="Folder for caches such as built road graphs (default: ~/.cache/oxyroute).")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, cache_dir: str | None) -> None:
    """Oxygen coordination: road travel times, allocation plans and vehicle routes."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["cache_dir"] = cache_dir


# --------------------------------------------------------------------------- registry commands
# (appended for issue 3: the registry store, its users, and the HTTP API server)


def _registry_store(database_url: str | None):  # type: ignore[no-untyped-def]
    from data.db import create_db_engine, resolve_database_url, upgrade_database
    from data.store import Store

    engine = create_db_engine(resolve_database_url(database_url))
    upgrade_database(engine)
    return Store(engine)


_DATABASE_OPTION = click.option(
    "--database-url", envvar="OXYROUTE_DATABASE_URL", default=None,
    help="SQLAlchemy URL of the registry (default: a SQLite file in ~/.local/share/oxyroute).")


@main.group()
def db() -> None:
    """Registry database: schema upgrades, provinces, seed data."""


@db.command("upgrade")
@_DATABASE_OPTION
def db_upgrade(database_url: str | None) -> None:
    """Apply pending schema migrations."""
    from data.db.migrate import current_revision

    store = _registry_store(database_url)
    click.echo(f"schema at revision {current_revision(store.engine)}")


@db.command("init")
@_DATABASE_OPTION
@click.pass_context
def db_init(ctx: click.Context, database_url: str | None) -> None:
    """Upgrade the schema and load the 63 provinces of 2021 with their 2025 units."""
    from data.provinces import provinces_with_2025_units
    from data.settings import resolve_data_dir

    store = _registry_store(database_url)
    provinces = provinces_with_2025_units(resolve_data_dir(ctx.obj.get("data_dir")))
    changed = store.upsert_provinces(provinces, actor="cli")
    click.echo(f"{len(provinces)} provinces ({changed} added or changed)")


@db.command("seed")
@click.option("--region", type=click.Choice(["hcmc"]), required=True,
              help="Region whose seed data to load.")
@_DATABASE_OPTION
@click.pass_context
def db_seed(ctx: click.Context, region: str, database_url: str | None) -> None:
    """Load the curated hospitals of a region (tiers by the documented rule in data.importers)."""
    from data.importers import hcmc_facilities
    from data.provinces import provinces_with_2025_units
    from data.settings import resolve_data_dir
    from data.store import RecordNotFoundError

    data_dir = resolve_data_dir(ctx.obj.get("data_dir"))
    store = _registry_store(database_url)
    store.upsert_provinces(provinces_with_2025_units(data_dir), actor="cli")
    new = []
    for facility in hcmc_facilities(data_dir):
        try:
            store.get_record("facilities", facility.facility_id)
        except RecordNotFoundError:
            new.append(facility)
    store.create_records(new, actor="cli:seed")
    click.echo(f"{region}: {len(new)} facilities added (tiers assigned by rule; see docs/registry.md)")


@main.group()
def users() -> None:
    """Registry users and their API tokens."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["facility_reporter", "province_coordinator", "ministry",
                                 "dispatcher", "planner", "admin"]))
@click.option("--facility", "facility_id", default=None, help="Facility id (facility_reporter).")
@click.option("--province", "province_code", default=None,
              help="2021 province code (province_coordinator).")
@click.option("--token/--no-token", default=True, help="Also issue an API token (printed once).")
@_DATABASE_OPTION
def users_add(username: str, role: str, facility_id: str | None, province_code: str | None,
              token: bool, database_url: str | None) -> None:
    """Create a user (and print its first API token; only its hash is stored)."""
    from data.schema.registry import Role

    store = _registry_store(database_url)
    store.add_user(username, Role(role), facility_id=facility_id, province_code=province_code,
                   actor="cli")
    click.echo(f"user {username} ({role}) created")
    if token:
        click.echo(store.issue_token(username, label="cli", actor="cli"))


@users.command("token")
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expire after N days.")
@_DATABASE_OPTION
def users_token(username: str, days: int | None, database_url: str | None) -> None:
    """Issue a new API token for a user and print it (shown once)."""
    import datetime as dt

    store = _registry_store(database_url)
    expires_at = None if days is None else dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    click.echo(store.issue_token(username, label="cli", expires_at=expires_at, actor="cli"))


@users.command("disable")
@click.argument("username")
@_DATABASE_OPTION
def users_disable(username: str, database_url: str | None) -> None:
    """Disable a user: its tokens stop working at once."""
    _registry_store(database_url).set_user_disabled(username, True, actor="cli")
    click.echo(f"user {username} disabled")


@users.command("list")
@_DATABASE_OPTION
def users_list(database_url: str | None) -> None:
    """List users (never tokens)."""
    for user in _registry_store(database_url).list_users():
        click.echo(f"{user['username']}\t{user['role']}\t{user['facility_id'] or ''}\t"
                   f"{user['province_code'] or ''}\t{'disabled' if user['disabled'] else ''}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@_DATABASE_OPTION
def serve(host: str, port: int, threads: int, database_url: str | None) -> None:
    """Serve the HTTP API on a production WSGI server (waitress)."""
    import logging

    import waitress

    from api import ApiConfig, create_app
    from data.db import resolve_database_url

    logging.basicConfig(level=logging.INFO)
    app = create_app(ApiConfig(database_url=resolve_database_url(database_url)))
    click.echo(f"serving http://{host}:{port}/api/v1 (OpenAPI at /api/v1/openapi.json)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="oxyroute")
