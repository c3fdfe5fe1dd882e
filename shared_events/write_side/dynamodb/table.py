"""A service's event table in DynamoDB: append a commit, read an aggregate's commits.

Plain boto3: the client is given (the composition root builds it from the
AWS settings), so local moto and real AWS differ only by its endpoint.

What a learner should notice:

* ``append`` is ONE conditional ``PutItem`` per commit, never a
  ``TransactWriteItems``: one item holds all of the commit's events, so
  there is nothing to make atomic across items.
* A refused condition is not always someone else's commit. The client
  retries a ``PutItem`` whose answer was lost (a timeout), and the retry is
  refused by the item the first attempt wrote. The refusal hands back the
  item in the way (``ReturnValuesOnConditionCheckFailure``): if it holds
  exactly this commit's events, the commit is ours and it succeeded.
* Reads are strongly consistent (``ConsistentRead``): a writer folds the
  aggregate from the table, and must see the last commit, not a replica
  that is a moment behind.
* Throttling, an outage, a timeout: ``EventStoreUnavailable`` (HTTP 503),
  with the reason. After a timeout the commit may have been applied anyway;
  the message says so.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared_events.write_side.dynamodb.commits import (
    COMMIT_CONDITION,
    Commit,
    from_item,
    to_item,
)
from shared_events.write_side.dynamodb.provisioning import ensure_event_table
from shared_events.write_side.errors import ConcurrencyConflict, EventStoreUnavailable

CONDITION_FAILED = "ConditionalCheckFailedException"


class EventTable:
    """One service's event table; created on first use, once per process."""

    def __init__(self, *, name: str, client: Any) -> None:
        self.name = name
        self.client = client
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> list[str]:
        """Create or repair the table (idempotent); what this call changed."""
        changes = ensure_event_table(self.client, self.name)
        self._ready = True
        return changes

    def append(self, commit: Commit) -> None:
        """Store ``commit``; ``ConcurrencyConflict`` if its first version is taken."""
        self._ensure_once()
        try:
            self.client.put_item(
                TableName=self.name,
                Item=to_item(commit),
                ConditionExpression=COMMIT_CONDITION,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _code(error) != CONDITION_FAILED:
                raise self._unavailable("did not take the commit", error) from None
            if _holds(error.response.get("Item"), commit):
                return  # our own earlier attempt: the commit is in
            raise ConcurrencyConflict(
                f"{commit.aggregate_type} {commit.aggregate_id} was changed by "
                f"someone else: version {commit.version} already exists; reload "
                "and try again"
            ) from None
        except BotoCoreError as error:
            raise self._unavailable(
                "did not answer the commit (it may have been applied: read before "
                "repeating the command)",
                error,
            ) from None

    def commits(
        self, aggregate_id: str, *, up_to_version: int | None = None
    ) -> list[Commit]:
        """The aggregate's commits, oldest first (those starting at or before
        ``up_to_version``: the last may end after it)."""
        self._ensure_once()
        condition = "aggregate_id = :id"
        values: dict[str, Any] = {":id": {"S": aggregate_id}}
        if up_to_version is not None:
            condition += " AND version <= :up_to"
            values[":up_to"] = {"N": str(up_to_version)}
        query = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        commits: list[Commit] = []
        try:
            while True:
                page = self.client.query(**query)
                commits += [from_item(item) for item in page["Items"]]
                if "LastEvaluatedKey" not in page:
                    return commits
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as error:
            raise self._unavailable("could not be read", error) from None

    def _ensure_once(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                try:
                    self.ensure()
                except (ClientError, BotoCoreError) as error:
                    raise self._unavailable("could not be reached", error) from None

    def _unavailable(self, what: str, error: Exception) -> EventStoreUnavailable:
        if isinstance(error, ClientError):
            reason = f"{_code(error)}: {error.response['Error'].get('Message', '')}"
        else:
            reason = f"{type(error).__name__}: {error}"
        return EventStoreUnavailable(
            f"the event store (DynamoDB table {self.name}) {what}; try again. {reason}"
        )


def _holds(item: dict | None, commit: Commit) -> bool:
    """Whether the item in the way is ``commit`` itself (same events, same order)."""
    if not item:
        return False
    events = item.get("events", {}).get("L", [])
    return tuple(value.get("S") for value in events) == commit.events


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")
