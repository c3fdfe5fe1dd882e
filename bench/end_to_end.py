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

from bench.report import Figure
from observe.lag import LagStats, measure_lag
from observe.tables import OUTBOX_TABLE
from shared_events.testing.queues import delete_received
from stack.local_aws import local_client
from stack.platform_run import running_platform

END_TO_END = Figure("6 end to end", unit="ms")
PREFIX = "bench_e2e_"
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
        prefix=PREFIX,
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


def _offer_load(platform, *, rate: int, seconds: int, log) -> dict:
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
        target=_sample_backlog, args=(platform, backlog, stop), daemon=True
    )
    started = time.monotonic()
    wall_started = time.time()
    sampler.start()
    total = rate * seconds
    with ThreadPoolExecutor(max_workers=16) as pool:
        for number in range(total):
            delay = started + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(command, number)
    load_seconds = time.monotonic() - started
    during_load = [(at, total) for at, total, _ in backlog]
    if backlog:
        log(f"end to end {rate} cmd/s: backlog at the end of the load {backlog[-1][2]}")
    drained = _drain(platform)
    stop.set()
    sampler.join()
    window = time.time() - wall_started + 1
    report = measure_lag(
        {
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
    return {"lag": report.overall, "note": note}


def _one_command(number, session, platform, registered, lock) -> requests.Response:
    now = time.monotonic()
    with lock:
        ready = [cid for at, cid in registered if now - at >= REPLICA_GRACE]
    if number % 2 and ready:
        return session.post(
            f"{platform.url('order')}/api/orders/place/",
            json={
                "customer_id": random.choice(ready),
                "lines": [{"sku": "BENCH-1", "quantity": 1, "unit_price": "9.99"}],
            },
            timeout=10,
        )
    tag = uuid.uuid4().hex[:12]
    response = session.post(
        f"{platform.url('customer')}/api/customers/register/",
        json={
            "name": f"Bench {tag}",
            "email": f"{tag}@bench.example",
            "address": "1 Benchmark Road",
        },
        timeout=10,
    )
    if response.status_code == 201:
        with lock:
            registered.append((time.monotonic(), response.json()["id"]))
    return response


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{code}: {count}" for code, count in sorted(outcomes.items()))


def _backlog(platform, sqs) -> int:
    return sum(_backlog_parts(platform, sqs).values())


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


def _sample_backlog(platform, samples: list, stop: threading.Event) -> None:
    sqs = local_client("sqs", platform.moto.endpoint_url)
    started = time.monotonic()
    while not stop.is_set():
        parts = _backlog_parts(platform, sqs)
        samples.append((time.monotonic() - started, sum(parts.values()), parts))
        stop.wait(1.0)


def _drain(platform) -> bool:
    sqs = local_client("sqs", platform.moto.endpoint_url)
    deadline = time.monotonic() + DRAIN_TIMEOUT
    empty = 0
    while time.monotonic() < deadline:
        empty = empty + 1 if _backlog(platform, sqs) == 0 else 0
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
