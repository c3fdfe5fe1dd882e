"""The keys that sign and verify this platform's events, read lazily from settings.

Every event that leaves a service is signed with its producer's key, and
every consumer verifies it (``shared_events.events.signing``). The keys come
from the environment only, through two settings (``service_kit.settings.events``):

* ``EVENT_SIGNING_KEYS``: producer -> the secret its key is derived from
  (``CUSTOMER_EVENT_SIGNING_KEY``, ``ORDER_EVENT_SIGNING_KEY``). In
  production each service is given its own only; locally the platform
  generates both into ``var/platform.env``.
* ``EVENT_VERIFYING_KEYS``: producer -> the public keys its events may be
  signed with (``CUSTOMER_EVENT_VERIFYING_KEYS``, comma-separated). Two during
  a rotation. Left empty, a producer's verifying key is derived from its
  signing secret where this process has it: the local default, and a
  service's own read side.

What a learner should notice: this is the only module that reads them, and
it reads them when an event is signed or verified, never at import (as DRF's
``api_settings`` does), so a test can override them. ``python manage.py
event_keys`` shows the keys in use and makes new ones; docs/security.md says
how to rotate one.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shared_events.events import (
    PRODUCERS,
    EventEnvelope,
    SigningKey,
    VerifyingKey,
    VerifyingKeys,
    encode,
)


def signing_variable(producer: str) -> str:
    """The environment variable of ``producer``'s signing secret."""
    return f"{producer.upper()}_EVENT_SIGNING_KEY"


def verifying_variable(producer: str) -> str:
    """The environment variable of ``producer``'s verifying (public) keys."""
    return f"{producer.upper()}_EVENT_VERIFYING_KEYS"


def _signing_secrets() -> dict[str, str]:
    configured = getattr(settings, "EVENT_SIGNING_KEYS", {}) or {}
    return {producer: secret for producer, secret in configured.items() if secret}


def _verifying_texts() -> dict[str, tuple[str, ...]]:
    configured = getattr(settings, "EVENT_VERIFYING_KEYS", {}) or {}
    return {
        producer: tuple(text for text in texts if text.strip())
        for producer, texts in configured.items()
    }


def signing_key(producer: str) -> SigningKey:
    """``producer``'s signing key; ``ImproperlyConfigured`` saying which
    variable to set when this process has none (or a bad one)."""
    secret = _signing_secrets().get(producer)
    if secret is None:
        raise ImproperlyConfigured(
            f"no event signing key for the {producer} service: set "
            f"{signing_variable(producer)} (python manage.py event_keys --generate "
            "makes one)"
        )
    return _signing_key(producer, secret)


@functools.lru_cache(maxsize=16)
def _signing_key(producer: str, secret: str) -> SigningKey:
    try:
        return SigningKey.from_secret(secret, producer=producer)
    except ValueError as error:
        raise ImproperlyConfigured(f"{signing_variable(producer)}: {error}") from None


def verifying_keys() -> VerifyingKeys:
    """Every key this process trusts, by producer (see the module's docstring)."""
    texts = _verifying_texts()
    secrets = _signing_secrets()
    return _verifying_keys(
        tuple(
            (producer, texts.get(producer, ()), secrets.get(producer))
            for producer in PRODUCERS
        )
    )


@functools.lru_cache(maxsize=16)
def _verifying_keys(
    configured: tuple[tuple[str, tuple[str, ...], str | None], ...],
) -> VerifyingKeys:
    keys: list[VerifyingKey] = []
    for producer, texts, secret in configured:
        if texts:
            for text in texts:
                try:
                    keys.append(VerifyingKey.from_text(text, producer=producer))
                except ValueError as error:
                    raise ImproperlyConfigured(
                        f"{verifying_variable(producer)}: {error}"
                    ) from None
        elif secret is not None:
            keys.append(_signing_key(producer, secret).verifying_key)
    try:
        return VerifyingKeys(keys)
    except ValueError as error:
        raise ImproperlyConfigured(f"event verifying keys: {error}") from None


def encode_signed(envelope: EventEnvelope) -> str:
    """The envelope as it leaves its service: validated and signed by its producer.

    What the outbox stores, the DynamoDB event table commits and a direct
    publish sends: every path out of a service goes through here.
    """
    return encode(envelope, signing_key=signing_key(envelope.producer))
