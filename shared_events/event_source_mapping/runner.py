"""The local event source mapping runner: Lambda's poller, in one process.

On AWS, Lambda's event source mappings poll SQS, Kinesis and DynamoDB Streams
and invoke a function with batches. moto cannot run a function without
Docker, and its own mappings do not behave like AWS's (they delete SQS
messages, empty DynamoDB streams, run per record inside ``PutRecords``), so
the platform never creates one on moto. This runner polls moto (or AWS) over
HTTP itself and calls the same handler modules in-process, with AWS's
semantics.

Things a learner should notice:

* One thread polls every queue and every shard in turn, so each shard has at
  most one batch in flight and its order is kept; a busy round is followed
  at once by the next, an idle one by ``poll_interval_seconds`` of sleep (that
  sleep is part of the lag a reader measures).
* Failures are sorted, never swallowed: a handler's failure follows the
  mapping's retry rules (``stream_poller``, ``queue_poller``); AWS not
  answering pauses the runner with a growing delay; a source that vanished is
  looked up again; anything else (a bug) stops the runner loudly.
* ``stop`` (a ``threading.Event``, set by SIGTERM/SIGINT in the command) lets
  the batch in hand finish; the checkpoints say where the next run resumes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from shared_events.event_source_mapping.aws_errors import is_source_gone, is_transient
from shared_events.event_source_mapping.checkpoints import CheckpointStore
from shared_events.event_source_mapping.queue_poller import QueuePoller
from shared_events.event_source_mapping.resolve import RunnableMapping
from shared_events.event_source_mapping.runtime import (
    RunnerStats,
    Runtime,
    StopRequested,
)
from shared_events.event_source_mapping.stream_poller import StreamPoller
from shared_events.transport.clients import AwsSettings

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL_SECONDS = 0.2


class MappingRunner:
    """Runs resolved mappings until ``stop`` is set (or, on request, until idle).

    ``checkpoint_file`` keeps each (mapping, shard) position between runs;
    give each runner a file of its own. ``retry_delay_seconds`` is the first
    pause before a failed batch is retried, ``outage_delay_seconds`` the first
    pause when AWS does not answer; both double each time, up to a cap.
    """

    def __init__(
        self,
        mappings: Sequence[RunnableMapping],
        *,
        aws: AwsSettings,
        checkpoint_file: Path,
        stop: threading.Event | None = None,
        poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS,
        retry_delay_seconds: float = 0.05,
        outage_delay_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [runnable.name for runnable in mappings]
        if len(set(names)) != len(names):
            raise ValueError(f"mapping names must be unique: {names}")
        self.runtime = Runtime(
            aws=aws,
            checkpoints=CheckpointStore(checkpoint_file),
            stop=stop or threading.Event(),
            retry_delay_seconds=retry_delay_seconds,
            outage_delay_seconds=outage_delay_seconds,
        )
        self.poll_interval_seconds = poll_interval_seconds
        self.clock = clock
        self.pollers: list[StreamPoller | QueuePoller] = [
            StreamPoller(runnable, self.runtime)
            if runnable.mapping.is_stream
            else QueuePoller(runnable, self.runtime)
            for runnable in mappings
        ]
        # Consecutive failed steps per mapping: the pause grows with them.
        self._outages: dict[str, int] = {}

    @property
    def stop(self) -> threading.Event:
        return self.runtime.stop

    @property
    def stats(self) -> RunnerStats:
        return self.runtime.stats

    @property
    def checkpoints(self) -> CheckpointStore:
        return self.runtime.checkpoints

    @property
    def pending(self) -> bool:
        """Are records gathered and waiting for their batching window?"""
        return any(poller.pending for poller in self.pollers)

    def run(self, *, until_idle: bool = False) -> RunnerStats:
        """Poll until ``stop`` is set; with ``until_idle``, also until a round
        reads nothing and no batch is waiting for its window."""
        while not self.stop.is_set():
            try:
                busy = self.poll_once()
            except StopRequested:
                break
            if busy:
                continue
            if until_idle and not self.pending:
                break
            self.stop.wait(self.poll_interval_seconds)
        return self.stats

    def poll_once(self) -> bool:
        """One round over every mapping (and shard); True if it did anything,
        or if AWS failed (an outage is not idleness)."""
        busy = False
        for poller in self.pollers:
            if self.stop.is_set():
                raise StopRequested
            try:
                busy = poller.step(self.clock()) or busy
            except StopRequested:
                raise
            except Exception as error:
                self._recover(poller, error)
                busy = True
            else:
                self._outages.pop(poller.name, None)
        return busy

    def _recover(self, poller: StreamPoller | QueuePoller, error: Exception) -> None:
        if is_source_gone(error):
            logger.warning(
                "%s: source not found (%s); will look again", poller.name, error
            )
            poller.forget()
        elif is_transient(error):
            logger.warning("%s: AWS did not answer (%s); pausing", poller.name, error)
            poller.interrupted()
        else:
            raise error
        failures = self._outages[poller.name] = self._outages.get(poller.name, 0) + 1
        self.stats.aws_outages += 1
        self.runtime.wait_out_outage(failures=failures)
