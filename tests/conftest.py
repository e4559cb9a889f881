"""Shared fixtures: the data directory and a persistent test cache for built road graphs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Built graphs are cached between runs in the (git-ignored) project cache, never in the user's home.
os.environ.setdefault("OXYROUTE_CACHE_DIR", str(REPO_ROOT / ".cache" / "test"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data directory, as the settings resolve it."""
    from data.settings import resolve_data_dir

    return resolve_data_dir()
