"""The command line, run in-process with click's test runner on the District 5 region."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from cli import main


def _places_csv(path: Path, rows: list[tuple[str, str, float, float]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "lon", "lat"])
        writer.writerows(rows)
    return path


def test_matrix_long_and_wide(tmp_path: Path) -> None:
    origins = _places_csv(
        tmp_path / "a.csv",
        [
            ("NTP", "Bệnh viện Nguyễn Tri Phương", 106.66987, 10.75499),
            ("FAR", "Thủ Đức", 106.80, 10.90),
        ],
    )
    destinations = _places_csv(
        tmp_path / "b.csv", [("NT", "Bệnh viện Nguyễn Trãi", 106.67494, 10.75674)]
    )
    runner = CliRunner()
    out = tmp_path / "m.csv"
    result = runner.invoke(
        main,
        [
            "matrix",
            "--region",
            "hcmc_d5",
            "--from",
            str(origins),
            "--to",
            str(destinations),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "unreachable: FAR" in result.output
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["origin_id"] for r in rows] == ["NTP", "FAR"]
    assert 30 < float(rows[0]["duration_s"]) < 600
    assert rows[1]["duration_s"] == ""  # unreachable is an empty cell, not a crash
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    wide = tmp_path / "w.csv"
    result = runner.invoke(
        main,
        [
            "matrix",
            "--region",
            "hcmc_d5",
            "--from",
            str(origins),
            "--to",
            str(destinations),
            "--out",
            str(wide),
            "--layout",
            "wide",
            "--value",
            "distance_m",
        ],
    )
    assert result.exit_code == 0, result.output
    header, first, second = list(csv.reader(wide.read_text(encoding="utf-8-sig").splitlines()))
    assert header[1:] == ["NT"] and first[0] == "NTP" and float(first[1]) > 100 and second[1] == ""


def test_route_writes_geojson(tmp_path: Path) -> None:
    geojson = tmp_path / "r.geojson"
    result = CliRunner().invoke(
        main,
        [
            "route",
            "--region",
            "hcmc_d5",
            "--from",
            "106.66987,10.75499",
            "--to",
            "106.67494,10.75674",
            "--geojson",
            str(geojson),
        ],
    )
    assert result.exit_code == 0, result.output
    assert " min, " in result.output
    feature = json.loads(geojson.read_text(encoding="utf-8"))
    assert feature["geometry"]["type"] == "LineString"


def test_bad_inputs_exit_with_a_clear_message(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["route", "--region", "hcmc_d5", "--from", "106.6", "--to", "1,2"])
    assert result.exit_code == 2 and "--from: expected LON,LAT" in result.output
    result = runner.invoke(main, ["route", "--region", "nowhere", "--from", "1,2", "--to", "1,2"])
    assert result.exit_code == 2 and "no bundled region" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\nX,nan,10\n", encoding="utf-8")
    result = runner.invoke(
        main,
        [
            "matrix",
            "--region",
            "hcmc_d5",
            "--from",
            str(bad),
            "--to",
            str(bad),
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 2 and "row 2.lon: must be finite" in result.output
    result = runner.invoke(
        main, ["--data-dir", str(tmp_path / "nowhere"), "graph", "info", "--region", "hcmc_d5"]
    )
    assert result.exit_code == 2 and "--data-dir" in result.output
    # --out naming a folder ended in IsADirectoryError after the matrix was computed (exit 1)
    good = _places_csv(
        tmp_path / "good.csv", [("NT", "Bệnh viện Nguyễn Trãi", 106.67494, 10.75674)]
    )
    matrix_args = ["matrix", "--region", "hcmc_d5", "--from", str(good), "--to", str(good)]
    result = runner.invoke(main, [*matrix_args, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--out" in result.output and "is a folder" in result.output
    # a missing folder is created, as `plan --out` does (FileNotFoundError before)
    result = runner.invoke(main, [*matrix_args, "--out", str(tmp_path / "new" / "m.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "m.csv").is_file()


def test_run_prints_summary_matrix_and_plan(tmp_path: Path) -> None:
    # An empty registry is seeded with the city's data, then District 5's hospitals are planned.
    url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--region",
            "hcmc_d5",
            "--hospitals",
            "3",
            "--out",
            str(tmp_path / "out"),
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "seeding it" in result.output and "Plan for hcmc_d5, 2021-08-20 + 7 days" in result.output
    )
    plan = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert {f["district"] for f in plan["facilities"]} >= {"Quận 5"}
    assert plan["allocation"]["totals"]["demand_m3"] > 0
    assert "© OpenStreetMap contributors" in result.output
    assert "Bệnh Viện Hòa Hảo" in result.output  # Vietnamese names printed intact
    assert all(s["via_gateway"] in ("d5-east", "d5-north") for s in plan["suppliers"])
    # The same plan as a GeoPackage for QGIS: one layer per kind, WGS84, names intact.
    import geopandas as gpd
    import pyogrio

    gpkg = tmp_path / "out" / "plan.gpkg"
    geojson = json.loads((tmp_path / "out" / "plan.geojson").read_text(encoding="utf-8"))
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert layers == {"facilities", "suppliers", "flows"}
    for layer, kind in (("facilities", "facility"), ("suppliers", "supplier"), ("flows", "flow")):
        frame = gpd.read_file(gpkg, layer=layer)
        expected = [f for f in geojson["features"] if f["properties"]["kind"] == kind]
        assert len(frame) == len(expected) and frame.crs.to_epsg() == 4326
    facilities = gpd.read_file(gpkg, layer="facilities")
    assert set(facilities["name"]) == {f["name"] for f in plan["facilities"]}
    first = plan["facilities"][0]
    row = facilities[facilities["facility_id"] == first["facility_id"]].iloc[0]
    lon, lat = first["location"]
    assert (round(row.geometry.x, 6), round(row.geometry.y, 6)) == (round(lon, 6), round(lat, 6))


def test_scenario_run_compares_plans_and_routes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    runner = CliRunner()
    assert (
        runner.invoke(main, ["db", "seed", "--region", "hcmc", "--database-url", url]).exit_code
        == 0
    )
    scenario = tmp_path / "outage.toml"
    scenario.write_text(
        'name = "Thủ Đức dừng nạp"\nregion = "hcmc_d5"\ndate = 2021-08-20\nhorizon_days = 2\n'
        '[[changes]]\ntype = "supplier_capacity"\nsupplier_id = "TDS"\ncapacity_factor = 0.0\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        main,
        [
            "scenario",
            "run",
            str(scenario),
            "--routes-day",
            "0",
            "--out",
            str(tmp_path / "out"),
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    comparison = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert {"totals", "facilities", "flows_removed", "routes"} <= set(comparison)
    assert all(r["supplier_id"] != "TDS" for r in comparison["flows_added"])
    assert comparison["routes"]["totals"]["routes"]["base"] >= 1
    assert (tmp_path / "out" / "scenario" / "plan.geojson").is_file()


def test_plan_on_an_empty_registry_says_how_to_fill_it(tmp_path: Path) -> None:
    # The hint named `db seed --region hcmc_d5`, which `db seed` refuses (only hcmc has a seed).
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    args = ["plan", "--region", "hcmc_d5", "--date", "2021-08-20", "--out", str(tmp_path / "p")]
    result = CliRunner().invoke(main, [*args, "--database-url", url])
    assert result.exit_code == 2, result.output
    assert "no facility on the map" in result.output
    assert "db seed --region hcmc`" in result.output and "--region hcmc_d5" not in result.output
