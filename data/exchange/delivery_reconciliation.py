"""A day's deliveries reconciled per supplier, as a CSV or XLSX table a person reads (issue 14).

Dispatched (in transit or confirmed, at planned quantities) against received (confirmed, at
received quantities), with shortfalls and the facilities short, one row per supplier; the rows
come from :meth:`data.store.Store.reconcile_deliveries`. Headers are Vietnamese with English
beside; text cells are guarded against formula injection (:mod:`data.exchange.compliance_table`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from data.exchange.compliance_table import CSV_MIMETYPE, XLSX_MIMETYPE, table_to_csv, table_to_xlsx
from data.store.deliveries import SupplierReconciliation

RECONCILIATION_HEADERS = (
    "Ngày (date)",
    "Mã nhà cung cấp (supplier_id)",
    "Nhà cung cấp (supplier_name)",
    "Chuyến theo kế hoạch (deliveries_planned)",
    "Chuyến đã xuất (deliveries_dispatched)",
    "Chuyến đã nhận (deliveries_received)",
    "Oxy lỏng xuất, kg (dispatched_liquid_kg)",
    "Oxy lỏng nhận, kg (received_liquid_kg)",
    "Bình xuất (dispatched_cylinders)",
    "Bình nhận (received_cylinders)",
    "Khí xuất, m³ (dispatched_m3)",
    "Khí nhận, m³ (received_m3)",
    "Chênh lệch, m³ (difference_m3)",
    "Số lần thiếu (shortfalls)",
    "Thiếu, m³ (shortfall_m3)",
    "Cơ sở nhận thiếu (shortfall_facilities)",
)
"""Column titles, Vietnamese with the field name beside."""

SHEET_TITLE = "Đối soát giao nhận"
UNREGISTERED_SUPPLIER = "(chưa có trong danh mục / not in the registry)"
NOTES = (
    "Xuất: chuyến đang đi hoặc đã nhận; nhận: chuyến đã xác nhận. "
    "(Dispatched: in transit or confirmed; received: confirmed.)",
    "Ngày theo giờ dự kiến đến (Asia/Ho_Chi_Minh). (Day of the ETA, local time.)",
)


def reconciliation_rows(day: dt.date, rows: Sequence[SupplierReconciliation]) -> list[list[Any]]:
    """Return the table's rows (one per supplier) in the order of :data:`RECONCILIATION_HEADERS`."""
    return [
        [
            day.isoformat(),
            row.supplier_id or "",
            row.supplier_name or UNREGISTERED_SUPPLIER,
            row.deliveries_planned,
            row.deliveries_dispatched,
            row.deliveries_received,
            row.dispatched_liquid_kg,
            row.received_liquid_kg,
            row.dispatched_cylinders,
            row.received_cylinders,
            row.dispatched_m3,
            row.received_m3,
            round(row.received_m3 - row.dispatched_m3, 3),
            row.shortfalls,
            row.shortfall_m3,
            "; ".join(row.shortfall_facilities),
        ]
        for row in rows
    ]


def reconciliation_file(
    day: dt.date, rows: Sequence[SupplierReconciliation], file_format: str
) -> tuple[bytes, str]:
    """Return the reconciliation as ``csv`` (UTF-8 with BOM) or ``xlsx``, and its media type.

    Raises
    ------
    ValueError
        If ``file_format`` is neither ``csv`` nor ``xlsx``.
    """
    table = reconciliation_rows(day, rows)
    if file_format == "csv":
        return table_to_csv(RECONCILIATION_HEADERS, table), CSV_MIMETYPE
    if file_format == "xlsx":
        content = table_to_xlsx(RECONCILIATION_HEADERS, table, sheet_title=SHEET_TITLE, notes=NOTES)
        return content, XLSX_MIMETYPE
    raise ValueError(f"file_format: csv or xlsx, got {file_format!r}")
