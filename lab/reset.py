"""Between two scenarios on one platform: let the last one's events arrive, then
empty every store, so the next one starts from nothing while the processes
keep running.

PostgreSQL's tables are emptied by ``PlatformRun.reset_data``. Under
``EVENT_STORE=dynamodb`` the events are in DynamoDB, out of TRUNCATE's reach:
their tables are emptied here, or the auditor would fold the last scenario's
customers against a replica that no longer has them.
"""

from __future__ import annotations

from collections.abc import Callable

from observe.event_tables import EventTables
from observe.quiescence import BacklogProbe
from stack.local_aws import local_client
from stack.platform_run import PlatformRun

# How long a scenario's leftovers (a consumer that was stopped) get to arrive
# before the next scenario resets the data.
CATCH_UP_SECONDS = 120.0
# DeleteRequests one BatchWriteItem takes at most.
BATCH_WRITE_LIMIT = 25


def catch_up(run: PlatformRun, progress: Callable[[str], None]) -> None:
    """Let what the last scenario left on its way arrive before the data is reset,
    so it cannot land in the next scenario's tables."""
    outcome = BacklogProbe(run).wait_until_quiet(timeout=CATCH_UP_SECONDS)
    if not outcome.quiet:
        progress(
            f"      still not quiet after {outcome.waited_seconds:.0f}s: "
            f"{outcome.left.describe()} left; the next scenario starts anyway"
        )


def empty_event_tables(run: PlatformRun) -> int:
    """Delete every commit of the DynamoDB event tables (``EVENT_STORE=dynamodb``):
    the part of a reset PostgreSQL's TRUNCATE does not reach. How many items.

    The deletions reach the tables' streams as REMOVE records, which the
    functions skip (a commit is only ever inserted); the caller waits for
    them to be read before the next scenario starts.
    """
    tables = EventTables.of_platform(run)
    if tables is None:
        return 0
    dynamodb = local_client("dynamodb", run.moto.endpoint_url)
    deleted = 0
    for name in tables.names.values():
        keys = [
            {"aggregate_id": item["aggregate_id"], "version": item["version"]}
            for page in dynamodb.get_paginator("scan").paginate(
                TableName=name,
                ProjectionExpression="#id, #version",
                ExpressionAttributeNames={"#id": "aggregate_id", "#version": "version"},
            )
            for item in page["Items"]
        ]
        for start in range(0, len(keys), BATCH_WRITE_LIMIT):
            batch = keys[start : start + BATCH_WRITE_LIMIT]
            requests = {name: [{"DeleteRequest": {"Key": k}} for k in batch]}
            while requests:
                requests = dynamodb.batch_write_item(RequestItems=requests).get(
                    "UnprocessedItems"
                )
        deleted += len(keys)
    return deleted


def reset_between_scenarios(
    run: PlatformRun, *, drained: bool, progress: Callable[[str], None]
) -> None:
    """Start the next scenario from nothing: leftovers arrived, data emptied.

    ``drained``: the last scenario's platform went quiet before it was measured
    (else what it left on its way gets time to arrive first).
    """
    if run.uses_events and not drained:
        catch_up(run, progress)
    if empty_event_tables(run):
        BacklogProbe(run).wait_until_quiet(timeout=CATCH_UP_SECONDS, stable_for=0.5)
    run.reset_data()
