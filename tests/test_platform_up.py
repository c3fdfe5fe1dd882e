"""``manage.py up`` as a learner runs it: the whole platform, supervised, stopped.

One real ``manage.py up`` under cqrs_es, the approach with every kind of
process (web and query servers, a consumer, a projector and a relay per
service, the local AWS), in a state directory of its own
(``PLATFORM_VAR_DIR``) and on databases of its own. A process of each kind,
killed together with SIGKILL, comes back and nothing is lost; SIGINT (Ctrl-C) leaves
no process behind, the local AWS included.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from shared_events.configuration import REPO_DIR, all_database_names
from stack import postgres
from stack.loopback import free_port
from stack.process_table import DEFAULT_PORTS
from stack.span_receiver import TELEMETRY_DATABASE

pytestmark = pytest.mark.slow

APPROACH = "cqrs_es"
PROCESSES = {
    f"{service}-{kind}"
    for service in ("customer", "order")
    for kind in ("web", "query", "consumer", "projector", "relay")
} | {"gateway"}
# One process of each kind is killed, all at once (the supervisor treats them
# all alike), from both services.
KILLED = [
    "customer-web",
    "order-query",
    "order-consumer",
    "customer-projector",
    "order-relay",
    "gateway",
]


class Up:
    def __init__(self, var_dir: Path, ports: dict[str, int]) -> None:
        self.var_dir = var_dir
        self.ports = ports
        self.process: subprocess.Popen | None = None
        self.log = var_dir / "up-output.log"
        self.env: dict[str, str] = {}

    def status(self) -> dict:
        try:
            return json.loads((self.var_dir / "run" / "up.json").read_text())
        except (OSError, ValueError):
            return {}

    def pids(self) -> dict[str, int | None]:
        return {p["name"]: p["pid"] for p in self.status().get("processes", [])}

    def token(self) -> str:
        return self.printed("Demo token: ")

    def jwt(self) -> str:
        return self.printed("Demo JWT (the gateway, the query side): ")

    def printed(self, label: str) -> str:
        for line in self.log.read_text().splitlines():
            if line.startswith(label):
                return line.removeprefix(label).split()[0]
        raise AssertionError(f"up printed no {label!r}")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def wait_for(condition, *, timeout: float, what: str, up: Up):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout:.0f}s; up printed:\n{up.output()}")


def all_running(up: Up) -> bool:
    pids = up.pids()
    return set(pids) == PROCESSES and all(pids.values())


@pytest.fixture(scope="module")
def up(tmp_path_factory, server_url):
    var_dir = tmp_path_factory.mktemp("up") / "var"
    var_dir.mkdir()
    ports = {name: free_port() for name in DEFAULT_PORTS}
    prefix = f"up{uuid.uuid4().hex[:8]}_"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_ENDPOINT_URL", "EVENT_TOPOLOGY_PREFIX", "SERVICE")
    }
    env.update(
        PLATFORM_VAR_DIR=str(var_dir),
        ARCHITECTURE_APPROACH=APPROACH,
        DATABASE_SERVER_URL=server_url,
        DATABASE_NAME_PREFIX=prefix,
        EVENT_TOPOLOGY_PREFIX=prefix.rstrip("_"),
    )
    running = Up(var_dir, ports)
    running.env = env
    with open(running.log, "w") as log:
        running.process = subprocess.Popen(
            [
                sys.executable,
                str(REPO_DIR / "manage.py"),
                "up",
                *(f"--{name}-port={port}" for name, port in ports.items()),
            ],
            cwd=REPO_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: all_running(running), timeout=180, what="up started", up=running
        )
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGINT)
            try:
                running.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(running.process.pid, signal.SIGKILL)
        postgres.drop_databases(
            server_url=server_url,
            names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
        )


def living_members(group: int) -> list[str]:
    """The processes of a process group still running (zombies have ended)."""
    living = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, pgid = fields[0], int(fields[3])
        if pgid == group and state != "Z":
            living.append(stat.parent.name)
    return living


def client(up: Up) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {up.token()}"
    return session


def register(up: Up, http: requests.Session, name: str) -> dict:
    response = http.post(
        f"{up.url('customer-web')}/api/customers/register/",
        json={"name": name, "email": f"{uuid.uuid4().hex}@example.com", "address": "1"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def place_when_known(up: Up, http: requests.Session, customer_id: str) -> dict:
    """Place an order once the order service has the customer (its replica)."""

    def placed():
        response = http.post(
            f"{up.url('order-web')}/api/orders/place/",
            json={
                "customer_id": customer_id,
                "lines": [{"sku": "A", "quantity": 1, "unit_price": "2.50"}],
            },
            timeout=10,
        )
        return response.json() if response.status_code == 201 else None

    return wait_for(placed, timeout=60, what="the customer reached orders", up=up)


def order_status(up: Up, http: requests.Session, order_id: str) -> str:
    response = http.get(f"{up.url('order-web')}/api/orders/{order_id}/", timeout=10)
    return response.json()["status"]


def query_side_status(up: Up, order_id: str) -> str | None:
    """The order as the order service's query process shows it (a JWT)."""
    response = requests.get(
        f"{up.url('order-query')}/api/query/orders/{order_id}/",
        headers={"Authorization": f"Bearer {up.jwt()}"},
        timeout=10,
    )
    return response.json()["status"] if response.status_code == 200 else None


def test_the_gateway_leads_to_every_web_process_of_the_platform(up):
    """One port in front of them all: each prefix reaches its process (the
    query prefixes the query processes), on the service's own path."""
    assert up.printed("Gateway: ").startswith(f"{up.url('gateway')}/customers/")
    routes = {
        "/customers/": ("customer-web", "/api/customers/"),
        "/orders/": ("order-web", "/api/orders/"),
        "/query/customers/": ("customer-query", "/api/query/customers/"),
        "/query/orders/": ("order-query", "/api/query/orders/"),
    }
    for prefix, (process, service_path) in routes.items():
        probe = uuid.uuid4().hex
        response = requests.get(
            f"{up.url('gateway')}{prefix}?probe={probe}",
            headers={"Authorization": f"Bearer {up.jwt()}"},
            timeout=10,
        )
        assert response.status_code == 200, (prefix, response.text)
        # Each web process logs to var/logs/<service>-web-<its port>.log.
        service = process.split("-")[0]
        log = up.var_dir / "logs" / f"{service}-web-{up.ports[process]}.log"
        line = f"GET {service_path}?probe={probe} "
        wait_for(
            lambda log=log, line=line: line in log.read_text(),
            timeout=10,
            what=f"{prefix} reached {process}",
            up=up,
        )


def test_make_up_keeps_each_requests_trace(up):
    """Every process exports its spans to up's span receiver, the gateway
    its access log: ``manage.py trace <X-Request-ID>`` draws the request."""
    response = requests.get(
        f"{up.url('gateway')}/orders/",
        headers={"Authorization": f"Bearer {up.jwt()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    request_id = response.headers["X-Request-ID"]

    def drawn() -> str | None:
        done = subprocess.run(
            [sys.executable, str(REPO_DIR / "manage.py"), "trace", request_id],
            cwd=REPO_DIR,
            env=up.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout if "order-web" in done.stdout else None

    output = wait_for(drawn, timeout=20, what="the request's trace", up=up)
    assert "gateway  gateway GET orders" in output
    assert "Traces: " in up.log.read_text()


def test_every_kind_killed_with_sigkill_at_once_comes_back_and_nothing_is_lost(up):
    """One process of each kind killed together while a deletion's events are
    on their way: the supervisor treats them alike, so one round (not one per
    kind) shows each come back and the deletion's consequences arrive."""
    http = client(up)
    customer = register(up, http, "Ada")
    order = place_when_known(up, http, customer["id"])
    # The credit saga answers the order first (the customer's version moves).
    wait_for(
        lambda: order_status(up, http, order["id"]) == "approved",
        timeout=60,
        what="the order approved by the credit saga",
        up=up,
    )
    current = http.get(
        f"{up.url('customer-web')}/api/customers/{customer['id']}/", timeout=10
    ).json()

    # The kills land while the deletion's events are on their way.
    response = http.post(
        f"{up.url('customer-web')}/api/customers/{customer['id']}/delete/",
        json={"expected_version": current["version"], "open_orders": "cancel"},
        timeout=10,
    )
    assert response.status_code == 204, response.text
    before = up.pids()
    for name in KILLED:
        os.killpg(before[name], signal.SIGKILL)
    for name in KILLED:
        wait_for(
            lambda name=name: up.pids().get(name) not in (None, before[name]),
            timeout=60,
            what=f"{name} restarted",
            up=up,
        )

    wait_for(
        lambda: order_status(up, http, order["id"]) == "cancelled",
        timeout=60,
        what="the deleted customer's order was cancelled",
        up=up,
    )
    wait_for(
        lambda: query_side_status(up, order["id"]) == "cancelled",
        timeout=60,
        what="the query side showed the order cancelled",
        up=up,
    )
    restarted = {p["name"]: p["restarts"] for p in up.status()["processes"]}
    assert {name: restarted[name] for name in KILLED if restarted[name] < 1} == {}


def test_a_client_posting_on_one_kept_alive_connection_sees_no_reset(up):
    """The web servers keep idle connections longer than a client reuses them.

    With gunicorn's default of 1 s of keep-alive the server closes a pooled
    connection between two posts a second or more apart; a client that sends
    on it then gets "connection reset" (here ``RemoteDisconnected``), and a
    reset POST cannot be retried safely. ``http.client`` reconnects never on
    its own, so every post below travels on the first connection.
    """
    connection = http.client.HTTPConnection(
        "127.0.0.1", up.ports["customer-web"], timeout=10
    )
    headers = {
        "Authorization": f"Token {up.token()}",
        "Content-Type": "application/json",
    }
    try:
        for pause in [0.9, 1.0, 1.1, 1.5, 2.0, 3.0, 0]:
            body = {"name": "Pooled", "email": f"{uuid.uuid4().hex}@example.com"}
            connection.request(
                "POST",
                "/api/customers/register/",
                body=json.dumps({**body, "address": "1"}),
                headers=headers,
            )
            response = connection.getresponse()
            assert response.status == 201, response.read()
            response.read()
            time.sleep(pause)
    finally:
        connection.close()


def test_ctrl_c_stops_every_process_and_the_local_aws(up):
    pids = up.pids()
    moto = json.loads((up.var_dir / "moto" / "moto.json").read_text())["pid"]

    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(timeout=90) == 0, up.output()

    # Each process's whole group (gunicorn's workers too), and the local AWS.
    left = {pid: living_members(pid) for pid in [*pids.values(), moto]}
    assert {pid: members for pid, members in left.items() if members} == {}
    assert not (up.var_dir / "run" / "up.json").exists()
    assert "local AWS (moto) stopped" in up.output()
