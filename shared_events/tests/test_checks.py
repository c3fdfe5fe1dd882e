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
