"""The gateway's configuration and program, without a platform behind them.

The routes come from the process table; the checks come in the order the
module docstring of ``stack.gateway_config`` teaches; the real HAProxy 2.6
accepts every configuration generated; the program is the pinned one, and a
machine that cannot fetch it is told what to run.
"""

from __future__ import annotations

import subprocess

import pytest

from shared_events.approaches import Approach
from stack import gateway_binary
from stack.gateway import local_gateway_config
from stack.gateway_binary import (
    HAPROXY_DEBIAN_VERSION,
    GatewayUnavailable,
    download_command,
    ensure_haproxy,
)
from stack.gateway_routes import GatewayLimits, Route, platform_routes
from stack.process_table import DEFAULT_PORTS, platform_processes

OPEN_ROUTES = {"auth", "health-customers", "health-orders", "admin"}


def web_ports(approach: Approach) -> dict[str, int]:
    return {
        p.name: DEFAULT_PORTS[p.name]
        for p in platform_processes(approach)
        if p.serves_http
    }


@pytest.mark.parametrize("approach", list(Approach), ids=str)
def test_routes_lead_to_the_approachs_own_web_processes(approach):
    routes = {route.name: route for route in platform_routes(web_ports(approach))}
    query_side = approach is Approach.CQRS_ES

    assert {route.process for route in routes.values()} <= set(web_ports(approach))
    assert routes["customers"].process == "customer-web"
    assert routes["orders"].process == "order-web"
    assert routes["query-customers"].process == (
        "customer-query" if query_side else "customer-web"
    )
    assert routes["query-orders"].process == (
        "order-query" if query_side else "order-web"
    )
    assert {name for name, route in routes.items() if route.open} == OPEN_ROUTES
    # The gateway's paths are the services' paths without /api.
    for name in ("customers", "orders", "query-customers", "query-orders", "auth"):
        assert routes[name].service_prefix == "/api" + routes[name].prefix


def test_the_checks_run_cheapest_first():
    """Address limit, route, JWT, subject limit, body, then the rewrite."""
    config = local_gateway_config(
        web_ports=web_ports(Approach.CQRS_ES), port=8000, limits=GatewayLimits()
    )
    order = [
        "track-sc0 src",
        "set-var(txn.route) str(customers)",
        "return status 404",
        "return status 401",
        "jwt_verify(",
        "track-sc1 var(txn.subject)",
        "return status 413",
        "replace-path ^/customers/(.*)$ /api/customers/\\1",
        "use_backend customer-web",
    ]
    positions = [config.index(text) for text in order]
    assert positions == sorted(positions)
    # Keys and secrets never in the file: the key is read from the environment.
    assert "env(JWT_SIGNING_KEY)" in config


def test_the_limits_come_from_the_environment():
    limits = GatewayLimits.from_environment(
        {
            "GATEWAY_RATE_PER_SUBJECT": "7",
            "GATEWAY_RATE_PER_ADDRESS": "70",
            "GATEWAY_RATE_WINDOW_SECONDS": "3",
            "GATEWAY_MAX_BODY_BYTES": "1000",
        }
    )
    config = local_gateway_config(
        web_ports=web_ports(Approach.DB_PER_SERVICE), port=9000, limits=limits
    )

    assert "sc_http_req_rate(1) gt 7 }" in config
    assert "sc_http_req_rate(0) gt 70 }" in config
    assert "store http_req_rate(3s)" in config
    assert "hdr Retry-After 6 " in config
    assert "req.hdr_val(content-length) gt 1000 }" in config
    assert "bind 127.0.0.1:9000" in config
    assert GatewayLimits.from_environment({}) == GatewayLimits()


def test_a_route_prefix_is_plain_words():
    with pytest.raises(ValueError, match="a route prefix"):
        Route("bad", "/customers/(.*)/", "customer-web", "/api/customers/")


@pytest.mark.parametrize("approach", list(Approach), ids=str)
def test_haproxy_accepts_each_approachs_configuration(tmp_path, approach):
    config = tmp_path / "gateway.cfg"
    config.write_text(
        local_gateway_config(
            web_ports=web_ports(approach), port=8000, limits=GatewayLimits()
        )
    )
    result = subprocess.run(
        [str(ensure_haproxy()), "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"JWT_SIGNING_KEY": "checked-here-only"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr


# The program


def test_the_gateway_is_the_pinned_haproxy():
    answer = subprocess.run(
        [str(ensure_haproxy()), "-v"], capture_output=True, text=True, timeout=30
    )

    assert answer.stdout.startswith(f"HAProxy version {HAPROXY_DEBIAN_VERSION} ")
    assert download_command({"haproxy": HAPROXY_DEBIAN_VERSION}) == [
        "apt-get",
        "download",
        f"haproxy={HAPROXY_DEBIAN_VERSION}",
    ]


def test_a_program_that_is_not_haproxy_is_refused(monkeypatch, tmp_path):
    impostor = tmp_path / "haproxy"
    impostor.write_text("#!/bin/sh\necho 'nginx version: 1.22'\n")
    impostor.chmod(0o755)
    monkeypatch.setenv("HAPROXY_BINARY", str(impostor))

    with pytest.raises(GatewayUnavailable, match="does not run as HAProxy 2.6"):
        ensure_haproxy()


def test_without_apt_get_the_error_says_what_to_run(monkeypatch, tmp_path):
    """A machine with no apt-get (macOS, say) and nothing fetched yet."""
    root = tmp_path / "haproxy"
    monkeypatch.setattr(gateway_binary, "INSTALL_ROOT", root)
    monkeypatch.setattr(gateway_binary, "INSTALL_DIR", root / "v")
    monkeypatch.setattr(gateway_binary, "LAUNCHER", root / "v" / "bin" / "haproxy")
    monkeypatch.setattr(gateway_binary, "LOCK_FILE", root / "fetch.lock")
    monkeypatch.delenv("HAPROXY_BINARY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(GatewayUnavailable) as refused:
        ensure_haproxy()

    assert "apt-get" in str(refused.value)
    assert "export HAPROXY_BINARY=" in str(refused.value)
