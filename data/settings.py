"""Where oxyroute finds its data and keeps its caches: explicit argument, environment, default."""

from __future__ import annotations

import os
from pathlib import Path

from data.errors import MissingDataFileError

DATA_DIR_ENV = "OXYROUTE_DATA_DIR"
CACHE_DIR_ENV = "OXYROUTE_CACHE_DIR"

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_REGIONS_DIR = Path(__file__).resolve().parent / "regions"


def _default_data_dir_candidates() -> list[Path]:
    # The shared data sits beside the checkout (../shared/data); also try beside the working
    # directory.
    return [REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory: ``data_dir`` if given, else ``$OXYROUTE_DATA_DIR``, else default.

    The default is ``../shared/data`` beside the checkout, or else beside the working directory.

    Raises
    ------
    MissingDataFileError
        If the chosen directory does not exist; the message names the setting that chose it.
    """
    if data_dir is not None:
        path, setting = Path(data_dir), "--data-dir"
    elif os.environ.get(DATA_DIR_ENV):
        path, setting = Path(os.environ[DATA_DIR_ENV]), DATA_DIR_ENV
    else:
        candidates = _default_data_dir_candidates()
        for candidate in candidates:
            if candidate.is_dir():
                return candidate.resolve()
        tried = ", ".join(str(c) for c in candidates)
        raise MissingDataFileError(
            f"data directory not found (tried {tried}); set {DATA_DIR_ENV} or pass --data-dir"
        )
    if not path.is_dir():
        raise MissingDataFileError(
            f"data directory {str(path)!r} (from {setting}) does not exist or is not a directory"
        )
    return path.resolve()


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache directory (created if needed).

    Order: ``cache_dir``, ``$OXYROUTE_CACHE_DIR``, ``$XDG_CACHE_HOME/oxyroute``,
    ``~/.cache/oxyroute``.
    """
    if cache_dir is not None:
        path = Path(cache_dir)
    elif os.environ.get(CACHE_DIR_ENV):
        path = Path(os.environ[CACHE_DIR_ENV])
    elif os.environ.get("XDG_CACHE_HOME"):
        path = Path(os.environ["XDG_CACHE_HOME"]) / "oxyroute"
    else:
        path = Path.home() / ".cache" / "oxyroute"
    path.mkdir(parents=True, exist_ok=True)
    return path
