"""``manage.py cockpit`` as a learner runs it: a real platform, a gateway,
the page behind it; SIGTERM leaves nothing behind.

What a learner should notice: the command owns everything it starts. Its
processes (the web servers, the gateway, the span receiver) are its
descendants, and after SIGTERM none runs and the run's databases are gone.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from cockpit.testing import left_behind, started_cockpit
from stack.connections import fetch_value

pytestmark = pytest.mark.slow


def test_the_cockpit_serves_behind_its_gateway_and_stops_everything(
    server_url, database_prefix, tmp_path
):
    prefix = f"{database_prefix}cmd_"
    with started_cockpit(
        approach="db_per_service",
        server_url=server_url,
        prefix=prefix,
        results_dir=tmp_path,
    ) as cockpit:
        started = cockpit.descendants()
        # The gateway, two web servers (each a gunicorn master with workers),
        # the span receiver: all the command's.
        assert len(started) >= 4, cockpit.text()
        assert requests.get(f"{cockpit.url}/health/", timeout=10).text == "ok"
        refused = requests.get(f"{cockpit.url}/", timeout=10, allow_redirects=False)
        assert refused.status_code == 403
        assert "manage.py cockpit" in refused.text
        wrong = requests.get(f"{cockpit.url}/?token=wrong", timeout=10)
        assert wrong.status_code == 403

        session = requests.Session()
        opened = session.get(cockpit.opening_url, timeout=10, allow_redirects=False)
        assert opened.status_code == 302
        assert opened.headers["Location"] == "/"  # the token is not kept in view
        page = session.get(f"{cockpit.url}/", timeout=10)
        assert page.status_code == 200
        assert "database per service" in page.text.lower()
        assert session.post(f"{cockpit.url}/switch/", timeout=10).status_code == 403
        csrf = {"X-CSRFToken": session.cookies["cockpit_csrftoken"]}
        bad = session.post(
            f"{cockpit.url}/switch/", data={"backend": "nope"}, headers=csrf
        )
        assert bad.status_code == 400
        assert "unknown approach &#x27;nope&#x27;" in bad.text
        started_job = session.post(
            f"{cockpit.url}/scenarios/",
            data={"scenario": "delete-customer"},
            headers=csrf,
        )
        assert started_job.status_code == 202, started_job.text
        busy = session.post(
            f"{cockpit.url}/switch/", data={"backend": "cqrs_es"}, headers=csrf
        )
        assert busy.status_code == 409
        assert "still running" in busy.text
        job_path = re.search(r'hx-get="(/jobs/\d+/)"', started_job.text).group(1)
        deadline = time.monotonic() + 120
        while (
            'data-state="running"'
            in (job := session.get(f"{cockpit.url}{job_path}", timeout=10)).text
        ):
            assert time.monotonic() < deadline, job.text
            time.sleep(1)
        assert 'data-state="done"' in job.text, job.text
        assert 'data-measure="orphan_orders"' in job.text
        (kept,) = tmp_path.glob("*.json")
        assert kept.name == "delete-customer--db_per_service.json"
        # The services' routes are the gateway's, beside the cockpit's.
        jwt = session.get(f"{cockpit.url}/jwt/", timeout=10).json()["access"]
        fragment = requests.get(
            f"{cockpit.url}/ui/customers/",
            headers={"Authorization": f"Bearer {jwt}"},
            timeout=10,
        )
        assert fragment.status_code == 200
        assert 'data-fragment="customer-list"' in fragment.text
        assert fetch_value(
            server_url.rstrip("/") + "/postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s",
            [f"{prefix}cockpit_%"],
        )

    assert cockpit.process.returncode == 0, cockpit.text()
    assert "databases" in cockpit.text() and "dropped" in cockpit.text()
    assert left_behind(started) == []
    assert (
        fetch_value(
            server_url.rstrip("/") + "/postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s",
            [f"{prefix}%"],
        )
        == 0
    )
