"""Loopback ports for the local daemons and services: a free one, or is this one free?

Every process the platform starts (PostgreSQL, the moto server, the web
servers) listens on 127.0.0.1 only. Asking the kernel for port 0 is how a
free port is found; the answer is only a good guess, since another program
may take the port before ours binds it, so whoever starts a server on it
must be ready to try again.
"""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port no one listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def free_udp_port() -> int:
    """A loopback UDP port nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Could a server bind ``port`` on the loopback address now?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # PostgreSQL and werkzeug (moto's server) set SO_REUSEADDR too, so
        # leftovers in TIME_WAIT do not count as busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True
