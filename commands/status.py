"""The ``status`` command: facilities' hours to empty from the registry, most urgent first."""

from __future__ import annotations

import json

import click

from commands.common import DATABASE_OPTION, fail_cleanly, registry_store, table
from data.schema.live import FacilityStatus, Level, StatusThresholds


def _hours_text(status: FacilityStatus) -> str:
    hours = status.hours_to_empty
    if hours is None:
        return "?"
    if hours == float("inf"):
        return "no use"
    return f"{hours:.1f}"


def _number_text(value: float | None, digits: int = 0) -> str:
    return "?" if value is None else f"{value:,.{digits}f}"


def status_rows(statuses: list[FacilityStatus]) -> list[list[str]]:
    """Return the table of statuses: a header, then one row per facility."""
    rows = [
        [
            "#",
            "level",
            "hours",
            "facility",
            "name",
            "stock m³",
            "burn m³/h",
            "basis",
            "report age h",
            "on its way m³",
            "next arrival",
        ]
    ]
    for number, status in enumerate(statuses, start=1):
        rows.append(
            [
                str(number),
                status.level.value,
                _hours_text(status),
                status.facility_id,
                status.name,
                _number_text(status.stock_m3),
                _number_text(status.burn_m3_per_h, 1),
                status.burn_basis,
                _number_text(status.report_age_h),
                _number_text(status.in_transit_m3) if status.in_transit_m3 else "",
                ""
                if status.next_arrival is None
                else status.next_arrival.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return rows


@click.command("status")
@click.option(
    "--region",
    "region_name",
    required=True,
    help="Region name or TOML path: its province and its [status] thresholds.",
)
@click.option(
    "--at",
    "at_text",
    default=None,
    help="Instant, ISO 8601 (default: now); without an offset, Asia/Ho_Chi_Minh time.",
)
@click.option(
    "--province",
    "province_code",
    default=None,
    help="Two-digit province code (default: the region's province; none: every facility).",
)
@click.option(
    "--level",
    type=click.Choice([level.value for level in Level]),
    default=None,
    help="Only facilities at this level.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as GET /api/v1/status does).")
@DATABASE_OPTION
@fail_cleanly
def status(
    region_name: str,
    at_text: str | None,
    province_code: str | None,
    level: str | None,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Show facilities' oxygen now, most urgent first: hours to empty, level, basis, data age.

    Stock now = the last good report + deliveries confirmed since - use since; unknown (never
    zero) beyond 72 h without a good report. See docs/live-operations-status.md.
    """
    from coordination.status import current_statuses, parse_at, status_to_dict
    from data.errors import MalformedInputError
    from data.region import region_status_settings
    from data.reporting import LOCAL_TZ

    settings = region_status_settings(region_name)
    if province_code is not None and not (len(province_code) == 2 and province_code.isdigit()):
        problem = f"--province: must be a two-digit code such as 79, got {province_code!r}"
        raise MalformedInputError(problem, [problem])
    store = registry_store(database_url)
    now = store.clock()
    at = now if at_text is None else parse_at(at_text, now, name="--at")
    province = province_code or settings.province_code
    # The region's thresholds hold in its province; elsewhere (--province) the defaults.
    if settings.province_code is None:
        defaults, by_province = settings.thresholds, {}
    else:
        defaults, by_province = StatusThresholds(), {settings.province_code: settings.thresholds}
    statuses = current_statuses(
        store,
        at,
        defaults,
        province_code=province,
        level=None if level is None else Level(level),
        thresholds_by_province=by_province,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "at": at.astimezone(LOCAL_TZ).isoformat(),
                    "region": settings.region_id,
                    "statuses": [status_to_dict(s) for s in statuses],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    where = f"province {province}" if province else "every province"
    click.echo(
        f"{settings.region_id}, {where}, at {at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} "
        f"(critical < {settings.thresholds.critical_hours:g} h, "
        f"warning < {settings.thresholds.warning_hours:g} h)"
    )
    if not statuses:
        click.echo("no facility")
        return
    click.echo(table(status_rows(statuses)))
