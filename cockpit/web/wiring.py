"""What the views reach in-process: the controller and the run's token.

``manage.py cockpit`` attaches them once, before the server answers its
first request; a view that finds nothing attached answers 503 (the web app
started without its controller, as in a test of the views alone).
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.controller import CockpitController


@dataclass(frozen=True)
class Attached:
    controller: CockpitController
    #: The run's secret: ``?token=`` on the first visit, a session after.
    token: str
    #: The gateway's base URL, where the cockpit signs its user in.
    gateway_url: str


_attached: Attached | None = None


def attach(*, controller: CockpitController, token: str, gateway_url: str) -> None:
    global _attached
    _attached = Attached(controller=controller, token=token, gateway_url=gateway_url)


def attached() -> Attached | None:
    return _attached
