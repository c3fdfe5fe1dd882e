"""Figure 6: end to end, from commit to read model, at a fixed offered load.

Subject: a whole platform under ``cqrs_es``, as the lab runs it
(``stack.platform_run.running_platform``: both services under gunicorn, an
outbox relay, a consumer and a projector per service, the local AWS behind
its TCP proxy). A paced client offers commands at a fixed rate for a fixed
time, half registrations and half orders for customers registered a few
seconds earlier; every command is sent on its schedule from a small thread
pool, so a slow answer does not lower the offered rate. Every second the
backlog is sampled: outbox rows not yet published in both services plus the
messages waiting or in flight in every inbox. When the load stops and the
backlog drains, the lag of every event of the window is read from the rows
the consumers left (``event_processed``: ``processed_at - occurred_at``,
``observe.lag``), across the order service's replica and both read models.

Baseline: the broker alone, the floor under any pipeline through it, measured
just before the load while the platform idles. At the same event rate (one
event per command), raw boto3 publishes to an SNS topic with one subscribed SQS
queue on the same local AWS, and a receiver
long-polls the queue as the consumers do: publish-to-receive latency.

The backlog is flat when its least-squares slope over the load is under 5 %
of the offered event rate (the pipeline keeps up), stated in the row's note.

Figure 9 offers the same load (20 commands/s) to one ``cqrs_es`` platform per
backend combination (``run_backends``): SNS or Kinesis delivery,
PostgreSQL or DynamoDB event store. Its backlog is the quiescence probe's
(``observe.quiescence``: outboxes, inboxes, and the stream records past the
event source mappings' checkpoints). Its baseline is the broker alone on the
backend's first hop: SNS to SQS as above, or a stream (Kinesis, or the
DynamoDB table's stream) read the way the local event source mapping runner
reads it, polled with the runner's sleep after an empty round: the part of
each hop that is the poll.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import requests

from bench.environment import CHECKPOINT_DIR, topology_prefix
from bench.report import Figure
from observe.lag import LagStats, measure_lag
from observe.quiescence import BacklogProbe
from observe.tables import OUTBOX_TABLE
from shared_events.configuration import all_database_names
from shared_events.event_source_mapping.runner import (
    DEFAULT_POLL_INTERVAL_SECONDS as RUNNER_POLL_SECONDS,
)
from shared_events.testing.queues import delete_received
from stack.local_aws import local_client
from stack.platform_run import running_platform
from stack.postgres import drop_databases

END_TO_END = Figure("6 end to end", unit="ms")
# The platform's names within the run: databases bench_<run>_e2e_*.
PREFIX = "e2e"
APPROACH = "cqrs_es"
DRAIN_TIMEOUT = 90.0
# A customer must reach the order service's replica before an order for it
# is accepted; orders pick customers registered at least this long ago.
REPLICA_GRACE = 3.0


def run(bench, *, rates: list[int], seconds: int, baseline_seconds: int, log) -> list:
    rows: list[dict] = []
    # No TCP proxy in front of the local AWS: it would run in this process,
    # beside the load generator, and measure its own contention.
    with running_platform(
        approach=APPROACH,
        server_url=bench.server_url,
        prefix=bench.platform_prefix(PREFIX),
        broker_proxy=False,
    ) as platform:
        log(f"end to end: platform up ({APPROACH})")
        for rate in rates:
            # The broker alone first, while the platform is idle: after an
            # overload the platform may still be draining its backlog.
            baseline = _broker_alone(platform, rate=rate, seconds=baseline_seconds)
            subject = _offer_load(platform, rate=rate, seconds=seconds, log=log)
            log(
                f"end to end {rate} cmd/s: lag p99 {subject['lag'].p99_ms:.0f} ms, "
                f"broker alone p99 {baseline.p99_ms:.0f} ms, {subject['note']}"
            )
            rows += _rows(rate, seconds, subject, baseline)
    return rows


def _rows(rate: int, seconds: int, subject: dict, baseline: LagStats) -> list[dict]:
    lag: LagStats = subject["lag"]
    rows = []
    for name in ("p50", "p95", "p99"):
        rows.append(
            END_TO_END.row(
                subject=(
                    f"commit to read model {name}, {rate} cmd/s for {seconds} s",
                    [getattr(lag, f"{name}_ms")],
                ),
                baseline=(
                    f"SNS publish to SQS receive {name} (broker alone)",
                    [getattr(baseline, f"{name}_ms")],
                ),
                target=("subject_le", 500.0) if name == "p99" and rate == 20 else None,
                note=subject["note"],
            )
        )
    return rows


# THE SUBJECT
# ------------------------------------------------------------------------------


def _offer_load(
    platform,
    *,
    rate: int,
    seconds: int,
    log,
    measure=None,
    lag_databases: dict[str, str] | None = None,
    drain_timeout: float = DRAIN_TIMEOUT,
) -> dict:
    """The paced load, the backlog sampled every second, the lag afterwards.

    ``measure`` answers the backlog by place (a dict); by default the outboxes
    and the SQS inboxes (``_backlog_parts``). ``lag_databases`` are where the
    consumers' rows are read (by default the replica and both read models).
    """
    if measure is None:
        sqs = local_client("sqs", platform.moto.endpoint_url)

        def measure() -> dict[str, int]:
            return _backlog_parts(platform, sqs)

    local = threading.local()
    registered: list[tuple[float, str]] = []
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Token {platform.token}"
        return local.session

    def command(number: int) -> None:
        try:
            response = _one_command(number, session(), platform, registered, lock)
            outcome = str(response.status_code)
        except requests.RequestException as error:
            outcome = error.__class__.__name__
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    backlog: list[tuple[float, int]] = []
    stop = threading.Event()
    sampler = threading.Thread(
        target=_sample_backlog, args=(measure, backlog, stop), daemon=True
    )
    started = time.monotonic()
    wall_started = time.time()
    sampler.start()
    total = rate * seconds
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            for number in range(total):
                delay = started + number / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(command, number)
        load_seconds = time.monotonic() - started
        during_load = [(at, total) for at, total, _ in backlog]
        if backlog:
            log(
                f"end to end {rate} cmd/s: backlog at the end of the load "
                f"{backlog[-1][2]}"
            )
        drained = _drain(measure, timeout=drain_timeout)
    finally:
        # Interrupted too: the sampler must not outlive the platform it reads.
        stop.set()
        sampler.join()
    window = time.time() - wall_started + 1
    report = measure_lag(
        lag_databases
        or {
            "order": platform.database_url("order"),
            "customer_read": platform.read_database_url("customer"),
            "order_read": platform.read_database_url("order"),
        },
        since=window,
    )
    for consumer in report.consumers:
        log(
            f"end to end {rate} cmd/s: {consumer.database} {consumer.consumer}: "
            f"{consumer.stats.count} events, p50 {consumer.stats.p50_ms or 0:.0f} ms, "
            f"p99 {consumer.stats.p99_ms or 0:.0f} ms"
        )
    slope = _slope(during_load)
    # Each command records one event; each event reaches several consumers.
    flat = abs(slope) < 0.05 * total / load_seconds
    accepted = sum(count for code, count in outcomes.items() if code.startswith("2"))
    note = (
        f"{accepted}/{total} commands accepted ({_outcomes(outcomes)}); "
        f"{report.overall.count} applications; backlog max "
        f"{max((n for _, n in during_load), default=0)}, slope {slope:+.1f}/s: "
        f"{'flat' if flat else 'GROWING'}"
        f"{'' if drained else '; did not drain in time'}"
    )
    log(f"end to end {rate} cmd/s: {note}")
    return {
        "lag": report.overall,
        "note": note,
        "consumers": report.consumers,
        "flat": flat,
        "slope": slope,
        "drained": drained,
        "accepted": accepted,
        "total": total,
        "load_seconds": load_seconds,
        "backlog_max": max((n for _, n in during_load), default=0),
        "backlog": during_load,
    }


def _one_command(number, session, platform, registered, lock) -> requests.Response:
    now = time.monotonic()
    with lock:
        ready = [cid for at, cid in registered if now - at >= REPLICA_GRACE]
    if number % 2 and ready:
        return place_order(session, platform, random.choice(ready))
    response = register_customer(session, platform)
    if response.status_code == 201:
        with lock:
            registered.append((time.monotonic(), response.json()["id"]))
    return response


def register_customer(
    session: requests.Session, platform, *, timeout: float = 10
) -> requests.Response:
    """One registration through the customer service's API, a new name each."""
    tag = uuid.uuid4().hex[:12]
    return session.post(
        f"{platform.url('customer')}/api/customers/register/",
        json={
            "name": f"Bench {tag}",
            "email": f"{tag}@bench.example",
            "address": "1 Benchmark Road",
        },
        timeout=timeout,
    )


def place_order(
    session: requests.Session, platform, customer_id: str, *, timeout: float = 10
) -> requests.Response:
    """One order of one line through the order service's API."""
    return session.post(
        f"{platform.url('order')}/api/orders/place/",
        json={
            "customer_id": customer_id,
            "lines": [{"sku": "BENCH-1", "quantity": 1, "unit_price": "9.99"}],
        },
        timeout=timeout,
    )


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{code}: {count}" for code, count in sorted(outcomes.items()))


def _backlog_parts(platform, sqs) -> dict[str, int]:
    """Waiting work by place: each outbox, each inbox (waiting + in flight)."""
    parts: dict[str, int] = {}
    for service in ("customer", "order"):
        connection = psycopg2.connect(platform.database_url(service))
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM {OUTBOX_TABLE} WHERE published_at IS NULL"
                )
                parts[f"{service} outbox"] = cursor.fetchone()[0]
        finally:
            connection.close()
    prefix = platform.env["EVENT_TOPOLOGY_PREFIX"]
    for queue_url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        if "dlq" in queue_url.rsplit("/", 1)[-1].lower():
            continue
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        parts[queue_url.rsplit("/", 1)[-1]] = sum(
            int(value) for value in attributes.values()
        )
    return parts


def _sample_backlog(measure, samples: list, stop: threading.Event) -> None:
    started = time.monotonic()
    while not stop.is_set():
        parts = measure()
        samples.append((time.monotonic() - started, sum(parts.values()), parts))
        stop.wait(1.0)


def _drain(measure, *, timeout: float = DRAIN_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    empty = 0
    while time.monotonic() < deadline:
        empty = empty + 1 if sum(measure().values()) == 0 else 0
        if empty >= 2:
            return True
        time.sleep(1.0)
    return False


def _slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of the backlog over time, messages per second."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if not spread:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread


# THE BASELINE
# ------------------------------------------------------------------------------


def _broker_alone(platform, *, rate: float, seconds: int) -> LagStats:
    """Publish-to-receive latency through SNS and SQS alone, at ``rate``/s."""
    endpoint = platform.moto.endpoint_url
    sns, sqs = local_client("sns", endpoint), local_client("sqs", endpoint)
    name = f"broker-baseline-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    done = threading.Event()

    def receive() -> None:
        receiver = local_client("sqs", endpoint)
        while not (done.is_set() and len(latencies) >= total):
            messages = receiver.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            arrived = time.time()
            for message in messages:
                latencies.append((arrived - json.loads(message["Body"])["at"]) * 1000)
            if messages:
                delete_received(receiver, queue_url, messages)
            if done.is_set() and not messages:
                break

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    started = time.monotonic()
    for number in range(total):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sns.publish(
            TopicArn=topic,
            Message=json.dumps({"at": time.time(), "n": number, "pad": "x" * 400}),
        )
    done.set()
    receiver.join(timeout=30)
    sns.delete_topic(TopicArn=topic)
    sqs.delete_queue(QueueUrl=queue_url)
    return LagStats.of(latencies)


# FIGURE 9: THE SAME LOAD ON EACH BACKEND
# ------------------------------------------------------------------------------

BACKEND_END_TO_END = Figure("9 end to end per backend", unit="ms")
# cqrs_es with each delivery + store: the default picture, Kinesis
# behind the PostgreSQL outbox, DynamoDB fanned out by SNS, the paper's whole
# AWS figure.
BACKENDS = ("sns+postgres", "kinesis+postgres", "sns+dynamodb", "kinesis+dynamodb")
# One platform at a time, each on databases bench_<run>_aws_*.
BACKENDS_PREFIX = "aws"
# Event source mapping runners between a commit and the read models: each
# polls, and sleeps RUNNER_POLL_SECONDS after a round that found nothing.
RUNNER_HOPS = {
    "sns+postgres": "no runner (the relay is woken by NOTIFY, consumers long-poll SQS)",
    "kinesis+postgres": "1 runner hop (consumers and projectors poll Kinesis)",
    "sns+dynamodb": "1 runner hop (publish_committed polls the table's stream; "
    "each service's own projector reads it directly)",
    "kinesis+dynamodb": "2 runner hops to the other service (publish_committed, "
    "then the consumer or projector on Kinesis), 1 to a service's own projector "
    "(it reads its table's stream)",
}


def run_backends(
    bench,
    *,
    rate: int,
    seconds: int,
    baseline_seconds: int,
    backends: list[str],
    log,
) -> list:
    """One ``cqrs_es`` platform per backend, the same paced load on each."""
    rows: list[dict] = []
    for backend in backends:
        floor_name, floor, subject = _measure_backend(
            bench,
            backend=backend,
            rate=rate,
            seconds=seconds,
            baseline_seconds=baseline_seconds,
            log=log,
        )
        lag: LagStats = subject["lag"]
        consumers = "; ".join(
            f"{c.database} p50 {c.stats.p50_ms or 0:.0f} p99 {c.stats.p99_ms or 0:.0f}"
            for c in subject["consumers"]
        )
        note = f"{RUNNER_HOPS[backend]}; {consumers}; {subject['note']}"
        log(
            f"backends {backend}: p99 {lag.p99_ms:.0f} ms, "
            f"floor p99 {floor.p99_ms:.0f} ms"
        )
        for name in ("p50", "p99"):
            rows.append(
                BACKEND_END_TO_END.row(
                    subject=(
                        f"cqrs_es {backend}: commit to read model {name}, "
                        f"{rate} cmd/s for {seconds} s",
                        [getattr(lag, f"{name}_ms")],
                    ),
                    baseline=(f"{floor_name} {name}", [getattr(floor, f"{name}_ms")]),
                    target=("subject_le", 1000.0) if name == "p99" else None,
                    note=note,
                )
            )
    return rows


def _measure_backend(
    bench, *, backend: str, rate: int, seconds: int, baseline_seconds: int, log
) -> tuple[str, LagStats, dict]:
    """The floor and the load on a fresh platform with ``backend``; its
    databases are dropped afterwards."""
    delivery, store = backend.split("+")
    prefix = bench.platform_prefix(BACKENDS_PREFIX)
    # A checkpoint of the previous backend's stream must not apply to this one's.
    for stale in CHECKPOINT_DIR.glob(f"{topology_prefix(prefix)}*.json"):
        stale.unlink(missing_ok=True)
    try:
        with running_platform(
            approach=APPROACH,
            server_url=bench.server_url,
            prefix=prefix,
            broker_proxy=False,
            extra_env={"EVENT_DELIVERY": delivery, "EVENT_STORE": store},
        ) as platform:
            log(f"backends: platform up ({APPROACH}, {backend})")
            floor_name, floor = _floor(
                platform,
                delivery=delivery,
                store=store,
                rate=rate,
                seconds=baseline_seconds,
            )
            probe = BacklogProbe(platform)
            subject = _offer_load(
                platform,
                rate=rate,
                seconds=seconds,
                log=log,
                measure=lambda: probe.measure().as_dict(),
            )
    finally:
        drop_databases(server_url=bench.server_url, names=all_database_names(prefix))
    return floor_name, floor, subject


def _floor(platform, *, delivery: str, store: str, rate: int, seconds: int):
    """The broker alone on the backend's first hop, at the same rate: SNS to a
    long-polled SQS queue, or a stream read as the runner reads it (polled,
    with its sleep after an empty round: that is the poll's part of a hop)."""
    if delivery == "kinesis":
        return (
            f"Kinesis put to GetRecords polled every {RUNNER_POLL_SECONDS} s",
            _stream_alone(platform, kind="kinesis", rate=rate, seconds=seconds),
        )
    if store == "dynamodb":
        return (
            f"DynamoDB PutItem to its stream polled every {RUNNER_POLL_SECONDS} s",
            _stream_alone(platform, kind="dynamodb", rate=rate, seconds=seconds),
        )
    return (
        "SNS publish to SQS receive (broker alone)",
        _broker_alone(platform, rate=rate, seconds=seconds),
    )


class _KinesisFloor:
    def __init__(self, endpoint: str) -> None:
        self.kinesis = local_client("kinesis", endpoint)
        self.name = f"floor-{uuid.uuid4().hex[:8]}"
        self.kinesis.create_stream(StreamName=self.name, ShardCount=2)
        self.kinesis.get_waiter("stream_exists").wait(StreamName=self.name)
        self.iterators = {
            shard["ShardId"]: self.kinesis.get_shard_iterator(
                StreamName=self.name,
                ShardId=shard["ShardId"],
                ShardIteratorType="LATEST",
            )["ShardIterator"]
            for shard in self.kinesis.list_shards(StreamName=self.name)["Shards"]
        }

    def put(self, number: int, body: str) -> None:
        self.kinesis.put_record(
            StreamName=self.name, Data=body.encode(), PartitionKey=str(number)
        )

    def read(self) -> list[str]:
        bodies = []
        for shard, iterator in self.iterators.items():
            page = self.kinesis.get_records(ShardIterator=iterator)
            self.iterators[shard] = page["NextShardIterator"]
            bodies += [record["Data"].decode() for record in page["Records"]]
        return bodies

    def close(self) -> None:
        self.kinesis.delete_stream(StreamName=self.name)


class _DynamoDBStreamFloor:
    def __init__(self, endpoint: str) -> None:
        self.dynamodb = local_client("dynamodb", endpoint)
        self.streams = local_client("dynamodbstreams", endpoint)
        self.name = f"floor-{uuid.uuid4().hex[:8]}"
        table = self.dynamodb.create_table(
            TableName=self.name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        arn = table["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]
        self.iterators = {
            shard["ShardId"]: self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards["Shards"]
        }

    def put(self, number: int, body: str) -> None:
        self.dynamodb.put_item(
            TableName=self.name, Item={"id": {"S": str(number)}, "body": {"S": body}}
        )

    def read(self) -> list[str]:
        bodies = []
        for shard, iterator in self.iterators.items():
            page = self.streams.get_records(ShardIterator=iterator)
            self.iterators[shard] = page["NextShardIterator"]
            bodies += [
                record["dynamodb"]["NewImage"]["body"]["S"]
                for record in page["Records"]
            ]
        return bodies

    def close(self) -> None:
        self.dynamodb.delete_table(TableName=self.name)


def _stream_alone(platform, *, kind: str, rate: float, seconds: int) -> LagStats:
    """Put-to-read latency of a stream read the runner's way: every shard in
    turn, and RUNNER_POLL_SECONDS of sleep after a round that found nothing."""
    endpoint = platform.moto.endpoint_url
    floor = (
        _KinesisFloor(endpoint) if kind == "kinesis" else _DynamoDBStreamFloor(endpoint)
    )
    total = max(1, int(rate * seconds))
    latencies: list[float] = []
    done = threading.Event()

    def poll() -> None:
        idle_after_done = 0
        while len(latencies) < total and idle_after_done < 3:
            bodies = floor.read()
            arrived = time.time()
            latencies.extend((arrived - json.loads(b)["at"]) * 1000 for b in bodies)
            if not bodies:
                idle_after_done += done.is_set()
                time.sleep(RUNNER_POLL_SECONDS)

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    started = time.monotonic()
    for number in range(total):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        floor.put(
            number, json.dumps({"at": time.time(), "n": number, "pad": "x" * 400})
        )
    done.set()
    reader.join(timeout=30)
    floor.close()
    return LagStats.of(latencies)
