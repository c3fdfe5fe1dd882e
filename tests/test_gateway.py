"""The gateway as a client meets it: the real HAProxy in front of real services.

One platform (both services' web processes, db_per_service: the cheapest to
start) and one gateway in front, started the way ``manage.py up`` starts it
(``stack.gateway``), with small limits so that a test can reach them: 5
requests per subject and 40 per address in a 2 s window, bodies up to 2 KiB.
What each test proves is told by what the services saw: their own access
logs (gunicorn's) show the path a routed request arrived on, and their
responses echo the request id and trace id they received; a request refused
at the edge leaves no trace there. (The query routes reach the query
processes under cqrs_es: ``tests/test_platform_up.py`` goes through the
gateway of a whole ``manage.py up``; here they reach the web processes'
``/api/query/``, which say why they hold no read models.)
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt as pyjwt
import pytest
import requests
from requests.adapters import HTTPAdapter

from stack.connections import fetch_value
from stack.platform_run import running_platform
from stack.processes import ServiceProcess

pytestmark = pytest.mark.slow

LIMITS = {
    "GATEWAY_RATE_PER_SUBJECT": "5",
    "GATEWAY_RATE_PER_ADDRESS": "40",
    "GATEWAY_RATE_WINDOW_SECONDS": "2",
    "GATEWAY_MAX_BODY_BYTES": "2048",
}
RETRY_AFTER_SECONDS = 4  # two windows: the sliding rate is zero by then


@pytest.fixture(scope="module")
def platform(server_url, database_prefix):
    with running_platform(
        approach="db_per_service", server_url=server_url, prefix=database_prefix
    ) as run:
        yield run


@pytest.fixture(scope="module")
def gateway(platform) -> ServiceProcess:
    return platform.start_gateway(extra_env=LIMITS)


@pytest.fixture(scope="module")
def demo_jwt(platform) -> str:
    """A JWT for the demo user (staff), who exists: the customer service reads
    the user a JWT names (the order service trusts the signature alone, so
    tests mint users of their own for it)."""
    demo = fetch_value(
        platform.database_url("customer"),
        "SELECT id FROM auth_user WHERE username = %s",
        ["demo"],
    )
    return mint(platform, user_id=str(demo))


def mint(platform, *, key: str | None = None, **claims) -> str:
    """A JWT as the customer service issues them (a staff user's), with
    ``claims`` changed; signed with the platform's key unless told another."""
    now = datetime.now(UTC)
    payload = {
        "token_type": "access",
        "exp": now + timedelta(minutes=5),
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": f"gateway-test-{uuid.uuid4().hex[:8]}",
        "iss": "customer",
        "is_staff": True,
        **claims,
    }
    return pyjwt.encode(
        payload, key or platform.env["JWT_SIGNING_KEY"], algorithm="HS256"
    )


def unsigned(platform) -> str:
    """The same claims under ``alg: none``, with no signature at all."""

    def part(document: dict) -> str:
        raw = json.dumps(document).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = pyjwt.decode(
        mint(platform), options={"verify_signature": False}, algorithms=["HS256"]
    )
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class FromAddress(HTTPAdapter):
    """Connections from another loopback address: another client to the gateway."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_line(path: Path, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no line with {text!r} in {path}")


def access_log_entry(gateway: ServiceProcess, request_id: str) -> dict:
    line = wait_for_line(gateway.log_path, f'"request_id":"{request_id}"')
    return json.loads(line)


def service_log(platform, process: str) -> Path:
    return platform.services[process.removesuffix("-web")].log_path


# Routing


@pytest.mark.parametrize(
    ("prefix", "process", "service_path", "status"),
    [
        ("/customers/", "customer-web", "/api/customers/", 200),
        ("/orders/", "order-web", "/api/orders/", 200),
        # No read models but under cqrs_es: the service says so, with 404.
        ("/query/customers/", "customer-web", "/api/query/customers/", 404),
        ("/query/orders/", "order-web", "/api/query/orders/", 404),
    ],
)
def test_each_prefix_reaches_its_process_on_the_services_own_path(
    platform, gateway, demo_jwt, prefix, process, service_path, status
):
    token = demo_jwt if process == "customer-web" else mint(platform)
    probe = uuid.uuid4().hex
    request_id = f"route-{probe}"
    response = requests.get(
        f"{gateway.base_url}{prefix}?probe={probe}",
        headers={**bearer(token), "X-Request-ID": request_id},
        timeout=10,
    )

    assert response.status_code == status, response.text
    assert response.headers["X-Correlation-ID"]  # the service answered
    # The process's own access log (gunicorn's line, not the JSON log line a
    # 404 also gets): the request arrived, on the service's path.
    log = service_log(platform, process)
    wait_for_line(log, f"GET {service_path}?probe={probe} ")
    assert access_log_entry(gateway, request_id)["backend"] == process


def test_the_open_routes_need_no_jwt(gateway):
    """Sign-in, health and the gateway's own health answer without a token;
    a wrong password is the customer service's 401, not the gateway's."""
    signed_in = requests.post(
        f"{gateway.base_url}/auth/token/",
        json={"username": "demo", "password": "not-the-password"},
        timeout=10,
    )
    health = requests.get(f"{gateway.base_url}/health/orders/", timeout=10)
    own = requests.get(f"{gateway.base_url}/api/health/", timeout=10)

    assert signed_in.status_code == 401, signed_in.text
    assert "JWT" not in signed_in.json()["detail"]
    assert signed_in.headers["X-Correlation-ID"]  # answered by the service
    assert health.status_code == 200 and "databases" in health.json()
    assert own.status_code == 200


def test_an_unknown_path_is_a_404_naming_the_routes(gateway):
    response = requests.get(f"{gateway.base_url}/api/customers/", timeout=10)

    assert response.status_code == 404
    assert "/customers/" in response.json()["detail"]
    assert response.headers["X-Request-ID"]


# JWT at the edge


def refused_tokens(platform) -> dict[str, tuple[dict[str, str], str]]:
    """Each way a request is refused for its token: headers, what 401 says."""
    expired = datetime.now(UTC) - timedelta(seconds=5)
    return {
        "none": ({}, "a JWT is required"),
        "api token": ({"Authorization": "Token abc"}, "a JWT is required"),
        "bad signature": (
            bearer(mint(platform, key="another-key-" + "x" * 32)),
            "signature does not verify",
        ),
        "alg none": (bearer(unsigned(platform)), "must be signed with HS256"),
        "expired": (bearer(mint(platform, exp=expired)), "has expired"),
        "refresh token": (
            bearer(mint(platform, token_type="refresh")),
            "not an access token",
        ),
    }


CASES = ["none", "api token", "bad signature", "alg none", "expired", "refresh token"]


@pytest.mark.parametrize("case", CASES)
def test_a_request_without_a_valid_jwt_is_refused_at_the_edge(platform, gateway, case):
    headers, says = refused_tokens(platform)[case]
    request_id = f"refused-{uuid.uuid4().hex}"
    response = requests.get(
        f"{gateway.base_url}/orders/",
        headers={**headers, "X-Request-ID": request_id},
        timeout=10,
    )

    assert response.status_code == 401, response.text
    assert says in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["X-Request-ID"] == request_id
    # Answered by the gateway: no service saw it.
    assert "X-Correlation-ID" not in response.headers
    entry = access_log_entry(gateway, request_id)
    assert (entry["status"], entry["backend"], entry["subject"]) == (
        401,
        "gateway",
        "-",
    )


# Rate limits


def until_refused(send, *, allowed: int, most: int) -> list[requests.Response]:
    """Send until one is refused with 429 (at most ``most`` times).

    The rate is estimated over a sliding window: a burst that straddles two
    windows may be refused a little after ``allowed``, never before.
    """
    answers = []
    for _ in range(most):
        answers.append(send())
        if answers[-1].status_code == 429:
            break
    assert len(answers) > allowed, [a.status_code for a in answers]
    assert answers[-1].status_code == 429, [a.status_code for a in answers]
    return answers


def test_a_subject_past_its_rate_gets_429_then_recovers(platform, gateway):
    """Five requests per 2 s per user, from any address: then 429 with
    Retry-After, and after that pause the user is served again."""
    token = mint(platform)
    http = client_from("127.0.0.3")

    def send():
        return http.get(
            f"{gateway.base_url}/orders/", headers=bearer(token), timeout=10
        )

    answers = until_refused(send, allowed=5, most=40)

    assert {a.status_code for a in answers[:-1]} == {200}
    refused = answers[-1]
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "this user" in refused.json()["detail"]
    # Another user from the same address is not held back by this one.
    other = http.get(
        f"{gateway.base_url}/orders/", headers=bearer(mint(platform)), timeout=10
    )
    assert other.status_code == 200, other.text

    time.sleep(int(refused.headers["Retry-After"]))
    again = send()
    assert again.status_code == 200, again.text


def test_an_address_past_its_rate_gets_429_before_any_token_check(gateway):
    """Forty requests per 2 s per address, with or without a token: a flood of
    guessed tokens is cut off too, and recovers after the pause."""
    http = client_from("127.0.0.2")

    def send():
        return http.get(f"{gateway.base_url}/customers/", timeout=10)

    answers = until_refused(send, allowed=40, most=200)

    assert {a.status_code for a in answers[:-1]} == {401}
    refused = answers[-1]
    assert "this address" in refused.json()["detail"]
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    time.sleep(int(refused.headers["Retry-After"]))
    assert send().status_code == 401


# Body size


def test_a_body_past_the_limit_is_413_and_never_reaches_the_service(platform, gateway):
    token = mint(platform)
    request_id = f"large-{uuid.uuid4().hex}"
    body = json.dumps({"customer_id": str(uuid.uuid4()), "note": "x" * 3000})
    response = requests.post(
        f"{gateway.base_url}/orders/place/",
        data=body,
        headers={
            **bearer(token),
            "Content-Type": "application/json",
            "X-Request-ID": request_id,
        },
        timeout=10,
    )
    chunked = requests.post(
        f"{gateway.base_url}/orders/place/",
        data=iter([body.encode()]),  # a generator: requests sends it chunked
        headers={**bearer(token), "Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413, response.text
    assert "2048 bytes" in response.json()["detail"]
    assert access_log_entry(gateway, request_id)["backend"] == "gateway"
    assert chunked.status_code == 411, chunked.text


# The access log, the request id and the trace context


def test_each_request_is_one_json_access_log_line(platform, gateway):
    token = mint(platform)
    request_id = f"logged-{uuid.uuid4().hex}"
    before = datetime.now(UTC)
    response = requests.get(
        f"{gateway.base_url}/orders/?limit=1",
        headers={**bearer(token), "X-Request-ID": request_id},
        timeout=10,
    )
    assert response.status_code == 200

    entry = access_log_entry(gateway, request_id)
    subject = pyjwt.decode(
        token, options={"verify_signature": False}, algorithms=["HS256"]
    )["user_id"]
    logged_at = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= logged_at <= datetime.now(UTC)
    assert entry["method"] == "GET"
    assert entry["path"] == "/orders/"  # as the client sent it
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0
    assert entry["client"] == "127.0.0.1"
    assert entry["subject"] == str(subject)
    assert entry["route"] == "orders" and entry["backend"] == "order-web"
    assert entry["traceparent"].startswith("00-")


def test_the_service_receives_a_request_id_and_a_traceparent(
    platform, gateway, demo_jwt
):
    """The service echoes what it received (service_kit.api.correlation):
    sent without either, a request reaches it with the gateway's request id
    and a traceparent whose trace id is that same id; straight to the
    service, the same request carries neither."""
    through = requests.get(
        f"{gateway.base_url}/customers/", headers=bearer(demo_jwt), timeout=10
    )
    direct = requests.get(
        f"{platform.url('customer')}/api/customers/",
        headers=bearer(demo_jwt),
        timeout=10,
    )

    assert through.status_code == 200 and direct.status_code == 200
    request_id = through.headers["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    assert through.headers["X-Trace-ID"] == request_id
    entry = access_log_entry(gateway, request_id)
    assert entry["traceparent"].split("-")[1] == request_id
    assert "X-Request-ID" not in direct.headers
    assert "X-Trace-ID" not in direct.headers


def test_a_callers_own_ids_are_kept_and_malformed_ones_replaced(platform, gateway):
    token = mint(platform)
    trace_id = uuid.uuid4().hex
    kept = requests.get(
        f"{gateway.base_url}/orders/",
        headers={
            **bearer(token),
            "X-Request-ID": "caller-chosen-1",
            "traceparent": f"00-{trace_id}-{'ab' * 8}-01",
        },
        timeout=10,
    )
    replaced = requests.get(
        f"{gateway.base_url}/orders/",
        headers={
            **bearer(token),
            "X-Request-ID": "not ok\tat all",
            "traceparent": "01-zz",
        },
        timeout=10,
    )

    assert kept.headers["X-Request-ID"] == "caller-chosen-1"
    assert kept.headers["X-Trace-ID"] == trace_id
    assert len(replaced.headers["X-Request-ID"]) == 32
    assert replaced.headers["X-Trace-ID"] == replaced.headers["X-Request-ID"]
    # The gateway's own span: in the caller's trace, the caller's span as its
    # parent, a span id of its own (what the service receives).
    entry = access_log_entry(gateway, "caller-chosen-1")
    assert entry["parent_traceparent"] == f"00-{trace_id}-{'ab' * 8}-01"
    _, logged_trace, logged_span, flags = entry["traceparent"].split("-")
    assert (logged_trace, flags) == (trace_id, "01")
    assert logged_span != "ab" * 8 and len(logged_span) == 16
    fresh = access_log_entry(gateway, replaced.headers["X-Request-ID"])
    assert fresh["parent_traceparent"] == "-"
    assert isinstance(fresh["start_ms"], int)
