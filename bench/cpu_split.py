"""CPU seconds by process kind, read from ``/proc`` while a benchmark runs.

A figure that finds where a pipeline stops keeping up must say which process
ran out of CPU, not guess it. ``CpuSplit`` samples every process's user and
system time (``utime + stime`` in ``/proc/<pid>/stat``, in clock ticks) and
adds it up by kind: the trees of processes a run started (the web servers
with their gunicorn workers, each relay, consumer and projector with what it
forked, the local AWS), the PostgreSQL backends serving the run's databases,
the server's own background processes, and the load generator itself.

What a reader should notice, because it is approximate on purpose:

* A process born during the window counts all its CPU (its start time, also
  in ``stat``, says it was born inside the window); one seen first later but
  born earlier counts only from the sample it was first seen in.
* A process that exits between two samples loses the CPU it used since the
  last sample that saw it. The parent's ``cutime``, where a reaped child's
  time ends up, is not read: it would count the child twice. Sampling every
  second keeps the loss to short-lived connections' last second.
* The load generator is this process alone, all its threads, not the
  processes it started: those are counted by their own kind.
* What the machine's cores did besides (``/proc/stat``'s busy time minus
  every kind above) is "other work (machine)": on shared cores, the CPU the
  figure did not get.
* PostgreSQL's background processes (checkpointer, WAL writer...) serve every
  database on the server, other work's too: they are "postgres (shared)".
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
POSTGRES = "postgres"
POSTGRES_SHARED = "postgres (shared)"
LOAD_GENERATOR = "load generator"
# The machine's busy CPU that none of the kinds above used: other work on the
# same cores, which the figure competes with.
OTHER_WORK = "other work (machine)"
# Titles of a PostgreSQL server's own processes (``postgres: checkpointer``);
# a backend's title names its user and database instead.
POSTGRES_BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "logical replication launcher",
    "stats collector",
    "archiver",
    "io worker",
    "walsummarizer",
)

#: Kind -> root process ids, asked again at every sample (workers restart).
Roots = Callable[[], Mapping[str, Iterable[int]]]


@dataclass(frozen=True)
class ProcessStat:
    pid: int
    parent: int
    # Clock ticks after boot when the process started: with the pid, its identity.
    started: int
    # utime + stime, clock ticks.
    cpu: int


def read_processes() -> dict[int, ProcessStat]:
    """Every process's parent, start time and CPU ticks, in one pass."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        # The command name is in parentheses and may hold spaces: fields
        # after it, numbered from 3 (state) in proc(5).
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = ProcessStat(
            pid=int(entry.name),
            parent=int(fields[1]),
            started=int(fields[19]),
            cpu=int(fields[11]) + int(fields[12]),
        )
    return found


def command_line(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def machine_busy_ticks() -> int:
    """CPU ticks the whole machine spent busy (``/proc/stat``: all but idle
    and iowait)."""
    fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user).
    return sum(fields[:8]) - fields[3] - fields[4]


def uptime_ticks() -> int:
    return int(float((PROC / "uptime").read_text().split()[0]) * TICKS_PER_SECOND)


def descendants(root: int, children: Mapping[int, list[int]]) -> list[int]:
    """``root`` and every process below it."""
    tree, frontier = [root], [root]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        tree += frontier
    return tree


def postgres_kind(title: str, databases: frozenset[str]) -> str | None:
    """A PostgreSQL child process's kind from its title, or None (another
    database's backend, not ours to count)."""
    if any(word in databases for word in title.split()):
        return POSTGRES
    if any(name in title for name in POSTGRES_BACKGROUND):
        return POSTGRES_SHARED
    return None


@dataclass
class _Seen:
    kind: str
    first: int
    last: int


@dataclass
class CpuSplit:
    """CPU seconds by kind over a window, from repeated samples of ``/proc``.

    ``roots`` answers the root processes of each kind, whole trees counted;
    ``alone`` kinds count their roots only (the load generator, whose
    children are the platform). ``databases`` names the run's PostgreSQL
    databases; ``postmaster`` is the server's pid, if it runs on this machine.
    """

    roots: Roots
    alone: frozenset[str] = frozenset({LOAD_GENERATOR})
    databases: frozenset[str] = frozenset()
    postmaster: int | None = None
    # (seconds since the window started, CPU seconds by kind so far).
    timeline: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    _seen: dict[tuple[int, int], _Seen] = field(default_factory=dict)
    _started: float | None = None
    _started_ticks: int = 0
    _machine_first: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sample(self) -> None:
        """Read ``/proc`` once; the first call opens the window. Thread-safe."""
        with self._lock:
            processes = read_processes()
            machine = machine_busy_ticks()
            if self._machine_first is None:
                self._machine_first = machine
            now = time.monotonic()
            if self._started is None:
                self._started, self._started_ticks = now, uptime_ticks()
            for pid, kind in self._classify(processes).items():
                process = processes[pid]
                key = (pid, process.started)
                seen = self._seen.get(key)
                if seen is None:
                    born_inside = (
                        self.timeline and process.started >= self._started_ticks
                    )
                    first = 0 if born_inside else process.cpu
                    self._seen[key] = _Seen(kind, first, process.cpu)
                else:
                    seen.last = process.cpu
            totals: dict[str, float] = {}
            for seen in self._seen.values():
                totals[seen.kind] = (
                    totals.get(seen.kind, 0.0)
                    + (seen.last - seen.first) / TICKS_PER_SECOND
                )
            machine_seconds = (machine - self._machine_first) / TICKS_PER_SECOND
            totals[OTHER_WORK] = max(0.0, machine_seconds - sum(totals.values()))
            self.timeline.append((now - self._started, totals))

    def _classify(self, processes: Mapping[int, ProcessStat]) -> dict[int, str]:
        children: dict[int, list[int]] = {}
        for process in processes.values():
            children.setdefault(process.parent, []).append(process.pid)
        kinds: dict[int, str] = {}
        for kind, roots in self.roots().items():
            for root in roots:
                if root not in processes:
                    continue
                tree = [root] if kind in self.alone else descendants(root, children)
                for pid in tree:
                    kinds.setdefault(pid, kind)
        if self.postmaster in processes:
            kinds.setdefault(self.postmaster, POSTGRES_SHARED)
            for pid in children.get(self.postmaster, []):
                kind = postgres_kind(command_line(pid), self.databases)
                if kind is not None:
                    kinds.setdefault(pid, kind)
        return kinds

    def seconds(self, *, until: float | None = None) -> tuple[float, dict[str, float]]:
        """Wall seconds and CPU seconds by kind from the first sample to the
        last one at or before ``until`` (seconds into the window; None: all)."""
        samples = [
            (at, totals)
            for at, totals in self.timeline
            if until is None or at <= until + 0.5
        ]
        if not samples:
            return 0.0, {}
        return samples[-1]


def summary(split: Mapping[str, dict]) -> str:
    """``moto 9.1 ms/cmd (0.91 core), web 6.2 (0.62), ...``: the bottleneck first."""
    parts = []
    for number, (kind, numbers) in enumerate(split.items()):
        unit = " ms/cmd" if number == 0 else ""
        core = " core" if number == 0 else ""
        parts.append(
            f"{kind} {numbers['ms_per_command'] or 0:.1f}{unit} "
            f"({numbers['cores'] or 0:.2f}{core})"
        )
    return ", ".join(parts)


def postmaster_of(connection) -> int | None:
    """The PostgreSQL server's pid, if it runs on this machine: the parent of
    this connection's backend (None when /proc does not show it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    process = read_processes().get(backend)
    return process.parent if process is not None else None


def split_by_kind(meter: CpuSplit, *, load_seconds: float, commands: int) -> dict:
    """Per kind: ms of CPU per command over the whole step (load and drain:
    all the work the step's commands caused), and the share of a core it
    kept busy during the load alone."""
    load_wall, during_load = meter.seconds(until=load_seconds)
    _, whole = meter.seconds()
    return {
        kind: {
            "cpu_seconds": round(seconds, 3),
            "ms_per_command": round(seconds * 1000 / commands, 2) if commands else None,
            "cores": round(during_load.get(kind, 0.0) / load_wall, 3)
            if load_wall
            else None,
        }
        for kind, seconds in sorted(
            whole.items(), key=lambda item: (item[0] == OTHER_WORK, -item[1])
        )
    }
