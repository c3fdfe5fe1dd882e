"""One registry: (event_type, schema_version) -> the JSON Schema of its payload.

Producers validate before an event is written to the outbox; consumers
validate before they act on it. Both ask the same registry, so "valid" means
the same thing on both sides of the broker. Notice three habits:

* A published schema never changes. A new shape is a new ``schema_version``
  registered beside the old one, so events already stored (in an outbox, an
  event store, a dead-letter queue) stay valid forever.
* Validators are compiled once, at registration, not per message.
* Every failure becomes one ``InvalidEvent`` whose reason names the failing
  path, e.g. ``payload.lines[0].quantity: -1 is less than the minimum of 1``,
  which is what an operator reads in the dead-letter queue.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from shared_events.events.envelope_schema import ENVELOPE_SCHEMA, EVENT_TYPE_PATTERN
from shared_events.events.errors import InvalidEvent

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _is_date_time(instance: object) -> bool:
    """RFC 3339 date-time with a real calendar date and an explicit offset.

    Our own check, so "date-time" is enforced without relying on the optional
    ``rfc3339-validator`` package, which jsonschema silently skips if absent.
    """
    if not isinstance(instance, str):
        return True
    if _RFC3339.fullmatch(instance) is None:
        return False
    datetime.fromisoformat(instance.upper())  # raises ValueError for 2024-02-30
    return True


def _strict_integer(_checker: object, instance: object) -> bool:
    # JSON Schema counts 2.0 as an integer; a consumer doing
    # ``quantity * Decimal(unit_price)`` would then crash on a float.
    return isinstance(instance, int) and not isinstance(instance, bool)


EventValidator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)
"""Draft 2020-12, except that only true JSON integers are integers."""

FORMAT_CHECKER = FormatChecker()
"""Asserts "uuid", "email" and "date-time" (formats are only annotations
unless a checker is passed)."""
FORMAT_CHECKER.checks("date-time", raises=ValueError)(_is_date_time)


def compile_schema(schema: Mapping[str, Any]) -> Validator:
    """Check that ``schema`` is itself valid 2020-12 and return its validator."""
    EventValidator.check_schema(schema)
    return EventValidator(schema, format_checker=FORMAT_CHECKER)


def describe_path(parts: Iterable[str | int], *, root: str = "") -> str:
    """``["lines", 0, "quantity"]`` under "payload" -> ``payload.lines[0].quantity``.

    Without a root the path starts at the envelope's own fields; an empty
    path (a problem with the whole document) reads as "envelope".
    """
    text = root
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "envelope"


def first_error(
    validator: Validator, instance: object, *, root: str = ""
) -> str | None:
    """The most relevant failure as "<path>: <message>", or None when valid."""
    error: ValidationError | None = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    return f"{describe_path(error.absolute_path, root=root)}: {error.message}"


_ENVELOPE_VALIDATOR = compile_schema(ENVELOPE_SCHEMA)


class EventSchemaRegistry:
    """Maps (event_type, schema_version) to its aggregate type and payload schema."""

    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], dict[str, Any]] = {}
        self._validators: dict[tuple[str, int], Validator] = {}
        self._aggregate_types: dict[tuple[str, int], str] = {}

    def register(
        self,
        event_type: str,
        version: int,
        payload_schema: Mapping[str, Any],
        *,
        aggregate_type: str,
    ) -> None:
        """Add one event version. Registering the same pair twice is an error.

        The payload schema must be a closed object (``additionalProperties:
        false``): a field the schema does not name is refused, never carried
        along unnoticed.
        """
        key = (event_type, version)
        if key in self._schemas:
            raise ValueError(
                f"{event_type} v{version} is already registered; a published "
                "schema never changes, register a new schema_version instead"
            )
        if re.fullmatch(EVENT_TYPE_PATTERN, event_type) is None:
            raise ValueError(f"event_type {event_type!r} is not a PascalCase name")
        if re.fullmatch(EVENT_TYPE_PATTERN, aggregate_type) is None:
            raise ValueError(f"aggregate_type {aggregate_type!r} is not PascalCase")
        if type(version) is not int or version < 1:
            raise ValueError(f"schema version must be an int >= 1, not {version!r}")
        if (
            payload_schema.get("type") != "object"
            or payload_schema.get("additionalProperties") is not False
        ):
            raise ValueError(
                f"{event_type} v{version}: a payload schema must be an object "
                "with additionalProperties false"
            )
        schema = copy.deepcopy(dict(payload_schema))
        self._validators[key] = compile_schema(schema)
        self._schemas[key] = schema
        self._aggregate_types[key] = aggregate_type

    def known_types(self) -> tuple[tuple[str, int], ...]:
        """Every registered (event_type, schema_version), sorted."""
        return tuple(sorted(self._schemas))

    def schema_for(self, event_type: str, version: int) -> dict[str, Any]:
        """A copy of the payload schema; raises ``InvalidEvent`` if unknown."""
        return copy.deepcopy(self._schemas[self._known_key(event_type, version)])

    def aggregate_type_for(self, event_type: str, version: int) -> str:
        """The aggregate type an event of this type and version belongs to."""
        return self._aggregate_types[self._known_key(event_type, version)]

    def validate(self, envelope: object, *, constructed: bool = False) -> None:
        """Raise ``InvalidEvent`` unless ``envelope`` (a decoded JSON dict) is valid.

        Checked in order: the envelope's own schema, that the event type and
        version are registered, that the aggregate type matches, and finally
        the payload against its schema.

        ``constructed=True`` is the producer's shortcut for a dict that
        ``to_dict`` has just made from an ``EventEnvelope``: the constructor
        has already enforced the envelope schema (most of the cost of a
        check), so only the registry and payload checks run. A consumer's
        text is never constructed: ``from_json`` checks everything.
        """
        if not isinstance(envelope, Mapping):
            raise InvalidEvent(
                f"envelope: expected a JSON object, got {type(envelope).__name__}"
            )
        if not constructed:
            reason = first_error(_ENVELOPE_VALIDATOR, envelope)
            if reason is not None:
                raise InvalidEvent(reason)
        event_type = envelope["event_type"]
        version = envelope["schema_version"]
        key = self._known_key(event_type, version)
        expected = self._aggregate_types[key]
        if envelope["aggregate_type"] != expected:
            raise InvalidEvent(
                f"aggregate_type: {envelope['aggregate_type']!r} is not "
                f"{expected!r}, the aggregate of {event_type} v{version}"
            )
        reason = first_error(self._validators[key], envelope["payload"], root="payload")
        if reason is not None:
            raise InvalidEvent(reason)

    def _known_key(self, event_type: str, version: int) -> tuple[str, int]:
        key = (event_type, version)
        if key in self._schemas:
            return key
        versions = sorted(v for t, v in self._schemas if t == event_type)
        if not versions:
            raise InvalidEvent(f"event_type: unknown event type {event_type!r}")
        raise InvalidEvent(
            f"schema_version: unknown version {version!r} of {event_type} "
            f"(known: {', '.join(map(str, versions))})"
        )
