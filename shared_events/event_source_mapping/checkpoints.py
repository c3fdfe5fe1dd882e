"""Where each (mapping, shard) has got to: one JSON file per runner.

Things a learner should notice:

* A checkpoint is written only after the handler finished with a batch.
  A runner killed mid-batch (even by SIGKILL) restarts from the last
  checkpoint and hands that batch over again: delivery is at least once,
  which is why every handler is idempotent.
* The file is replaced atomically (write a temporary file, ``fsync`` it,
  ``os.replace`` it over the old one, ``fsync`` the directory), so a crash at
  any instant leaves either the old file or the new one, never half of one.
* A checkpoint belongs to one incarnation of its source. moto forgets
  everything when it stops, and a stream created again starts its sequence
  numbers from 1: a position kept from the old stream would skip the new
  records. So each mapping's entry records the source's identity (its ARN
  and creation time) and is ignored when the source is another one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_FORMAT_VERSION = 1


class CheckpointStore:
    """The positions of one runner, kept in ``path`` (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._state = self._load()

    def position(self, *, mapping: str, source: str, shard: str) -> str | None:
        """The sequence number last handled on ``shard``, or None (start fresh)."""
        entry = self._state["mappings"].get(mapping)
        if entry is None or entry.get("source") != source:
            return None
        return entry["shards"].get(shard)

    def save(self, *, mapping: str, source: str, shard: str, sequence_number: str):
        """Record that everything up to ``sequence_number`` on ``shard`` is done."""
        entry = self._state["mappings"].get(mapping)
        if entry is None or entry.get("source") != source:
            entry = self._state["mappings"][mapping] = {"source": source, "shards": {}}
        current = entry["shards"].get(shard)
        # Sequence numbers compare as integers; a checkpoint never moves back.
        if current is not None and int(current) >= int(sequence_number):
            return
        entry["shards"][shard] = sequence_number
        _write_atomically(self.path, self._state)

    def snapshot(self) -> dict[str, dict[str, str]]:
        """``{mapping: {shard: sequence number}}``, for reports and tests."""
        return {
            name: dict(entry["shards"])
            for name, entry in self._state["mappings"].items()
        }

    def _load(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"version": _FORMAT_VERSION, "mappings": {}}
        if not isinstance(state, dict) or state.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{self.path}: not a checkpoint file of this runner")
        return state


def _write_atomically(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w") as file:
        json.dump(state, file, indent=1, sort_keys=True)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
    # The rename itself is durable only once the directory is synced.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
