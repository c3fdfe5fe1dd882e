"""Signing for tests: envelopes as their producer sends them, and forgeries.

A consumer applies only what the owner of an aggregate signed
(``shared_events.events.signing``), so a test that feeds a consumer builds
its bodies here, never with a bare ``encode`` (whose text is unsigned and
refused). What a test should notice:

* ``signed`` and ``signed_json`` sign with the producer's real key, the one
  this process is configured with (Django settings when they are there, the
  platform's environment otherwise): a "buggy producer" test signs the bad
  event too, so it fails for the reason it is about, not for a missing
  signature.
* ``forgeries`` makes, from one genuine event, every way an attacker (or a
  misconfigured service) can get a body onto a queue: unsigned, signed with
  a key nobody trusts, a trusted key id on a signature it did not make,
  another service's real key, another service's own event for an aggregate
  it does not own, an aggregate id that is not the payload's, and the
  genuine signed text replayed with its payload changed. Each comes with the
  reason a consumer must give for it.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared_events.events import (
    AGGREGATE_OWNERS,
    PRODUCERS,
    SIGNATURE,
    EventEnvelope,
    SigningKey,
    canonical_json,
    encode,
    to_dict,
)
from shared_events.events.signing import signed_content


def signing_key(producer: str) -> SigningKey:
    """``producer``'s real signing key, as this process is configured."""
    from django.conf import settings

    if settings.configured:
        from shared_events.event_keys import signing_key as configured_key

        return configured_key(producer)
    from shared_events.configuration import load_env

    variable = f"{producer.upper()}_EVENT_SIGNING_KEY"
    return SigningKey.from_secret(load_env().str(variable), producer=producer)


def signed(envelope: EventEnvelope) -> str:
    """The envelope as its producer publishes it: validated and signed."""
    return encode(envelope, signing_key=signing_key(envelope.producer))


def signed_json(data: Mapping[str, Any], *, key: SigningKey | None = None) -> str:
    """Any envelope-shaped dict, signed as is (by ``key``, else its producer's
    real key): what a producer with a bug would send."""
    key = key or signing_key(str(data["producer"]))
    return canonical_json(key.sign(data))


def signed_with(
    data: Mapping[str, Any], key: SigningKey, *, key_id: str | None = None
) -> str:
    """``data`` signed with ``key`` under ``key_id`` (the key's own by default),
    whatever producer it names: a key used where it must not be."""
    header = {"algorithm": "Ed25519", "key_id": key_id or key.key_id}
    unsigned = {**data, SIGNATURE: header}
    value = key.private_key.sign(signed_content(unsigned))
    text = base64.urlsafe_b64encode(value).decode("ascii").rstrip("=")
    return canonical_json({**data, SIGNATURE: {**header, "value": text}})


def stranger_key(producer: str) -> SigningKey:
    """A key of ``producer``'s name that no consumer trusts."""
    return SigningKey.from_secret(secrets.token_urlsafe(40), producer=producer)


@dataclass(frozen=True)
class Forgery:
    """One body a consumer must refuse, and what its dead letter must say."""

    name: str
    body: str
    reason: str


def other_producer(producer: str) -> str:
    return next(name for name in PRODUCERS if name != producer)


def changed_payload(payload: Mapping[str, Any], id_field: str) -> dict[str, Any]:
    """``payload`` with one field changed, still valid for its schema: a name,
    an address, another aggregate's id; the aggregate's own id if that is all
    it holds (a ``CustomerDeleted`` aimed at another customer)."""
    for field in sorted(payload):
        value = payload[field]
        if field == id_field or not isinstance(value, str):
            continue
        try:
            uuid.UUID(value)
        except ValueError:
            if field in ("name", "address", "sku"):
                return {**payload, field: value + " (changed)"}
            continue
        return {**payload, field: str(uuid.uuid4())}
    return {**payload, id_field: str(uuid.uuid4())}


def forgeries(genuine: EventEnvelope) -> list[Forgery]:
    """Every forged or mismatched body made from ``genuine`` (an event a
    consumer would apply), each with the reason it must be refused for."""
    producer = genuine.producer
    other = other_producer(producer)
    real_key = signing_key(producer)
    data = to_dict(genuine)
    id_field = AGGREGATE_OWNERS[genuine.aggregate_type].id_field
    replayed = json.loads(signed(genuine))
    replayed["payload"] = changed_payload(replayed["payload"], id_field)
    mismatched = {**data, "payload": {**data["payload"], id_field: str(uuid.uuid4())}}
    return [
        Forgery(
            "unsigned",
            encode(genuine),
            "untrusted event: signature: missing",
        ),
        Forgery(
            "signed with a key nobody trusts",
            signed_with(data, stranger_key(producer)),
            "untrusted event: signature: key",
        ),
        Forgery(
            "a trusted key id on a signature it did not make",
            signed_with(data, stranger_key(producer), key_id=real_key.key_id),
            "untrusted event: signature: does not match",
        ),
        Forgery(
            f"signed with the {other} service's own key",
            signed_with(data, signing_key(other)),
            f"untrusted event: signature: made with the {other} service's key",
        ),
        Forgery(
            f"the {other} service speaking for a {genuine.aggregate_type}",
            signed_json({**data, "producer": other}),
            f"untrusted event: producer: '{other}' may not publish",
        ),
        Forgery(
            "an aggregate id that is not the payload's",
            signed_json(mismatched),
            f"untrusted event: aggregate_id: '{genuine.aggregate_id}' is not the "
            f"payload's {id_field}",
        ),
        Forgery(
            "the genuine text replayed with its payload changed",
            canonical_json(replayed),
            "untrusted event: signature: does not match",
        ),
    ]


def tampered_json(envelope: EventEnvelope, change: Callable[[dict], None]) -> str:
    """The envelope as JSON, changed, then signed: a buggy producer's event."""
    data = to_dict(envelope)
    change(data)
    return signed_json(data)
