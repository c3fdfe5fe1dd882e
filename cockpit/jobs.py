"""The cockpit's jobs: long work (a platform switch, a lab scenario) run in a
background thread, one at a time, each with an id, a state, timestamped
progress lines and a result.

What a learner should notice: a page never waits for a platform to start.
It asks for a job, gets its id at once, and polls the job's progress; a
second job asked for while one runs is refused with the reason (the web
answers 409), never queued behind it, so what the page shows is what runs.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Progress = Callable[[str], None]
Work = Callable[[Progress], Any]


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRefused(RuntimeError):
    """A job asked for while another runs (or that cannot run now): why."""


@dataclass
class Job:
    id: int
    kind: str
    title: str
    state: JobState = JobState.RUNNING
    #: (seconds since the epoch, line), in the order the work said them.
    lines: list[tuple[float, str]] = field(default_factory=list)
    result: Any = None
    error: str = ""
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    #: Also told every line (``manage.py cockpit`` prints them).
    echo: Progress | None = field(default=None, repr=False)

    def say(self, line: str) -> None:
        self.lines.append((time.time(), line))
        if self.echo is not None:
            self.echo(f"[job {self.id}] {line}")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": self.state.value,
            "lines": [
                {"at": time.strftime("%H:%M:%SZ", time.gmtime(at)), "line": line}
                for at, line in self.lines
            ],
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


class JobBoard:
    """Runs at most one job at a time, and remembers every job by its id."""

    def __init__(self, *, echo: Progress | None = None) -> None:
        self._echo = echo
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}
        self._running: Job | None = None
        self._thread: threading.Thread | None = None

    def start(self, *, kind: str, title: str, work: Work) -> Job:
        """Start ``work(progress)`` in a thread as a new job; ``JobRefused``
        if a job runs."""
        with self._lock:
            if self._running is not None:
                running = self._running
                raise JobRefused(
                    f"job {running.id} ({running.title}) is still running: "
                    "wait until it is done"
                )
            job = Job(id=next(self._ids), kind=kind, title=title, echo=self._echo)
            self._jobs[job.id] = job
            self._running = job
            self._thread = threading.Thread(
                target=self._run,
                args=(job, work),
                name=f"cockpit-job-{job.id}",
                # The cockpit's stop waits for it (``CockpitController.stop``).
                daemon=True,
            )
        job.say(f"started: {title}")
        self._thread.start()
        return job

    def _run(self, job: Job, work: Work) -> None:
        try:
            job.result = work(job.say)
        except Exception as error:  # the job fails, the cockpit carries on
            job.error = f"{type(error).__name__}: {error}"
            job.say(f"failed: {job.error}")
            job.state = JobState.FAILED
        else:
            job.say("done")
            job.state = JobState.DONE
        finally:
            job.finished_at = time.time()
            with self._lock:
                self._running = None

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        return self._running

    def latest(self, kind: str) -> Job | None:
        """The newest job of this kind, running or not."""
        of_kind = [job for job in self._jobs.values() if job.kind == kind]
        return max(of_kind, key=lambda job: job.id, default=None)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the running job (if any) has ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
