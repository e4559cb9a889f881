"""Alert commands: run one scan and send due webhooks (fit for cron), list recent alerts."""

from __future__ import annotations

import datetime as dt
import json

import click

from commands.common import DATABASE_OPTION, fail_cleanly, registry_store


@click.group()
def alerts() -> None:
    """Alerts: stock below a threshold, missed 16:00 reports, late deliveries."""


def _at(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 instant: {text!r}", param_hint="--at") from None
    if instant.tzinfo is None:
        raise click.BadParameter("give the offset (+07:00 or Z)", param_hint="--at")
    return instant


@alerts.command("scan")
@click.option("--province", "province_code", default=None, help="One province's code (01-96).")
@click.option("--at", "at_text", default=None, help="Scan as of this ISO instant (default now).")
@click.option(
    "--webhooks/--no-webhooks",
    default=True,
    help="Also send due webhook attempts (new alerts and retries).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Take a province's status thresholds from this region's [status] (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@DATABASE_OPTION
@fail_cleanly
def alerts_scan(
    province_code: str | None,
    at_text: str | None,
    webhooks: bool,
    regions: tuple[str, ...],
    as_json: bool,
    database_url: str | None,
) -> None:
    """Raise the alerts due now and send due webhooks; run it every few minutes from cron.

    A scan raises each alert once (running it twice, or twice at once, is harmless).
    """
    from coordination.alert_scan import run_alert_scan, thresholds_of_regions
    from coordination.webhooks import deliver_due_webhooks
    from data.store import Store

    at = _at(at_text)
    store = Store(registry_store(database_url).engine, clock=lambda: at)
    result = run_alert_scan(
        store,
        at,
        province_code=province_code,
        thresholds_by_province=thresholds_of_regions(regions),
        actor="cli",
    )
    attempts = deliver_due_webhooks(store, at, province_code=province_code) if webhooks else []
    if as_json:
        payload = {
            **result.to_dict(),
            "webhook_attempts": len(attempts),
            "webhooks_delivered": sum(a.delivered for a in attempts),
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    click.echo(
        f"scan {at.astimezone(dt.UTC).isoformat()} ({province_code or 'all provinces'}): "
        f"{len(result.raised)} new alerts, {result.facilities} facilities, report day "
        f"{result.report_day}, {result.statuses} statuses, "
        f"{result.late_deliveries} late deliveries; webhooks: {len(attempts)} attempts, "
        f"{sum(a.delivered for a in attempts)} delivered"
    )
    for alert in result.raised:
        click.echo(f"  #{alert.alert_id} {alert.level.value} {alert.message_vi}")
