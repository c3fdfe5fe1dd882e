"""The query side as its own process (approach 5): the read database alone.

A real cqrs_es platform (web servers, consumers, projectors, relays, the
local AWS; the session's ``traced_cqrs_platform``), and beside it each
service's query process started as ``manage.py up`` starts it
(``QUERY_SIDE_ONLY=true``) but with its write database pointed at a port
where nothing listens. It still answers: its health names only the read
database, a JWT reads what the projector wrote, and an API token (kept in
the write database) is refused.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import requests

from lab.client import PlatformClient
from stack.loopback import free_port
from stack.process_table import query_web
from stack.processes import start_web

pytestmark = pytest.mark.slow

# The list and detail each service's query process serves.
QUERY_LISTS = {"customer": "/api/query/customers/", "order": "/api/query/orders/"}


@pytest.fixture(scope="module")
def platform(traced_cqrs_platform):
    return traced_cqrs_platform


@pytest.fixture(scope="module")
def query_processes(platform):
    """Each service's query process, its write database unreachable."""
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/no_write_database"
    started = {}
    try:
        for service in QUERY_LISTS:
            spec = query_web(service)
            env = {
                **platform.env,
                **dict(spec.environment),
                f"{service.upper()}_DATABASE_URL": nowhere,
            }
            started[service] = start_web(service, env=env)
        yield started
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture(scope="module")
def jwt(platform) -> str:
    printed = platform.manage(
        "customer",
        "create_demo_user",
        *("--token", platform.token, "--print-credentials"),
    ).stdout
    return json.loads(printed.strip().splitlines()[-1])["jwt"]


def _projected(url: str, headers: dict, wanted: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        rows = [row for row in response.json()["results"] if wanted in str(row)]
        if rows:
            return rows[0]
        time.sleep(0.3)
    raise AssertionError(f"{wanted} never reached {url}")


@pytest.mark.parametrize("service", list(QUERY_LISTS))
def test_health_names_only_the_read_database(query_processes, service):
    health = f"{query_processes[service].base_url}/api/health/"
    response = requests.get(health, timeout=10)

    assert response.status_code == 200, response.text
    assert response.json()["databases"] == {"read": "ok"}


def test_a_jwt_reads_what_the_projectors_wrote(platform, query_processes, jwt):
    client = PlatformClient(
        customer_url=platform.url("customer"),
        order_url=platform.url("order"),
        token=platform.token,
    )
    customer = client.register_customer(
        name="Quinn", email="quinn@example.com", address="7 Read Row"
    )
    bearer = {"Authorization": f"Bearer {jwt}"}
    customers = _query_list(query_processes, "customer")
    _projected(customers, bearer, customer["id"])
    placed = _placed_when_replicated(client, customer["id"])
    orders = _query_list(query_processes, "order")

    view = _projected(orders, bearer, placed["id"])

    assert view["customer_id"] == customer["id"]


@pytest.mark.parametrize("service", list(QUERY_LISTS))
def test_the_browsable_api_renders_without_the_write_database(
    query_processes, jwt, service
):
    response = requests.get(
        _query_list(query_processes, service),
        headers={"Authorization": f"Bearer {jwt}", "Accept": "text/html"},
        timeout=10,
    )

    assert response.status_code == 200, response.text[-2000:]
    assert "text/html" in response.headers["Content-Type"]


@pytest.mark.parametrize("service", list(QUERY_LISTS))
def test_an_api_token_is_refused_by_the_query_process(
    platform, query_processes, service
):
    """API tokens live in the write database, which the query process never
    opens: it says so with 401, not a 500."""
    response = requests.get(
        _query_list(query_processes, service),
        headers={"Authorization": f"Token {platform.token}"},
        timeout=10,
    )

    assert response.status_code == 401, response.text
    assert "takes a JWT" in response.json()["detail"]


def _query_list(query_processes: dict, service: str) -> str:
    return f"{query_processes[service].base_url}{QUERY_LISTS[service]}"


def _placed_when_replicated(client: PlatformClient, customer_id: str) -> dict:
    """The order, placed once the order service's replica knows the customer."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.place_order(
            customer_id=customer_id, lines=[("SKU-Q", 1, Decimal("2.50"))]
        )
        if response.status_code == 201:
            return response.json()
        time.sleep(0.3)
    raise AssertionError(f"the order service never learned of {customer_id}")


@pytest.mark.parametrize("service", list(QUERY_LISTS))
def test_the_schema_documents_the_jwt_alone(query_processes, jwt, service):
    response = requests.get(
        f"{query_processes[service].base_url}/api/schema/",
        headers={"Authorization": f"Bearer {jwt}", "Accept": "application/json"},
        timeout=10,
    )

    assert response.status_code == 200, response.text[-2000:]
    schemes = response.json()["components"]["securitySchemes"]
    assert set(schemes) == {"jwtAuth"}
