"""The ``requests`` commands: urgent requests (SOS) in the registry, by deadline."""

from __future__ import annotations

import json

import click

from commands.common import DATABASE_OPTION, fail_cleanly, registry_store, table
from data.reporting import LOCAL_TZ
from data.schema.live import Product, RequestState
from data.store.urgent_requests import UrgentRequest


@click.group("requests")
def requests_group() -> None:
    """Urgent requests (SOS): list them by deadline (filing and decisions are on the API)."""


def _quantity(item: UrgentRequest) -> str:
    unit = "kg" if item.product is Product.LIQUID else "bình/cyl"
    requested = item.requested_liquid_kg or item.requested_cylinders
    approved = item.approved_liquid_kg or item.approved_cylinders
    text = f"{requested:g} {unit}"
    if approved is not None and approved != requested:
        text += f" (duyệt/approved {approved:g})"
    return text


def request_rows(items: list[UrgentRequest]) -> list[list[str]]:
    """Return the table of requests: a header (Vietnamese / English), then one row each."""
    rows = [
        [
            "#",
            "trạng thái/state",
            "cần trước/needed by",
            "cơ sở/facility",
            "tên/name",
            "sản phẩm/product",
            "số lượng/quantity",
            "xe/vehicle",
            "ETA",
        ]
    ]
    for item in items:
        sourcing = item.sourcing or {}
        eta = sourcing.get("eta")
        rows.append(
            [
                str(item.request_id),
                item.state.value,
                item.needed_by.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                item.facility_id,
                item.facility_name,
                item.product.value,
                _quantity(item),
                str(sourcing.get("vehicle_id") or ""),
                "" if not eta else _local_text(str(eta)),
            ]
        )
    return rows


def _local_text(instant: str) -> str:
    import datetime as dt

    return dt.datetime.fromisoformat(instant).astimezone(LOCAL_TZ).strftime("%H:%M")


@requests_group.command("list")
@click.option(
    "--state",
    type=click.Choice([s.value for s in RequestState]),
    multiple=True,
    help="Only requests in this state (repeatable).",
)
@click.option("--province", "province_code", default=None, help="Two-digit province code.")
@click.option("--facility", "facility_id", default=None, help="One facility's id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@DATABASE_OPTION
@fail_cleanly
def requests_list(
    state: tuple[str, ...],
    province_code: str | None,
    facility_id: str | None,
    as_json: bool,
    database_url: str | None,
) -> None:
    """List urgent requests by deadline (times in Asia/Ho_Chi_Minh), with a count per state."""
    store = registry_store(database_url)
    items = store.list_requests(
        states=[RequestState(s) for s in state],
        province_code=province_code,
        facility_id=facility_id,
    )
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in items], ensure_ascii=False, indent=1))
        return
    if not items:
        click.echo("Không có yêu cầu khẩn / no urgent requests")
        return
    click.echo(table(request_rows(items)))
    counts = ", ".join(
        f"{s.value} {n}" for s in RequestState if (n := sum(1 for i in items if i.state is s))
    )
    click.echo(f"\n{len(items)} yêu cầu / requests: {counts}")
