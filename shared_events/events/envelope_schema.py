"""The JSON Schema of the envelope itself: the fixed point every event shares.

Why our own envelope schema, when Celery/kombu already wrap messages? Because
the wire format *is* this envelope, not kombu's message (whose JSON has
``body``, ``headers``, ``content-type`` and a top-level ``properties`` object).
A Lambda, or a service written in another language, reads the envelope
straight off SQS, SNS or Kinesis and must be able to check it with nothing but
this schema. ``additionalProperties: false`` plus the required list means a
kombu-wrapped message (or anything else) is refused with a clear reason
instead of being half-understood; and a ``properties`` key inside a payload is
just an unexpected payload field, refused by the payload's own schema.

One member is not an event field: ``signature``, the producer's Ed25519
signature over the rest (``shared_events.events.signing``). The schema allows
it; a consumer's verification requires it.

Every pattern ends in ``$(?!\\n)``: ``jsonschema`` evaluates patterns with
Python's ``re``, where a bare ``$`` also matches before a trailing newline.
Every pattern uses ``[0-9]``, not ``\\d``, which in Python also matches
non-ASCII digits. Both forms mean the same in ECMA-262, so other languages
read these schemas unchanged.
"""

from __future__ import annotations

from typing import Any

from shared_events.events.trace_context import TRACEPARENT_PATTERN

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

PRODUCERS = ("customer", "order")
"""Service names allowed in ``producer``."""

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$(?!\n)"
"""The canonical lowercase form that ``str(uuid.UUID(...))`` produces.

Requiring one spelling keeps the JSON deterministic and lets a consumer
compare ``aggregate_id`` with ``payload["customer_id"]`` as plain strings."""

EVENT_TYPE_PATTERN = r"^[A-Z][A-Za-z0-9]{2,99}$(?!\n)"
"""PascalCase, past tense by convention (``CustomerDeleted``); the registry
decides which names actually exist."""

UTC_TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,6})?(Z|\+00:00)$(?!\n)"
)
"""ISO-8601 in UTC, at most microsecond precision (what Python can hold)."""

AGGREGATE_ID_MAX_LENGTH = 255
TRACE_CONTEXT_VALUE_MAX_LENGTH = 512

UUID_STRING: dict[str, Any] = {
    "type": "string",
    "format": "uuid",
    "pattern": UUID_PATTERN,
}

ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "schema_version",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "occurred_at",
    "producer",
    "correlation_id",
    "causation_id",
    "trace_context",
    "payload",
)

KEY_ID_PATTERN = r"^[a-z]{1,40}-[0-9a-f]{16}$(?!\n)"
"""``<producer>-<16 hex digits of the public key's SHA-256>``."""

SIGNATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["algorithm", "key_id", "value"],
    "properties": {
        "algorithm": {"const": "Ed25519"},
        "key_id": {"type": "string", "pattern": KEY_ID_PATTERN},
        # 64 bytes in URL-safe base64 without padding.
        "value": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{86}$(?!\n)"},
    },
}

ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "$id": "urn:microservices-lab:event-envelope",
    "title": "Event envelope",
    "type": "object",
    "additionalProperties": False,
    "required": list(ENVELOPE_FIELDS),
    "properties": {
        "event_id": UUID_STRING,
        "event_type": {"type": "string", "pattern": EVENT_TYPE_PATTERN},
        "schema_version": {"type": "integer", "minimum": 1},
        "aggregate_type": {"type": "string", "pattern": EVENT_TYPE_PATTERN},
        "aggregate_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": AGGREGATE_ID_MAX_LENGTH,
        },
        "aggregate_version": {"type": "integer", "minimum": 1},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "pattern": UTC_TIMESTAMP_PATTERN,
        },
        "producer": {"enum": list(PRODUCERS)},
        "correlation_id": UUID_STRING,
        # Format and pattern only constrain strings, so null passes them.
        "causation_id": {**UUID_STRING, "type": ["string", "null"]},
        "trace_context": {
            "type": "object",
            "required": ["traceparent"],
            "properties": {
                "traceparent": {"type": "string", "pattern": TRACEPARENT_PATTERN},
                "tracestate": {
                    "type": "string",
                    "maxLength": TRACE_CONTEXT_VALUE_MAX_LENGTH,
                },
            },
            "additionalProperties": {
                "type": "string",
                "maxLength": TRACE_CONTEXT_VALUE_MAX_LENGTH,
            },
        },
        # Only "an object" here: what the payload holds is the registry's job,
        # chosen by (event_type, schema_version).
        "payload": {"type": "object"},
        # Not required here: "unsigned" is the verifier's reason to give.
        "signature": SIGNATURE_SCHEMA,
    },
}
