"""Stored what-if scenarios: versions and runs as files, append-only and safe across workers.

Layout under the plans folder: ``scenarios/<scenario_id>/v<N>.json`` per version (never
rewritten, so an old version stays readable after an edit) and ``runs/<run_id>/`` per run (the
run's answer and the GeoJSON of what changed). Files appear complete or not at all.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web.errors import ScenarioNotFoundError

_ID = re.compile(r"^[0-9a-f]{32}$")
_VERSION_FILE = re.compile(r"^v([0-9]+)\.json$")


@dataclass(frozen=True, slots=True)
class StoredScenario:
    """One version of a stored scenario and who wrote it.

    Parameters
    ----------
    scenario_id
        32 hex digits, fixed for all versions.
    version
        1 for the first document, then +1 for each edit.
    document
        The scenario document as sent (validated by :func:`scenarios.scenario_from_mapping`).
    province_code
        The 2021 province of the scenario's region (scopes coordinators).
    created_by, created_at
        The user who wrote this version and when (ISO 8601, UTC).
    copied_from
        ``{"scenario_id", "version"}`` of the source of a copy (version 1 of a copy only).
    """

    scenario_id: str
    version: int
    document: Mapping[str, Any]
    province_code: str | None
    created_by: str
    created_at: str
    copied_from: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the version as JSON-ready data."""
        return {
            "scenario_id": self.scenario_id,
            "version": self.version,
            "name": self.document.get("name"),
            "region": self.document.get("region"),
            "date": self.document.get("date"),
            "province_code": self.province_code,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "copied_from": self.copied_from,
            "document": dict(self.document),
        }


@dataclass(frozen=True, slots=True)
class ScenarioStore:
    """Scenario versions and runs as files under ``root`` (append-only, safe across workers)."""

    root: Path

    def _folder(self, scenario_id: str) -> Path:
        folder = self.root / scenario_id
        if not _ID.match(scenario_id) or not folder.is_dir():
            raise ScenarioNotFoundError(f"scenario_id: no scenario {scenario_id!r}")
        return folder

    def versions(self, scenario_id: str) -> list[int]:
        """Return the scenario's version numbers, oldest first.

        Raises
        ------
        ScenarioNotFoundError
            If the id is malformed or unknown.
        """
        folder = self._folder(scenario_id)
        return sorted(
            int(m.group(1)) for p in folder.iterdir() if (m := _VERSION_FILE.match(p.name))
        )

    def get(self, scenario_id: str, version: int | None = None) -> StoredScenario:
        """Return one version of a scenario (the latest by default).

        Raises
        ------
        ScenarioNotFoundError
            If the scenario or the version does not exist.
        """
        versions = self.versions(scenario_id)
        number = versions[-1] if version is None else version
        if number not in versions:
            raise ScenarioNotFoundError(
                f"version: scenario {scenario_id!r} has no version "
                f"{number!r} (versions: {versions})"
            )
        data = json.loads((self.root / scenario_id / f"v{number}.json").read_text(encoding="utf-8"))
        return StoredScenario(**data)

    def latest(self) -> list[StoredScenario]:
        """Return the latest version of every scenario."""
        if not self.root.is_dir():
            return []
        return [
            self.get(p.name)
            for p in sorted(self.root.iterdir())
            if _ID.match(p.name) and p.is_dir() and any(p.glob("v*.json"))
        ]

    def add_version(
        self,
        scenario_id: str | None,
        document: Mapping[str, Any],
        *,
        province_code: str | None,
        created_by: str,
        created_at: str,
        copied_from: Mapping[str, Any] | None = None,
    ) -> StoredScenario:
        """Store a document as a new scenario (``scenario_id=None``) or as its next version.

        A version file is written to a temporary name and hard-linked into place, so it appears
        complete or not at all, and two edits at once get two versions instead of one lost.
        """
        if scenario_id is None:
            scenario_id = uuid.uuid4().hex
            (self.root / scenario_id).mkdir(parents=True)
            number = 1
        else:
            number = self.versions(scenario_id)[-1] + 1
        folder = self.root / scenario_id
        while True:
            record = StoredScenario(
                scenario_id,
                number,
                dict(document),
                province_code,
                created_by,
                created_at,
                copied_from,
            )
            fd, staging = tempfile.mkstemp(dir=folder, prefix=".staging-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(
                    {
                        "scenario_id": scenario_id,
                        "version": number,
                        "document": record.document,
                        "province_code": province_code,
                        "created_by": created_by,
                        "created_at": created_at,
                        "copied_from": copied_from,
                    },
                    handle,
                    ensure_ascii=False,
                )
            try:
                os.link(staging, folder / f"v{number}.json")
            except FileExistsError:  # another edit took this number first: take the next one
                number += 1
                continue
            finally:
                os.unlink(staging)
            return record

    def save_run(self, scenario_id: str, run_id: str, files: Mapping[str, str]) -> None:
        """Write a run's files atomically (a temporary folder renamed into place)."""
        parent = self._folder(scenario_id) / "runs"
        parent.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=".staging-"))
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        os.replace(staging, parent / run_id)

    def load_run(self, scenario_id: str, run_id: str, name: str = "run.json") -> str:
        """Return one file of a stored run.

        Raises
        ------
        ScenarioNotFoundError
            If the scenario or the run does not exist.
        """
        path = self._folder(scenario_id) / "runs" / run_id / name
        if not _ID.match(run_id) or not path.is_file():
            raise ScenarioNotFoundError(f"run_id: scenario {scenario_id!r} has no run {run_id!r}")
        return path.read_text(encoding="utf-8")

    def runs(self, scenario_id: str) -> list[dict[str, Any]]:
        """Return the summaries of a scenario's runs, oldest first."""
        parent = self._folder(scenario_id) / "runs"
        if not parent.is_dir():
            return []
        runs = [
            json.loads(p.joinpath("run.json").read_text(encoding="utf-8"))
            for p in parent.iterdir()
            if _ID.match(p.name) and (p / "run.json").is_file()
        ]
        return [
            {
                k: r[k]
                for k in (
                    "run_id",
                    "version",
                    "created_by",
                    "created_at",
                    "base_plan_id",
                    "scenario_plan_id",
                )
            }
            | {"totals": r["comparison"]["totals"]}
            for r in sorted(runs, key=lambda r: (r["created_at"], r["run_id"]))
        ]
