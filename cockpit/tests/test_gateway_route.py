"""The cockpit behind the local gateway: the default route, and only locally.

What a learner should notice: the cockpit's route matches every path, and is
written first, so every service route (matched after it) wins over it; it is
open at the edge (the page checks its own run token), and it is absent from
the route table the compose file and the AWS templates follow.
"""

from __future__ import annotations

import subprocess

from stack.gateway import local_gateway_config
from stack.gateway_binary import ensure_haproxy
from stack.gateway_routes import COCKPIT_PROCESS, GatewayLimits, platform_routes

WEB_PORTS = {"customer-web": 8001, "order-web": 8002}


def route_lines(config: str) -> list[str]:
    return [
        line.strip() for line in config.splitlines() if "set-var(txn.route)" in line
    ]


def test_the_cockpit_is_the_first_route_so_every_other_wins():
    config = local_gateway_config(
        web_ports=WEB_PORTS, port=9000, limits=GatewayLimits(), cockpit_port=9100
    )

    lines = route_lines(config)
    assert lines[0] == "http-request set-var(txn.route) str(cockpit) if { path_beg / }"
    assert any("str(ui-orders) if { path_beg /ui/orders/ }" in line for line in lines)
    assert f"server {COCKPIT_PROCESS} 127.0.0.1:9100" in config
    open_acl = next(line for line in config.splitlines() if "acl open_route" in line)
    assert " cockpit" in open_acl


def test_without_a_cockpit_the_gateway_is_unchanged():
    config = local_gateway_config(
        web_ports=WEB_PORTS, port=9000, limits=GatewayLimits()
    )

    assert "cockpit" not in config
    assert COCKPIT_PROCESS not in {
        route.process for route in platform_routes(WEB_PORTS)
    }


def test_haproxy_accepts_the_configuration_with_the_cockpit(tmp_path):
    config = tmp_path / "gateway.cfg"
    config.write_text(
        local_gateway_config(
            web_ports=WEB_PORTS, port=9000, limits=GatewayLimits(), cockpit_port=9100
        )
    )
    checked = subprocess.run(
        [str(ensure_haproxy()), "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"JWT_SIGNING_KEY": "checked-here-only"},
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
