"""``FAULT_INJECTION=slow_responses:<ms>[@share]``: a service that answers late.

Through Django's real handler and the customer service's middleware list, as
the lab's slow-customer-service scenario starts it.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from service_kit.api.slow_responses import SlowResponses
from shared_events.write_side.repositories import SLOW_RESPONSES, Fault

pytestmark = pytest.mark.django_db


def timed_get(client: Client, path: str) -> tuple[int, float]:
    started = time.monotonic()
    response = client.get(path)
    return response.status_code, time.monotonic() - started


def test_every_request_waits_but_the_health_check(settings):
    settings.FAULT_INJECTION = "slow_responses:1200"
    client = Client()

    status, waited = timed_get(client, "/api/customers/")
    health_status, health_waited = timed_get(client, "/api/health/")

    # Answered, and correctly (no credentials: 401), only late.
    assert (status, health_status) == (401, 200)
    assert waited >= 1.2
    assert health_waited < 1.0


def test_without_the_setting_nothing_waits(settings):
    settings.FAULT_INJECTION = ""

    status, waited = timed_get(Client(), "/api/customers/")

    assert status == 401 and waited < 1.0


def test_another_fault_leaves_the_answers_on_time(settings):
    settings.FAULT_INJECTION = "crash_before_publish:CustomerDeleted"

    assert SlowResponses.from_setting(settings.FAULT_INJECTION) is None
    _, waited = timed_get(Client(), "/api/customers/")
    assert waited < 1.0


def test_a_share_of_the_requests_waits():
    slow = SlowResponses.from_setting("slow_responses:800@0.5")

    assert slow == SlowResponses(delay_ms=800, share=0.5)
    delayed = [slow.delays("/api/customers/") for _ in range(400)]
    assert 100 < sum(delayed) < 300
    assert not slow.delays("/api/health/")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("slow_responses", "expected slow_responses:<ms>"),
        ("slow_responses:soon", "expected slow_responses:<ms>"),
        ("slow_responses:800@half", "expected slow_responses:<ms>"),
        ("slow_responses:0", "positive number of milliseconds"),
        ("slow_responses:800@0", r"must be in \(0, 1\]"),
        ("slow_responses:800@1.5", r"must be in \(0, 1\]"),
    ],
)
def test_a_malformed_delay_stops_the_service_from_starting(settings, value, problem):
    settings.FAULT_INJECTION = value

    with pytest.raises(ValueError, match=problem):
        Client().get("/api/health/")


def test_the_write_side_leaves_the_delay_to_the_web_server():
    """Every repository parses FAULT_INJECTION too: it must accept the kind,
    and find no event type in its arguments."""
    assert Fault.parse("slow_responses:800@0.5") == Fault(SLOW_RESPONSES)
