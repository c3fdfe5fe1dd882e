"""A service that answers late on purpose: ``FAULT_INJECTION=slow_responses:<ms>``.

The lab's ``slow-customer-service`` scenario starts the customer service
with it to show what a slow dependency does to a synchronous caller (paper,
sections I and 2.2)::

    FAULT_INJECTION=slow_responses:800        every request waits 800 ms
    FAULT_INJECTION=slow_responses:800@0.5    one request in two does

What a learner should notice:

* The service is not down. It answers every request, correctly, late, and
  the wait holds one of its worker threads the whole time, as a service
  whose database or CPU is overloaded would.
* A caller that gives up first (the order service's
  ``CUSTOMER_SERVICE_TIMEOUT``) does not free that thread: the request is
  still handled, and answered to nobody. A caller that then retries sends
  the slow service more work exactly when it has the least room for it.
* The health check is never delayed, so the platform's supervisor keeps the
  process running: slow is not dead.

Installed by the customer service's settings; without the setting Django
leaves the middleware out (``MiddlewareNotUsed``) and nothing is slower.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from shared_events.write_side.repositories import SLOW_RESPONSES

logger = logging.getLogger(__name__)

# Answered at once whatever the setting: the supervisor's and the lab's probe.
UNDELAYED_PATHS = ("/api/health/",)


@dataclass(frozen=True)
class SlowResponses:
    """How late the service answers, and the share of requests that wait."""

    delay_ms: int
    share: float = 1.0

    def __post_init__(self) -> None:
        if self.delay_ms <= 0:
            raise ValueError(
                f"{SLOW_RESPONSES}: the delay must be a positive number of "
                f"milliseconds, not {self.delay_ms}"
            )
        if not 0 < self.share <= 1:
            raise ValueError(
                f"{SLOW_RESPONSES}: the share after '@' must be in (0, 1], "
                f"not {self.share}"
            )

    @classmethod
    def from_setting(cls, value: str) -> SlowResponses | None:
        """The delay a ``FAULT_INJECTION`` value asks for; None for any other
        kind of fault (or none). ValueError, naming the problem, for a
        malformed one: the process refuses to start rather than run unslowed."""
        kind, _, rest = (value or "").strip().partition(":")
        if kind.strip() != SLOW_RESPONSES:
            return None
        delay, _, share = rest.partition("@")
        try:
            delay_ms = int(delay.strip())
            fraction = float(share) if share.strip() else 1.0
        except ValueError:
            raise ValueError(
                f"FAULT_INJECTION={value!r}: expected {SLOW_RESPONSES}:<ms>[@share], "
                f"e.g. {SLOW_RESPONSES}:800@0.5"
            ) from None
        return cls(delay_ms=delay_ms, share=fraction)

    def delays(self, path: str) -> bool:
        """Whether this request waits (the share is drawn per request)."""
        if path.startswith(UNDELAYED_PATHS):
            return False
        return self.share >= 1 or random.random() < self.share


class SlowResponsesMiddleware:
    """Waits before handling a request, as ``FAULT_INJECTION`` asks."""

    def __init__(self, get_response) -> None:
        slow = SlowResponses.from_setting(settings.FAULT_INJECTION)
        if slow is None:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.slow = slow
        logger.warning(
            "fault injection: answering %s of the requests %d ms late",
            "all" if slow.share >= 1 else f"{slow.share:.0%}",
            slow.delay_ms,
        )

    def __call__(self, request):
        if self.slow.delays(request.path):
            time.sleep(self.slow.delay_ms / 1000)
        return self.get_response(request)
