"""Counting what a web server handled, from its gunicorn access log."""

from __future__ import annotations

from observe.access_log import AccessLog

STAMP = "[04/Dec/2026:21:02:56 +0000]"
LOG = "\n".join(
    [
        "[2026-12-04 21:02:55 +0000] [12] [INFO] Booting worker with pid: 12",
        f'127.0.0.1 - - {STAMP} "GET /api/health/ HTTP/1.1" 200 114 "-" "r"',
        f'127.0.0.1 - - {STAMP} "GET /api/customers/1b9d/ HTTP/1.1" 200 9 "-" "r"',
        f'127.0.0.1 - - {STAMP} "GET /api/customers/1b9d/ HTTP/1.1" 200 9 "-" "r"',
        f'127.0.0.1 - - {STAMP} "POST /api/customers/register/ HTTP/1.1" 201 9',
        '{"message": "GET /api/customers/ was slow", "level": "WARNING"}',
    ]
)


def test_requests_are_counted_by_method_and_path(tmp_path):
    path = tmp_path / "customer-web.log"
    path.write_text(LOG)
    log = AccessLog(path)

    assert log.requests(method="GET", path_prefix="/api/customers/") == 2
    assert log.requests(method="POST", path_prefix="/api/customers/") == 1
    assert log.requests(method="GET", path_prefix="/api/health/") == 1


def test_a_log_not_written_yet_counts_nothing(tmp_path):
    log = AccessLog(tmp_path / "missing.log")

    assert log.requests(method="GET", path_prefix="/") == 0
