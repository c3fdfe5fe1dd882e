"""What both composition roots share.

Each service has a leaf module ``wiring.py`` (the dataclass of its adapters,
which its services, selectors and handlers import) and a composition root
``bootstrap.py`` (``build_wiring(approach)``: the only place that chooses
adapters from the approach). The root installs its builder into the wiring
module from the app's ``AppConfig.ready()``, as eventsourcing-django builds
its application there. Nothing below the root imports it.

This module holds the parts of that which do not depend on the service:

- ``InstalledWiring``: the slot a service's wiring lives in; built once per
  approach on first use, swapped adapter by adapter in tests;
- ``service_wiring()``: the running service's wiring, for what
  ``shared_events`` runs on a service's behalf (the relay, the consumer, the
  rebuild command);
- the builders both roots use: a service's write side (its aggregates'
  repository, their history, the outbox relay's publisher) and its read side
  (the projection handlers, or why the approach keeps no read models).

The event store is chosen here too, from ``EVENT_STORE``: PostgreSQL's
``event_store`` with its outbox and relay, or a DynamoDB table whose stream
is the outbox (no relay: ``outbox_publisher`` answers None).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Generic, TypeVar
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shared_events.approaches import (
    APPROACHES,
    Approach,
    ApproachInfo,
    EventStoreBackend,
    Persistence,
    approach_info,
    parse_approach,
)
from shared_events.consume import Handler
from shared_events.errors import ApplicationError
from shared_events.transport import EventPublisher, client, messaging
from shared_events.write_side import (
    Aggregate,
    AggregateHistory,
    ConcurrencyConflict,
    DirectPublishRepository,
    EventSourcedRepository,
    EventStoreHistory,
    NoHistory,
    Repository,
    StateTable,
    StateTableRepository,
    state_only_reason,
)
from shared_events.write_side.dynamodb import (
    DynamoDBEventSourcedRepository,
    DynamoDBEventStoreHistory,
    EventTable,
)

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)
W = TypeVar("W", bound="ServiceWiring")


@dataclass(frozen=True, kw_only=True)
class ServiceWiring:
    """What every service's wiring holds; each service's adds its own ports."""

    approach: Approach
    # What the outbox relay publishes with; None where there is no outbox.
    publisher_factory: Callable[[], EventPublisher] | None
    # What the service's consumer runs for each event type.
    event_handlers: Mapping[str, Sequence[Handler]]
    # What the read-side consumer projects into the read database (approach 5).
    projection_handlers: Mapping[str, Sequence[Handler]] = field(default_factory=dict)
    # Why the approach keeps no read models (the query API answers 404 with
    # it); None under approach 5.
    no_read_models: str | None = None
    # Per aggregate type: what brings its state row up to a commit that the
    # event table's stream carries (EVENT_STORE=dynamodb; ``publish_committed``
    # calls it with the aggregate's id and the commit's last version).
    state_keepers: Mapping[str, Callable[[UUID, int], object]] = field(
        default_factory=dict
    )

    def keep_state(self, aggregate_type: str, aggregate_id: str, version: int) -> None:
        """Run the aggregate type's state keeper (``publish_committed``).

        A row that cannot take the folded state (another writer got there
        first, or a unique index refuses it, as for a second registration of
        an email whose first one's answer was lost) is logged and left: a
        retry would stall the table's stream for good, and the events are
        the truth. Anything else (the database down) is raised, to retry.
        """
        keeper = self.state_keepers.get(aggregate_type)
        if keeper is None:
            return
        try:
            keeper(UUID(aggregate_id), version)
        except (ApplicationError, ConcurrencyConflict) as error:
            logger.error(
                "%s %s: the state row cannot be brought up to version %d (%s); "
                "its commit is published anyway",
                aggregate_type,
                aggregate_id,
                version,
                error,
            )

    @property
    def event_publisher(self) -> EventPublisher | None:
        return self.publisher_factory() if self.publisher_factory else None


class WiringNotInstalled(RuntimeError):
    pass


# The wiring installed last: the service this process runs.
_running: InstalledWiring | None = None


class InstalledWiring(Generic[W]):
    """A service's wiring: built by the installed builder, once per approach.

    ``install`` is called by the composition root (from ``AppConfig.ready()``);
    ``current`` by the code that uses the adapters; ``overridden`` by tests
    that swap one adapter for a fake.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._build: Callable[[Approach], W] | None = None
        self._cache: dict[Approach, W] = {}
        self._override: W | None = None

    def install(self, build: Callable[[Approach], W]) -> None:
        global _running
        self._build = build
        self._cache.clear()
        _running = self

    def current(self) -> W:
        """The adapters for the current approach (``ARCHITECTURE_APPROACH``)."""
        if self._override is not None:
            return self._override
        if self._build is None:
            raise WiringNotInstalled(
                f"the {self.service} service's wiring is not installed: its "
                "bootstrap.install() runs from the app's AppConfig.ready()"
            )
        approach = parse_approach(settings.ARCHITECTURE_APPROACH)
        if approach not in self._cache:
            self._cache[approach] = self._build(approach)
        return self._cache[approach]

    @contextmanager
    def overridden(self, **adapters) -> Iterator[W]:
        """Swap adapters for a test, e.g. ``overridden(customer_directory=fake)``."""
        previous = self._override
        self._override = replace(self.current(), **adapters)
        try:
            yield self._override
        finally:
            self._override = previous


def service_wiring() -> ServiceWiring:
    """The wiring of the service this process runs (installed at start-up)."""
    if _running is None:
        raise WiringNotInstalled(
            "no service's wiring is installed: run this under a service's settings"
        )
    return _running.current()


# The builders both composition roots use ------------------------------------------


@dataclass(frozen=True)
class WriteSide(Generic[A]):
    """A service's write-side adapters under one approach."""

    repository: Repository[A]
    history: AggregateHistory[A]
    publisher_factory: Callable[[], EventPublisher] | None


def write_side(
    *,
    info: ApproachInfo,
    service: str,
    aggregate_class: type[A],
    table: StateTable[A],
    wake_relay: Callable[[], None],
) -> WriteSide[A]:
    """Where ``service`` keeps its aggregates, reads their history, publishes.

    ``wake_relay`` is what an event-sourced save calls after commit (the
    relay worker's wake-up); a test or a benchmark without a relay passes a
    no-op. ``EVENT_STORE`` says where an event-sourced service's events go.
    """
    store = event_store_backend()
    repository = aggregate_repository(
        persistence=info.persistence(service),
        aggregate_class=aggregate_class,
        table=table,
        producer=service,
        wake_relay=wake_relay,
        fault=settings.FAULT_INJECTION,
        store=store,
    )
    return WriteSide(
        repository=repository,
        history=aggregate_history(info=info, service=service, repository=repository),
        publisher_factory=outbox_publisher(info=info, service=service, store=store),
    )


def event_store_backend() -> EventStoreBackend:
    """The ``EVENT_STORE`` setting (``shared_events.checks`` explains a bad one)."""
    try:
        return EventStoreBackend(settings.EVENT_STORE)
    except ValueError:
        known = ", ".join(backend.value for backend in EventStoreBackend)
        raise ImproperlyConfigured(
            f"EVENT_STORE={settings.EVENT_STORE!r} is not one of {known}"
        ) from None


def event_table(service: str) -> EventTable:
    """``service``'s DynamoDB event table, on the configured AWS endpoint."""
    return EventTable(
        name=messaging.topology().event_table_name(service),
        client=client("dynamodb", messaging.aws_settings()),
    )


def event_tables() -> list[EventTable]:
    """The event tables the running configuration needs: one per event-sourced
    service under ``EVENT_STORE=dynamodb``, none otherwise (``aws_bootstrap``
    creates them)."""
    if event_store_backend() != EventStoreBackend.DYNAMODB:
        return []
    info = approach_info(settings.ARCHITECTURE_APPROACH)
    return [event_table(service) for service in info.outbox_services]


def read_side(*, info: ApproachInfo, handlers: Mapping[str, Sequence[Handler]]) -> dict:
    """The read side's wiring: ``handlers`` under approach 5, else why there is none.

    Keyword arguments for a service's wiring (``projection_handlers``,
    ``no_read_models``).
    """
    if info.read_side:
        return {"projection_handlers": handlers, "no_read_models": None}
    keeping = [other.label for other in APPROACHES.values() if other.read_side]
    return {
        "projection_handlers": {},
        "no_read_models": (
            f"approach {info.label} keeps no read models: queries are answered "
            f"from the write side. Read models come with {', '.join(keeping)}."
        ),
    }


def aggregate_repository(
    *,
    persistence: Persistence,
    aggregate_class: type[A],
    table: StateTable[A],
    producer: str,
    wake_relay: Callable[[], None],
    fault: str,
    store: EventStoreBackend = EventStoreBackend.POSTGRES,
) -> Repository[A]:
    """Where a service's aggregates go under ``persistence`` (and ``store``)."""
    match persistence:
        case Persistence.STATE:
            return StateTableRepository(table=table, producer=producer)
        case Persistence.DIRECT_PUBLISH:
            return DirectPublishRepository(
                table=table,
                producer=producer,
                publish=partial(messaging.publish_now, producer),
                fault=fault,
            )
        case Persistence.EVENT_SOURCED if store == EventStoreBackend.DYNAMODB:
            return DynamoDBEventSourcedRepository(
                aggregate_class=aggregate_class,
                table=table,
                events=event_table(producer),
                producer=producer,
                fault=fault,
            )
        case Persistence.EVENT_SOURCED:
            return EventSourcedRepository(
                aggregate_class=aggregate_class,
                table=table,
                producer=producer,
                wake_relay=wake_relay,
                fault=fault,
            )
    raise ValueError(f"unknown persistence {persistence!r}")


def aggregate_history(
    *, info: ApproachInfo, service: str, repository: Repository[A]
) -> AggregateHistory[A]:
    """The event store where ``service`` keeps one; else NoHistory, saying why."""
    if isinstance(repository, DynamoDBEventSourcedRepository):
        return DynamoDBEventStoreHistory(repository=repository)
    if info.event_sourced(service):
        return EventStoreHistory(repository=repository)
    keeping = [
        other.approach.value
        for other in APPROACHES.values()
        if other.event_sourced(service)
    ]
    return NoHistory(
        reason=state_only_reason(
            approach_label=info.label, aggregate=service, keeping=keeping
        )
    )


def outbox_publisher(
    *,
    info: ApproachInfo,
    service: str,
    store: EventStoreBackend = EventStoreBackend.POSTGRES,
) -> Callable[[], EventPublisher] | None:
    """What the outbox relay publishes with; None where there is no outbox.

    Under ``EVENT_STORE=dynamodb`` the table's stream is the outbox, and its
    handler (``<service>.functions.publish_committed``) publishes: no relay.
    """
    if service not in info.outbox_services or store == EventStoreBackend.DYNAMODB:
        return None
    return partial(messaging.event_publisher, service)
