"""``oxyroute deliveries list`` and ``reconciliation`` on a registry with three deliveries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from commands.deliveries import deliveries
from data.schema.live import Product
from data.schema.registry import Supplier, SupplierKind
from data.store.deliveries import Receipt
from tests.web.deliveries_world import add_delivery


def _world(store: Any) -> tuple[int, int, int]:
    store.create_records(
        [Supplier("TDS", "Thép Thủ Đức – trạm nạp oxy", SupplierKind.FILLING_STATION, "79")],  # noqa: RUF001 - en dash in a Vietnamese name
        actor="fixture",
    )
    short = add_delivery(store, "79-A", quantity=50)
    full = add_delivery(store, "79-B", product=Product.LIQUID, quantity=1000, supplier_id=None)
    later = add_delivery(store, "01-C", eta=dt.datetime(2021, 8, 21, 4, 0, tzinfo=dt.UTC))
    at = dt.datetime(2021, 8, 20, 5, 0, tzinfo=dt.UTC)
    store.confirm_delivery(short, Receipt(None, 45, at, "Lê Thị Hoa"), actor="repA")
    store.confirm_delivery(full, Receipt(1000.0, None, at, "Phạm Văn Nam"), actor="repB")
    return short, full, later


def test_list_shows_names_etas_and_shortfalls(store: Any, db_url: str) -> None:
    short, full, later = _world(store)
    runner = CliRunner()
    result = runner.invoke(deliveries, ["list", "--date", "2021-08-20", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["id", "eta", "state"] and len(lines) == 3
    assert "Bệnh viện Chợ Rẫy" in result.output and "2021-08-20 11:00" in result.output
    # 5 cylinders short of 50: 30 m³
    (row,) = [line for line in lines if line.startswith(str(short))]
    assert row.split()[-1] == "30" and "45 cyl" in row
    shortfalls = runner.invoke(
        deliveries, ["list", "--shortfall", "--json", "--database-url", db_url]
    )
    (line,) = [json.loads(text) for text in shortfalls.output.splitlines()]
    assert line["delivery_id"] == short and line["shortfall"] == {"cylinders": 5.0, "m3": 30.0}
    everything = runner.invoke(deliveries, ["list", "--json", "--database-url", db_url])
    assert [json.loads(t)["delivery_id"] for t in everything.output.splitlines()] == [
        short,
        full,
        later,
    ]


def test_reconciliation_files_read_back(store: Any, db_url: str, tmp_path: Path) -> None:
    import openpyxl

    _world(store)
    runner = CliRunner()
    out = tmp_path / "doi-soat.csv"
    args = ["reconciliation", "--date", "2021-08-20", "--out", str(out), "--database-url", db_url]
    result = runner.invoke(deliveries, args)
    assert result.exit_code == 0, result.output
    header, *rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    table = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(table) == {"TDS", ""}  # "" : a supplier not in the registry
    tds = table["TDS"]
    assert tds["Nhà cung cấp (supplier_name)"] == "Thép Thủ Đức – trạm nạp oxy"  # noqa: RUF001
    assert tds["Bình nhận (received_cylinders)"] == "45"
    assert tds["Thiếu, m³ (shortfall_m3)"] == "30.0"
    assert tds["Cơ sở nhận thiếu (shortfall_facilities)"] == "Bệnh viện Chợ Rẫy"
    assert table[""]["Oxy lỏng nhận, kg (received_liquid_kg)"] == "1000.0"
    xlsx = tmp_path / "doi-soat.xlsx"
    args[4] = str(xlsx)
    assert runner.invoke(deliveries, args).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx)["Đối soát giao nhận"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][2] == "Thép Thủ Đức – trạm nạp oxy" and values[1][9] == 45  # noqa: RUF001
    bad = runner.invoke(deliveries, [*args[:4], str(tmp_path / "x.pdf"), *args[5:]])
    assert bad.exit_code == 2 and ".csv or .xlsx" in bad.output
