"""Plan CSVs show a facility or supplier name that looks like a formula as text (issue 16, item 2)."""

from __future__ import annotations

import csv
import dataclasses
import io

from coordination.planning import build_plan, plan_to_csv, replace_request

EVIL = "=cmd|' /C calc'!A0"


def test_plan_csvs_guard_names(d5_network, d5_region, request_d5) -> None:  # type: ignore[no-untyped-def]
    facilities = [
        dataclasses.replace(f, name=EVIL) if i == 0 else f
        for i, f in enumerate(request_d5.facilities)
    ]
    suppliers = [dataclasses.replace(s, name="@" + s.name) for s in request_d5.suppliers]
    plan = build_plan(
        replace_request(request_d5, facilities=facilities, suppliers=suppliers),
        d5_network,
        d5_region,
    )
    files = plan_to_csv(plan)
    rows = list(csv.DictReader(io.StringIO(files["facilities.csv"])))
    assert "'" + EVIL in {r["name"] for r in rows}
    flows = list(csv.DictReader(io.StringIO(files["flows.csv"])))
    assert flows and all(r["supplier_name"].startswith("'@") for r in flows)
    for table in (rows, flows):
        for row in table:
            for cell in row.values():
                assert not cell.startswith(("=", "+", "@")), cell
