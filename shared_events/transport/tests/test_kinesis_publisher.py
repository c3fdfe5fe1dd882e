"""The Kinesis publisher against a real moto server: what lands on the stream, in
which order, and what is reported back.

moto never fails a record, so partial failures are made by ``FlakyKinesis``, a
thin proxy of the real client: a record chosen to fail is taken out of the
request before it reaches moto (so it really is not on the stream) and answered
as a throttled entry, as a busy shard answers. Everything else goes over HTTP.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.kinesis_publisher import (
    MAX_RECORD_BYTES,
    KinesisPublisher,
    invalid_record_reason,
)
from shared_events.transport.provisioning import ensure_topology
from shared_events.transport.publisher import OutgoingMessage
from shared_events.transport.routes import resolve_routes
from shared_events.transport.tests.support import (
    count_calls,
    envelope_message,
    stream_records,
)
from shared_events.transport.topology import platform_topology
from stack.loopback import free_port

THROTTLED = "ProvisionedThroughputExceededException"
ALWAYS = 1_000_000
#: Fast retries: the backoff is a constructor argument for exactly this.
FAST = {"backoff_seconds": 0.001}


@pytest.fixture
def stream(aws: AwsSettings) -> str:
    """The customer service's stream (2 shards), made by ``ensure_topology``."""
    topology = platform_topology(prefix="kx-", delivery="kinesis")
    route = resolve_routes(topology, ensure_topology(topology, aws)).producer(
        "customer"
    )
    assert route.stream_name == "kx-customer-events"
    return route.stream_name


class FlakyKinesis:
    """The real boto3 client, except that ``put_records`` fails chosen records.

    ``failures`` maps an event id to how many times its record is throttled
    (``ALWAYS``: every time). With ``outage_on_call=n`` the n-th ``put_records``
    raises a connection error instead, as a broker that went away. ``requests``
    lists the event ids of every ``put_records`` call, in order.
    """

    def __init__(
        self,
        real: Any,
        *,
        failures: dict[str, int] | None = None,
        outage_on_call: int | None = None,
    ) -> None:
        self.real = real
        self.failures = dict(failures or {})
        self.outage_on_call = outage_on_call
        self.requests: list[list[str]] = []

    def put_records(self, *, StreamName: str, Records: list[dict]) -> dict:
        ids = [json.loads(record["Data"])["event_id"] for record in Records]
        self.requests.append(ids)
        if self.outage_on_call == len(self.requests):
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        throttled = set()
        for event_id in ids:
            if self.failures.get(event_id, 0) > 0:
                self.failures[event_id] -= 1
                throttled.add(event_id)
        kept = [r for r, i in zip(Records, ids, strict=True) if i not in throttled]
        written = iter(
            self.real.put_records(StreamName=StreamName, Records=kept)["Records"]
            if kept
            else []
        )
        entries = [
            {
                "ErrorCode": THROTTLED,
                "ErrorMessage": f"Rate exceeded for shard in stream {StreamName}",
            }
            if event_id in throttled
            else next(written)
            for event_id in ids
        ]
        return {"FailedRecordCount": len(throttled), "Records": entries}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def versions_by_aggregate(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Each aggregate's versions in stream order (sequence numbers as integers).

    Also checks that each aggregate's records are in one shard, under its id as
    the partition key: order across shards would mean nothing.
    """
    by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)
    shards: dict[str, set[str]] = defaultdict(set)
    for record in records:
        envelope = json.loads(record["Data"])
        assert record["PartitionKey"] == envelope["aggregate_id"]
        shards[record["PartitionKey"]].add(record["ShardId"])
        by_key[record["PartitionKey"]].append(
            (int(record["SequenceNumber"]), envelope["aggregate_version"])
        )
    assert all(len(s) == 1 for s in shards.values()), shards
    return {key: [v for _, v in sorted(pairs)] for key, pairs in by_key.items()}


def sized_message(event_id: str, *, key: str, record_bytes: int) -> OutgoingMessage:
    """A JSON body padded so that data plus partition key is ``record_bytes``."""
    empty = json.dumps({"event_id": event_id, "padding": ""})
    padding = "x" * (record_bytes - len(key) - len(empty))
    body = json.dumps({"event_id": event_id, "padding": padding})
    return OutgoingMessage(id=event_id, body=body, group_id=key)


def interleaved(*aggregates: tuple[str, int]) -> list[OutgoingMessage]:
    """Versions 1..n of each aggregate, interleaved as a relay batch would be."""
    messages = []
    for version in range(1, max(n for _, n in aggregates) + 1):
        messages += [
            envelope_message(aggregate_id=key, version=version)
            for key, n in aggregates
            if version <= n
        ]
    return messages


def test_records_land_in_per_aggregate_order_keyed_by_aggregate_id(
    aws: AwsSettings, stream: str
) -> None:
    # Twelve versions of one aggregate: sequence numbers "1".."12" of a shard
    # sort wrongly as strings ("10" < "2"), rightly as integers.
    messages = interleaved(("7", 12), ("8", 3), ("9", 3), ("10", 1), ("11", 1))
    kinesis = client("kinesis", aws)

    with count_calls(kinesis, "PutRecords") as calls:
        result = KinesisPublisher(stream, aws).publish_batch(messages)

    assert result.accepted == [m.id for m in messages] and result.failed == {}
    # One record per aggregate per request: aggregate 7 alone needs 12 requests.
    assert len(calls) == 12
    records = stream_records(kinesis, stream)
    assert sorted(r["Data"] for r in records) == sorted(
        m.body.encode() for m in messages
    )
    assert versions_by_aggregate(records) == {
        "7": list(range(1, 13)),
        "8": [1, 2, 3],
        "9": [1, 2, 3],
        "10": [1],
        "11": [1],
    }
    assert len({r["ShardId"] for r in records}) == 2, "both shards are used"


def test_a_partial_failure_resends_only_the_failed_records(
    aws: AwsSettings, stream: str
) -> None:
    a, b, c = (envelope_message(aggregate_id=key) for key in "abc")
    flaky = FlakyKinesis(client("kinesis", aws), failures={b.id: 1})

    result = KinesisPublisher(stream, aws, kinesis=flaky, **FAST).publish_batch(
        [a, b, c]
    )

    assert result.accepted == [a.id, b.id, c.id] and result.failed == {}
    assert flaky.requests == [[a.id, b.id, c.id], [b.id]]
    records = stream_records(client("kinesis", aws), stream)
    assert sorted(r["Data"] for r in records) == sorted(
        m.body.encode() for m in (a, b, c)
    ), "each record exactly once"


def test_a_throttled_record_holds_back_later_versions_of_its_aggregate_only(
    aws: AwsSettings, stream: str
) -> None:
    a1, b1, a2, b2, a3 = interleaved(("a", 3), ("b", 2))
    # a1 is throttled twice and written on its third and last attempt.
    flaky = FlakyKinesis(client("kinesis", aws), failures={a1.id: 2})

    result = KinesisPublisher(stream, aws, kinesis=flaky, **FAST).publish_batch(
        [a1, b1, a2, b2, a3]
    )

    assert result.failed == {}
    assert flaky.requests == [
        [a1.id, b1.id],
        [a1.id, b2.id],  # a1 again, alone of its aggregate; b goes on
        [a1.id],
        [a2.id],  # only after a1 has its sequence number
        [a3.id],
    ]
    records = stream_records(client("kinesis", aws), stream)
    assert versions_by_aggregate(records) == {"a": [1, 2, 3], "b": [1, 2]}


def test_a_record_that_keeps_failing_fails_with_its_aggregate_held_behind_it(
    aws: AwsSettings, stream: str
) -> None:
    a1, b1, a2, b2, a3 = interleaved(("a", 3), ("b", 2))
    flaky = FlakyKinesis(client("kinesis", aws), failures={a1.id: ALWAYS})

    result = KinesisPublisher(
        stream, aws, kinesis=flaky, attempts=3, **FAST
    ).publish_batch([a1, b1, a2, b2, a3])

    assert result.accepted == [b1.id, b2.id]
    assert THROTTLED in result.failed[a1.id]
    assert "after 3 attempts" in result.failed[a1.id]
    for held in (a2, a3):
        assert f"held behind {a1.id}" in result.failed[held.id]
    sent = [event_id for request in flaky.requests for event_id in request]
    assert sent.count(a1.id) == 3
    assert a2.id not in sent and a3.id not in sent
    records = stream_records(client("kinesis", aws), stream)
    assert versions_by_aggregate(records) == {"b": [1, 2]}


def test_an_oversized_record_fails_alone_before_sending(
    aws: AwsSettings, stream: str
) -> None:
    small = envelope_message(aggregate_id="s")
    # Data plus partition key at exactly 1 MiB is allowed; one byte more is not.
    just_fits = sized_message("just-fits", key="ok", record_bytes=MAX_RECORD_BYTES)
    too_big = sized_message("too-big", key="no", record_bytes=MAX_RECORD_BYTES + 1)
    behind_it = envelope_message(aggregate_id="no")
    flaky = FlakyKinesis(client("kinesis", aws))

    result = KinesisPublisher(stream, aws, kinesis=flaky).publish_batch(
        [small, too_big, just_fits, behind_it]
    )

    assert result.accepted == [small.id, just_fits.id]
    assert f"over Kinesis's {MAX_RECORD_BYTES} bytes" in result.failed[too_big.id]
    assert "held behind too-big" in result.failed[behind_it.id]
    assert flaky.requests == [[small.id, just_fits.id]]
    on_stream = stream_records(client("kinesis", aws), stream)
    assert sorted(r["Data"] for r in on_stream) == sorted(
        [small.body.encode(), just_fits.body.encode()]
    )


def test_requests_keep_under_500_records_and_5_mib(
    aws: AwsSettings, stream: str
) -> None:
    many = [envelope_message(aggregate_id=f"agg-{n}") for n in range(600)]
    heavy = [
        OutgoingMessage(id=f"heavy-{n}", body="y" * 1_000_000, group_id=f"h{n}")
        for n in range(6)
    ]
    kinesis = client("kinesis", aws)

    with count_calls(kinesis, "PutRecords") as calls:
        many_result = KinesisPublisher(stream, aws).publish_batch(many)
    assert len(calls) == 2  # 500 + 100
    with count_calls(kinesis, "PutRecords") as calls:
        heavy_result = KinesisPublisher(stream, aws).publish_batch(heavy)
    assert len(calls) == 2  # 5 MiB hold five of them, not six

    assert many_result.failed == {} and heavy_result.failed == {}
    assert len(stream_records(kinesis, stream)) == 606


def test_a_stream_nobody_listens_on_fails_every_message_without_raising() -> None:
    nowhere = AwsSettings(
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        max_attempts=1,
        connect_timeout=1,
    )
    messages = interleaved(("a", 2), ("b", 1))
    publisher = KinesisPublisher("kx-customer-events", nowhere)

    with count_calls(client("kinesis", nowhere), "PutRecords") as calls:
        result = publisher.publish_batch(messages)

    assert result.accepted == []
    assert list(result.failed) == [m.id for m in messages]
    assert all("Could not connect" in reason for reason in result.failed.values())
    assert len(calls) == 1, "after a whole-call error nothing more is tried"


def test_a_missing_stream_fails_every_message_with_the_reason(
    aws: AwsSettings,
) -> None:
    messages = [envelope_message(aggregate_id="a"), envelope_message(aggregate_id="b")]

    result = KinesisPublisher("kx-no-such-stream", aws).publish_batch(messages)

    assert result.accepted == []
    assert all(
        reason.startswith("ResourceNotFoundException")
        for reason in result.failed.values()
    )


def test_an_outage_midway_keeps_what_was_accepted_and_fails_the_rest(
    aws: AwsSettings, stream: str
) -> None:
    a1, b1, a2, b2, a3 = interleaved(("a", 3), ("b", 2))
    flaky = FlakyKinesis(client("kinesis", aws), outage_on_call=2)

    result = KinesisPublisher(stream, aws, kinesis=flaky).publish_batch(
        [a1, b1, a2, b2, a3]
    )

    assert result.accepted == [a1.id, b1.id]
    assert result.failed[a2.id].startswith("EndpointConnectionError")
    assert result.failed[b2.id].startswith("EndpointConnectionError")
    assert result.failed[a3.id].startswith("not sent: EndpointConnectionError")
    assert len(flaky.requests) == 2


def test_an_empty_batch_makes_no_call(aws: AwsSettings, stream: str) -> None:
    with count_calls(client("kinesis", aws), "PutRecords") as calls:
        result = KinesisPublisher(stream, aws).publish_batch([])

    assert calls == [] and result.accepted == [] and result.failed == {}


# --- no server needed -----------------------------------------------------------


def test_records_kinesis_would_reject_for_the_whole_request_are_caught_locally() -> (
    None
):
    good = envelope_message()
    assert invalid_record_reason(good) is None
    no_key = OutgoingMessage(id="1", body="{}", group_id="")
    assert "partition key" in str(invalid_record_reason(no_key))
    long_key = OutgoingMessage(id="2", body="{}", group_id="k" * 257)
    assert "partition key" in str(invalid_record_reason(long_key))
    assert (
        invalid_record_reason(OutgoingMessage(id="3", body="{}", group_id="k" * 256))
        is None
    )
    assert "empty" in str(
        invalid_record_reason(OutgoingMessage(id="4", body="", group_id="k"))
    )
    # The limit counts bytes: "ë" is two of them.
    wide = OutgoingMessage(id="5", body="ë" * (MAX_RECORD_BYTES // 2), group_id="k")
    assert "over Kinesis's" in str(invalid_record_reason(wide))


def test_duplicate_ids_and_zero_attempts_are_programming_errors() -> None:
    offline = AwsSettings(endpoint_url="http://127.0.0.1:9")
    message = envelope_message()

    with pytest.raises(ValueError, match="own id"):
        KinesisPublisher("s", offline).publish_batch([message, message])
    with pytest.raises(ValueError, match="attempts"):
        KinesisPublisher("s", offline, attempts=0)
