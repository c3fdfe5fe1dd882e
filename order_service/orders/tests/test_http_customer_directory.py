"""HttpCustomerDirectory against a real HTTP server on a loopback port.

The server is a stand-in for the customer service written with the standard
library, so these tests exercise the real wire: sockets, timeouts, headers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpResponse

from order_service.orders.customers import CustomerSnapshot, HttpCustomerDirectory
from service_kit.api.correlation import CorrelationMiddleware
from shared_events.errors import DependencyUnavailable

TOKEN = "test-service-token"


class CustomerServiceDouble(ThreadingHTTPServer):
    """Answers the two routes the directory calls, and records every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.customers: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.answer: tuple[int, bytes] | None = None  # force one answer for all
        self.delay = 0.0
        self.released = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def add(self, name: str) -> CustomerSnapshot:
        snapshot = CustomerSnapshot(
            id=uuid.uuid4(), name=name, email=f"{name.lower()}@example.com"
        )
        self.customers[str(snapshot.id)] = {
            "id": str(snapshot.id),
            "name": snapshot.name,
            "email": snapshot.email,
            "address": "somewhere",
        }
        return snapshot


class _Handler(BaseHTTPRequestHandler):
    server: CustomerServiceDouble

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.requests.append(
            {"path": url.path, "query": query, "headers": dict(self.headers)}
        )
        if self.server.delay:
            self.server.released.wait(self.server.delay)
        if self.server.answer is not None:
            return self._send(*self.server.answer)
        if url.path == "/api/customers/":
            ids = query.get("ids", [""])[0].split(",")
            results = [
                self.server.customers[i] for i in ids if i in self.server.customers
            ]
            body = {"count": len(results), "next": None, "previous": None}
            return self._send_json(200, {**body, "results": results})
        customer_id = url.path.removeprefix("/api/customers/").rstrip("/")
        if customer_id in self.server.customers:
            return self._send_json(200, self.server.customers[customer_id])
        return self._send_json(404, {"detail": "Not found."})

    def _send_json(self, status: int, body: dict) -> None:
        self._send(status, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def customer_service():
    server = CustomerServiceDouble()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield server
    server.released.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def directory_for(
    base_url: str, *, timeout: float = 2.0, retries: int = 0
) -> HttpCustomerDirectory:
    return HttpCustomerDirectory(
        base_url=base_url, token=TOKEN, timeout=timeout, retries=retries
    )


@pytest.fixture
def directory(customer_service) -> HttpCustomerDirectory:
    return directory_for(customer_service.base_url)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# GET
# ------------------------------------------------------------------------------


def test_get_returns_a_known_customer(customer_service, directory):
    ada = customer_service.add("Ada")

    assert directory.get(ada.id) == ada


def test_get_asks_for_the_customer_by_id(customer_service, directory):
    ada = customer_service.add("Ada")

    directory.get(ada.id)

    assert [request["path"] for request in customer_service.requests] == [
        f"/api/customers/{ada.id}/"
    ]


def test_get_of_an_unknown_customer_is_none(directory):
    assert directory.get(uuid.uuid4()) is None


def test_every_call_presents_the_service_token(customer_service, directory):
    directory.get(uuid.uuid4())
    directory.get_many([uuid.uuid4()])

    headers = [request["headers"] for request in customer_service.requests]
    assert [h["Authorization"] for h in headers] == [f"Service {TOKEN}"] * 2
    assert [h["Accept"] for h in headers] == ["application/json"] * 2


def test_a_call_carries_the_correlation_and_request_id_of_the_request(
    customer_service, directory, rf
):
    """The customer service's logs and events name the same action as the
    order request that asked (service_kit.api.correlation)."""
    correlation = uuid.uuid4()
    request = rf.get(
        "/api/orders/place/",
        HTTP_X_CORRELATION_ID=str(correlation),
        HTTP_X_REQUEST_ID="order-req-7",
    )

    def view(request):
        directory.get(uuid.uuid4())
        return HttpResponse()

    CorrelationMiddleware(view)(request)
    directory.get(uuid.uuid4())  # outside any request: nothing to forward

    inside, outside = [r["headers"] for r in customer_service.requests]
    assert inside["X-Correlation-ID"] == str(correlation)
    assert inside["X-Request-ID"] == "order-req-7"
    assert "X-Correlation-ID" not in outside and "X-Request-ID" not in outside


@pytest.mark.parametrize("status", [500, 502, 503, 401, 403, 429, 400])
def test_an_error_answer_means_the_customer_service_is_unavailable(
    customer_service, directory, status
):
    customer_service.answer = (status, b'{"detail": "no"}')

    with pytest.raises(DependencyUnavailable, match=f"answered {status}"):
        directory.get(uuid.uuid4())


@pytest.mark.parametrize(
    "body", [b"<html>gateway</html>", b"[]", b'{"id": "not-a-uuid"}', b""]
)
def test_an_unreadable_answer_means_the_customer_service_is_unavailable(
    customer_service, directory, body
):
    customer_service.answer = (200, body)

    with pytest.raises(DependencyUnavailable, match="could not be read"):
        directory.get(uuid.uuid4())


def test_a_refused_connection_means_the_customer_service_is_unavailable():
    base_url = f"http://127.0.0.1:{closed_port()}"

    with pytest.raises(DependencyUnavailable) as unavailable:
        directory_for(base_url).get(uuid.uuid4())

    assert base_url in unavailable.value.message
    assert "ConnectionError" in unavailable.value.message


def test_a_slow_customer_service_times_out_within_the_bound(customer_service):
    customer_service.delay = 10
    directory = directory_for(customer_service.base_url, timeout=0.3)

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable, match="Timeout"):
        directory.get(uuid.uuid4())

    assert time.monotonic() - started < 2


# THE NAIVE RETRY POLICY (CUSTOMER_SERVICE_RETRIES)
# ------------------------------------------------------------------------------


def test_by_default_a_slow_customer_service_is_asked_once(customer_service):
    customer_service.delay = 10
    directory = directory_for(customer_service.base_url, timeout=0.2)

    with pytest.raises(DependencyUnavailable, match="ReadTimeout"):
        directory.get(uuid.uuid4())

    assert len(customer_service.requests) == 1


def test_retries_ask_a_slow_customer_service_again_and_wait_each_time(
    customer_service,
):
    """The amplification: three requests for one lookup, each waiting the
    whole timeout, and the slow service still handling every one of them."""
    customer_service.delay = 10
    directory = directory_for(customer_service.base_url, timeout=0.2, retries=2)

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as unavailable:
        directory.get(uuid.uuid4())
    waited = time.monotonic() - started

    assert len(customer_service.requests) == 3
    assert "ReadTimeoutError after 3 attempts" in unavailable.value.message
    assert 0.6 <= waited < 2


def test_retries_repeat_a_gateway_error_then_report_the_last_answer(
    customer_service,
):
    customer_service.answer = (503, b'{"detail": "overloaded"}')
    directory = directory_for(customer_service.base_url, retries=2)

    with pytest.raises(DependencyUnavailable, match="answered 503"):
        directory.get(uuid.uuid4())

    assert len(customer_service.requests) == 3


def test_retries_leave_an_answer_alone(customer_service):
    """An unknown customer (404) or a refusal (403) is an answer, not a
    failure: asked once."""
    directory = directory_for(customer_service.base_url, retries=2)

    assert directory.get(uuid.uuid4()) is None
    customer_service.answer = (403, b'{"detail": "no"}')
    with pytest.raises(DependencyUnavailable, match="answered 403"):
        directory.get(uuid.uuid4())

    assert len(customer_service.requests) == 2


def test_retries_reach_a_refused_connection_too():
    base_url = f"http://127.0.0.1:{closed_port()}"

    with pytest.raises(DependencyUnavailable) as unavailable:
        directory_for(base_url, retries=1).get(uuid.uuid4())

    assert "ConnectionError after 2 attempts" in unavailable.value.message


def test_a_negative_retry_count_is_refused():
    with pytest.raises(ValueError, match="retries must be 0 or more"):
        directory_for("http://127.0.0.1:1", retries=-1)


def test_the_composition_root_reads_the_retry_setting(settings):
    from order_service import bootstrap
    from shared_events.approaches import Approach

    settings.CUSTOMER_SERVICE_RETRIES = 2

    directory = bootstrap.build_wiring(Approach.DB_PER_SERVICE).customer_directory

    assert isinstance(directory, HttpCustomerDirectory)
    assert directory.retries == 2


# GET MANY
# ------------------------------------------------------------------------------


def test_get_many_returns_the_known_customers_by_id(customer_service, directory):
    ada = customer_service.add("Ada")
    grace = customer_service.add("Grace")

    found = directory.get_many([ada.id, grace.id, uuid.uuid4()])

    assert found == {ada.id: ada, grace.id: grace}


def test_get_many_asks_in_chunks_of_one_hundred(customer_service, directory):
    known = [customer_service.add(f"C{n}") for n in range(3)]
    ids = [c.id for c in known] + [uuid.uuid4() for _ in range(247)]

    found = directory.get_many(ids + ids[:10])  # duplicates are asked once

    assert set(found) == {c.id for c in known}
    asked = [request["query"] for request in customer_service.requests]
    assert [len(query["ids"][0].split(",")) for query in asked] == [100, 100, 50]
    assert all(query["limit"] == ["100"] for query in asked)
    assert {i for query in asked for i in query["ids"][0].split(",")} == {
        str(i) for i in ids
    }


def test_get_many_of_no_ids_asks_nobody(customer_service, directory):
    assert directory.get_many([]) == {}
    assert customer_service.requests == []


@pytest.mark.parametrize(
    "answer", [(500, b"{}"), (404, b'{"detail": "Not found."}'), (200, b"{}")]
)
def test_get_many_turns_a_bad_answer_into_unavailable(
    customer_service, directory, answer
):
    customer_service.answer = answer

    with pytest.raises(DependencyUnavailable):
        directory.get_many([uuid.uuid4()])


# THROUGH THE ORDER API
# ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_placing_while_the_customer_service_is_down_is_a_clear_503(api_client):
    from order_service import bootstrap
    from order_service.orders.models import Order

    down = directory_for(f"http://127.0.0.1:{closed_port()}", timeout=0.5)
    order = {
        "customer_id": str(uuid.uuid4()),
        "lines": [{"sku": "BOOK-1", "quantity": 1, "unit_price": "1.00"}],
    }

    with bootstrap.overridden(customer_directory=down):
        response = api_client.post("/api/orders/place/", order, format="json")

    assert response.status_code == 503
    assert "could not be reached" in response.json()["detail"]
    assert "try again later" in response.json()["detail"]
    assert not Order.objects.exists()
