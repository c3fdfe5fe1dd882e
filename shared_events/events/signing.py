"""Signed envelopes: an event that only its producer could have written.

Every envelope leaves its service signed with the producer's Ed25519 key
(``encode(..., signing_key=...)``) and every consumer verifies it before
anything happens (``from_json(..., verifying_keys=...)``). What a learner
should notice:

* Asymmetric on purpose. The producer alone holds its *signing* key, a
  secret; consumers hold only *verifying* keys, which are public. The order
  service can check the customer service's events but cannot forge one: with
  a shared HMAC secret per producer it could, since checking an HMAC takes
  the very key that makes one.
* What is signed: the envelope's canonical JSON (keys sorted, no whitespace,
  non-ASCII escaped: exactly what ``encode`` writes) including the
  signature's own ``algorithm`` and ``key_id``, with only its ``value`` left
  out. Change one character of the payload, the event id or the key id, and
  the signature no longer matches. A consumer in another language rebuilds
  the same bytes from the parsed document.
* Each signature names its key (``key_id``: the producer and a fingerprint of
  the public key), so a consumer can trust two keys of one producer at once.
  That is how a key is rotated with events of the old key still in flight.
* A key speaks for one producer only: the order service's key on an event
  that says ``"producer": "customer"`` is refused, whoever holds that key.

Plain Python and the ``cryptography`` package: the keys are passed in (a
service reads its own from its settings: ``shared_events.event_keys``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared_events.events.envelope_schema import PRODUCERS
from shared_events.events.errors import InvalidEvent, UntrustedEvent

ALGORITHM = "Ed25519"
SIGNATURE = "signature"
"""The envelope member that carries the signature (``algorithm``, ``key_id``,
``value``); not one of the event's own fields."""

MIN_SECRET_CHARACTERS = 32
"""A signing secret is any text this long or longer (``secrets.token_urlsafe(40)``,
``openssl rand -hex 32``); the Ed25519 key is derived from it with HKDF."""

_KEY_DERIVATION_INFO = b"microservices-lab event signing key v1"


def canonical_json(data: Mapping[str, Any]) -> str:
    """The one spelling of a JSON document that is signed and sent.

    Sorted keys and no whitespace: the same event always gives the same text.
    ASCII-only (non-ASCII escaped as ``\\uXXXX``), which no broker refuses.
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def signed_content(data: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the document without the signature's value."""
    content = dict(data)
    signature = content.get(SIGNATURE)
    if isinstance(signature, Mapping):
        content[SIGNATURE] = {k: v for k, v in signature.items() if k != "value"}
    return canonical_json(content).encode("ascii")


def key_id_of(producer: str, public_key: Ed25519PublicKey) -> str:
    """``<producer>-<16 hex digits of the public key's SHA-256>``: names a key
    without revealing anything a verifying key does not."""
    fingerprint = hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]
    return f"{producer}-{fingerprint}"


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _from_base64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _require_producer(producer: str) -> None:
    if producer not in PRODUCERS:
        raise ValueError(f"{producer!r} is not a producer: one of {PRODUCERS}")


@dataclass(frozen=True)
class VerifyingKey:
    """One producer's public key: checks its signatures, cannot make one."""

    producer: str
    public_key: Ed25519PublicKey = field(repr=False, compare=False)
    key_id: str = ""

    def __post_init__(self) -> None:
        _require_producer(self.producer)
        object.__setattr__(self, "key_id", key_id_of(self.producer, self.public_key))

    @classmethod
    def from_text(cls, text: str, *, producer: str) -> VerifyingKey:
        """A public key as configured: 32 bytes in URL-safe base64 (``text``)."""
        try:
            raw = _from_base64url(text.strip())
            public_key = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError) as error:
            raise ValueError(
                f"not an Ed25519 public key (32 bytes, URL-safe base64): {text!r}"
            ) from error
        return cls(producer=producer, public_key=public_key)

    @property
    def text(self) -> str:
        """The key as it is configured and handed to consumers."""
        return _base64url(self.public_key.public_bytes_raw())


@dataclass(frozen=True)
class SigningKey:
    """One producer's private key: the only thing that can sign its events."""

    producer: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @classmethod
    def from_secret(cls, secret: str, *, producer: str) -> SigningKey:
        """The key derived from a secret of at least 32 characters (HKDF-SHA256)."""
        _require_producer(producer)
        if len(secret) < MIN_SECRET_CHARACTERS:
            raise ValueError(
                f"the {producer} service's event signing secret has "
                f"{len(secret)} characters; it needs {MIN_SECRET_CHARACTERS} or more"
            )
        seed = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_DERIVATION_INFO
        ).derive(secret.encode("utf-8"))
        return cls(
            producer=producer, private_key=Ed25519PrivateKey.from_private_bytes(seed)
        )

    @property
    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey(
            producer=self.producer, public_key=self.private_key.public_key()
        )

    @property
    def key_id(self) -> str:
        return self.verifying_key.key_id

    def sign(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` (an envelope as JSON-ready values) with its signature added.

        Refuses an envelope of another producer: a key speaks for its own
        service only.
        """
        if data.get("producer") != self.producer:
            raise InvalidEvent(
                f"signature: the {self.producer} service's key cannot sign an "
                f"event of producer {data.get('producer')!r}"
            )
        header = {"algorithm": ALGORITHM, "key_id": self.key_id}
        unsigned = {**data, SIGNATURE: header}
        value = self.private_key.sign(signed_content(unsigned))
        return {**data, SIGNATURE: {**header, "value": _base64url(value)}}


class VerifyingKeys:
    """The keys a consumer trusts, by key id: one or more per producer.

    Two keys of one producer at once is a rotation under way: events signed
    with either are accepted until the old one is removed from the set.
    """

    def __init__(self, keys: Iterable[VerifyingKey] = ()) -> None:
        self._keys: dict[str, VerifyingKey] = {}
        owners: dict[bytes, str] = {}
        for key in keys:
            raw = key.public_key.public_bytes_raw()
            owner = owners.setdefault(raw, key.producer)
            if owner != key.producer:
                raise ValueError(
                    f"one public key is configured for both {owner} and "
                    f"{key.producer}: each service needs a key of its own"
                )
            self._keys[key.key_id] = key

    def __iter__(self) -> Iterator[VerifyingKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def of(self, producer: str) -> list[VerifyingKey]:
        """The keys trusted for ``producer``'s events."""
        return [key for key in self._keys.values() if key.producer == producer]

    def verify(self, data: Mapping[str, Any]) -> VerifyingKey:
        """The key that signed ``data`` (a decoded envelope); ``UntrustedEvent``
        with the reason unless a trusted key of its producer signed exactly it."""
        signature = data.get(SIGNATURE)
        producer = data.get("producer")
        if signature is None:
            raise UntrustedEvent(
                "signature: missing: every event must be signed by its producer"
            )
        if not (
            isinstance(signature, Mapping)
            and signature.get("algorithm") == ALGORITHM
            and isinstance(signature.get("key_id"), str)
            and isinstance(signature.get("value"), str)
        ):
            raise UntrustedEvent(
                f"signature: not an {ALGORITHM} signature with a key_id and a value"
            )
        key_id = signature["key_id"]
        key = self._keys.get(key_id)
        if key is None:
            trusted = ", ".join(k.key_id for k in self.of(str(producer))) or "none"
            raise UntrustedEvent(
                f"signature: key {key_id!r} is not trusted for producer "
                f"{producer!r} (trusted: {trusted})"
            )
        if key.producer != producer:
            raise UntrustedEvent(
                f"signature: made with the {key.producer} service's key "
                f"{key_id!r}, but the event says producer {producer!r}"
            )
        try:
            value = _from_base64url(signature["value"])
            key.public_key.verify(value, signed_content(data))
        except (binascii.Error, ValueError, InvalidSignature):
            raise UntrustedEvent(
                f"signature: does not match the event under key {key_id!r}: "
                "changed after it was signed, or not signed with that key"
            ) from None
        return key
