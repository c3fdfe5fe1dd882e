"""The DynamoDB event tables (``EVENT_STORE=dynamodb``), read from outside.

Under the paper's write store an event-sourced service keeps its events in
``<prefix><service>-events-store``: one item per commit, whose ``events``
attribute lists the commit's envelopes in order, each exactly as
``shared_events.events.encode`` wrote it. PostgreSQL's ``event_store`` table
stays empty, so whoever wants the upstream truth (the auditor, the lab's
count of events stored) reads it here instead.

What a learner should notice: the reader knows the item's format, not the
write side's code. It scans the table (``ConsistentRead``, page by page) and
decodes each envelope with ``from_json``, the same validation a consumer
applies, so a malformed commit shows up as an error instead of being folded
by the code that wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared_events.approaches import Approach, EventStoreBackend, approach_info
from shared_events.configuration import SERVICES
from shared_events.events import EventEnvelope, InvalidEvent, from_json
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.topology import Topology
from stack.environment import ensure_aws_endpoint

if TYPE_CHECKING:
    from stack.platform_run import PlatformRun


class EventTableError(RuntimeError):
    """An event table could not be read, or holds an item that is not a commit."""


@dataclass(frozen=True)
class CommittedEvents:
    """One commit's item, decoded: its key and its envelopes, in order."""

    aggregate_id: str
    version: int
    committed_at: datetime
    envelopes: tuple[EventEnvelope, ...]


@dataclass(frozen=True)
class EventTables:
    """Where the event-sourced services' events are: one table per service.

    ``endpoint_url`` None means real AWS (credentials from the usual chain).
    """

    names: Mapping[str, str]
    endpoint_url: str | None = None
    region: str = "us-east-1"
    _settings: AwsSettings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_settings",
            AwsSettings(endpoint_url=self.endpoint_url, region=self.region),
        )

    @classmethod
    def named(
        cls,
        *,
        approach: Approach | str,
        store: str,
        prefix: str,
        endpoint_url: str | None,
        region: str = "us-east-1",
    ) -> EventTables | None:
        """The tables of ``approach`` under ``store``; None when events are in
        PostgreSQL (or nothing is event-sourced)."""
        if store != EventStoreBackend.DYNAMODB:
            return None
        info = approach_info(approach)
        topology = Topology(prefix=prefix, producers=list(SERVICES), consumers={})
        names = {
            service: topology.event_table_name(service)
            for service in SERVICES
            if info.event_sourced(service)
        }
        if not names:
            return None
        return cls(names=names, endpoint_url=endpoint_url, region=region)

    @classmethod
    def of_platform(cls, run: PlatformRun) -> EventTables | None:
        """The tables of a platform started by ``stack.platform_run``, read on its
        moto server directly (not through the proxy a scenario may cut)."""
        if run.moto is None:
            return None
        return cls.named(
            approach=run.approach,
            store=run.env.get("EVENT_STORE", EventStoreBackend.POSTGRES.value),
            prefix=run.env.get("EVENT_TOPOLOGY_PREFIX", ""),
            endpoint_url=run.moto.endpoint_url,
        )

    @classmethod
    def from_environment(cls, *, env, approach: Approach | str) -> EventTables | None:
        """The tables the configured services write (``EVENT_STORE``,
        ``EVENT_TOPOLOGY_PREFIX``, ``AWS_REGION``), on the endpoint they use:
        the configured one, or the local AWS ``make up`` runs."""
        tables = cls.named(
            approach=approach,
            store=env.str("EVENT_STORE", default=EventStoreBackend.POSTGRES.value),
            prefix=env.str("EVENT_TOPOLOGY_PREFIX", default=""),
            endpoint_url=None,
            region=env.str("AWS_REGION", default="us-east-1"),
        )
        if tables is None:
            return None
        return replace(tables, endpoint_url=ensure_aws_endpoint())

    def commits(self, service: str) -> list[CommittedEvents]:
        """Every commit of ``service``, ordered by (aggregate id, version)."""
        name = self.names[service]
        dynamodb = client("dynamodb", self._settings)
        decoded = [_decoded(name, item) for item in _scan(dynamodb, name)]
        return sorted(decoded, key=lambda c: (c.aggregate_id, c.version))

    def envelopes(self) -> Iterator[EventEnvelope]:
        """Every event of every table, aggregate by aggregate, version by version."""
        for service in self.names:
            for commit in self.commits(service):
                yield from commit.envelopes

    def events_committed_since(self, moment: datetime) -> int:
        """How many events were committed at or after ``moment``, in all tables."""
        return sum(
            len(commit.envelopes)
            for service in self.names
            for commit in self.commits(service)
            if commit.committed_at >= moment
        )


def _scan(dynamodb: Any, name: str) -> Iterator[dict[str, Any]]:
    arguments: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
    while True:
        try:
            page = dynamodb.scan(**arguments)
        except Exception as error:  # noqa: BLE001 (any client error: say which table)
            raise EventTableError(
                f"cannot scan the DynamoDB event table {name}: {error}"
            ) from None
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _decoded(table: str, item: Mapping[str, Any]) -> CommittedEvents:
    try:
        key = (item["aggregate_id"]["S"], int(item["version"]["N"]))
        committed_at = datetime.fromisoformat(item["committed_at"]["S"])
        bodies = [value["S"] for value in item["events"]["L"]]
        envelopes = tuple(from_json(body) for body in bodies)
    except (KeyError, TypeError, ValueError, InvalidEvent) as error:
        raise EventTableError(
            f"{table}: an item that is not a commit ({type(error).__name__}: {error})"
        ) from None
    return CommittedEvents(
        aggregate_id=key[0],
        version=key[1],
        committed_at=committed_at,
        envelopes=envelopes,
    )
