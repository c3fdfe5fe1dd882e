"""How big an event may be on the wire.

Amazon SQS and SNS accept at most 256 KiB per message, counting the body
*and* the message attributes. The envelope is the body, so the platform keeps
1 KiB of headroom for attributes (event type, trace headers) that a publisher
may add. Kinesis allows 1 MiB per record, but one cap for every transport
means an event that fits one broker fits them all.
"""

from __future__ import annotations

from shared_events.events.errors import EventTooLarge, InvalidEvent

MAX_EVENT_BYTES = 256 * 1024
"""The SQS/SNS limit for one message: body plus attributes."""

MAX_ENVELOPE_BYTES = MAX_EVENT_BYTES - 1024
"""The cap on the envelope JSON itself (255 KiB), leaving 1 KiB for attributes."""


def encoded_size(text: str) -> int:
    """Bytes of ``text`` as UTF-8, which is what the broker counts (not characters)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        # A lone surrogate ("\ud800") is a valid Python str but no broker
        # accepts it; refusing here keeps it out of the outbox.
        raise InvalidEvent(f"not encodable as UTF-8: {error.reason}") from error


def check_size(text: str, *, limit: int = MAX_ENVELOPE_BYTES) -> int:
    """Return the UTF-8 size of ``text``, or raise ``EventTooLarge`` if over ``limit``.

    Exactly ``limit`` bytes is allowed; ``limit + 1`` is refused.
    """
    size = encoded_size(text)
    if size > limit:
        raise EventTooLarge(size, limit)
    return size
