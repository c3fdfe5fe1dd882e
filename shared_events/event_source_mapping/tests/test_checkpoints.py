"""The checkpoint file: atomic, monotonic, tied to one incarnation of a stream."""

from __future__ import annotations

import json
import os

import pytest

from shared_events.event_source_mapping import CheckpointStore


def test_a_checkpoint_survives_a_new_store(tmp_path):
    path = tmp_path / "runner.json"
    CheckpointStore(path).save(
        mapping="m", source="s@1", shard="a", sequence_number="7"
    )

    again = CheckpointStore(path)

    assert again.position(mapping="m", source="s@1", shard="a") == "7"
    assert again.position(mapping="m", source="s@1", shard="b") is None
    assert again.position(mapping="other", source="s@1", shard="a") is None


def test_a_checkpoint_of_another_incarnation_of_the_source_is_ignored(tmp_path):
    path = tmp_path / "runner.json"
    store = CheckpointStore(path)
    store.save(mapping="m", source="stream@1", shard="a", sequence_number="90")

    assert store.position(mapping="m", source="stream@2", shard="a") is None
    store.save(mapping="m", source="stream@2", shard="a", sequence_number="3")
    assert CheckpointStore(path).snapshot() == {"m": {"a": "3"}}


def test_a_checkpoint_never_moves_back_comparing_as_integers(tmp_path):
    store = CheckpointStore(tmp_path / "runner.json")
    store.save(mapping="m", source="s", shard="a", sequence_number="10")
    store.save(mapping="m", source="s", shard="a", sequence_number="9")

    assert store.position(mapping="m", source="s", shard="a") == "10"


def test_the_file_is_replaced_never_rewritten_in_place(tmp_path):
    path = tmp_path / "runner.json"
    store = CheckpointStore(path)
    store.save(mapping="m", source="s", shard="a", sequence_number="1")
    inode = os.stat(path).st_ino

    store.save(mapping="m", source="s", shard="a", sequence_number="2")

    assert os.stat(path).st_ino != inode  # a new file renamed over the old one
    assert not (tmp_path / "runner.json.partial").exists()
    assert json.loads(path.read_text())["mappings"]["m"]["shards"] == {"a": "2"}


def test_a_file_that_is_not_a_checkpoint_file_is_refused(tmp_path):
    path = tmp_path / "runner.json"
    path.write_text('{"something": "else"}')

    with pytest.raises(ValueError, match="not a checkpoint file"):
        CheckpointStore(path)
