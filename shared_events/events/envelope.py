"""The event envelope: the one JSON document every cross-service event travels in.

The wire format is this envelope, not Celery's task protocol, so a Lambda or
a service in another language can read it. Notice how the fields split:

* identity and ordering: ``event_id`` (deduplication key for idempotent
  consumers), ``aggregate_id`` + ``aggregate_version`` (apply in order, detect
  gaps);
* meaning: ``event_type`` + ``schema_version`` pick the payload's schema in
  the registry;
* the story of a request: ``correlation_id`` is shared by every event of one
  conversation, ``causation_id`` names the event that caused this one, and
  ``trace_context`` carries the W3C traceparent for Zipkin/Jaeger.

Producers build envelopes with ``new_envelope`` (or ``caused_by`` when
reacting to another event) and turn them into text with ``encode``, which
validates and checks the size, so a bad event is refused when it is written
to the outbox, not when the relay tries to publish it. Given the producer's
``signing_key`` it also signs (``signing``), after checking that the producer
owns the aggregate (``provenance``). Consumers call ``from_json``, which
validates before returning anything; given ``verifying_keys`` it also refuses
an event that is unsigned, forged, changed after signing or from a service
that does not own its aggregate (``UntrustedEvent``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid4

from shared_events.events.catalog import REGISTRY
from shared_events.events.envelope_schema import (
    AGGREGATE_ID_MAX_LENGTH,
    PRODUCERS,
    TRACE_CONTEXT_VALUE_MAX_LENGTH,
)
from shared_events.events.errors import EventTooLarge, InvalidEvent
from shared_events.events.provenance import check_provenance
from shared_events.events.registry import EventSchemaRegistry
from shared_events.events.signing import SigningKey, VerifyingKeys, canonical_json
from shared_events.events.size import MAX_ENVELOPE_BYTES, check_size
from shared_events.events.trace_context import (
    child_trace_context,
    is_traceparent,
    new_trace_context,
)


@dataclass(frozen=True, kw_only=True)
class EventEnvelope:
    """One event, as it crosses a service boundary.

    Frozen because an event is a fact that already happened. The ``payload``
    and ``trace_context`` dicts are copies owned by the envelope: treat them
    as read-only.
    """

    event_id: UUID
    event_type: str
    schema_version: int
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    producer: str
    correlation_id: UUID
    causation_id: UUID | None
    trace_context: dict[str, str]
    payload: dict[str, Any]

    def __post_init__(self) -> None:
        # The envelope schema's rules, so that every EventEnvelope can be
        # serialized into a valid envelope and ``encode`` need not check them
        # again; whether the event type, its aggregate type and the payload
        # are *valid* is the registry's question, asked by ``encode`` and
        # ``from_json``. (test_properties holds this equal to the schema.)
        for name in ("event_id", "correlation_id"):
            _require(isinstance(getattr(self, name), UUID), name, "must be a UUID")
        _require(
            self.causation_id is None or isinstance(self.causation_id, UUID),
            "causation_id",
            "must be a UUID or None",
        )
        for name in ("event_type", "aggregate_type", "aggregate_id", "producer"):
            value = getattr(self, name)
            _require(isinstance(value, str), name, "must be a str")
            object.__setattr__(self, name, str(value))  # StrEnum -> plain str
        _require(
            1 <= len(self.aggregate_id) <= AGGREGATE_ID_MAX_LENGTH,
            "aggregate_id",
            f"must be 1 to {AGGREGATE_ID_MAX_LENGTH} characters",
        )
        _require(
            self.producer in PRODUCERS,
            "producer",
            f"must be one of {', '.join(PRODUCERS)}",
        )
        for name in ("schema_version", "aggregate_version"):
            value = getattr(self, name)
            _require(type(value) is int and value >= 1, name, "must be an int >= 1")
        _require(
            isinstance(self.occurred_at, datetime)
            and self.occurred_at.utcoffset() is not None,
            "occurred_at",
            "must be a timezone-aware datetime",
        )
        try:
            utc = self.occurred_at.astimezone(UTC)
        except OverflowError as error:
            raise InvalidEvent("occurred_at: out of range in UTC") from error
        object.__setattr__(self, "occurred_at", utc)
        _require(
            isinstance(self.trace_context, Mapping)
            and is_traceparent(self.trace_context.get("traceparent")),
            "trace_context",
            "must be a mapping with a W3C traceparent",
        )
        _require(
            all(
                isinstance(value, str) and len(value) <= TRACE_CONTEXT_VALUE_MAX_LENGTH
                for value in self.trace_context.values()
            ),
            "trace_context",
            f"values must be strings of at most {TRACE_CONTEXT_VALUE_MAX_LENGTH} "
            "characters",
        )
        object.__setattr__(self, "trace_context", dict(self.trace_context))
        _require(isinstance(self.payload, Mapping), "payload", "must be a mapping")
        object.__setattr__(self, "payload", copy.deepcopy(dict(self.payload)))

    def __hash__(self) -> int:
        # Equal envelopes share an event_id, so this agrees with ``==`` and
        # lets a consumer keep seen envelopes in a set despite the dict fields.
        return hash(self.event_id)

    @property
    def traceparent(self) -> str:
        return self.trace_context["traceparent"]


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise InvalidEvent(f"{field}: {message}")


def new_envelope(
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str | UUID,
    aggregate_version: int,
    producer: str,
    payload: Mapping[str, Any],
    schema_version: int = 1,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
    trace_context: Mapping[str, str] | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    """Build an envelope, filling in what a producer should not have to invent.

    Defaults: a fresh ``event_id``, ``occurred_at`` = now in UTC, a new trace
    when no ``trace_context`` is given, and ``correlation_id`` = the event's
    own id, which marks it as the first event of a new conversation.
    """
    event_id = uuid4()
    return EventEnvelope(
        event_id=event_id,
        event_type=event_type,
        schema_version=schema_version,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        aggregate_version=aggregate_version,
        occurred_at=occurred_at if occurred_at is not None else datetime.now(UTC),
        producer=producer,
        correlation_id=correlation_id if correlation_id is not None else event_id,
        causation_id=causation_id,
        trace_context=(
            dict(trace_context) if trace_context is not None else new_trace_context()
        ),
        payload=payload,
    )


def caused_by(
    parent: EventEnvelope,
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str | UUID,
    aggregate_version: int,
    producer: str,
    payload: Mapping[str, Any],
    schema_version: int = 1,
    occurred_at: datetime | None = None,
    trace_context: Mapping[str, str] | None = None,
) -> EventEnvelope:
    """A follow-up event that ``parent`` caused (OrderCancelled after CustomerDeleted).

    It keeps the parent's ``correlation_id``, names the parent in
    ``causation_id`` and continues the parent's trace with a new span, so the
    whole chain can be followed in the event log and in the tracing UI. A
    traced consumer gives the ``trace_context`` of the span that recorded it
    (a child of the parent's, in the same trace).
    """
    return new_envelope(
        event_type=event_type,
        schema_version=schema_version,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        producer=producer,
        payload=payload,
        correlation_id=parent.correlation_id,
        causation_id=parent.event_id,
        trace_context=(
            trace_context
            if trace_context is not None
            else child_trace_context(parent.trace_context)
        ),
        occurred_at=occurred_at,
    )


def format_timestamp(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds always written and a "Z": one spelling only."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def to_dict(envelope: EventEnvelope) -> dict[str, Any]:
    """The envelope as JSON-ready Python values (strings for ids and time)."""
    return {
        "event_id": str(envelope.event_id),
        "event_type": envelope.event_type,
        "schema_version": envelope.schema_version,
        "aggregate_type": envelope.aggregate_type,
        "aggregate_id": envelope.aggregate_id,
        "aggregate_version": envelope.aggregate_version,
        "occurred_at": format_timestamp(envelope.occurred_at),
        "producer": envelope.producer,
        "correlation_id": str(envelope.correlation_id),
        "causation_id": (
            str(envelope.causation_id) if envelope.causation_id is not None else None
        ),
        "trace_context": dict(envelope.trace_context),
        "payload": copy.deepcopy(envelope.payload),
    }


def _check_json_values(value: object, path: str) -> None:
    """Refuse anything that would not come back unchanged from ``json.loads``.

    ``json.dumps`` quietly turns tuples into lists and int keys into strings,
    and cannot write a ``Decimal`` at all; each would make the event a consumer
    reads differ from the one the producer meant.
    """
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        _require(math.isfinite(value), path, f"{value!r} is not valid JSON")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_values(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _require(isinstance(key, str), path, f"key {key!r} is not a string")
            _check_json_values(item, f"{path}.{key}")
        return
    hint = (
        '; encode money as a decimal string like "59.97"'
        if isinstance(value, Decimal)
        else ""
    )
    raise InvalidEvent(f"{path}: {type(value).__name__} is not a JSON value{hint}")


def _dumps(data: Mapping[str, Any]) -> str:
    # One spelling (``canonical_json``): the same event always gives the same
    # text, and the text a signature covers can be rebuilt by any consumer.
    _check_json_values(data["payload"], "payload")
    return canonical_json(data)


def to_json(envelope: EventEnvelope) -> str:
    """Compact, key-sorted, deterministic JSON (no validation against the registry)."""
    return _dumps(to_dict(envelope))


def encode(
    envelope: EventEnvelope,
    *,
    signing_key: SigningKey | None = None,
    registry: EventSchemaRegistry = REGISTRY,
    limit: int = MAX_ENVELOPE_BYTES,
) -> str:
    """What a producer stores in its outbox: validated, signed, size-checked JSON.

    The registry checks the event type, its aggregate type and the payload
    in full; the envelope's own schema is not checked again, because the
    ``EventEnvelope`` constructor already enforced it. With ``signing_key``
    (the producer's own) the event is signed, once its producer is found to
    own the aggregate; without, the text is unsigned and every consumer will
    refuse it: what a test or a tool that only reads wants.
    """
    data = to_dict(envelope)
    registry.validate(data, constructed=True)
    text = _dumps(data)
    if signing_key is not None:
        check_provenance(envelope)
        text = canonical_json(signing_key.sign(data))
    check_size(text, limit=limit)
    return text


def from_dict(
    data: object, *, registry: EventSchemaRegistry = REGISTRY
) -> EventEnvelope:
    """Validate a decoded JSON object and turn it into an ``EventEnvelope``."""
    registry.validate(data)  # refuses anything but a valid envelope mapping
    data = cast(Mapping[str, Any], data)
    causation_id = data["causation_id"]
    return EventEnvelope(
        event_id=UUID(data["event_id"]),
        event_type=data["event_type"],
        schema_version=data["schema_version"],
        aggregate_type=data["aggregate_type"],
        aggregate_id=data["aggregate_id"],
        aggregate_version=data["aggregate_version"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        producer=data["producer"],
        correlation_id=UUID(data["correlation_id"]),
        causation_id=UUID(causation_id) if causation_id is not None else None,
        trace_context=data["trace_context"],
        payload=data["payload"],
    )


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Plain json.loads keeps the last of two equal keys; another parser may
    # keep the first. An event whose meaning depends on the parser is refused.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidEvent(f"not JSON we accept: duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise InvalidEvent(f"not JSON: {name} is not a JSON number")


def from_json(
    text: str | bytes,
    *,
    verifying_keys: VerifyingKeys | None = None,
    registry: EventSchemaRegistry = REGISTRY,
    limit: int = MAX_ENVELOPE_BYTES,
) -> EventEnvelope:
    """What a consumer calls on a message body: size, parse, validate, verify, build.

    Raises ``InvalidEvent`` (or its subclass ``EventTooLarge``) for anything
    that is not a valid, registered event; the reason is meant for the
    dead-letter queue. With ``verifying_keys`` (what every consumer passes)
    a valid event must also carry a signature by a trusted key of its own
    producer, over exactly this text, and pass ``check_provenance``:
    ``UntrustedEvent`` otherwise. Without, nothing is verified: for reading
    back what this service wrote itself (its outbox, its event table).
    """
    if isinstance(text, bytes | bytearray):
        if len(text) > limit:  # refuse before decoding a huge body
            raise EventTooLarge(len(text), limit)
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidEvent(f"not UTF-8 text: {error.reason}") from error
    if not isinstance(text, str):
        raise InvalidEvent(f"not JSON text: got {type(text).__name__}")
    check_size(text, limit=limit)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_refuse_duplicate_keys,
            parse_constant=_refuse_constant,
        )
    except InvalidEvent:
        raise
    except RecursionError as error:
        raise InvalidEvent("not JSON we accept: nested too deeply") from error
    except ValueError as error:
        raise InvalidEvent(f"not JSON: {error}") from error
    envelope = from_dict(data, registry=registry)
    if verifying_keys is not None:
        verifying_keys.verify(data)
        check_provenance(envelope)
    return envelope
