"""Signed envelopes, provenance and key rotation, with keys passed in (no Django).

What is proven: only a trusted key of the event's own producer makes a
signature a consumer accepts, over every byte of the event; a producer can
sign only events of aggregates it owns whose ``aggregate_id`` is the
payload's; during a rotation both keys are accepted, and the old one stops
being accepted the moment it leaves the verifying set.
"""

from __future__ import annotations

import json
import secrets
import uuid

import pytest

from shared_events.events import (
    AGGREGATE_OWNERS,
    PRODUCERS,
    REGISTRY,
    SIGNATURE,
    InvalidEvent,
    SigningKey,
    UntrustedEvent,
    VerifyingKey,
    VerifyingKeys,
    canonical_json,
    encode,
    from_json,
    to_dict,
)
from shared_events.events.tests.examples import CUSTOMER_ID, example_envelope


def new_key(producer: str) -> SigningKey:
    return SigningKey.from_secret(secrets.token_urlsafe(40), producer=producer)


CUSTOMER_KEY = new_key("customer")
ORDER_KEY = new_key("order")
TRUSTED = VerifyingKeys([CUSTOMER_KEY.verifying_key, ORDER_KEY.verifying_key])


def customer_event(**changes):
    return example_envelope("CustomerDeleted", **changes)


def resigned(text: str, change, key: SigningKey) -> str:
    """``text`` changed, then signed again by ``key`` (its own producer check
    bypassed by signing what the change left)."""
    data = json.loads(text)
    data.pop(SIGNATURE, None)
    change(data)
    return canonical_json(key.sign(data))


# --- signing and verifying ---------------------------------------------------------


def test_a_signed_envelope_names_its_key_and_verifies():
    envelope = customer_event()

    text = encode(envelope, signing_key=CUSTOMER_KEY)

    signature = json.loads(text)[SIGNATURE]
    assert signature["algorithm"] == "Ed25519"
    assert signature["key_id"] == CUSTOMER_KEY.key_id
    assert signature["key_id"].startswith("customer-")
    assert from_json(text, verifying_keys=TRUSTED) == envelope
    # The signature is no field of the event: it reads the same without keys.
    assert from_json(text) == envelope


def test_the_same_secret_always_gives_the_same_key():
    secret = secrets.token_urlsafe(40)
    first = SigningKey.from_secret(secret, producer="order")
    again = SigningKey.from_secret(secret, producer="order")
    assert first.key_id == again.key_id
    assert first.verifying_key.text == again.verifying_key.text
    assert VerifyingKey.from_text(first.verifying_key.text, producer="order") == (
        first.verifying_key
    )


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_a_short_secret_is_refused(secret):
    with pytest.raises(ValueError, match="32 or more"):
        SigningKey.from_secret(secret, producer="customer")


@pytest.mark.parametrize("text", ["", "not base64 at all!", "AAAA", "A" * 60])
def test_a_verifying_key_that_is_no_public_key_is_refused(text):
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        VerifyingKey.from_text(text, producer="customer")


def test_an_unsigned_event_is_refused():
    with pytest.raises(UntrustedEvent, match="signature: missing"):
        from_json(encode(customer_event()), verifying_keys=TRUSTED)


def test_an_event_signed_with_a_key_nobody_trusts_is_refused():
    text = encode(customer_event(), signing_key=new_key("customer"))

    with pytest.raises(UntrustedEvent, match="is not trusted for producer 'customer'"):
        from_json(text, verifying_keys=TRUSTED)


def test_a_trusted_key_id_on_a_signature_it_did_not_make_is_refused():
    stranger = new_key("customer")
    data = json.loads(encode(customer_event(), signing_key=stranger))
    data[SIGNATURE]["key_id"] = CUSTOMER_KEY.key_id

    with pytest.raises(UntrustedEvent, match="does not match the event"):
        from_json(json.dumps(data), verifying_keys=TRUSTED)


CHANGES = {
    "payload": lambda d: d["payload"].update(customer_id=str(uuid.uuid4())),
    "event id": lambda d: d.update(event_id=str(uuid.uuid4())),
    "correlation id": lambda d: d.update(correlation_id=str(uuid.uuid4())),
    "version": lambda d: d.update(aggregate_version=7),
    "occurred at": lambda d: d.update(occurred_at="2020-01-01T00:00:00.000000Z"),
    "trace context": lambda d: d["trace_context"].update(tracestate="a=b"),
    "causation id": lambda d: d.update(causation_id=str(uuid.uuid4())),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_the_signature_covers_every_field(change):
    data = json.loads(encode(customer_event(), signing_key=CUSTOMER_KEY))
    change(data)

    with pytest.raises(UntrustedEvent, match="does not match the event"):
        from_json(json.dumps(data), verifying_keys=TRUSTED)


def test_the_key_id_is_signed_too():
    # Relabelling a valid signature as another trusted key's makes it invalid
    # (the key id is part of what was signed), whatever that key would say.
    both = VerifyingKeys(
        [CUSTOMER_KEY.verifying_key, new_key("customer").verifying_key]
    )
    other_id = next(k.key_id for k in both if k.key_id != CUSTOMER_KEY.key_id)
    data = json.loads(encode(customer_event(), signing_key=CUSTOMER_KEY))
    data[SIGNATURE]["key_id"] = other_id

    with pytest.raises(UntrustedEvent, match="does not match the event"):
        from_json(json.dumps(data), verifying_keys=both)


def test_the_same_event_written_another_way_still_verifies():
    # What is signed is the canonical form of the document, so a relay that
    # reorders keys or indents (an SNS notification's Message does not, but a
    # consumer in another language may rebuild the text) changes nothing.
    envelope = customer_event(payload={"customer_id": CUSTOMER_ID})
    data = json.loads(encode(envelope, signing_key=CUSTOMER_KEY))
    rewritten = json.dumps(dict(reversed(list(data.items()))), indent=2)

    assert from_json(rewritten, verifying_keys=TRUSTED) == envelope


def test_a_key_speaks_only_for_its_own_producer():
    # The order service's key cannot sign a customer event...
    with pytest.raises(InvalidEvent, match="order service's key cannot sign"):
        encode(customer_event(), signing_key=ORDER_KEY)
    # ... and its signature on one that says "customer" is refused.
    data = to_dict(customer_event())
    forged = {**data, "producer": "order"}
    signed = ORDER_KEY.sign(forged)
    signed["producer"] = "customer"
    with pytest.raises(UntrustedEvent, match="made with the order service's key"):
        from_json(json.dumps(signed), verifying_keys=TRUSTED)


def test_one_public_key_cannot_be_trusted_for_two_producers():
    shared = VerifyingKey.from_text(CUSTOMER_KEY.verifying_key.text, producer="order")
    with pytest.raises(ValueError, match="both customer and order"):
        VerifyingKeys([CUSTOMER_KEY.verifying_key, shared])


def test_an_invalid_event_is_refused_for_what_is_wrong_with_it_first():
    # Schema before signature: the dead letter says what is wrong with the
    # body, not merely that it is unsigned.
    data = to_dict(example_envelope("OrderPlaced"))
    data["payload"]["lines"][0]["quantity"] = 0
    with pytest.raises(InvalidEvent, match=r"payload.lines\[0\].quantity"):
        from_json(json.dumps(data), verifying_keys=TRUSTED)


# --- provenance ----------------------------------------------------------------------


def test_every_aggregate_has_one_producer_and_every_payload_names_its_id():
    assert sorted(owner.producer for owner in AGGREGATE_OWNERS.values()) == sorted(
        PRODUCERS
    )
    for event_type, version in REGISTRY.known_types():
        aggregate_type = REGISTRY.aggregate_type_for(event_type, version)
        id_field = AGGREGATE_OWNERS[aggregate_type].id_field
        assert id_field in REGISTRY.schema_for(event_type, version)["required"]


def test_a_producer_cannot_sign_an_event_of_an_aggregate_it_does_not_own():
    foreign = example_envelope("CustomerDeleted", producer="order")
    with pytest.raises(UntrustedEvent, match="'order' may not publish CustomerDeleted"):
        encode(foreign, signing_key=ORDER_KEY)


def test_a_producer_cannot_sign_an_aggregate_id_that_is_not_the_payloads():
    mismatched = customer_event(
        aggregate_id=str(uuid.uuid4()), payload={"customer_id": CUSTOMER_ID}
    )
    with pytest.raises(UntrustedEvent, match="is not the payload's customer_id"):
        encode(mismatched, signing_key=CUSTOMER_KEY)


def test_a_consumer_refuses_a_signed_event_of_an_aggregate_its_producer_does_not_own():
    # Validly signed with the order service's own trusted key: still refused.
    text = resigned(
        encode(customer_event(), signing_key=CUSTOMER_KEY),
        lambda d: d.update(producer="order"),
        ORDER_KEY,
    )
    with pytest.raises(UntrustedEvent, match="'order' may not publish CustomerDeleted"):
        from_json(text, verifying_keys=TRUSTED)


def test_a_consumer_refuses_a_signed_event_whose_aggregate_id_is_not_the_payloads():
    other = str(uuid.uuid4())
    text = resigned(
        encode(customer_event(), signing_key=CUSTOMER_KEY),
        lambda d: d["payload"].update(customer_id=other),
        CUSTOMER_KEY,
    )
    with pytest.raises(UntrustedEvent, match=f"payload's customer_id '{other}'"):
        from_json(text, verifying_keys=TRUSTED)


def test_an_aggregate_id_that_is_not_a_uuid_is_invalid():
    text = resigned(
        encode(customer_event(), signing_key=CUSTOMER_KEY),
        lambda d: d.update(aggregate_id="customer-42"),
        CUSTOMER_KEY,
    )
    with pytest.raises(InvalidEvent, match="'customer-42' is not a UUID"):
        from_json(text, verifying_keys=TRUSTED)


# --- rotation ------------------------------------------------------------------------


def test_during_a_rotation_both_keys_are_accepted_until_the_old_one_is_removed():
    old, new = new_key("customer"), new_key("customer")
    before = encode(customer_event(), signing_key=old)  # in flight, say
    before_rotation = VerifyingKeys([old.verifying_key])
    during = VerifyingKeys([old.verifying_key, new.verifying_key])
    after = VerifyingKeys([new.verifying_key])

    # 1. Consumers trust the new key too; the producer still signs with the old.
    assert from_json(before, verifying_keys=before_rotation)
    assert from_json(before, verifying_keys=during)
    # 2. The producer switches: new events name the new key; both verify.
    switched = encode(customer_event(), signing_key=new)
    assert json.loads(switched)[SIGNATURE]["key_id"] == new.key_id != old.key_id
    assert from_json(switched, verifying_keys=during)
    assert from_json(before, verifying_keys=during)
    # 3. The old key leaves the verifying set: what it signed is refused.
    assert from_json(switched, verifying_keys=after)
    with pytest.raises(UntrustedEvent, match=f"key '{old.key_id}' is not trusted"):
        from_json(before, verifying_keys=after)
    # A consumer that was not told of the new key refuses the new events.
    with pytest.raises(UntrustedEvent, match=f"key '{new.key_id}' is not trusted"):
        from_json(switched, verifying_keys=before_rotation)
