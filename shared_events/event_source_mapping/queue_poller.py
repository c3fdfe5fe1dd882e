"""An SQS mapping: gather a batch, hand it over, delete what succeeded.

Things a learner should notice:

* ``BatchSize`` may exceed the 10 messages one ``ReceiveMessage`` returns:
  receives are repeated to fill the batch within
  ``MaximumBatchingWindowInSeconds`` (AWS requires a window of at least one
  second for batches over 10). A window of 0 hands over what one receive got.
* There is no checkpoint and no retry loop here: a message that failed is not
  deleted, so SQS itself hands it over again after its visibility timeout,
  and the queue's redrive policy ends the retries. Gathering for longer than
  the visibility timeout would let messages come back while still in hand:
  keep the window well below it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from shared_events.event_source_mapping.invocation import Outcome, invoke
from shared_events.event_source_mapping.mappings import EventSourceMapping
from shared_events.event_source_mapping.resolve import RunnableMapping, resolve_source
from shared_events.event_source_mapping.runtime import Runtime
from shared_events.event_source_mapping.sqs_source import (
    MAX_MESSAGES_PER_RECEIVE,
    QueueSource,
)


class QueuePoller:
    """One SQS mapping."""

    def __init__(self, runnable: RunnableMapping, runtime: Runtime) -> None:
        self.runtime = runtime
        self.source = QueueSource(runnable, aws=runtime.aws)
        self.buffer: list[dict[str, Any]] = []
        self.window_opened: float | None = None
        self.resolved = True

    @property
    def name(self) -> str:
        return self.source.runnable.name

    @property
    def mapping(self) -> EventSourceMapping:
        return self.source.runnable.mapping

    @property
    def pending(self) -> bool:
        return bool(self.buffer)

    def step(self, now: float) -> bool:
        if not self.resolved:
            runnable = self.source.runnable
            source = resolve_source(runnable.mapping, aws=self.runtime.aws)
            self.source = QueueSource(
                dataclasses.replace(runnable, source=source), aws=self.runtime.aws
            )
            self.resolved = True
        received = self._gather(now)
        if not self.buffer or not self._due(now):
            return received
        batch_size = self.mapping.batch_size
        batch, self.buffer = self.buffer[:batch_size], self.buffer[batch_size:]
        self.window_opened = now if self.buffer else None
        self.deliver(batch)
        return True

    def interrupted(self) -> None:
        """Nothing to reset: an SQS receive holds no position."""

    def forget(self) -> None:
        """The queue is gone (moto restarted?): look it up again next time.
        Messages in hand are dropped: their receipt handles died with it."""
        self.resolved = False
        self.buffer = []
        self.window_opened = None

    def _gather(self, now: float) -> bool:
        batch_size = self.mapping.batch_size
        one_receive = self.mapping.maximum_batching_window_seconds == 0
        received_any = False
        while len(self.buffer) < batch_size:
            wanted = min(batch_size - len(self.buffer), MAX_MESSAGES_PER_RECEIVE)
            records = self.source.receive(limit=wanted)
            if records:
                received_any = True
                self.buffer += records
                if self.window_opened is None:
                    self.window_opened = now
            # The queue has no more for now, or the window is 0: stop here.
            if one_receive or len(records) < wanted:
                break
        return received_any

    def _due(self, now: float) -> bool:
        window = self.mapping.maximum_batching_window_seconds
        if window == 0 or len(self.buffer) >= self.mapping.batch_size:
            return True
        return self.window_opened is not None and now - self.window_opened >= window

    def deliver(self, batch: list[dict[str, Any]]) -> None:
        stats = self.runtime.stats
        stats.invocations += 1
        result = invoke(
            self.source.runnable,
            self.source.event(batch),
            identifiers=[record["messageId"] for record in batch],
            by_sequence_number=False,
        )
        if result.outcome is Outcome.SUCCESS:
            succeeded = batch
        elif result.outcome is Outcome.PARTIAL_FAILURE:
            stats.partial_failures += 1
            failed = set(result.failed)
            succeeded = [
                record for record in batch if record["messageId"] not in failed
            ]
        else:
            stats.function_errors += 1
            succeeded = []
        if succeeded:
            self.runtime.call_aws(
                lambda: self.source.delete(succeeded), what=f"{self.name}: delete"
            )
        stats.records_done += len(succeeded)
