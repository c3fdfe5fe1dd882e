"""What every poller of one runner shares: settings, checkpoints, the stop
signal, the counters, and the two kinds of waiting.

Things a learner should notice:

* Stopping is cooperative. A ``threading.Event`` is checked between batches
  and between retries, never in the middle of a handler call: the batch in
  hand finishes, and whatever was not checkpointed is handed over again by
  the next run.
* Two waits, two reasons. Before retrying a failed batch the runner waits a
  little longer each time (the handler's database may be restarting); when
  AWS itself does not answer, an AWS call is retried with a growing pause
  instead of being given up, so a broker outage delays work and loses none.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from shared_events.event_source_mapping.aws_errors import is_transient
from shared_events.event_source_mapping.checkpoints import CheckpointStore
from shared_events.transport.clients import AwsSettings

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


class StopRequested(Exception):
    """The runner was asked to stop while a batch waited; it is not checkpointed."""


@dataclass
class RunnerStats:
    invocations: int = 0
    records_done: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    batches_discarded: int = 0
    records_discarded: int = 0
    aws_outages: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in vars(self).items())


@dataclass
class Runtime:
    aws: AwsSettings
    checkpoints: CheckpointStore
    stop: threading.Event = field(default_factory=threading.Event)
    stats: RunnerStats = field(default_factory=RunnerStats)
    #: First pause before retrying a failed batch; doubled each retry, capped.
    retry_delay_seconds: float = 0.05
    max_retry_delay_seconds: float = 2.0
    #: First pause after AWS did not answer; doubled each time, capped.
    outage_delay_seconds: float = 0.2
    max_outage_delay_seconds: float = 10.0

    def wait_before_retry(self, *, invocations: int) -> None:
        """Pause before invocation ``invocations + 1`` of a failed batch."""
        delay = min(
            self.retry_delay_seconds * 2 ** (invocations - 1),
            self.max_retry_delay_seconds,
        )
        if self.stop.wait(delay):
            raise StopRequested

    def wait_out_outage(self, *, failures: int) -> None:
        delay = min(
            self.outage_delay_seconds * 2 ** (failures - 1),
            self.max_outage_delay_seconds,
        )
        self.stop.wait(delay)

    def call_aws(self, call: Callable[[], Result], *, what: str) -> Result:
        """Make an AWS call that must not be skipped (a delete, an on-failure
        message), retrying it while AWS does not answer."""
        failures = 0
        while True:
            try:
                return call()
            except Exception as error:
                if not is_transient(error):
                    raise
                failures += 1
                self.stats.aws_outages += 1
                logger.warning("%s: AWS did not answer (%s); retrying", what, error)
                if self.stop.is_set():
                    raise StopRequested from error
                self.wait_out_outage(failures=failures)
