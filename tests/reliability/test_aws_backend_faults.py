"""Fault-injection rounds on the paper's AWS pictures, with the same checker.

``cqrs_es`` with its events in DynamoDB (the table's stream is the outbox)
and delivered by Kinesis, every consumer and projector a Lambda handler fed
by the local event source mapping runner (``<service>-functions``). Besides
the rounds' faults (SIGKILL of a runner mid-flow, broker cut, PostgreSQL
restart, duplicate deliveries, poison records), the whole platform runs with
throttling injected into one ``PutItem`` and one ``PutRecords`` call in ten
(``FAULT_INJECTION=throttle_aws:...``): a throttled command answers 503 and
changed nothing, a throttled publish is retried, and nothing may be lost.

``make test`` runs that platform (one round). ``make soak`` adds the two
half-way pictures: Kinesis behind the PostgreSQL outbox, and DynamoDB
fanned out by SNS.
"""

from __future__ import annotations

import base64
import json
import os
import random
import threading
import time
import uuid

import pytest

from observe.tables import PROCESSED_EVENT_TABLE
from shared_events.event_source_mapping import CheckpointStore
from shared_events.transport.dead_letters import FAILURE_REASON
from stack.connections import fetch_rows, fetch_value
from stack.platform_run import PlatformRun
from tests.reliability import faults, streams
from tests.reliability.concurrency import (
    concurrent_writers_one_aggregate,
    ten_writers_while_relaying,
)
from tests.reliability.contract import FaultRoundsContract
from tests.reliability.faults import wait_for_quiescence
from tests.reliability.history import NOT_APPLIED, judge
from tests.reliability.platforms import CHECKPOINT_DIR, Backends
from tests.reliability.rounds import (
    QUIESCENCE_TIMEOUT,
    client_for,
    outcome_of,
    reset_round,
)

pytestmark = pytest.mark.slow

THROTTLE = "throttle_aws:PutRecords,PutItem@0.1"
# make soak sets the rounds; make test runs the whole AWS figure only.
SOAK = "RELIABILITY_ROUNDS" in os.environ
soak_only = pytest.mark.skipif(
    not SOAK,
    reason="make soak only: make test runs the whole figure (cqrs_es+kinesis+dynamodb)",
)


class TestCqrsKinesisDynamoDBFaults(FaultRoundsContract):
    approach = "cqrs_es"
    backends = Backends(delivery="kinesis", store="dynamodb", throttle=THROTTLE)

    def test_a_poison_record_is_set_aside_and_its_shard_goes_on(self, run):
        reset_round(run)
        customer = _command(
            run,
            "customers/register/",
            {"name": "Poison", "email": "poison@example.com", "address": "1 Shard"},
        )
        _wait_applied(run, customer["id"], version=1)
        # Both poison records in front of the customer's next event: same key,
        # same shard.
        undecodable = streams.put_poison(
            run,
            kind=streams.UNDECODABLE,
            producer="customer",
            partition_key=customer["id"],
        )
        held = streams.put_poison(
            run,
            kind=streams.HELD_FOREVER,
            producer="customer",
            partition_key=customer["id"],
        )
        assert held.shard_id == undecodable.shard_id
        _command(run, f"customers/{customer['id']}/update/", {"name": "Renamed"})

        # The shard goes on: every reader of the stream applies version 2.
        _wait_applied(run, customer["id"], version=2)
        quiet, left, _ = wait_for_quiescence(run, None, timeout=QUIESCENCE_TIMEOUT)
        assert quiet, left
        verdict = judge(run)
        assert verdict.ok, verdict.line()

        # Set aside: in every reader's dead-letter queue, once each.
        assert set(held.readers) == {"order", "customer-read", "order-read"}
        for reader in held.readers:
            letters = streams.dead_letters(run, reader)
            raw = [m for m in letters if "KinesisBatchInfo" not in m["Body"]]
            records = [
                json.loads(m["Body"])
                for m in letters
                if "KinesisBatchInfo" in m["Body"]
            ]
            # Not an envelope: dead-lettered by the handler, body as it came
            # (base64: the bytes are not UTF-8), with the reason.
            assert [m["Body"] for m in raw] == [
                base64.b64encode(undecodable.body).decode()
            ], (reader, letters)
            reason = raw[0]["MessageAttributes"][FAILURE_REASON]["StringValue"]
            assert reason.startswith("invalid event"), reason
            # Held forever: retried from its own sequence number until the
            # retries ran out, then AWS's invocation record, naming it.
            assert len(records) == 1, (reader, records)
            info = records[0]["KinesisBatchInfo"]
            assert records[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
            assert info["shardId"] == held.shard_id
            assert info["startSequenceNumber"] == held.sequence_number
            assert info["streamArn"].endswith(f"/{held.stream}")
            print(
                f"\n[poison] {reader}: invocation record batchSize "
                f"{info['batchSize']} after "
                f"{records[0]['requestContext']['approximateInvokeCount']} invocations",
                flush=True,
            )

    def test_a_runner_killed_mid_batch_resumes_from_its_checkpoint(self, run):
        """SIGKILL the order service's runner while a burst flows, until one
        kill lands between applying a batch and checkpointing it (events
        applied past the checkpoint). The restarted runner hands that batch
        over again: nothing lost, nothing applied twice."""
        attempts = []
        for attempt in range(1, MID_BATCH_ATTEMPTS + 1):
            reset_round(run)
            tap = streams.KinesisTap(run, random.Random(attempt))
            applied_past = _kill_during_burst(run, tap)
            attempts.append(applied_past)
            quiet, left, _ = wait_for_quiescence(run, tap, timeout=QUIESCENCE_TIMEOUT)
            assert quiet, left
            verdict = judge(run)
            assert verdict.ok, verdict.line()
            if applied_past:
                break
        print(
            f"\n[mid-batch kill] events applied but not checkpointed at each "
            f"kill: {attempts}",
            flush=True,
        )
        assert attempts[-1] > 0, f"no kill landed mid-batch in {attempts}"

    def test_concurrent_writers_to_one_aggregate_one_wins_per_version(self, run):
        outcome = concurrent_writers_one_aggregate(run)
        assert outcome.unexpected_statuses == {}, outcome
        assert outcome.double_winners == [], outcome
        assert outcome.wins >= 1, outcome
        assert outcome.final_version == outcome.wins + 1, outcome
        assert outcome.store_versions == list(range(1, outcome.wins + 2)), outcome


@soak_only
class TestEventSourcingKinesisPostgresFaults(FaultRoundsContract):
    """The Celery relay publishes the outbox to Kinesis (throttled PutRecords)."""

    approach = "event_sourcing"
    backends = Backends(delivery="kinesis", store="postgres", throttle=THROTTLE)

    def test_ten_writers_committing_in_random_order_skip_no_event(self, run):
        outcome = ten_writers_while_relaying(run)
        assert outcome.quiet, outcome.left
        assert outcome.verdict.lost == [], outcome.verdict.line()
        assert outcome.verdict.ok, outcome.verdict.line()


@soak_only
class TestEventSourcingSnsDynamoDBFaults(FaultRoundsContract):
    """The event table's stream is the outbox, published to SNS (throttled PutItem)."""

    approach = "event_sourcing"
    backends = Backends(delivery="sns", store="dynamodb", throttle=THROTTLE)


# Helpers ------------------------------------------------------------------------------

MID_BATCH_ATTEMPTS = 5
BURST_CUSTOMERS = 8
BURST_RENAMES = 6
RUNNER = "order-functions"
MAPPING = "order-consume-customer-events"


def _kill_during_burst(run: PlatformRun, tap: streams.KinesisTap) -> int:
    """A burst of renames; SIGKILL ``order-functions`` once its consumer has
    applied some of them. How many events it had applied past its checkpoint.

    The runner stays down (paused) while what it left is read, so that its
    next incarnation cannot move the checkpoint first; then it starts again.
    """
    customers = [
        _command(
            run,
            "customers/register/",
            {"name": f"Burst {n}", "email": f"burst{n}@example.com", "address": "1"},
        )["id"]
        for n in range(BURST_CUSTOMERS)
    ]
    for customer_id in customers:
        _wait_applied(run, customer_id, version=1, places=("order-inbox",))
    start = len(_applied(run))

    def renames(customer_id: str) -> None:
        for step in range(BURST_RENAMES):
            _command(run, f"customers/{customer_id}/update/", {"name": f"B {step}"})

    threads = [threading.Thread(target=renames, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(_applied(run)) < start + 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    run.paused.add(RUNNER)
    try:
        faults.sigkill(run, RUNNER)
        path = CHECKPOINT_DIR / f"{run.env['EVENT_TOPOLOGY_PREFIX']}order.json"
        positions = CheckpointStore(path).snapshot().get(MAPPING, {})
        applied = _applied(run)
    finally:
        run.resume_workers([RUNNER])
    for thread in threads:
        thread.join()
    tap.drain()
    past = [
        record["event_id"]
        for record in tap.seen
        if record["event_id"] in applied
        and int(record["sequence_number"]) > int(positions.get(record["shard"], "0"))
    ]
    return len(past)


def _applied(run: PlatformRun) -> set[str]:
    """The event ids the order service's consumer has applied."""
    rows = fetch_rows(
        run.database_url("order"),
        f"SELECT event_id::text FROM {PROCESSED_EVENT_TABLE} "
        "WHERE consumer = 'order-inbox'",
    )
    return {row[0] for row in rows}


def _command(run: PlatformRun, path: str, payload: dict) -> dict:
    """POST a customer command, again while the event store throttles it."""
    session = client_for(run).session
    for _ in range(20):
        response = session.post(
            f"{run.url('customer')}/api/{path}", json=payload, timeout=15
        )
        if outcome_of(response) != NOT_APPLIED:
            assert response.status_code in (200, 201), response.text
            return response.json()
    raise AssertionError(f"{path} throttled 20 times in a row")


def _wait_applied(
    run: PlatformRun,
    customer_id: str,
    *,
    version: int,
    places: tuple[str, ...] = (
        "order-inbox",
        "customer-read-inbox",
        "order-read-inbox",
    ),
) -> None:
    """Until the order service's consumer and both projectors applied it."""
    urls = {
        "order-inbox": run.database_url("order"),
        "customer-read-inbox": run.read_database_url("customer"),
        "order-read-inbox": run.read_database_url("order"),
    }
    deadline = time.monotonic() + 90
    missing = {place: urls[place] for place in places}
    while missing and time.monotonic() < deadline:
        for consumer, url in list(missing.items()):
            if fetch_value(
                url,
                f"SELECT count(*) FROM {PROCESSED_EVENT_TABLE} WHERE consumer = %s "
                "AND aggregate_id = %s AND aggregate_version = %s",
                [consumer, customer_id, version],
            ):
                del missing[consumer]
        time.sleep(0.3)
    assert not missing, f"customer {customer_id} v{version} not applied by {missing}"


def test_a_poison_body_is_never_an_envelope_a_consumer_could_apply():
    """The checker's side of the poison: neither kind names a real aggregate."""
    held = json.loads(streams.poison_body(streams.HELD_FOREVER))
    assert held["aggregate_version"] == 2
    assert uuid.UUID(held["aggregate_id"])
    with pytest.raises(UnicodeDecodeError):
        streams.poison_body(streams.UNDECODABLE).decode()
