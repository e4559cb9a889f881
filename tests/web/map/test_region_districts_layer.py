"""Each region's map shows its own district outlines, or no layer at all (issue 16, item 11).

Before, every region got Hồ Chí Minh City's districts near its map, and a region elsewhere an
empty layer answered 200. Now: the region's ``[districts] file``; else the city's outlines for a
province-79 region; else no layer (the layer's 404).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from data.region import load_region
from tests.second_region_world import DISTRICTS, write_second_region
from web.map_layers import MapResources


def _names(layer: Any) -> set[str]:
    return {f["properties"]["name"] for f in json.loads(layer.get().body)["features"]}


def test_a_region_with_its_own_outlines_shows_them(
    tmp_path: Path, data_dir: Path, d5_network: Any
) -> None:
    paths = write_second_region(tmp_path, data_dir)
    region = load_region(str(paths["region"]), data_dir=data_dir)
    assert region.districts_file is not None
    resources = MapResources({"vung_thu": (region, d5_network)}, data_dir=data_dir)
    assert _names(resources.regions["vung_thu"].layers["districts"]) == set(DISTRICTS)


def test_a_region_elsewhere_without_outlines_has_no_district_layer(
    tmp_path: Path, data_dir: Path, d5_region: Any, d5_network: Any
) -> None:
    elsewhere = dataclasses.replace(d5_region, province_code="92", districts_file=None)
    resources = MapResources({"can_tho": (elsewhere, d5_network)}, data_dir=data_dir)
    assert "districts" not in resources.regions["can_tho"].layers
    hcmc = MapResources({"hcmc_d5": (d5_region, d5_network)}, data_dir=data_dir)
    assert "Quận 5" in _names(hcmc.regions["hcmc_d5"].layers["districts"])
