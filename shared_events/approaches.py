"""The five approaches of the paper, as data.

Every other module asks this one what an approach means (which databases a
service owns, whether it is built yet) instead of comparing approach names
itself. Only each service's composition root (``bootstrap.py``) chooses
adapters from the approach.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Approach(StrEnum):
    SHARED_DB = "shared_db"
    DB_PER_SERVICE = "db_per_service"
    DIRECT_PUBLISH = "direct_publish"
    EVENT_SOURCING = "event_sourcing"
    CQRS_ES = "cqrs_es"


DEFAULT_APPROACH = Approach.DB_PER_SERVICE


class Persistence(StrEnum):
    """How a service persists its aggregates."""

    STATE = "state"  # a current-state table; the events are dropped
    DIRECT_PUBLISH = "direct_publish"  # state table, then publish after commit
    EVENT_SOURCED = "event_sourced"  # event store + transactional outbox


class EventStoreBackend(StrEnum):
    """Where an event-sourced service keeps its events (``EVENT_STORE``).

    Only meaningful where a service is event-sourced (approaches 4 and 5).
    """

    POSTGRES = "postgres"  # the event_store table, with a transactional outbox
    DYNAMODB = "dynamodb"  # one DynamoDB item per commit; its stream is the outbox


class CustomerLookup(StrEnum):
    """How the order service learns about a customer."""

    SHARED_TABLE = "shared_table"  # reads the customer table in the shared DB
    HTTP = "http"  # asks the customer service, synchronously
    REPLICA = "replica"  # its own copy, kept from events


@dataclass(frozen=True, kw_only=True)
class ApproachInfo:
    approach: Approach
    number: int
    title: str
    customer_persistence: Persistence
    order_persistence: Persistence
    customer_lookup: CustomerLookup
    customer_service_role: str
    order_service_role: str
    flaw: str
    # One database for both services (approach 1).
    shares_database: bool = False
    # Separate read databases with denormalized read models (CQRS).
    read_side: bool = False
    # A service refuses to start under an approach not built yet.
    built: bool = True

    @property
    def uses_events(self) -> bool:
        """Events cross the service boundary (approaches 3 to 5)."""
        return self.customer_persistence != Persistence.STATE

    @property
    def keeps_replica(self) -> bool:
        """The order service keeps its own copy of customers, fed by events."""
        return self.customer_lookup == CustomerLookup.REPLICA

    @property
    def asks_customer_service(self) -> bool:
        """The order service checks each customer with a synchronous call."""
        return self.customer_lookup == CustomerLookup.HTTP

    @property
    def publishes_directly(self) -> bool:
        """The customer service commits, then publishes: a dual write."""
        return self.customer_persistence == Persistence.DIRECT_PUBLISH

    def persistence(self, service: str) -> Persistence:
        """How ``service`` ("customer" or "order") persists its aggregates."""
        return {
            "customer": self.customer_persistence,
            "order": self.order_persistence,
        }[service]

    def event_sourced(self, service: str) -> bool:
        """``service`` keeps an event store and an outbox."""
        return self.persistence(service) == Persistence.EVENT_SOURCED

    @property
    def outbox_services(self) -> tuple[str, ...]:
        """The services whose events leave through a transactional outbox."""
        return tuple(
            service for service in ("customer", "order") if self.event_sourced(service)
        )

    @property
    def label(self) -> str:
        return (
            f"{self.approach.value} ({self.number} of {len(APPROACHES)}: {self.title})"
        )


APPROACHES: dict[Approach, ApproachInfo] = {
    info.approach: info
    for info in [
        ApproachInfo(
            approach=Approach.SHARED_DB,
            number=1,
            title="shared database",
            shares_database=True,
            customer_persistence=Persistence.STATE,
            order_persistence=Persistence.STATE,
            customer_lookup=CustomerLookup.SHARED_TABLE,
            customer_service_role=(
                "writes the customer table in the one shared database"
            ),
            order_service_role=(
                "writes orders in the same database; orders.customer_id is a real "
                "foreign key (ON DELETE CASCADE) and customer names are read "
                "straight from the customer table"
            ),
            flaw=(
                "schema coupling: the order service breaks when the customer "
                "table changes shape"
            ),
        ),
        ApproachInfo(
            approach=Approach.DB_PER_SERVICE,
            number=2,
            title="database per service",
            customer_persistence=Persistence.STATE,
            order_persistence=Persistence.STATE,
            customer_lookup=CustomerLookup.HTTP,
            customer_service_role=(
                "owns its own database and serves customers over REST"
            ),
            order_service_role=(
                "owns its own database; checks each customer with a synchronous "
                "HTTP call to the customer service (bounded timeout)"
            ),
            flaw=(
                "orphan orders after a customer is deleted, and order placement "
                "fails (503) while the customer service is down"
            ),
        ),
        ApproachInfo(
            approach=Approach.DIRECT_PUBLISH,
            number=3,
            title="direct publish (dual write)",
            customer_persistence=Persistence.DIRECT_PUBLISH,
            order_persistence=Persistence.STATE,
            customer_lookup=CustomerLookup.REPLICA,
            customer_service_role=(
                "commits, then publishes each event straight to the broker"
            ),
            order_service_role=(
                "keeps a local customer replica from events; cancels a deleted "
                "customer's orders"
            ),
            flaw="a crash between commit and publish loses the event for good",
        ),
        ApproachInfo(
            approach=Approach.EVENT_SOURCING,
            number=4,
            title="event sourcing",
            customer_persistence=Persistence.EVENT_SOURCED,
            order_persistence=Persistence.EVENT_SOURCED,
            customer_lookup=CustomerLookup.REPLICA,
            customer_service_role=(
                "appends events to its event store; a transactional outbox and a "
                "Celery relay publish them"
            ),
            order_service_role="consumes events and keeps a local replica",
            flaw="eventual consistency: a measurable lag, more storage",
        ),
        ApproachInfo(
            approach=Approach.CQRS_ES,
            number=5,
            title="CQRS with event sourcing",
            customer_persistence=Persistence.EVENT_SOURCED,
            order_persistence=Persistence.EVENT_SOURCED,
            customer_lookup=CustomerLookup.REPLICA,
            read_side=True,
            customer_service_role=(
                "event store and outbox on the write side; CustomerSummary read "
                "model in a separate read database"
            ),
            order_service_role=(
                "event store and outbox on the write side; OrderView read model in "
                "a separate read database"
            ),
            flaw="extra infrastructure: more databases and processes",
        ),
    ]
}


class UnknownApproach(ValueError):
    def __init__(self, value: str) -> None:
        valid = ", ".join(a.value for a in Approach)
        super().__init__(f"unknown approach {value!r}; valid approaches: {valid}")
        self.value = value


class ApproachNotBuilt(RuntimeError):
    def __init__(self, approach: Approach) -> None:
        built = ", ".join(a.value for a, info in APPROACHES.items() if info.built)
        super().__init__(
            f"approach {approach.value!r} is not built yet in this version of the "
            f"platform; built approaches: {built}"
        )
        self.approach = approach


def parse_approach(value: str) -> Approach:
    """Turn a setting or command-line value into an Approach, or refuse it."""
    try:
        return Approach(value.strip())
    except ValueError:
        raise UnknownApproach(value) from None


def approach_info(approach: Approach | str) -> ApproachInfo:
    if not isinstance(approach, Approach):
        approach = parse_approach(approach)
    return APPROACHES[approach]


def require_built(approach: Approach) -> ApproachInfo:
    """Return the approach's info, or raise ApproachNotBuilt.

    A service refuses to start under an approach that is not built yet, rather
    than silently behaving like another one.
    """
    info = APPROACHES[approach]
    if not info.built:
        raise ApproachNotBuilt(approach)
    return info
