"""What a web server was asked: the requests in its gunicorn access log.

Every web process logs one line per request it handled (``manage.py serve``
runs gunicorn with ``--access-logfile -``, into the process's log file),
written when the request is done, whether or not the caller still waited
for the answer. So the log counts what the server really did: the lab's
slow-customer-service scenario counts the lookups the customer service
handled per order placed, retries included, from here rather than from
what the order service meant to send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The request line gunicorn's default access format quotes: "GET /path HTTP/1.1".
REQUEST_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+"')


@dataclass(frozen=True)
class AccessLog:
    """One web process's log file."""

    path: Path

    def requests(self, *, method: str, path_prefix: str) -> int:
        """How many ``method`` requests under ``path_prefix`` the log shows."""
        try:
            text = self.path.read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return sum(
            1
            for match in REQUEST_LINE.finditer(text)
            if match["method"] == method and match["path"].startswith(path_prefix)
        )
