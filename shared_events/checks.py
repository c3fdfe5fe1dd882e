"""System checks: an approach not built; a relay wake-up, delivery or store not
known; event keys missing or unreadable.

A service's own configuration is checked in ``service_kit.checks``.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from shared_events import event_keys
from shared_events.approaches import (
    APPROACHES,
    ApproachNotBuilt,
    EventStoreBackend,
    Persistence,
    UnknownApproach,
    approach_info,
    parse_approach,
    require_built,
)
from shared_events.events import PRODUCERS
from shared_events.transport.topology import (
    DELIVERIES,
    TopologyError,
    platform_topology,
)


@checks.register()
def check_approach_is_built(app_configs, **kwargs):
    try:
        require_built(parse_approach(settings.ARCHITECTURE_APPROACH))
    except ApproachNotBuilt as error:
        return [checks.Error(str(error), id="shared_events.E001")]
    return []


RELAY_WAKES = ("notify", "celery")


@checks.register()
def check_relay_wake(app_configs, **kwargs):
    wake = getattr(settings, "EVENT_RELAY_WAKE", "notify")
    if wake not in RELAY_WAKES:
        return [
            checks.Error(
                f"EVENT_RELAY_WAKE={wake!r} is not one of {', '.join(RELAY_WAKES)}",
                hint="notify: PostgreSQL NOTIFY wakes the relay (the default); "
                "celery: a relay task per commit, through the Celery broker",
                id="shared_events.E002",
            )
        ]
    return []


@checks.register()
def check_event_delivery(app_configs, **kwargs):
    """An unknown EVENT_DELIVERY, FIFO on Kinesis or a shard count out of range
    would only fail at the first publish; say so at start-up instead."""
    delivery = getattr(settings, "EVENT_DELIVERY", "sns")
    if delivery not in DELIVERIES:
        return [
            checks.Error(
                f"EVENT_DELIVERY={delivery!r} is not one of {', '.join(DELIVERIES)}",
                hint="sns: a topic per producer fanning out to SQS inboxes (the "
                "default); sqs: the producer sends to every inbox itself; kinesis: "
                "a stream per producer, read by the event source mapping runner",
                id="shared_events.E004",
            )
        ]
    try:
        platform_topology(
            fifo=getattr(settings, "EVENT_FIFO", False),
            delivery=delivery,
            kinesis_shards=getattr(settings, "EVENT_KINESIS_SHARDS", 2),
        )
    except TopologyError as error:
        return [checks.Error(str(error), id="shared_events.E004")]
    return []


@checks.register()
def check_event_store(app_configs, **kwargs):
    """EVENT_STORE: a known store, and dynamodb only where events are sourced."""
    store = getattr(settings, "EVENT_STORE", EventStoreBackend.POSTGRES.value)
    known = [backend.value for backend in EventStoreBackend]
    if store not in known:
        return [
            checks.Error(
                f"EVENT_STORE={store!r} is not one of {', '.join(known)}",
                hint="postgres: the event_store table with an outbox and its relay "
                "(the default); dynamodb: one DynamoDB item per commit, whose "
                "stream is the outbox",
                id="shared_events.E005",
            )
        ]
    if store != EventStoreBackend.DYNAMODB:
        return []
    try:
        info = approach_info(settings.ARCHITECTURE_APPROACH)
    except UnknownApproach:
        return []  # check_approach_is_built says so
    if info.outbox_services:
        return []
    sourced = [
        other.value for other, kept in APPROACHES.items() if kept.outbox_services
    ]
    return [
        checks.Error(
            f"EVENT_STORE=dynamodb needs an event-sourced approach; approach "
            f"{info.label} keeps no events",
            hint=f"set EVENT_STORE=postgres, or ARCHITECTURE_APPROACH to one of "
            f"{', '.join(sourced)}",
            id="shared_events.E006",
        )
    ]


@checks.register()
def check_event_keys(app_configs, **kwargs):
    """Event keys that cannot be read, a publishing service without its signing
    key, or a publisher whose events nobody here can verify: each would only
    show at the first event (a failed request, a dead letter)."""
    try:
        trusted = event_keys.verifying_keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="shared_events.E007")]
    try:
        info = approach_info(settings.ARCHITECTURE_APPROACH)
    except UnknownApproach:
        return []  # check_approach_is_built says so
    if not info.uses_events or getattr(settings, "QUERY_SIDE_ONLY", False):
        return []
    publishing = [p for p in PRODUCERS if info.persistence(p) != Persistence.STATE]
    problems = []
    service = getattr(settings, "SERVICE_NAME", None)
    if service in publishing:
        try:
            event_keys.signing_key(service)
        except ImproperlyConfigured as error:
            problems.append(
                checks.Error(
                    str(error),
                    hint="every event this service publishes is signed with it; "
                    "locally the platform generates it into var/platform.env",
                    id="shared_events.E008",
                )
            )
    for producer in publishing:
        if not trusted.of(producer):
            problems.append(
                checks.Warning(
                    f"no verifying key for the {producer} service's events: "
                    "they will all be dead-lettered as untrusted",
                    hint=f"set {event_keys.verifying_variable(producer)} to its "
                    "public key (python manage.py event_keys shows it)",
                    id="shared_events.W001",
                )
            )
    return problems
