"""A runner killed by SIGKILL mid-batch resumes from its checkpoint: every
record handled at least once, none skipped, each shard in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from shared_events.configuration import REPO_DIR
from shared_events.event_source_mapping.tests import support

pytestmark = pytest.mark.slow

RECORDS_PER_SHARD = 20


def _start(aws, tmp_path: Path, *, sleep: float) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "shared_events.event_source_mapping.tests.runner_process",
        "--endpoint",
        aws.endpoint_url,
        "--stream",
        support.STREAM,
        "--checkpoint-file",
        str(tmp_path / "checkpoints.json"),
        "--log",
        str(tmp_path / "handled.jsonl"),
        "--sleep",
        str(sleep),
    ]
    return subprocess.Popen(command, cwd=REPO_DIR, stdout=subprocess.DEVNULL)


def _lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "handled.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_sigkill_mid_batch_replays_that_batch_and_skips_nothing(aws, tmp_path):
    support.create_stream(aws, shards=2)
    for shard in (0, 1):
        support.put_records(
            aws, [f"s{shard}-{n}" for n in range(RECORDS_PER_SHARD)], shard=shard
        )
    first = _start(aws, tmp_path, sleep=0.8)
    try:

        def mid_batch() -> bool:
            lines = _lines(tmp_path)
            done = [line for line in lines if line["phase"] == "done"]
            return len(done) >= 2 and lines[-1]["phase"] == "start"

        support.wait_until(mid_batch, timeout=30)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.kill()
        first.wait(timeout=10)
    killed_batch = _lines(tmp_path)[-1]["records"]

    second = _start(aws, tmp_path, sleep=0.0)
    assert second.wait(timeout=60) == 0

    done_by_run: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for line in _lines(tmp_path):
        if line["phase"] == "done":
            for shard, sequence_number in line["records"]:
                done_by_run[line["pid"]][shard].append(int(sequence_number))
    assert set(done_by_run) == {first.pid, second.pid}
    handled: dict[str, set[int]] = defaultdict(set)
    for run in done_by_run.values():
        for shard, numbers in run.items():
            assert numbers == sorted(set(numbers)), "order within a run"
            handled[shard] |= set(numbers)
    every = set(range(1, RECORDS_PER_SHARD + 1))
    assert handled == {"shardId-000000000000": every, "shardId-000000000001": every}
    # The batch in hand when the kill came is handed over again, and the second
    # run starts each shard right after that shard's checkpoint.
    replayed = [[shard, int(n)] for shard, n in killed_batch]
    second_run = done_by_run[second.pid]
    for shard, number in replayed:
        assert number in second_run[shard]
    for shard, numbers in second_run.items():
        before = done_by_run[first.pid].get(shard, [])
        assert numbers[0] == (before[-1] + 1 if before else 1)
