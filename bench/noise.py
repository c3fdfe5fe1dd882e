"""How busy the machine was with other work while a figure ran.

Every figure is a ratio of two measurements taken on the same shared
machine; another job taking a core halfway through moves the ratio more than
anything the platform's code does. Around each figure :func:`measure_noise`
records the load average at its start and end and splits the machine's busy
CPU time (``/proc/stat``) into the run's own and everybody else's:

- own: the CPU time of the benchmark's process tree (the main process, the
  figure's worker, the platforms' servers and workers, the moto server), and
  of the PostgreSQL backends serving the run's databases (a backend's
  ``/proc/<pid>/cmdline`` reads ``postgres: <user> <database> ...``);
- others: the machine's busy time minus the run's own.

A figure is **busy** when others took more than :data:`BUSY_CORES` of a core
on average over it: one tenth of a core is more than an idle machine's
background (a few hundredths here) and less than what one other test or
build process takes, so the flag marks a figure taken beside other work.

Things a reader should notice:

- The tree is sampled every :data:`SAMPLE_SECONDS`, because processes come
  and go during a figure. A process of the tree that exits is counted twice
  (its own last reading, and again in its parent's ``cutime`` once reaped),
  so its last reading is taken off again. A PostgreSQL backend that ends
  between two samples loses what it did since the last one.
- PostgreSQL's background processes (checkpointer, WAL writer, background
  writer, autovacuum) work for every database on the server, the run's
  writes above all: they are counted apart (``server_cpu_seconds``), neither
  the run's own nor others'. Before they were, a figure that writes a lot
  was flagged busy on a machine running nothing else (half a core of WAL
  and checkpoints). Another job's work on the same server still shows: its
  backends are others'. The kernel's threads count as others.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.cpu_split import POSTGRES_BACKGROUND
from observe.footprint import process_tree

PROC = Path("/proc")
SAMPLE_SECONDS = 0.5
BUSY_CORES = 0.1
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class MachineNoise:
    """What the machine did during one measured window (CPU in seconds)."""

    seconds: float
    cpu_count: int
    load_start: float
    load_end: float
    machine_cpu_seconds: float
    own_cpu_seconds: float
    # PostgreSQL's background processes, for every database on the server.
    server_cpu_seconds: float = 0.0

    @property
    def others_cpu_seconds(self) -> float:
        return max(
            0.0,
            self.machine_cpu_seconds - self.own_cpu_seconds - self.server_cpu_seconds,
        )

    @property
    def others_cores(self) -> float:
        """Others' CPU as cores busy on average over the window."""
        return self.others_cpu_seconds / self.seconds if self.seconds else 0.0

    @property
    def others_share(self) -> float:
        """Others' CPU as a share of the machine's capacity over the window."""
        capacity = self.seconds * self.cpu_count
        return self.others_cpu_seconds / capacity if capacity else 0.0

    @property
    def busy(self) -> bool:
        return self.others_cores > BUSY_CORES

    def describe(self) -> str:
        """``quiet``, or ``BUSY: others 0.4 cores, load 2.1`` (the peak load)."""
        if not self.busy:
            return "quiet"
        load = max(self.load_start, self.load_end)
        return f"BUSY: others {self.others_cores:.1f} cores, load {load:.1f}"

    def as_dict(self) -> dict:
        return {
            **{key: round(value, 3) for key, value in asdict(self).items()},
            "others_cpu_seconds": round(self.others_cpu_seconds, 3),
            "others_cores": round(self.others_cores, 3),
            "others_share": round(self.others_share, 3),
            "busy": self.busy,
            "busy_above_cores": BUSY_CORES,
            "verdict": self.describe(),
        }


@dataclass
class _Tracked:
    first: float
    last: float
    # A process of the tree (its exit is seen again in its parent's cutime),
    # rather than a PostgreSQL backend (reaped by the postmaster, not ours).
    in_tree: bool


@dataclass
class NoiseMeter:
    """Samples the run's own CPU time from :meth:`start` to :meth:`stop`.

    ``root_pid``: the top of the run's process tree (this process by default);
    ``database_prefix``: PostgreSQL backends of databases starting with it are
    the run's own too.
    """

    database_prefix: str | None = None
    root_pid: int = field(default_factory=os.getpid)
    interval: float = SAMPLE_SECONDS
    _tracked: dict[int, _Tracked] = field(default_factory=dict)
    _gone: float = 0.0
    # The server's background processes: pid -> (first, last) CPU seconds.
    _server: dict[int, list[float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0
    _machine_start: float = 0.0
    _load_start: float = 0.0

    def start(self) -> None:
        self._load_start = os.getloadavg()[0]
        self._started = time.monotonic()
        self._machine_start = machine_busy_seconds()
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> MachineNoise:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(first=False)
        machine = machine_busy_seconds() - self._machine_start
        own = self._gone + sum(t.last - t.first for t in self._tracked.values())
        return MachineNoise(
            seconds=time.monotonic() - self._started,
            cpu_count=os.cpu_count() or 1,
            load_start=self._load_start,
            load_end=os.getloadavg()[0],
            machine_cpu_seconds=machine,
            own_cpu_seconds=own,
            server_cpu_seconds=sum(
                last - first for first, last in self._server.values()
            ),
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(first=False)

    def _sample(self, *, first: bool) -> None:
        for pid, cpu in _server_background_cpu().items():
            seen_before = self._server.setdefault(pid, [cpu if first else 0.0, cpu])
            seen_before[1] = cpu
        seen = {pid: (cpu, True) for pid, cpu in _tree_cpu(self.root_pid).items()}
        if self.database_prefix:
            for pid, cpu in _backend_cpu(self.database_prefix).items():
                seen.setdefault(pid, (cpu, False))
        for pid, tracked in list(self._tracked.items()):
            if pid in seen:
                continue
            # Exited. In the tree its whole time reappears in its parent's
            # cutime: only what it used before the window stays counted.
            # A backend's time since the last sample is lost.
            del self._tracked[pid]
            self._gone += (
                -tracked.first if tracked.in_tree else tracked.last - tracked.first
            )
        for pid, (cpu, in_tree) in seen.items():
            tracked = self._tracked.get(pid)
            if tracked is None:
                # Already running at the start: only what it does from now on.
                start = cpu if first else 0.0
                self._tracked[pid] = _Tracked(first=start, last=cpu, in_tree=in_tree)
            else:
                tracked.last = cpu


@contextmanager
def measure_noise(*, database_prefix: str | None = None) -> Iterator[list]:
    """``with measure_noise(...) as result:`` -- ``result[0]`` is the
    :class:`MachineNoise` of the block once it has ended."""
    meter = NoiseMeter(database_prefix=database_prefix)
    result: list[MachineNoise] = []
    meter.start()
    try:
        yield result
    finally:
        result.append(meter.stop())


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (``/proc/stat``):
    user, nice, system, irq, softirq and steal; not idle, not I/O wait."""
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICKS


def process_cpu_seconds(pid: int, *, children: bool = True) -> float | None:
    """utime + stime of ``pid`` (and of its reaped children), or None if gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ")".
    fields = text.rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = map(int, fields[11:15])
    own = utime + stime + (cutime + cstime if children else 0)
    return own / _TICKS


def _tree_cpu(root_pid: int) -> dict[int, float]:
    readings = {}
    for pid in process_tree(root_pid):
        cpu = process_cpu_seconds(pid)
        if cpu is not None:
            readings[pid] = cpu
    return readings


def _server_background_cpu() -> dict[int, float]:
    """PostgreSQL's background processes on this machine (checkpointer, WAL
    writer, autovacuum ...): their CPU seconds by pid."""
    readings = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (
                (entry / "cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
        except OSError:
            continue
        if title.startswith("postgres:") and any(
            name in title for name in POSTGRES_BACKGROUND
        ):
            cpu = process_cpu_seconds(int(entry.name), children=False)
            if cpu is not None:
                readings[int(entry.name)] = cpu
    return readings


def _backend_cpu(database_prefix: str) -> dict[int, float]:
    """The PostgreSQL backends connected to a database starting with the prefix."""
    readings = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().replace(b"\0", b" ").split()
        except OSError:
            continue
        if (
            len(words) >= 3
            and words[0] == b"postgres:"
            and words[2].decode(errors="replace").startswith(database_prefix)
        ):
            cpu = process_cpu_seconds(int(entry.name), children=False)
            if cpu is not None:
                readings[int(entry.name)] = cpu
    return readings
