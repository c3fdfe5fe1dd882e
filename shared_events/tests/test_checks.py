"""System checks refuse a configuration that cannot work, saying why."""

from django.core import checks


def errors(check_id: str) -> list[checks.CheckMessage]:
    return [error for error in checks.run_checks() if error.id == check_id]


def test_an_unknown_relay_wake_is_refused(settings):
    settings.EVENT_RELAY_WAKE = "carrier-pigeon"

    found = errors("shared_events.E002")

    assert found and "carrier-pigeon" in found[0].msg


def test_the_known_relay_wakes_pass(settings):
    for wake in ("notify", "celery"):
        settings.EVENT_RELAY_WAKE = wake
        assert errors("shared_events.E002") == []


def test_an_unknown_or_impossible_event_delivery_is_refused(settings):
    settings.EVENT_DELIVERY = "carrier-pigeon"
    found = errors("shared_events.E004")
    assert found and "carrier-pigeon" in found[0].msg

    settings.EVENT_DELIVERY, settings.EVENT_FIFO = "kinesis", True
    found = errors("shared_events.E004")
    assert found and "fifo does not apply to kinesis" in found[0].msg

    settings.EVENT_FIFO, settings.EVENT_KINESIS_SHARDS = False, 0
    found = errors("shared_events.E004")
    assert found and "kinesis_shards" in found[0].msg


def test_the_known_event_deliveries_pass(settings):
    settings.EVENT_FIFO, settings.EVENT_KINESIS_SHARDS = False, 2
    for delivery in ("sns", "sqs", "kinesis"):
        settings.EVENT_DELIVERY = delivery
        assert errors("shared_events.E004") == []
