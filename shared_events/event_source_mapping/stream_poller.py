"""A stream mapping: one poller per shard, one batch in flight per shard.

Things a learner should notice:

* A batch holds records of ONE shard, in sequence order, and the next batch
  of that shard is not read into a handler before this one is done: that is
  what keeps per-key order (a key always goes to the same shard).
* ``BatchSize`` and ``MaximumBatchingWindowInSeconds``: records read are
  gathered until the batch is full or the window (started by the first record
  gathered) has passed; a window of 0 hands over whatever one read returned.
* A failed batch is retried in order, never skipped silently:

  - the handler raised (or answered something malformed): with
    ``BisectBatchOnFunctionError`` the batch is split in two and each half
    handled on its own, down to a batch of one, so a poison record ends up
    alone and its neighbours get through; splitting does not count as a retry;
  - the handler reported ``batchItemFailures``: the shard is checkpointed
    just before the lowest failed sequence number and retried from there
    (records after it are handed over again: handlers are idempotent);
  - after ``MaximumRetryAttempts`` retries the batch is discarded: its
    invocation record goes to the on-failure queue and the shard moves past it.

* The checkpoint moves only after a batch is done (handled, or discarded and
  reported), never when records are merely read. Each move sets how old the
  checkpointed record was (``event_source_mapping_checkpoint_lag_seconds``,
  AWS Lambda's IteratorAge): how far behind its stream the mapping runs.
"""

from __future__ import annotations

import dataclasses
import logging

from shared_events.event_source_mapping.aws_errors import is_expired_iterator
from shared_events.event_source_mapping.dynamodb_stream_source import (
    DynamoDBStreamSource,
)
from shared_events.event_source_mapping.invocation import Invocation, Outcome, invoke
from shared_events.event_source_mapping.kinesis_source import KinesisSource
from shared_events.event_source_mapping.mappings import SourceKind
from shared_events.event_source_mapping.on_failure import (
    invocation_record,
    send_invocation_record,
)
from shared_events.event_source_mapping.resolve import RunnableMapping, resolve_source
from shared_events.event_source_mapping.runtime import Runtime, StopRequested
from shared_events.event_source_mapping.shards import StreamRecord, StreamSource
from shared_events.telemetry.metrics import stream_checkpointed

logger = logging.getLogger(__name__)


def stream_source(runnable: RunnableMapping, runtime: Runtime) -> StreamSource:
    if runnable.mapping.source_kind is SourceKind.KINESIS:
        return KinesisSource(runnable, aws=runtime.aws)
    return DynamoDBStreamSource(runnable, aws=runtime.aws)


class StreamPoller:
    """Every shard of one stream mapping, polled in turn."""

    def __init__(self, runnable: RunnableMapping, runtime: Runtime) -> None:
        self.runnable = runnable
        self.runtime = runtime
        self.shards: list[ShardPoller] | None = None
        self.resolved = True

    @property
    def name(self) -> str:
        return self.runnable.name

    @property
    def pending(self) -> bool:
        return any(shard.buffer for shard in self.shards or ())

    def step(self, now: float) -> bool:
        if not self.resolved:
            source = resolve_source(self.runnable.mapping, aws=self.runtime.aws)
            self.runnable = dataclasses.replace(self.runnable, source=source)
            self.resolved = True
        if self.shards is None:
            self.shards = self._discover()
        busy = False
        for shard in self.shards:
            if self.runtime.stop.is_set():
                raise StopRequested
            busy = shard.step(now) or busy
        return busy

    def interrupted(self) -> None:
        """AWS failed mid-read. Start again from the checkpoints, with the stream
        looked up afresh: if moto restarted meanwhile, the stream of the same
        name is a new one, and the old positions must not be applied to it."""
        self.forget()

    def forget(self) -> None:
        """The stream is gone (moto restarted?): look it up again next time.

        A stream created again is another stream (another identity), so the
        checkpoints of the old one no longer apply to it.
        """
        self.resolved = False
        self.shards = None

    def _discover(self) -> list[ShardPoller]:
        source = stream_source(self.runnable, self.runtime)
        return [
            ShardPoller(source, shard_id, self.runtime)
            for shard_id in source.shard_ids()
        ]


class ShardPoller:
    """One shard of one mapping: its iterator, its gathered records, its batches."""

    def __init__(self, source: StreamSource, shard_id: str, runtime: Runtime) -> None:
        self.source = source
        self.shard_id = shard_id
        self.runtime = runtime
        self.mapping = source.runnable.mapping
        self.iterator: str | None = None
        self.closed = False
        self.buffer: list[StreamRecord] = []
        self.window_opened: float | None = None
        # Where reading resumes: the checkpoint, then the last record read.
        self.last_read = runtime.checkpoints.position(
            mapping=self.mapping.name,
            source=source.runnable.source.identity,
            shard=shard_id,
        )

    def step(self, now: float) -> bool:
        """Read once if the batch is not full; hand the batch over when due."""
        batch_size = self.mapping.batch_size
        assert batch_size is not None
        read_any = False
        if not self.closed and len(self.buffer) < batch_size:
            read_any = self._read(limit=batch_size - len(self.buffer), now=now)
        if not self.buffer or not self._due(now):
            return read_any
        batch, self.buffer = self.buffer[:batch_size], self.buffer[batch_size:]
        self.window_opened = now if self.buffer else None
        self.deliver(batch)
        return True

    def _read(self, *, limit: int, now: float) -> bool:
        if self.iterator is None:
            assert self.mapping.starting_position is not None
            self.iterator = self.source.iterator(
                self.shard_id,
                after=self.last_read,
                starting_position=self.mapping.starting_position,
            )
        try:
            read = self.source.read(self.shard_id, self.iterator, limit=limit)
        except Exception as error:
            self.iterator = None  # a fresh one next time, from what was read
            if is_expired_iterator(error):
                return False
            raise
        self.iterator = read.next_iterator
        self.closed = read.next_iterator is None
        if not read.records:
            return False
        self.buffer += read.records
        self.last_read = read.records[-1].sequence_number
        if self.window_opened is None:
            self.window_opened = now
        return True

    def _due(self, now: float) -> bool:
        window = self.mapping.maximum_batching_window_seconds
        assert self.mapping.batch_size is not None
        if window == 0 or len(self.buffer) >= self.mapping.batch_size or self.closed:
            return True
        return self.window_opened is not None and now - self.window_opened >= window

    def deliver(self, batch: list[StreamRecord]) -> None:
        """Hand ``batch`` over until it is done, retrying as the mapping says."""
        invocations = 0
        while True:
            if invocations:
                self.runtime.wait_before_retry(invocations=invocations)
            result = self._invoke(batch)
            invocations += 1
            if result.outcome is Outcome.SUCCESS:
                self._checkpoint(batch[-1])
                self.runtime.stats.records_done += len(batch)
                return
            if result.outcome is Outcome.PARTIAL_FAILURE:
                lowest = min(int(identifier) for identifier in result.failed)
                first_failed = next(
                    index
                    for index, record in enumerate(batch)
                    if record.position == lowest
                )
                if first_failed:
                    self._checkpoint(batch[first_failed - 1])
                    self.runtime.stats.records_done += first_failed
                    batch = batch[first_failed:]
            elif self.mapping.bisect_batch_on_function_error and len(batch) > 1:
                middle = (len(batch) + 1) // 2
                self.deliver(batch[:middle])
                self.deliver(batch[middle:])
                return
            if self.mapping.retries_exhausted(invocations=invocations):
                self._discard(batch, result, invocations=invocations)
                return

    def _invoke(self, batch: list[StreamRecord]) -> Invocation:
        stats = self.runtime.stats
        stats.invocations += 1
        result = invoke(
            self.source.runnable,
            self.source.event(batch),
            identifiers=[record.sequence_number for record in batch],
            by_sequence_number=True,
        )
        if result.outcome is Outcome.FUNCTION_ERROR:
            stats.function_errors += 1
        elif result.outcome is Outcome.PARTIAL_FAILURE:
            stats.partial_failures += 1
        return result

    def _discard(
        self, batch: list[StreamRecord], result: Invocation, *, invocations: int
    ) -> None:
        runnable = self.source.runnable
        record = invocation_record(
            source=self.source,
            records=batch,
            last_invocation=result,
            invocations=invocations,
        )
        queue_url = runnable.on_failure_queue_url
        if queue_url:
            self.runtime.call_aws(
                lambda: send_invocation_record(
                    record, queue_url=queue_url, aws=self.runtime.aws
                ),
                what=f"{runnable.name}: on-failure message",
            )
        logger.warning(
            "%s: gave up on %s %s-%s after %d invocations (%s); %s",
            runnable.name,
            self.shard_id,
            batch[0].sequence_number,
            batch[-1].sequence_number,
            invocations,
            result.error or "partial batch failure",
            "reported to the on-failure queue" if queue_url else "no on-failure queue",
        )
        self.runtime.stats.batches_discarded += 1
        self.runtime.stats.records_discarded += len(batch)
        self._checkpoint(batch[-1])

    def _checkpoint(self, record: StreamRecord) -> None:
        self.runtime.checkpoints.save(
            mapping=self.mapping.name,
            source=self.source.runnable.source.identity,
            shard=self.shard_id,
            sequence_number=record.sequence_number,
        )
        # How far behind its stream the mapping is: the record's age now.
        stream_checkpointed(mapping=self.mapping.name, arrival=record.arrival)
