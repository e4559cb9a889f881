"""Region files: loading, validation and file lookup."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from data.errors import InvalidInputError, MissingDataFileError
from data.places import read_places
from data.region import load_region


def test_bundled_regions_load(data_dir: Path) -> None:
    hcmc = load_region("hcmc")
    assert hcmc.timezone == "Asia/Ho_Chi_Minh"
    assert hcmc.road_file == data_dir / "derived" / "hcmc_2018_drive.osm.gz"
    assert {g.gateway_id for g in hcmc.gateways} == {"ql51-bien-hoa"}
    facilities = hcmc.facilities.read()
    assert len(facilities) == 95
    names = {f.name for f in facilities}
    assert "Bệnh Viện Chợ Rẫy" in names and "Bệnh viện Nguyễn Tri Phương" in names
    suppliers = hcmc.suppliers.read()
    assert {s.properties["kind"] for s in suppliers} == {"liquid_producer", "filling_station"}
    d5 = load_region("hcmc_d5")
    assert d5.network_type == "drive_service" and len(d5.gateways) == 2
    assert all(len(g.links) == len(suppliers) for g in d5.gateways)


def _write_region(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test_region.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_region_needs_no_code(tmp_path: Path, data_dir: Path) -> None:
    # Facilities as GeoJSON with the id in a property, suppliers as CSV beside the region file.
    (tmp_path / "suppliers.csv").write_text(
        "id,name,lon,lat\nS1,Trạm nạp Quận 5,106.675,10.757\n", encoding="utf-8"
    )
    path = _write_region(
        tmp_path,
        """
name = "Thử nghiệm"
[roads]
file = "derived/hcmc_d5_drive_service.osm.gz"
network_type = "drive_service"
[facilities]
file = "derived/hcmc_d5_hospitals_curated.geojson"
id_column = "osm_id"
[suppliers]
file = "suppliers.csv"
""",
    )
    region = load_region(str(path))
    assert region.timezone == "Asia/Ho_Chi_Minh"  # the default
    assert region.suppliers.read()[0].name == "Trạm nạp Quận 5"
    assert len(region.facilities.read()) == 6


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'name = "x"\n[roads]\nfile = "derived/hcmc_d5_drive_service.osm.gz"\nspeed = 3\n',
            "roads.speed: unknown key",
        ),  # a typo is caught, not ignored
        ('[roads]\nfile = "derived/hcmc_d5_drive_service.osm.gz"\n', "region.name: missing"),
        ('name = "x"\n', "roads.file: missing"),
        ('name = "x"\ntimezone = "Mars/Olympus"\n[roads]\nfile = "a.osm"\n', "unknown time zone"),
        ('name = "x"\n[roads]\nfile = "a.osm"\nnetwork_type = "bike"\n', "network_type"),
        ('name = "x"\n[roads]\nfile = "a.osm"\n[speeds_kph]\nprimary = -5\n', "speeds_kph.primary"),
        (
            'name = "x"\n[roads]\nfile = "a.osm"\n[[gateways]]\nid = "g"\nlon = 106.7\nlat = 10.8\n',
            "gateways\\[0\\].links",
        ),
        (
            'name = "x"\n[roads]\nfile = "a.osm"\n[[gateways]]\nid = "g"\nlon = 106.7\nlat = 95\n'
            "links = { P = { extra_min = 5 } }\n",
            "outside",
        ),
        (
            'name = "x"\n[roads]\nfile = "a.osm"\n[[gateways]]\nid = "g"\nlon = 106.7\nlat = 10.8\n'
            "links = { P = { extra_min = -5 } }\n",
            "extra_min: must be a non-negative",
        ),
        ('name = "x"\n[roads\n', "malformed TOML"),
        # a time-zone folder, not a zone: ZoneInfo raised IsADirectoryError (traceback)
        ('name = "x"\ntimezone = "Asia"\n[roads]\nfile = "a.osm"\n', "unknown time zone 'Asia'"),
        # wrong types were accepted silently (description was never checked, names were str()-ed)
        ('name = "x"\ndescription = 3\n[roads]\nfile = "a.osm"\n', "region.description"),
        (
            'name = "x"\n[roads]\nfile = "a.osm"\n[[gateways]]\nid = "g"\nname = 5\nlon = 106.7\n'
            "lat = 10.8\nlinks = { P = { extra_min = 5 } }\n",
            "gateways\\[0\\].name: must be a non-empty string",
        ),
        # two gateways with one id made SnapResult.gateway_id ambiguous
        (
            'name = "x"\n[roads]\nfile = "a.osm"\n'
            + '[[gateways]]\nid = "g"\nlon = 106.7\nlat = 10.8\nlinks = { P = { extra_min = 5 } }\n'
            * 2,
            "gateways\\[1\\].id: 'g' already used by gateways\\[0\\]",
        ),
    ],
)
def test_malformed_region_files_are_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        load_region(str(_write_region(tmp_path, body)))


def test_region_file_encoding(tmp_path: Path) -> None:
    # A byte-order mark (Windows editors) is accepted; other encodings are an input error, not a
    # UnicodeDecodeError traceback.
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + 'name = "Quận 5"\n[roads]\nfile = "a.osm"\n'.encode())
    with pytest.raises(MissingDataFileError, match=r"roads\.file"):  # parsed up to the file lookup
        load_region(str(path))
    path.write_bytes('name = "Quận 5"\n[roads]\nfile = "a.osm"\n'.encode("utf-16"))
    with pytest.raises(InvalidInputError, match=r"bom\.toml: not UTF-8 text"):
        load_region(str(path))


def test_missing_files_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(MissingDataFileError, match="no bundled region"):
        load_region("atlantis")
    with pytest.raises(MissingDataFileError, match="not found"):
        load_region(str(tmp_path / "absent.toml"))
    path = _write_region(tmp_path, 'name = "x"\n[roads]\nfile = "derived/absent.osm.gz"\n')
    with pytest.raises(MissingDataFileError, match="OXYROUTE_DATA_DIR"):
        load_region(str(path))
    with pytest.raises(MissingDataFileError, match="--data-dir"):
        load_region("hcmc", data_dir=tmp_path / "nowhere")


def test_data_dir_setting_is_used(
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "derived").mkdir()
    (tmp_path / "derived" / "hcmc_d5_drive_service.osm.gz").write_bytes(
        (data_dir / "derived" / "hcmc_d5_drive_service.osm.gz").read_bytes()
    )
    (tmp_path / "derived" / "hcmc_d5_hospitals_curated.csv").write_bytes(
        (data_dir / "derived" / "hcmc_d5_hospitals_curated.csv").read_bytes()
    )
    monkeypatch.setenv("OXYROUTE_DATA_DIR", str(tmp_path))
    assert load_region("hcmc_d5").road_file == tmp_path / "derived" / "hcmc_d5_drive_service.osm.gz"


def test_bad_place_rows_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text(
        "id,name,lon,lat\nA,ok,106.7,10.8\n,no id,106.7,10.8\nA,dup,106.7,10.8\n"
        "C,bad lat,106.7,abc\nD,nan,nan,10.8\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        read_places(path)
    problems = caught.value.problems
    assert problems == [
        "row 3.id: empty id",
        "row 4.id: id 'A' already used in row 2",
        "row 5.lat: must be a number, got 'abc'",
        "row 6.lon: must be finite, got nan",
    ]


def test_malformed_geojson_features_are_reported_not_crashed(tmp_path: Path) -> None:
    import json

    features = [
        {
            "type": "Feature",
            "id": "A",
            "properties": {"name": "ok"},
            "geometry": {"type": "Point", "coordinates": [106.7, 10.8]},
        },
        {
            "type": "Feature",
            "id": "B",
            "properties": [1, 2],  # properties not an object
            "geometry": {"type": "Point", "coordinates": 5},
        },  # coordinates not a list
        "not a feature",
        {"type": "Feature", "id": "D", "geometry": {"type": "LineString", "coordinates": []}},
    ]
    path = tmp_path / "places.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    with pytest.raises(InvalidInputError) as caught:
        read_places(path)
    problems = caught.value.problems
    assert any(p.startswith("row 2.lon: must be a number, got 'coordinates 5'") for p in problems)
    assert "row 3.id: empty id" in problems
    assert any(p.startswith("row 4.lon: must be a number") for p in problems)
    assert not any(p.startswith("row 1.") for p in problems)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text("code,lon,lat\nA,106.7,10.8\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"missing column\(s\) \['id'\]"):
        read_places(path)


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        # Excel's default "CSV" in a Vietnamese locale: Windows-1258, a UnicodeDecodeError before
        ("places.csv", "id,name,lon,lat\nA,Đà,106.7,10.8\n".encode("cp1258"), "not UTF-8"),
        ("places.geojson", '{"features": [], "name": "Bệnh"}'.encode("utf-16"), "not UTF-8"),
        # nesting deeper than the JSON parser's recursion limit: a RecursionError before
        ("places.geojson", b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        # a semicolon-separated CSV (European Excel) names the separator
        ("places.csv", b"id;name;lon;lat\nA;x;106.7;10.8\n", "separated by ';': use commas"),
        # a header naming a column twice: the last one silently won before
        (
            "places.csv",
            b"id,name,lon,lat,lon\nA,x,106.7,10.8,0\n",
            r"column\(s\) \['lon'\] appear more than once",
        ),
    ],
)
def test_unreadable_place_files_are_input_errors(
    tmp_path: Path, file_name: str, content: bytes, message: str
) -> None:
    path = tmp_path / file_name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        read_places(path)


def test_geojson_id_zero_is_an_id(tmp_path: Path) -> None:
    # A numeric id 0 was reported as "empty id".
    point = {"type": "Point", "coordinates": [106.7, 10.8]}
    feature = {"type": "Feature", "id": 0, "geometry": point}
    path = tmp_path / "places.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    assert [p.place_id for p in read_places(path)] == ["0"]


def test_vietnamese_names_survive_csv_with_bom_and_geojson(tmp_path: Path) -> None:
    name = "Bệnh viện Đa khoa Khu vực Thủ Đức"
    csv_path = tmp_path / "p.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(
            [["id", "name", "lon", "lat"], ["079", name, "106.76", "10.85"]]
        )
    (place,) = read_places(csv_path)
    assert place.name == name and place.place_id == "079"  # leading zero kept: ids are text
    geojson_path = tmp_path / "p.geojson"
    geojson_path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "079",
                        "properties": {"name": name},
                        "geometry": {"type": "Point", "coordinates": [106.76, 10.85]},
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    (place,) = read_places(geojson_path)
    assert place.name == name and place.place_id == "079"
