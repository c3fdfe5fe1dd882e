"""What a running platform costs, read from outside (``observe.footprint``).

The process tree and resident memory of real processes, through psutil and
through ``/proc`` alone, which must agree; the rest (databases, the local
AWS) is measured on real platforms by ``tests/test_lab.py``.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from observe import footprint

PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(30)\n"
)


@pytest.fixture
def parent_and_child():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    )
    child = int(parent.stdout.readline())
    try:
        yield parent.pid, child
    finally:
        subprocess.run(["kill", str(child)], check=False)
        parent.kill()
        parent.wait(timeout=10)


@pytest.mark.parametrize("reader", ["psutil", "/proc"])
def test_a_process_is_counted_with_the_processes_it_started(
    parent_and_child, monkeypatch, reader
):
    parent, child = parent_and_child
    if reader == "/proc":
        monkeypatch.setattr(footprint, "psutil", None)
    elif footprint.psutil is None:
        pytest.skip("psutil is not installed")

    tree = footprint.process_tree(parent)

    assert tree[0] == parent and child in tree
    assert all(footprint.resident_bytes(pid) > 1024 * 1024 for pid in tree)


def test_both_readers_agree_on_resident_memory(parent_and_child, monkeypatch):
    if footprint.psutil is None:
        pytest.skip("psutil is not installed")
    parent, _ = parent_and_child
    with_psutil = footprint.resident_bytes(parent)
    monkeypatch.setattr(footprint, "psutil", None)

    from_proc = footprint.resident_bytes(parent)

    assert abs(with_psutil - from_proc) < 4 * 1024 * 1024


@pytest.mark.parametrize("reader", ["psutil", "/proc"])
def test_a_process_that_is_gone_costs_nothing(monkeypatch, reader):
    if reader == "/proc":
        monkeypatch.setattr(footprint, "psutil", None)
    elif footprint.psutil is None:
        pytest.skip("psutil is not installed")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    time.sleep(0.1)

    assert footprint.process_tree(gone.pid) == []
    assert footprint.resident_bytes(gone.pid) == 0
