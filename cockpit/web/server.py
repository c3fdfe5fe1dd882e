"""The cockpit's web server: waitress, in a thread of ``manage.py cockpit``.

waitress is a pure-Python WSGI server: no process of its own, so the views
reach the controller as an object, and stopping the command stops it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from cockpit.controller import CockpitController

THREADS = 8


@dataclass
class CockpitServer:
    port: int
    _server: object
    _thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)


def serve(
    *,
    controller: CockpitController,
    token: str,
    gateway_url: str,
    port: int,
    secret_key: str,
) -> CockpitServer:
    """Configure Django for the cockpit, attach the controller, and serve on
    loopback ``port`` in a background thread."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "cockpit.web.settings"
    os.environ["COCKPIT_SECRET_KEY"] = secret_key
    import django
    from django.core.wsgi import get_wsgi_application
    from waitress import create_server

    from cockpit.web.wiring import attach

    django.setup()
    attach(controller=controller, token=token, gateway_url=gateway_url)
    server = create_server(
        get_wsgi_application(), host="127.0.0.1", port=port, threads=THREADS
    )
    thread = threading.Thread(target=server.run, name="cockpit-web", daemon=True)
    thread.start()
    return CockpitServer(port=port, _server=server, _thread=thread)
