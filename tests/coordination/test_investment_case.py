"""The investment case on District 5: scenario plans -> one problem -> portfolio and outputs.

Six District 5 hospitals (``request_d5``: 30 mask, 5 HFNC and 2 IMV patients each, 200 cylinders
of storage, a 5,000 L tank at Nguyễn Tri Phương only), two scenarios: as reported (weight 3) and
patients x 3 (weight 1). At x 3 each hospital needs about 2,200 m³ a day against a cylinder
limit of 1,200 m³ (200 cylinders), so tanks and cylinders can remove unmet demand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coordination.investment import (
    CandidateType,
    answer_investment,
    build_investment_case,
    candidates_for_region,
    hcmc_candidate_types,
    investment_report,
    investment_scenarios_from_mapping,
    investment_to_geojson,
    load_investment_scenarios,
    portfolio_to_csv,
)
from data.errors import InvalidInputError
from data.schema.investment import (
    CandidateKind,
    InvestmentOptions,
    candidates_from_csv_text,
)

DAY = dt.date(2021, 8, 20)
SURGES = {
    "scenarios": [
        {"name": "Như báo cáo / as reported", "weight": 3, "surge_factor": 1.0},
        {"name": "Gấp 3 / x3", "weight": 1, "surge_factor": 3.0},
    ]
}


@pytest.fixture(scope="module")
def d5_case(request_d5: Any, d5_network: Any, d5_region: Any) -> Any:
    """Return the District 5 case: default candidate types, 15 billion đồng, 8 weeks."""
    scenarios = investment_scenarios_from_mapping(
        SURGES, region="hcmc_d5", start_date=DAY, horizon_days=3
    )
    candidates = candidates_for_region(
        request_d5.facilities, request_d5.suppliers, hcmc_candidate_types()
    )
    return build_investment_case(
        request_d5,
        d5_network,
        d5_region,
        scenarios,
        candidates,
        budget_vnd=15e9,
        deadline_weeks=8,
    )


@pytest.fixture(scope="module")
def d5_answer(d5_case: Any) -> Any:
    """Return the answer of the District 5 case (proven optimum)."""
    return answer_investment(d5_case, options=InvestmentOptions(time_limit_s=60))


def test_before_matches_the_scenario_plans(d5_case: Any, d5_answer: Any) -> None:
    # The core's network without investment is the allocation's: same unmet demand per
    # scenario, up to the allocation's 0.1 m³ quanta (demand rounds up, capacity down).
    assert len(d5_case.plans) == 2
    for plan, scenario in zip(d5_case.plans, d5_answer.before.scenarios, strict=True):
        quanta = 0.1 * len(plan.request.facilities) * plan.request.horizon_days
        assert scenario.unmet_m3 == pytest.approx(plan.allocation.totals.unmet_m3, abs=quanta + 1)
        assert scenario.demand_m3 == pytest.approx(plan.allocation.totals.demand_m3, abs=quanta + 1)
    assert d5_answer.before.scenarios[1].unmet_m3 > 1000  # x3 leaves real unmet demand


def test_optimum_beats_nothing_and_greedy_within_budget(d5_case: Any, d5_answer: Any) -> None:
    optimum, greedy, before = d5_answer.optimum, d5_answer.greedy, d5_answer.before
    assert optimum.status == "optimal"
    assert optimum.capex_vnd <= 15e9
    assert optimum.expected_weighted_unmet < before.expected_weighted_unmet
    assert optimum.expected_weighted_unmet <= greedy.expected_weighted_unmet + 1e-6
    slow = {c.candidate_id for c in d5_case.problem.candidates if c.install_weeks > 8}
    assert not slow & {c.candidate_id for c in optimum.chosen}
    curve = [p.expected_weighted_unmet for p in d5_answer.curve]
    assert len(curve) >= 5
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(curve))


def test_outputs_name_facilities_and_keep_diacritics(d5_case: Any, d5_answer: Any) -> None:
    text = portfolio_to_csv(d5_case, d5_answer)
    header, *rows = text.splitlines()
    assert header.startswith("method,candidate_id,kind,site_id,site_name")
    assert rows, "the optimum buys something at x3"
    names = {f.name for f in d5_case.facilities.values()} | {
        s.name for s in d5_case.suppliers.values()
    }
    assert any(name in text for name in names)
    report = investment_report(d5_case, d5_answer)
    assert "Đường chi phí / cost curve" in report
    assert "Gấp 3 / x3" in report
    geojson = investment_to_geojson(d5_case, d5_answer)
    kinds = {f["properties"]["kind"] for f in geojson["features"]}
    assert kinds == {"investment", "facility_unmet"}
    back = json.loads(json.dumps(geojson, ensure_ascii=False))
    assert back == geojson
    lon, lat = geojson["features"][0]["geometry"]["coordinates"]
    assert 106 < lon < 107 and 10 < lat < 11


def test_deadline_removes_every_slow_candidate(d5_case: Any) -> None:
    from dataclasses import replace

    from matcher.investment import optimise_portfolio

    quick = optimise_portfolio(replace(d5_case.problem, deadline_weeks=1.0))
    assert all(c.kind is CandidateKind.CYLINDERS for c in quick.chosen)


def test_candidate_rules_follow_tier_beds_and_storage(request_d5: Any) -> None:
    tank = CandidateType(
        "t",
        CandidateKind.LIQUID_TANK,
        "t",
        1,
        "L",
        1.0,
        1,
        10.0,
        1,
        0.0,
        0,
        "x",
        min_tier=3,
        min_beds=50,
    )
    offered = candidates_for_region(request_d5.facilities, request_d5.suppliers, [tank])
    tier3 = [f.facility_id for f in request_d5.facilities if f.tier >= 3]
    assert [c.site_id for c in offered] == tier3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # the weight is missing
        ({"scenarios": [{"name": "a", "surge_factor": 2}]}, r"scenarios\[0\]\.weight: must be"),
        # a negative surge
        (
            {"scenarios": [{"name": "a", "weight": 1, "surge_factor": -2}]},
            r"scenarios\[0\]\.surge_factor: must be a number >= 0, got -2",
        ),
        # both a surge and changes
        (
            {"scenarios": [{"name": "a", "weight": 1, "surge_factor": 2, "changes": []}]},
            r"scenarios\[0\]: give exactly one of surge_factor",
        ),
        # a change the scenario engine does not know
        (
            {"scenarios": [{"name": "a", "weight": 1, "changes": [{"type": "meteor"}]}]},
            r"scenarios\[0\]\.changes\[0\]\.type: 'meteor' is not one of",
        ),
        # an unknown key
        (
            {"scenarios": [{"name": "a", "weight": 1, "surge_factor": 2, "prob": 1}]},
            r"scenarios\[0\]\.prob: unknown key",
        ),
        # no name
        ({"scenarios": [{"weight": 1, "surge_factor": 2}]}, r"scenarios\[0\]\.name: missing"),
        # not a list of scenarios
        ({"surges": [1.5]}, r"scenarios: missing"),
    ],
)
def test_bad_scenarios_name_the_field(document: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        investment_scenarios_from_mapping(document, region="hcmc_d5", start_date=DAY)


def test_a_scenario_file_that_does_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "surges.json"
    path.write_text('{"scenarios": [{"name": "a", "weight": 1,,}]}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"scenarios file surges.json: not valid JSON"):
        load_investment_scenarios(path, region="hcmc_d5", start_date=DAY)


HEADER = (
    "candidate_id,kind,facility_id,supplier_id,name,capex_vnd,install_weeks,capacity_m3_per_day"
)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        # a negative cost
        ("t1,liquid_tank,F1,,Bồn,-5,4,100", r"row 2, capex_vnd: must be a finite number >= 0"),
        # an unknown kind
        ("t1,balloon,F1,,x,5,4,100", r"row 2, kind: unknown kind 'balloon'"),
        # a tank without its facility
        ("t1,liquid_tank,,,x,5,4,100", r"row 2, facility_id: missing"),
        # text where a number is expected
        ("t1,tanker,,S1,x,năm tỷ,4,100", r"row 2, capex_vnd: not a number, got 'năm tỷ'"),
    ],
)
def test_bad_candidate_rows_name_row_and_column(row: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        candidates_from_csv_text(f"{HEADER}\n{row}\n", name="c.csv")


def test_candidates_file_missing_a_column() -> None:
    with pytest.raises(InvalidInputError, match=r"c.csv, capex_vnd: missing column"):
        candidates_from_csv_text(
            "candidate_id,kind,install_weeks,capacity_m3_per_day\n", name="c.csv"
        )


def test_unknown_facility_in_candidates_is_refused(d5_case: Any) -> None:
    from dataclasses import replace

    stray = candidates_from_csv_text(f"{HEADER}\nt1,liquid_tank,Bệnh viện X,,x,5,4,100\n")
    with pytest.raises(InvalidInputError, match=r"candidates\[0\]\.facility_id: unknown facility"):
        replace(d5_case.problem, candidates=stray)


def test_bundled_hcmc_candidates_parse_and_name_seeded_sites(data_dir: Path) -> None:
    from data.region import load_region
    from data.seed import hcmc_seed

    root = Path(__file__).resolve().parents[2]
    text = (root / "data" / "investment_candidates_hcmc.csv").read_text(encoding="utf-8")
    candidates = candidates_from_csv_text(text, name="investment_candidates_hcmc.csv")
    assert {c.kind for c in candidates} == set(CandidateKind)
    seed = hcmc_seed(data_dir)
    facility_ids = {f.facility_id for f in seed.facilities}
    supplier_ids = {p.place_id for p in load_region("hcmc").suppliers.read()}
    for candidate in candidates:
        assert candidate.site_id in (facility_ids if candidate.at_facility else supplier_ids)
        assert candidate.source, candidate.candidate_id
    assert np.isclose(
        min(c.capacity_m3_per_day for c in candidates if c.kind is CandidateKind.CYLINDERS), 6.0
    )
