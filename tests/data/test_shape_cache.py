"""Outlines kept in the cache directory read back equal, and a changed source is read again."""

from __future__ import annotations

import os
from pathlib import Path

import shapely

from data.provinces import province_shapes_2021
from data.shape_cache import cached_shapes


def test_province_shapes_read_back_equal(data_dir: Path, tmp_path: Path) -> None:
    first = province_shapes_2021(data_dir, tmp_path)
    again = province_shapes_2021(data_dir, tmp_path)
    assert len(list((tmp_path / "shapes").iterdir())) == 1
    assert [c for c, _ in first] == [c for c, _ in again]
    assert all(a.equals(b) for (_, a), (_, b) in zip(first, again, strict=True))


def test_a_changed_source_is_read_again(tmp_path: Path) -> None:
    source = tmp_path / "outline.txt"
    source.write_text("1")
    calls = []

    def load() -> list[tuple[str, object]]:
        calls.append(source.read_text())
        return [("Quận 5", shapely.box(0, 0, 1, int(source.read_text())))]

    cache = tmp_path / "cache"
    assert cached_shapes(source, cache, "t", load)[0][1].bounds == (0, 0, 1, 1)
    assert cached_shapes(source, cache, "t", load)[0][0] == "Quận 5"
    assert calls == ["1"]
    source.write_text("22")
    os.utime(source, ns=(1, 1))
    assert cached_shapes(source, cache, "t", load)[0][1].bounds == (0, 0, 1, 22)
    assert calls == ["1", "22"]
