"""A second region for tests: "another city" written only from the README's region format.

Its map is District 5's OpenStreetMap extract (the shared ``derived/hcmc_d5_drive_service.osm.gz``,
732 junctions), but its region file, id (``vung_thu``), name, places, registry files and district
outlines are its own, written into a folder by :func:`write_second_region`:

* ``vung_thu.toml``: the region, given by path (no bundled name), with a gateway to a plant off
  the map (the link's 42.8 min and 23.4 km are hcmc_d5's measured Messer VSIP 1 link), and a
  ``[districts]`` file whose name property is ``ten`` (not ``name``);
* ``noi_cung_cap.csv``: the region's suppliers file (README format);
* ``quan_huyen.geojson``: District 5 and its three neighbours, cut from Hồ Chí Minh City's OSM
  outlines of 2018 (``raw/hcmc_2018-01-01_hcm_province.osm.pbf``);
* ``co_so.csv``, ``nha_cung_cap.csv``, ``don_vi_van_tai.csv``, ``xe.csv``, ``bao_cao.csv``: the
  registry's facilities, suppliers, operators, vehicles and reports, for ``db import``;
* ``them_co_so.toml``: a scenario adding a field clinic, its region given beside it.

The facilities: two District 5 hospitals at their OSM positions; ``VT-BEN-THANH``, 800 m east of
the map's edge in District 1 (inside the plan's 0.02° margin, so planned, and snapped far: the
answer must say so); ``VT-THU-DUC``, 12 km away in Thủ Đức (off the map: left out, with the
reason). Positions are real points of Hồ Chí Minh City, so the province check of the import
(province 79 against the point) passes honestly.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from data.districts import DISTRICTS_OSM, districts_from_osm

REGION_ID = "vung_thu"
REGION_NAME = "Vùng thử (bản đồ Quận 5)"
PLAN_DAY = "2021-08-20"
REPORT_DAY = "2021-08-19"

FACILITIES_CSV = """facility_id,name,province_code,lon,lat,tier,beds_oxygen,liquid_tank_capacity_l,reporting_from
VT-HOA-HAO,Bệnh viện Hòa Hảo (vùng thử),79,106.6702604,10.7626193,2,40,3000,2021-08-01
VT-NGUYEN-TRAI,Bệnh viện Nguyễn Trãi (vùng thử),79,106.6749362,10.7567392,3,80,6000,2021-08-01
VT-BEN-THANH,Phòng khám Bến Thành (vùng thử),79,106.6945,10.7600,2,10,,2021-08-01
VT-THU-DUC,Bệnh viện Thủ Đức (vùng thử),79,106.7700,10.8500,2,30,,2021-08-01
"""
SUPPLIERS_CSV = """supplier_id,name,kind,province_code,lon,lat,liquid_output_t_per_day,cylinders_per_day
VT-TRAM-Q5,Trạm nạp Quận 5 (vùng thử),filling_station,79,106.6750,10.7560,,400
VT-MESSER,Messer VSIP 1 (vùng thử),liquid_producer,74,106.7080,10.9200,20,
"""
OPERATORS_CSV = """operator_id,name,province_code
VT-VAN-TAI,Vận tải Oxy Vùng thử,79
"""
VEHICLES_CSV = """vehicle_id,operator_id,kind,tank_capacity_lox_kg,cylinder_capacity,home_depot_id,plate
VT-XE-1,VT-VAN-TAI,cylinder_truck,,120,VT-TRAM-Q5,51C-000.01
VT-BON-1,VT-VAN-TAI,cryogenic_tanker,8000,,VT-MESSER,51C-000.02
"""
REPORTS_CSV = f"""facility_id,report_date,oxygen_used_24h_m3,patients_cannula_mask,patients_high_flow,patients_invasive,liquid_stock_l
VT-HOA-HAO,{REPORT_DAY},650,30,6,2,400
VT-NGUYEN-TRAI,{REPORT_DAY},1400,60,12,5,900
VT-BEN-THANH,{REPORT_DAY},120,8,1,0,
"""
REGION_SUPPLIERS_CSV = """id,name,kind,lon,lat,capacity_lox_t_per_day,capacity_cylinders_per_day
VT-TRAM-Q5,Trạm nạp Quận 5 (vùng thử),filling_station,106.6750,10.7560,,400
VT-MESSER,Messer VSIP 1 (vùng thử),liquid_producer,106.7080,10.9200,20,
"""
REGION_TOML = f"""# A second region written from the README's "Region format" only (tests/second_region_world.py).
name = "{REGION_NAME}"
timezone = "Asia/Ho_Chi_Minh"
province_code = "79"

[roads]
file = "derived/hcmc_d5_drive_service.osm.gz"
network_type = "drive_service"

[suppliers]
file = "noi_cung_cap.csv"

[districts]
file = "quan_huyen.geojson"
name_property = "ten"

[[gateways]]
id = "cua-ngo-dong"
name = "Nguyễn Trãi, về Quận 1"
lon = 106.6864983
lat = 10.7624784
links = {{ "VT-MESSER" = {{ extra_min = 42.8, extra_km = 23.4 }} }}
"""
SCENARIO_TOML = f"""name = "Thêm một phòng khám dã chiến"
region = "vung_thu.toml"
date = {PLAN_DAY}
horizon_days = 2

[[changes]]
type = "new_facility"
facility_id = "VT-DA-CHIEN"
name = "Phòng khám dã chiến (vùng thử)"
lon = 106.6760
lat = 10.7590
beds = 20
"""
DISTRICTS = ("Quận 1", "Quận 5", "Quận 10", "Quận 11")


def district_outlines(data_dir: Path) -> dict[str, object]:
    """Return District 5 and its neighbours as GeoJSON with the name in property ``ten``."""
    outlines = districts_from_osm(data_dir / DISTRICTS_OSM)
    features = [
        {
            "type": "Feature",
            "geometry": f["geometry"],
            "properties": {"ten": f["properties"]["name"], "nguon": "OSM 2018"},
        }
        for f in outlines["features"]
        if f["properties"]["name"] in DISTRICTS
        and shapely.geometry.shape(f["geometry"]).geom_type == "Polygon"
    ]
    return {"type": "FeatureCollection", "features": features}


def write_second_region(folder: Path, data_dir: Path) -> dict[str, Path]:
    """Write the second region's files into ``folder``; return them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "region": ("vung_thu.toml", REGION_TOML),
        "region_suppliers": ("noi_cung_cap.csv", REGION_SUPPLIERS_CSV),
        "facilities": ("co_so.csv", FACILITIES_CSV),
        "suppliers": ("nha_cung_cap.csv", SUPPLIERS_CSV),
        "operators": ("don_vi_van_tai.csv", OPERATORS_CSV),
        "vehicles": ("xe.csv", VEHICLES_CSV),
        "reports": ("bao_cao.csv", REPORTS_CSV),
        "scenario": ("them_co_so.toml", SCENARIO_TOML),
        "districts": (
            "quan_huyen.geojson",
            json.dumps(district_outlines(data_dir), ensure_ascii=False),
        ),
    }
    paths = {}
    for key, (name, text) in texts.items():
        paths[key] = folder / name
        paths[key].write_text(text, encoding="utf-8")
    return paths
