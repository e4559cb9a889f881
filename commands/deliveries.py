"""The ``deliveries`` commands: a day's deliveries and their reconciliation per supplier."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from commands.common import DATABASE_OPTION, fail_cleanly, registry_store, table
from data.reporting import LOCAL_TZ
from data.schema.live import DeliveryState
from data.store.deliveries import Delivery


@click.group()
def deliveries() -> None:
    """Planned deliveries of published plans: list them, reconcile a day per supplier."""


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not a YYYY-MM-DD date: {text!r}", param_hint="--date") from None


def _local(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _planned_text(delivery: Delivery) -> str:
    if delivery.planned_cylinders is not None:
        return f"{delivery.planned_cylinders} cyl"
    return f"{delivery.planned_liquid_kg or 0:,.0f} kg"


def _received_text(delivery: Delivery) -> str:
    if delivery.received_cylinders is not None:
        return f"{delivery.received_cylinders} cyl"
    if delivery.received_liquid_kg is not None:
        return f"{delivery.received_liquid_kg:,.0f} kg"
    return ""


def delivery_rows(found: list[Delivery]) -> list[list[str]]:
    """Return the table of deliveries: a header, then one row per delivery (ETA, local time)."""
    rows = [["id", "eta", "state", "facility", "name", "supplier", "vehicle", "planned", "m³"]]
    rows[0] += ["received", "short m³"]
    for d in found:
        short = d.shortfall
        rows.append(
            [
                str(d.delivery_id),
                _local(d.eta),
                d.state.value,
                d.facility_id,
                d.facility_name,
                d.supplier_name or d.supplier_id or "",
                d.vehicle_id or "",
                _planned_text(d),
                f"{d.planned_m3:,.0f}",
                _received_text(d),
                "" if short is None else f"{short['m3']:,.0f}",
            ]
        )
    return rows


@deliveries.command("list")
@click.option("--facility", "facility_id", default=None, help="One facility's id.")
@click.option("--province", "province_code", default=None, help="One province's code (01-96).")
@click.option("--date", "date_text", default=None, help="ETA's day, YYYY-MM-DD (local).")
@click.option(
    "--state",
    type=click.Choice([s.value for s in DeliveryState]),
    default=None,
    help="Only deliveries in this state.",
)
@click.option("--plan", "plan_id", default=None, help="One plan's deliveries.")
@click.option("--shortfall", is_flag=True, help="Only confirmed deliveries short of the plan.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@DATABASE_OPTION
@fail_cleanly
def deliveries_list(
    facility_id: str | None,
    province_code: str | None,
    date_text: str | None,
    state: str | None,
    plan_id: str | None,
    shortfall: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """List deliveries by ETA (local time), with what was received and any shortfall."""
    found = registry_store(database_url).list_deliveries(
        facility_id=facility_id,
        province_code=province_code,
        plan_id=plan_id,
        states=None if state is None else [DeliveryState(state)],
        on_date=_day(date_text),
        shortfall_only=shortfall,
    )
    if as_json:
        for d in found:
            line = {
                "delivery_id": d.delivery_id,
                "eta": None if d.eta is None else d.eta.astimezone(LOCAL_TZ).isoformat(),
                "state": d.state.value,
                "facility_id": d.facility_id,
                "facility_name": d.facility_name,
                "supplier_id": d.supplier_id,
                "planned_m3": d.planned_m3,
                "received_m3": d.received_m3,
                "shortfall": d.shortfall,
            }
            click.echo(json.dumps(line, ensure_ascii=False))
        return
    if not found:
        click.echo("no deliveries")
        return
    click.echo(table(delivery_rows(found)))


@deliveries.command("reconciliation")
@click.option("--date", "date_text", required=True, help="ETA's day, YYYY-MM-DD (local).")
@click.option("--province", "province_code", default=None, help="One province's code (01-96).")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write: .csv (UTF-8 with BOM) or .xlsx.",
)
@DATABASE_OPTION
@fail_cleanly
def deliveries_reconciliation(
    date_text: str, province_code: str | None, out_path: Path, database_url: str | None
) -> None:
    """Write a day's reconciliation per supplier: dispatched against received, shortfalls."""
    from data.exchange.delivery_reconciliation import reconciliation_file

    file_format = out_path.suffix.lower().lstrip(".")
    if file_format not in ("csv", "xlsx"):
        raise click.BadParameter("the file must end in .csv or .xlsx", param_hint="--out")
    day = _day(date_text)
    assert day is not None
    rows = registry_store(database_url).reconcile_deliveries(day, province_code=province_code)
    content, _ = reconciliation_file(day, rows, file_format)
    out_path.write_bytes(content)
    click.echo(f"{len(rows)} supplier(s) -> {out_path}")
