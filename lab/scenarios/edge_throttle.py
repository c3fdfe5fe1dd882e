"""A burst from one client, refused once at the edge: the gateway's throttle.

Paper, best practice VI: proxy every request through an API gateway that
authenticates and throttles up front. Before the gateway each service
throttled on its own (DRF's throttles, counted in its PostgreSQL table
``api_throttle_cache``): a burst reached every service, and each one spent a
worker and a database round trip on every request, the ones it refused
included, each counting only its own share of the client's requests.

The scenario starts the gateway (``stack.gateway``, HAProxy) in front of the
platform's web servers with a small limit per user
(``GATEWAY_RATE_PER_SUBJECT``), then:

1. a user signs in through the gateway (``/auth/token/``, an open route) and
   gets a JWT;
2. with it, one client sends a burst well above the limit, over a few
   connections at once, alternately to both services' lists;
3. while it waits out the ``Retry-After`` the gateway answered, the same
   burst goes straight to the services, past the gateway: what every burst
   did before there was one;
4. after the pause, it asks the gateway again.

Measured: requests sent, answered 2xx, refused with 429 by the gateway
(with ``Retry-After``, and with no service's ``X-Correlation-ID``: no service
answered them), the requests each service received, counted in its own
access log (``observe.access_log``) rather than from the client's view, the
same for the burst sent straight to them, and the seconds until the client
was served again.

What a learner should notice: the refusal happened once, at the edge, with
one count for both services; the services saw only what the gateway let
through, so the refused requests cost them nothing, where the same burst
sent straight reached them whole. Their own throttles stay behind the
gateway as defence in depth: a request that bypasses it still meets them.
(The lab sets those throttles far above its load, ``API_THROTTLE_USER``, so
here the services answer the straight burst rather than refuse it.)

The gateway is stopped when the scenario ends, whatever happened.
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from lab.backends import Backend
from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.access_log import AccessLog
from stack.gateway_binary import GatewayUnavailable, ensure_haproxy
from stack.processes import ServiceProcess

# Requests one user may send per window at the edge, and the window: small,
# so that a burst of a moment is well above it, and the pause it asks for
# (two windows) is short.
LIMIT = 5
WINDOW_SECONDS = 1
BURST = 30
# Connections the client sends the burst over at once (a browser opens six).
CONNECTIONS = 4
# How long the client keeps asking, after its pause, before giving up.
RECOVERY_PATIENCE_SECONDS = 5.0
RECOVERY_POLL_SECONDS = 0.5

# The gateway's paths, alternately: one user's requests to both services.
PATHS = {"customer": "/customers/", "order": "/orders/"}
# The same requests as each service receives them (``stack.gateway_routes``).
SERVICE_PATHS = {"customer": "/api/customers/", "order": "/api/orders/"}

THROUGH_THE_GATEWAY = "through the gateway"
STRAIGHT_TO_THE_SERVICES = "straight to the services"
SENT = "sent"
ANSWERED = "2xx"
REFUSED = "429 at the edge"
REACHED = "reached services"
REACHED_CUSTOMER = "customer service"
REACHED_ORDER = "order service"
RECOVERY = "recovery"
RETRY_AFTER = "Retry-After s"
SERVED_AFTER = "served again after s"


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    # The services put X-Correlation-ID on every answer; the gateway's own
    # answers (a refusal) carry none.
    from_service: bool

    @classmethod
    def of(cls, response: requests.Response) -> Answer:
        return cls(
            status=response.status_code,
            retry_after=response.headers.get("Retry-After"),
            from_service="X-Correlation-ID" in response.headers,
        )

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def refused_at_the_edge(self) -> bool:
        return self.status == 429 and bool(self.retry_after) and not self.from_service


class EdgeThrottle(Scenario):
    name = "edge-throttle"
    title = (
        f"one signed-in client sends {BURST} requests at once through the gateway, "
        f"which lets {LIMIT} per user per {WINDOW_SECONDS} s through"
    )

    def skip_reason(self, backend: Backend) -> str | None:
        return no_gateway_reason()

    def run(self, ctx: ScenarioContext) -> None:
        gateway = ctx.run.start_gateway(
            extra_env={
                "GATEWAY_RATE_PER_SUBJECT": str(LIMIT),
                "GATEWAY_RATE_WINDOW_SECONDS": str(WINDOW_SECONDS),
                # Far above the burst: this lesson is the per-user limit.
                "GATEWAY_RATE_PER_ADDRESS": str(100 * BURST),
            }
        )
        try:
            self._through(ctx, gateway)
        finally:
            gateway.stop()
        ctx.finished = time.monotonic()

    def _through(self, ctx: ScenarioContext, gateway: ServiceProcess) -> None:
        access = sign_in(ctx, gateway.base_url)
        edge = secrets.token_hex(6)
        answers = send_burst(
            {s: f"{gateway.base_url}{path}" for s, path in PATHS.items()}, access, edge
        )
        burst_ended = time.monotonic()
        refused = [a for a in answers if a.refused_at_the_edge]
        ctx.notes.append(
            f"the gateway on port {gateway.port}, {LIMIT} requests per user per "
            f"{WINDOW_SECONDS} s; each burst over {CONNECTIONS} connections"
        )
        # While the client waits out its Retry-After: the same burst straight
        # to the services, as every burst reached them before the gateway.
        straight = secrets.token_hex(6)
        bypassing = send_burst(
            {s: f"{ctx.run.url(s)}{path}" for s, path in SERVICE_PATHS.items()},
            access,
            straight,
        )
        for answer in [*answers, *bypassing]:
            if not answer.ok:
                ctx.client.failures[str(answer.status)] += 1
        recovery: dict[str, float | int | None] = {}
        if refused:
            pause = max(int(a.retry_after) for a in refused)
            time.sleep(max(0.0, burst_ended + pause - time.monotonic()))
            served = ask_again(f"{gateway.base_url}{PATHS['order']}", access)
            recovery = {
                RETRY_AFTER: pause,
                SERVED_AFTER: None
                if served is None
                else round(served - burst_ended, 1),
            }
        # Counted after the pause: a service writes a request's access-log
        # line once it has answered it.
        reached = received(ctx, edge)
        ctx.figures[THROUGH_THE_GATEWAY] = {
            SENT: len(answers),
            ANSWERED: sum(1 for a in answers if a.ok),
            REFUSED: len(refused),
            REACHED: sum(reached.values()),
            REACHED_CUSTOMER: reached["customer"],
            REACHED_ORDER: reached["order"],
        }
        ctx.figures[STRAIGHT_TO_THE_SERVICES] = {
            SENT: len(bypassing),
            ANSWERED: sum(1 for a in bypassing if a.ok),
            REACHED: sum(received(ctx, straight).values()),
        }
        if recovery:
            ctx.figures[RECOVERY] = recovery

    def lesson(self, approach: str, measured: Measurements) -> str:
        edge = measured.figures.get(THROUGH_THE_GATEWAY)
        if not edge:
            return "the burst was not measured"
        sent, answered = edge[SENT], edge[ANSWERED]
        refused, reached = edge[REFUSED], edge[REACHED]
        if not refused:
            return (
                f"the gateway refused none of {sent} requests ({answered} answered "
                f"2xx): the burst did not pass {LIMIT} per {WINDOW_SECONDS} s"
            )
        lesson = (
            f"the gateway let {answered} of {sent} requests through ({LIMIT} per "
            f"user per {WINDOW_SECONDS} s, one count for both services) and refused "
            f"{refused} itself with 429 and Retry-After; the services' access logs "
            f"show {reached} of them (customer {edge[REACHED_CUSTOMER]}, order "
            f"{edge[REACHED_ORDER]})"
        )
        if reached == answered:
            lesson += (
                f": the {refused} refused never reached a service and cost it nothing"
            )
        straight = measured.figures.get(STRAIGHT_TO_THE_SERVICES)
        if straight:
            lesson += (
                f". Sent straight to the services, the same burst reached them "
                f"{straight[REACHED]} times out of {straight[SENT]}, as every burst "
                "did before the gateway: a worker and a database round trip (the "
                "throttle's count, then the query) in a service for each request, "
                "the ones its own throttle refuses included"
            )
        recovery = measured.figures.get(RECOVERY, {})
        served = recovery.get(SERVED_AFTER)
        if served is None:
            lesson += (
                f". After pausing {recovery.get(RETRY_AFTER)} s it was still refused"
            )
        else:
            lesson += (
                f". Paused for Retry-After ({recovery[RETRY_AFTER]} s), the client "
                f"was served again {served} s after the burst"
            )
        return (
            lesson + ". Each service keeps its own throttle behind the gateway "
            "(defence in depth): a request that bypasses the gateway still meets it"
        )


def no_gateway_reason() -> str | None:
    """Why a scenario through the gateway cannot run here, or None."""
    try:
        ensure_haproxy()
    except GatewayUnavailable as error:
        return f"no gateway on this machine: {error}"
    return None


def sign_in(ctx: ScenarioContext, gateway_url: str) -> str:
    """A new user with a password, signed in through the gateway: its JWT."""
    username = f"edge-{secrets.token_hex(4)}"
    password = ctx.run.create_user_with_password(username)
    response = requests.post(
        f"{gateway_url}/auth/token/",
        json={"username": username, "password": password},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access"]


def received(ctx: ScenarioContext, marker: str) -> dict[str, int]:
    """The requests of burst ``marker`` each service's access log shows."""
    return {
        service: AccessLog(ctx.run.services[service].log_path).requests(
            method="GET", path_prefix=f"{path}?burst={marker}&"
        )
        for service, path in SERVICE_PATHS.items()
    }


def send_burst(urls: dict[str, str], access: str, marker: str) -> list[Answer]:
    """``BURST`` requests over ``CONNECTIONS`` connections, alternately to each
    service's list at ``urls``; every answer kept.

    Each request names its burst (``?burst=``), so that a service's access
    log tells this burst's requests from any other.
    """
    sessions = threading.local()
    targets = list(urls.values())

    def send(index: int) -> Answer:
        session = getattr(sessions, "session", None)
        if session is None:
            session = sessions.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {access}"
        url = targets[index % len(targets)]
        response = session.get(f"{url}?burst={marker}&n={index}", timeout=10)
        return Answer.of(response)

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        return list(pool.map(send, range(BURST)))


def ask_again(url: str, access: str) -> float | None:
    """When (``time.monotonic()``) the client was served again, asking now and
    then a few times more; None if it never was."""
    deadline = time.monotonic() + RECOVERY_PATIENCE_SECONDS
    while True:
        response = requests.get(
            url, headers={"Authorization": f"Bearer {access}"}, timeout=10
        )
        if Answer.of(response).ok:
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        time.sleep(RECOVERY_POLL_SECONDS)
