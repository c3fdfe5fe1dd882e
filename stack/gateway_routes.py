"""What the gateway routes where, and what it refuses past which limits.

The routes are the one table the local gateway (``stack.gateway_config``),
the compose gateway and the AWS HTTP API (``deploy/shared.yaml``, held to it
by ``tests/test_gateway_deploy.py``) all follow. What a learner should
notice: the gateway's paths are the services' own without ``/api``, so a
route is a prefix swapped for another; and the few open routes, which take
no JWT, each say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Where the gateway answers for itself (``monitor-uri``): 200 while it runs,
#: the health path every web process of the platform answers.
HEALTH_PATH = "/api/health/"
#: The compose network's DNS server, which resolves each container's name.
COMPOSE_DNS = "127.0.0.11:53"


@dataclass(frozen=True)
class GatewayLimits:
    """What the edge refuses, and how it counts (``GATEWAY_*`` settings)."""

    #: Requests one subject (a JWT's ``user_id``) may send per window.
    per_subject: int = 100
    #: Requests one client address may send per window, tokens or not.
    per_address: int = 200
    window_seconds: int = 10
    #: The largest request body forwarded (the services' own default cap).
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> GatewayLimits:
        defaults = cls()
        return cls(
            per_subject=int(env.get("GATEWAY_RATE_PER_SUBJECT", defaults.per_subject)),
            per_address=int(env.get("GATEWAY_RATE_PER_ADDRESS", defaults.per_address)),
            window_seconds=int(
                env.get("GATEWAY_RATE_WINDOW_SECONDS", defaults.window_seconds)
            ),
            max_body_bytes=int(
                env.get("GATEWAY_MAX_BODY_BYTES", defaults.max_body_bytes)
            ),
        )

    @property
    def retry_after_seconds(self) -> int:
        # The rate is a sliding estimate over the current and the previous
        # window: two windows after the last request it is zero for sure.
        return 2 * self.window_seconds


PLAIN_PREFIX = re.compile(r"^/([a-z-]+/)*$")


@dataclass(frozen=True)
class Route:
    """A path prefix a client sends, and the process and path it reaches."""

    name: str
    prefix: str
    #: The process-table name of the web process that answers it.
    process: str
    #: What the service calls the same prefix (``prefix`` is replaced by it).
    service_prefix: str
    #: No JWT at the edge (each open route says why in ``platform_routes``).
    open: bool = False
    #: Answers while ``process`` is not there (compose: the query processes
    #: run under cqrs_es only; the full web process answers ``/api/query/``
    #: otherwise, with a 404 that says why).
    fallback: str | None = None

    def __post_init__(self) -> None:
        # Written into regular expressions and ACLs as they are.
        for prefix in (self.prefix, self.service_prefix):
            if not PLAIN_PREFIX.match(prefix):
                raise ValueError(f"a route prefix is /word/.../: {prefix!r}")


def platform_routes(
    process_names: Iterable[str], *, fallbacks: bool = False
) -> list[Route]:
    """The gateway's routes to these processes (``name``s of the table).

    The query routes go to the query processes where they run (cqrs_es), else
    to the web processes. ``fallbacks`` (compose, one file for every approach)
    routes them to the query processes with the web process as a backup.
    """
    names = set(process_names)

    def query_side(service: str) -> dict[str, str | None]:
        query, web = f"{service}-query", f"{service}-web"
        if fallbacks:
            return {"process": query, "fallback": web}
        return {"process": query if query in names else web}

    return [
        Route("customers", "/customers/", "customer-web", "/api/customers/"),
        Route("orders", "/orders/", "order-web", "/api/orders/"),
        # Each service's own HTML fragments (micro-frontends), which the
        # cockpit page composes: deployed with their service, JWT as the API.
        Route("ui-customers", "/ui/customers/", "customer-web", "/api/ui/customers/"),
        Route("ui-orders", "/ui/orders/", "order-web", "/api/ui/orders/"),
        Route(
            "query-customers",
            "/query/customers/",
            service_prefix="/api/query/customers/",
            **query_side("customer"),
        ),
        Route(
            "query-orders",
            "/query/orders/",
            service_prefix="/api/query/orders/",
            **query_side("order"),
        ),
        # Open: sign-in and refresh hand out the JWT every other route needs
        # (the customer service checks the password, or the refresh token).
        Route("auth", "/auth/", "customer-web", "/api/auth/", open=True),
        # Open: load balancers and monitors ask each service's health with no
        # credentials (as they may ask the gateway's own, HEALTH_PATH).
        Route(
            "health-customers",
            "/health/customers/",
            "customer-web",
            "/api/health/",
            open=True,
        ),
        Route(
            "health-orders", "/health/orders/", "order-web", "/api/health/", open=True
        ),
        # Open: the Django admin (the customer service's, where the users are)
        # signs in with its own form and session; it carries no JWT.
        Route("admin", "/admin/", "customer-web", "/admin/", open=True),
    ]


#: The process-table-like name of the local cockpit's web server.
COCKPIT_PROCESS = "cockpit-web"


def cockpit_route() -> Route:
    """The local gateway's default route: every path no other route takes goes
    to the cockpit (``manage.py cockpit``), which checks its own run token.

    Open at the edge because the cockpit is a page, not an API: its visitor
    has a session cookie, not a JWT. Placed first, so each service's route,
    matched after it, wins over it. Local only: the cockpit is not deployed,
    so ``platform_routes`` (the table AWS and compose follow) leaves it out.
    """
    return Route("cockpit", "/", COCKPIT_PROCESS, "/", open=True)


@dataclass(frozen=True)
class Upstreams:
    """Where each process listens, as the gateway reaches it."""

    #: process name -> ``host:port``
    addresses: Mapping[str, str]
    #: Resolve the names through the compose network's DNS, again and again
    #: (a container that starts later, or never, under another approach).
    compose_dns: bool = False
