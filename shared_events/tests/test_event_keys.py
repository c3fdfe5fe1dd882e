"""The platform's event keys: read from settings, used on every path out, rotated.

What is proven, with the real outbox on PostgreSQL and the consumer's own
``read_event``:

* every path by which an event leaves a service carries its producer's
  signature: the outbox row the relay publishes, the DynamoDB commit whose
  stream publishes it, a direct publish (approach 3);
* the verifying keys are derived from the signing secrets when none are
  given (the local default), replaced by the public keys when they are, and
  a missing or malformed key is a configuration error naming its variable;
* a key rotation, step by step as docs/security.md gives it: an event the
  outbox signed with the old key is still applied while both keys are
  trusted, and refused once the old key leaves the verifying set;
* the system checks and ``manage.py event_keys``.
"""

from __future__ import annotations

import io
import json
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from shared_events import event_keys
from shared_events.consume import read_event
from shared_events.events import SIGNATURE, SigningKey, UntrustedEvent
from shared_events.testing import customer_events
from shared_events.transport import RecordingPublisher, messaging
from shared_events.write_side import outbox_append
from shared_events.write_side.dynamodb import commit_of


def secret() -> str:
    return secrets.token_urlsafe(40)


def public_key(secret_text: str, producer: str = "customer") -> str:
    return SigningKey.from_secret(secret_text, producer=producer).verifying_key.text


def key_id_of(text: str) -> str:
    return json.loads(text)[SIGNATURE]["key_id"]


@pytest.fixture
def keys(settings):
    """Fresh keys for both producers, verifying keys derived (the local way)."""
    settings.EVENT_SIGNING_KEYS = {"customer": secret(), "order": secret()}
    settings.EVENT_VERIFYING_KEYS = {"customer": [], "order": []}
    return settings


# --- every path out is signed ------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_stores_each_event_signed_by_its_producer(keys):
    envelope = customer_events.registered(uuid.uuid4())

    (row,) = outbox_append(envelopes=[envelope])

    assert key_id_of(row.body) == event_keys.signing_key("customer").key_id
    assert read_event(row.body) == envelope


def test_a_dynamodb_commit_holds_each_event_signed(keys):
    customer_id = uuid.uuid4()
    envelopes = [
        customer_events.registered(customer_id),
        customer_events.renamed(customer_id, version=2),
    ]

    commit = commit_of(envelopes, committed_at=datetime.now(UTC))

    assert [read_event(text) for text in commit.events] == envelopes


def test_a_direct_publish_sends_each_event_signed(keys, monkeypatch):
    publisher = RecordingPublisher()
    monkeypatch.setattr(messaging, "event_publisher", lambda producer: publisher)
    envelope = customer_events.registered(uuid.uuid4())

    messaging.publish_now("customer", [envelope])

    (message,) = publisher.published
    assert read_event(message.body) == envelope


@pytest.mark.django_db
def test_a_service_without_its_signing_key_publishes_nothing(keys):
    keys.EVENT_SIGNING_KEYS = {"customer": "", "order": secret()}

    with pytest.raises(ImproperlyConfigured, match="CUSTOMER_EVENT_SIGNING_KEY"):
        outbox_append(envelopes=[customer_events.registered(uuid.uuid4())])


# --- which keys are trusted -------------------------------------------------------


def test_without_verifying_keys_they_are_derived_from_the_signing_secrets(keys):
    trusted = event_keys.verifying_keys()

    assert {key.key_id for key in trusted} == {
        event_keys.signing_key("customer").key_id,
        event_keys.signing_key("order").key_id,
    }


def test_given_verifying_keys_replace_the_derived_ones(keys):
    other = secret()
    keys.EVENT_VERIFYING_KEYS = {"customer": [public_key(other)], "order": []}

    trusted = event_keys.verifying_keys()

    expected = SigningKey.from_secret(other, producer="customer").key_id
    assert [key.key_id for key in trusted.of("customer")] == [expected]
    text = event_keys.encode_signed(customer_events.registered(uuid.uuid4()))
    with pytest.raises(UntrustedEvent, match="is not trusted"):
        read_event(text)


def test_a_producer_without_any_key_has_its_events_refused(keys):
    text = event_keys.encode_signed(customer_events.registered(uuid.uuid4()))
    keys.EVENT_SIGNING_KEYS = {"customer": "", "order": secret()}

    assert event_keys.verifying_keys().of("customer") == []
    with pytest.raises(UntrustedEvent, match=r"trusted: none"):
        read_event(text)


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("EVENT_SIGNING_KEYS", {"customer": "too short"}, "CUSTOMER_EVENT_SIGNING_KEY"),
        (
            "EVENT_VERIFYING_KEYS",
            {"order": ["not-a-key"]},
            "ORDER_EVENT_VERIFYING_KEYS",
        ),
    ],
)
def test_a_malformed_key_is_a_configuration_error_naming_its_variable(
    keys, setting, value, variable
):
    setattr(keys, setting, {**getattr(keys, setting), **value})

    with pytest.raises(ImproperlyConfigured, match=variable):
        if setting == "EVENT_SIGNING_KEYS":
            event_keys.signing_key("customer")
        else:
            event_keys.verifying_keys()


# --- rotation ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_rotation_keeps_events_in_flight_until_the_old_key_is_removed(keys):
    old, new = secret(), secret()
    keys.EVENT_SIGNING_KEYS = {**keys.EVENT_SIGNING_KEYS, "customer": old}
    keys.EVENT_VERIFYING_KEYS = {"customer": [public_key(old)], "order": []}
    customer_id = uuid.uuid4()
    (in_flight,) = outbox_append(envelopes=[customer_events.registered(customer_id)])

    # 1. Every consumer trusts the new key too.
    keys.EVENT_VERIFYING_KEYS = {
        "customer": [public_key(old), public_key(new)],
        "order": [],
    }
    assert read_event(in_flight.body)
    # 2. The producer signs with the new key; both kinds are applied.
    keys.EVENT_SIGNING_KEYS = {**keys.EVENT_SIGNING_KEYS, "customer": new}
    (after,) = outbox_append(
        envelopes=[customer_events.renamed(customer_id, version=2)]
    )
    assert key_id_of(after.body) != key_id_of(in_flight.body)
    assert read_event(in_flight.body) and read_event(after.body)
    # 3. The old key leaves the verifying set: what it signed is refused.
    keys.EVENT_VERIFYING_KEYS = {"customer": [public_key(new)], "order": []}
    assert read_event(after.body)
    with pytest.raises(UntrustedEvent, match=f"'{key_id_of(in_flight.body)}'"):
        read_event(in_flight.body)


# --- checks and the command --------------------------------------------------------


def messages(check_id: str) -> list[checks.CheckMessage]:
    return [message for message in checks.run_checks() if message.id == check_id]


def test_a_publishing_service_without_its_signing_key_fails_its_checks(keys):
    keys.ARCHITECTURE_APPROACH = "event_sourcing"
    keys.SERVICE_NAME = "customer"
    assert messages("shared_events.E008") == []

    keys.EVENT_SIGNING_KEYS = {"customer": "", "order": secret()}

    (error,) = messages("shared_events.E008")
    assert "CUSTOMER_EVENT_SIGNING_KEY" in error.msg


def test_a_publisher_nobody_here_can_verify_is_warned_about(keys):
    keys.ARCHITECTURE_APPROACH = "event_sourcing"
    keys.EVENT_SIGNING_KEYS = {"customer": secret(), "order": ""}
    keys.SERVICE_NAME = "customer"

    (warning,) = messages("shared_events.W001")
    assert "order service's events" in warning.msg
    assert "ORDER_EVENT_VERIFYING_KEYS" in warning.hint


def test_a_malformed_key_fails_the_checks(keys):
    keys.EVENT_VERIFYING_KEYS = {"customer": ["nope"], "order": []}

    (error,) = messages("shared_events.E007")
    assert "CUSTOMER_EVENT_VERIFYING_KEYS" in error.msg


def test_the_command_shows_the_keys_in_use(keys):
    out = io.StringIO()

    call_command("event_keys", stdout=out)

    customer = event_keys.signing_key("customer")
    assert f"customer: signs with {customer.key_id}" in out.getvalue()
    assert f"customer: trusts {customer.key_id}, public key " in out.getvalue()
    assert customer.verifying_key.text in out.getvalue()
    assert keys.EVENT_SIGNING_KEYS["customer"] not in out.getvalue()


def test_the_command_generates_a_secret_and_the_public_key_it_gives():
    out = io.StringIO()

    call_command("event_keys", "--generate", "order", stdout=out)

    assignment, comment, public = out.getvalue().splitlines()
    variable, _, generated = assignment.partition("=")
    assert variable == "ORDER_EVENT_SIGNING_KEY"
    assert "ORDER_EVENT_VERIFYING_KEYS" in comment
    assert public == public_key(generated, producer="order")
