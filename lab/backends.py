"""What the lab runs a scenario on: an approach, and the backends it uses.

The paper draws approaches 4 and 5 on AWS in three pictures: SNS fanning
out to SQS (the platform's default), Kinesis Data Streams consumed by
Lambda, and DynamoDB whose stream drives Lambda into an Aurora read store.
Two settings choose the picture (``EVENT_DELIVERY``, ``EVENT_STORE``); a
``Backend`` is one approach with one choice of each, written on the command
line as ``APPROACH[:DELIVERY[:STORE]]`` (``cqrs_es:kinesis:dynamodb``).

What a learner should notice: the same scenario, under the same approach,
on another backend, must keep the same guarantees (nothing lost, no effect
twice); only where events wait and how long they take may change. The
report names the backend of every row so the two can be told apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_events.approaches import Approach, EventStoreBackend, approach_info
from shared_events.transport.topology import DELIVERIES

DEFAULT_DELIVERY = "sns"
DEFAULT_STORE = EventStoreBackend.POSTGRES.value
STORES = tuple(store.value for store in EventStoreBackend)

# How each backend reads in a report: where events travel, where they are kept.
DELIVERY_LABELS = {"sns": "SNS + SQS", "sqs": "SQS", "kinesis": "Kinesis"}
STORE_LABELS = {"postgres": "PostgreSQL", "dynamodb": "DynamoDB Streams"}


class BackendError(ValueError):
    """A backend combination that cannot run; the message says why."""


@dataclass(frozen=True)
class Backend:
    approach: str
    delivery: str = DEFAULT_DELIVERY
    store: str = DEFAULT_STORE

    def __post_init__(self) -> None:
        info = approach_info(self.approach)  # refuses an unknown approach
        object.__setattr__(self, "approach", info.approach.value)
        if self.delivery not in DELIVERIES:
            raise BackendError(
                f"delivery {self.delivery!r} is not one of {', '.join(DELIVERIES)}"
            )
        if self.store not in STORES:
            raise BackendError(
                f"store {self.store!r} is not one of {', '.join(STORES)}"
            )
        if self.delivery != DEFAULT_DELIVERY and not info.uses_events:
            raise BackendError(
                f"{self.approach} sends no events: EVENT_DELIVERY applies to "
                "approaches 3 to 5 only"
            )
        if self.store != DEFAULT_STORE and not info.outbox_services:
            raise BackendError(
                f"{self.approach} keeps no event store: EVENT_STORE applies to "
                "event_sourcing and cqrs_es only"
            )

    @classmethod
    def parse(cls, text: str) -> Backend:
        """``APPROACH[:DELIVERY[:STORE]]``, e.g. ``cqrs_es:kinesis:dynamodb``."""
        parts = text.split(":")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise BackendError(
                f"{text!r}: expected APPROACH[:DELIVERY[:STORE]], "
                "e.g. cqrs_es:kinesis:dynamodb"
            )
        try:
            Approach(parts[0])
        except ValueError:
            raise BackendError(
                f"{text!r}: unknown approach {parts[0]!r} "
                f"(one of {', '.join(a.value for a in Approach)})"
            ) from None
        return cls(*parts)

    @property
    def is_default(self) -> bool:
        return (self.delivery, self.store) == (DEFAULT_DELIVERY, DEFAULT_STORE)

    @property
    def spec(self) -> str:
        """The command line's spelling: ``cqrs_es:kinesis:dynamodb``."""
        return f"{self.approach}:{self.delivery}:{self.store}"

    @property
    def label(self) -> str:
        """How a report names the row: the approach alone on the default
        backends, else with them, e.g. ``cqrs_es (Kinesis + DynamoDB Streams)``."""
        if self.is_default:
            return self.approach
        parts = [DELIVERY_LABELS[self.delivery]]
        if self.store != DEFAULT_STORE:
            parts.append(STORE_LABELS[self.store])
        return f"{self.approach} ({' + '.join(parts)})"

    def environment(self) -> dict[str, str]:
        """The platform's settings for these backends."""
        return {"EVENT_DELIVERY": self.delivery, "EVENT_STORE": self.store}


def applies_to(approach: str, *, delivery: str, store: str) -> bool:
    """Whether ``approach`` can run with these backends."""
    try:
        Backend(approach, delivery, store)
    except BackendError:
        return False
    return True


#: The paper's AWS figure, the row block ``make demo`` adds: DynamoDB whose
#: stream is the outbox, Kinesis between the services, Lambda functions
#: (the local event source mapping runner) projecting into the read store.
AWS_FIGURE = Backend("cqrs_es", "kinesis", "dynamodb")
