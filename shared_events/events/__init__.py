"""The event envelope and schema registry: plain Python, no Django needed.

Producers, consumers, the outbox relay, a Lambda handler and the tests all
import from here::

    from shared_events.events import EventType, encode, from_json, new_envelope

Nothing in this package reads Django settings, so it works in any process:
the keys that sign and verify envelopes (``signing``) are passed in.
"""

from shared_events.events.catalog import (
    AGGREGATE_OWNERS,
    CUSTOMER_MISSING_AT_IMPORT,
    REGISTRY,
    AggregateType,
    EventType,
    OpeningEventType,
    Ownership,
    register_platform_events,
)
from shared_events.events.envelope import (
    EventEnvelope,
    caused_by,
    encode,
    format_timestamp,
    from_dict,
    from_json,
    new_envelope,
    to_dict,
    to_json,
)
from shared_events.events.envelope_schema import (
    ENVELOPE_FIELDS,
    ENVELOPE_SCHEMA,
    PRODUCERS,
)
from shared_events.events.errors import EventTooLarge, InvalidEvent, UntrustedEvent
from shared_events.events.provenance import check_provenance
from shared_events.events.registry import EventSchemaRegistry
from shared_events.events.signing import (
    SIGNATURE,
    SigningKey,
    VerifyingKey,
    VerifyingKeys,
    canonical_json,
)
from shared_events.events.size import (
    MAX_ENVELOPE_BYTES,
    MAX_EVENT_BYTES,
    check_size,
    encoded_size,
)
from shared_events.events.trace_context import (
    child_trace_context,
    is_traceparent,
    new_trace_context,
    new_traceparent,
    span_id_of,
    trace_id_of,
)

__all__ = [
    "AGGREGATE_OWNERS",
    "CUSTOMER_MISSING_AT_IMPORT",
    "ENVELOPE_FIELDS",
    "ENVELOPE_SCHEMA",
    "MAX_ENVELOPE_BYTES",
    "MAX_EVENT_BYTES",
    "PRODUCERS",
    "REGISTRY",
    "SIGNATURE",
    "AggregateType",
    "EventEnvelope",
    "EventSchemaRegistry",
    "EventTooLarge",
    "EventType",
    "InvalidEvent",
    "OpeningEventType",
    "Ownership",
    "SigningKey",
    "UntrustedEvent",
    "VerifyingKey",
    "VerifyingKeys",
    "canonical_json",
    "caused_by",
    "check_provenance",
    "check_size",
    "child_trace_context",
    "encode",
    "encoded_size",
    "format_timestamp",
    "from_dict",
    "from_json",
    "is_traceparent",
    "new_envelope",
    "new_trace_context",
    "new_traceparent",
    "register_platform_events",
    "span_id_of",
    "to_dict",
    "to_json",
    "trace_id_of",
]
