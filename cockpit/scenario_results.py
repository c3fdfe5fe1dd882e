"""The scenario results the cockpit shows: the last one per (scenario, backend),
kept in memory and written as JSON under ``reports/cockpit/``.

Each result is the lab's own (``ScenarioResult.as_dict()``: measurements,
lag samples, lesson) plus what the paper expects of this approach and
whether the numbers agree (``lab.expectations.contradiction``). What a
learner should notice: the files survive a restart of the cockpit, so a
result measured under ``db_per_service`` can be put beside the one under
``cqrs_es`` after the switch, as the paper puts them side by side.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

from cockpit.charts import run_charts
from lab.expectations import contradiction
from lab.runner import ScenarioResult
from shared_events.approaches import approach_info

SAFE_NAME = re.compile(r"[^a-z0-9_.-]+")


def result_record(result: ScenarioResult) -> dict:
    """What the cockpit keeps of a result: the lab's dict, the paper, and the
    lab's charts of it (Chart.js specs, drawn as the lab's report draws them)."""
    record = result.as_dict()
    record["charts"] = run_charts([result])
    surprise = (
        contradiction(result.scenario, result.approach, result.measurements)
        if result.measurements is not None
        else None
    )
    record["expectation"] = {
        "flaw": approach_info(result.approach).flaw,
        "agrees": surprise is None,
        "surprise": surprise or "",
    }
    record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record


class ScenarioResults:
    """The last record per (scenario, backend label), mirrored to ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], dict] = {}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                record = json.loads(path.read_text())
                self._records[(record["scenario"], record["backend"])] = record
            except (ValueError, KeyError, TypeError):
                continue  # a file from elsewhere, or half written: not ours

    def keep(self, record: dict) -> Path:
        """Keep ``record`` (replacing the last of its scenario and backend);
        the JSON file written."""
        key = (record["scenario"], record["backend"])
        name = SAFE_NAME.sub("-", f"{key[0]}--{key[1]}".lower()).strip("-")
        path = self.folder / f"{name}.json"
        with self._lock:
            self._records[key] = record
            self.folder.mkdir(parents=True, exist_ok=True)
            written = path.with_suffix(".tmp")
            written.write_text(json.dumps(record, indent=2, default=str))
            written.replace(path)
        return path

    def get(self, scenario: str, backend: str) -> dict | None:
        return self._records.get((scenario, backend))

    def all(self) -> list[dict]:
        """Every record, newest first."""
        with self._lock:
            records = list(self._records.values())
        return sorted(records, key=lambda r: r.get("finished_at", ""), reverse=True)
