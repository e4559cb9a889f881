"""The layers of the README's Architecture section hold: no module imports from a layer above it.

Every import counts, the lazy ones inside functions too (they are how a layer would creep in).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import from its own package and from packages of a lower rank;
# packages of the same rank never import each other (matcher and routing are independent cores).
RANKS = {
    "data": 0,
    "matcher": 1,
    "routing": 1,
    "coordination": 2,
    "web": 3,
    "api": 4,
    "commands": 5,
    "cli": 6,
}


def _top_package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported_packages(path: Path) -> set[tuple[int, str]]:
    """Return (line, top-level package) of every absolute import of ours in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in RANKS:
                found.add((node.lineno, top))
    return found


def _source_files() -> list[Path]:
    files = [ROOT / "api.py", ROOT / "cli.py"]
    for package in RANKS:
        if (ROOT / package).is_dir():
            files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def layer_violations() -> list[str]:
    """Return one line per import that goes sideways or up a layer."""
    violations = []
    for path in _source_files():
        own = _top_package(path)
        for line, imported in sorted(_imported_packages(path)):
            if imported != own and RANKS[imported] >= RANKS[own]:
                where = f"{path.relative_to(ROOT)}:{line}"
                violations.append(f"{where}: {own} (rank {RANKS[own]}) imports {imported}")
    return violations


def test_every_source_file_is_in_a_layer() -> None:
    stray = sorted(
        p.name for p in ROOT.glob("*.py") if p.name not in {"api.py", "cli.py", "setup.py"}
    )
    assert stray == [], "Python modules at the root besides api.py and cli.py"


def test_no_import_goes_up_or_sideways() -> None:
    assert layer_violations() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from routing.graph import build_road_graph\n", "matcher (rank 1) imports routing"),
        ("def f():\n    from web.common import require\n", "matcher (rank 1) imports web"),
        ("import coordination.planning\n", "matcher (rank 1) imports coordination"),
    ],
)
def test_the_check_finds_a_lazy_or_sideways_import(
    source: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "matcher").mkdir()
    (tmp_path / "matcher" / "bad.py").write_text(source, encoding="utf-8")
    (tmp_path / "api.py").write_text("", encoding="utf-8")
    (tmp_path / "cli.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    (violation,) = layer_violations()
    assert violation.startswith("matcher/bad.py:")
    assert violation.endswith(expected)
