"""Registry commands: the database (upgrade, init, seed) and its users and tokens."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import (
    DATABASE_OPTION,
    fail_cleanly,
    registry_store,
)


@click.group()
def db() -> None:
    """Registry database: schema upgrades, provinces, seed data."""


@db.command("upgrade")
@DATABASE_OPTION
def db_upgrade(database_url: str | None) -> None:
    """Apply pending schema migrations."""
    from data.db.migrate import current_revision

    store = registry_store(database_url)
    click.echo(f"schema at revision {current_revision(store.engine)}")


@db.command("init")
@DATABASE_OPTION
@click.pass_context
def db_init(ctx: click.Context, database_url: str | None) -> None:
    """Upgrade the schema and load the 63 provinces of 2021 with their 2025 units."""
    from data.provinces import provinces_with_2025_units
    from data.settings import resolve_data_dir

    store = registry_store(database_url)
    provinces = provinces_with_2025_units(resolve_data_dir(ctx.obj.get("data_dir")))
    changed = store.upsert_provinces(provinces, actor="cli")
    click.echo(f"{len(provinces)} provinces ({changed} added or changed)")


@db.command("seed")
@click.option(
    "--region", type=click.Choice(["hcmc"]), required=True, help="Region whose seed data to load."
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=20210801,
    show_default=True,
    help="Seed of the generated fleet and reports (same seed, same rows).",
)
@DATABASE_OPTION
@click.pass_context
def db_seed(ctx: click.Context, region: str, seed_value: int, database_url: str | None) -> None:
    """Load a region's hospitals and suppliers, a generated fleet and generated August 2021 reports.

    Hospitals and suppliers are sourced; the fleet and the reports are generated and labelled so
    (see data/seed.py and docs/registry.md). Records already present are left alone.
    """
    from data.provinces import provinces_with_2025_units
    from data.seed import SeedParameters, hcmc_seed, store_seed
    from data.settings import resolve_data_dir

    data_dir = resolve_data_dir(ctx.obj.get("data_dir"))
    store = registry_store(database_url)
    store.upsert_provinces(provinces_with_2025_units(data_dir), actor="cli")
    seed = hcmc_seed(data_dir, parameters=SeedParameters(seed=seed_value))
    summary = store_seed(store, seed, actor="cli:seed")
    click.echo(
        f"{region}: added {summary.facilities} facilities (tiers by rule), {summary.suppliers} "
        f"suppliers (sourced), {summary.transport_operators} transport operators and "
        f"{summary.vehicles} vehicles (generated), {summary.report_revisions} report revisions "
        f"(generated, {seed.curve[0][0]} to {seed.curve[-1][0]}; "
        f"{summary.facility_days_skipped} facility-days already present were kept)"
    )
    click.echo(f"generated rows are labelled: {seed.source}")


_IMPORT_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


@db.command("import")
@click.option(
    "--region",
    "region_name",
    required=True,
    help="Bundled region name or path to a region .toml file (its districts check facilities).",
)
@click.option(
    "--facilities", type=_IMPORT_FILE, default=None, help="Facilities (CSV, XLSX, GeoJSON)."
)
@click.option(
    "--suppliers", type=_IMPORT_FILE, default=None, help="Suppliers (CSV, XLSX, GeoJSON)."
)
@click.option(
    "--operators", type=_IMPORT_FILE, default=None, help="Transport operators (CSV, XLSX)."
)
@click.option("--vehicles", type=_IMPORT_FILE, default=None, help="Vehicles (CSV, XLSX).")
@click.option("--reports", type=_IMPORT_FILE, default=None, help="Daily reports (CSV, XLSX).")
@DATABASE_OPTION
@click.pass_context
@fail_cleanly
def db_import(
    ctx: click.Context,
    region_name: str,
    facilities: Path | None,
    suppliers: Path | None,
    operators: Path | None,
    vehicles: Path | None,
    reports: Path | None,
    database_url: str | None,
) -> None:
    """Fill the registry of a region from files: every row of every file, or none.

    The files go through the checks of the HTTP imports (docs/registry.md): columns, values,
    each facility's province against its point, its district from the region's districts,
    duplicates, report plausibility. They are imported in one transaction in the order
    facilities, suppliers, operators, vehicles, reports (later files may name earlier rows);
    the first refusal stores nothing of any file. `db seed` stays Ho Chi Minh City's seed.
    """
    from data.districts import region_district_shapes
    from data.errors import InvalidInputError, MissingDataFileError
    from data.exchange.region_import import import_registry_files
    from data.provinces import province_shapes_2021, provinces_with_2025_units
    from data.region import load_region
    from data.settings import resolve_cache_dir, resolve_data_dir

    files = {
        kind: path
        for kind, path in (
            ("facilities", facilities),
            ("suppliers", suppliers),
            ("operators", operators),
            ("vehicles", vehicles),
            ("reports", reports),
        )
        if path is not None
    }
    if not files:
        raise InvalidInputError(
            "files: give at least one of --facilities, --suppliers, --operators, --vehicles, "
            "--reports"
        )
    region = load_region(region_name, data_dir=ctx.obj.get("data_dir"))
    data_dir = resolve_data_dir(ctx.obj.get("data_dir"))
    cache_dir = resolve_cache_dir(ctx.obj.get("cache_dir"))
    try:
        provinces = province_shapes_2021(data_dir, cache_dir)
    except MissingDataFileError:
        provinces = None  # as the HTTP import: without the shapes, no province check
    districts = region_district_shapes(
        region.districts_file,
        name_property=region.districts_name_property,
        province_code=region.province_code,
        data_dir=data_dir,
        cache_dir=cache_dir,
    )
    store = registry_store(database_url)
    store.upsert_provinces(provinces_with_2025_units(data_dir), actor="cli")
    summaries = import_registry_files(
        store,
        files,
        province_shapes=provinces,
        district_shapes=districts,
        before_each=lambda kind, path: click.echo(f"reading {kind} from {path}", err=True),
    )
    for kind, summary in summaries.items():
        extra = ""
        if summary.get("warnings"):
            extra = f", {len(summary['warnings'])} warning(s)"
        click.echo(f"{kind}: {summary['imported']} of {summary['rows']} row(s) imported{extra}")
        for warning in summary.get("warnings", []):
            click.echo(f"  warning: {warning}", err=True)
    click.echo(f"{region.name}: {sum(s['imported'] for s in summaries.values())} rows imported")


@db.command("merge-facilities")
@click.argument("keep_id")
@click.argument("duplicate_id")
@click.option(
    "--reason", default=None, help="Why the two are one facility (kept in the audit row)."
)
@DATABASE_OPTION
@fail_cleanly
def db_merge_facilities(
    keep_id: str, duplicate_id: str, reason: str | None, database_url: str | None
) -> None:
    """Merge facility DUPLICATE_ID into KEEP_ID: its reports move, both histories stay.

    The duplicate's report revisions are copied under KEEP_ID with their provenance, its
    reporting period ends yesterday, and an audit row records the merge (docs/registry.md,
    "Duplicates"). Refused: the same id twice, an unknown id, two provinces, or a day both
    facilities reported.
    """
    store = registry_store(database_url)
    merge = store.merge_facilities(keep_id, duplicate_id, actor="cli", reason=reason)
    days = f"{merge.days[0]} to {merge.days[-1]}" if merge.days else "no report days"
    click.echo(
        f"merged {duplicate_id} into {keep_id}: {len(merge.revisions)} report revision(s) over "
        f"{len(merge.days)} day(s) ({days}), {merge.reviews} review(s) copied; {duplicate_id} "
        f"reports until {merge.reporting_until}"
    )


@click.group()
def users() -> None:
    """Registry users and their API tokens."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        ["facility_reporter", "province_coordinator", "ministry", "dispatcher", "planner", "admin"]
    ),
)
@click.option("--facility", "facility_id", default=None, help="Facility id (facility_reporter).")
@click.option(
    "--province", "province_code", default=None, help="2021 province code (province_coordinator)."
)
@click.option("--token/--no-token", default=True, help="Also issue an API token (printed once).")
@DATABASE_OPTION
def users_add(
    username: str,
    role: str,
    facility_id: str | None,
    province_code: str | None,
    token: bool,
    database_url: str | None,
) -> None:
    """Create a user (and print its first API token; only its hash is stored)."""
    from data.schema.registry import Role

    store = registry_store(database_url)
    store.add_user(
        username, Role(role), facility_id=facility_id, province_code=province_code, actor="cli"
    )
    click.echo(f"user {username} ({role}) created")
    if token:
        click.echo(store.issue_token(username, label="cli", actor="cli"))


@users.command("token")
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expire after N days.")
@DATABASE_OPTION
def users_token(username: str, days: int | None, database_url: str | None) -> None:
    """Issue a new API token for a user and print it (shown once)."""
    import datetime as dt

    store = registry_store(database_url)
    expires_at = None if days is None else dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    click.echo(store.issue_token(username, label="cli", expires_at=expires_at, actor="cli"))


@users.command("disable")
@click.argument("username")
@DATABASE_OPTION
def users_disable(username: str, database_url: str | None) -> None:
    """Disable a user: its tokens stop working at once."""
    registry_store(database_url).set_user_disabled(username, True, actor="cli")
    click.echo(f"user {username} disabled")


@users.command("list")
@DATABASE_OPTION
def users_list(database_url: str | None) -> None:
    """List users (never tokens)."""
    for user in registry_store(database_url).list_users():
        click.echo(
            f"{user['username']}\t{user['role']}\t{user['facility_id'] or ''}\t"
            f"{user['province_code'] or ''}\t{'disabled' if user['disabled'] else ''}"
        )
