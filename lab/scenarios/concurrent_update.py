"""Many clients modify one customer at once, each from the same version."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario

WRITERS = 8


class ConcurrentUpdate(Scenario):
    name = "concurrent-update"
    title = f"{WRITERS} clients rename one customer at the same version"

    def run(self, ctx: ScenarioContext) -> None:
        customer = ctx.register("Concurrent Case")
        url = f"{ctx.run.url('customer')}/api/customers/{customer['id']}/update/"
        headers = dict(ctx.client.session.headers)

        def rename(index: int) -> int:
            body = {"name": f"Writer {index}", "expected_version": customer["version"]}
            try:
                return requests.post(
                    url, json=body, headers=headers, timeout=15
                ).status_code
            except requests.RequestException:
                return 0

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            statuses = list(pool.map(rename, range(WRITERS)))
        for status in statuses:
            if status == 200:
                ctx.commands_ok += 1
            else:
                key = str(status) if status else "connection error"
                ctx.client.failures[key] += 1
        ctx.notes.append(f"statuses: {sorted(statuses)}")

    def lesson(self, approach: str, measured: Measurements) -> str:
        conflicts = measured.failed_requests.get("409", 0)
        winners = WRITERS - measured.failed_request_count
        return (
            f"{winners} of {WRITERS} writers won; {conflicts} got 409 and changed "
            "nothing: optimistic concurrency on the version"
        )
