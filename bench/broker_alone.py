"""The broker alone: the platform's message work by raw boto3, and nothing else.

Figure 11's baseline (``bench.knee``). On a local AWS of its own it creates
the platform's topology under an approach (``platform_topology``, by
``ensure_topology``: a topic per producing service, the inboxes subscribed as
the platform subscribes them), then runs one publisher process per relay
and one receiver process per consuming queue (or stream reader):

- a publisher sends what is due on its schedule, as the relay's publisher
  for the delivery chunks a claimed batch: SNS ``PublishBatch`` of ten
  entries (``sns``), ``SendMessageBatch`` of ten to every subscribing inbox
  (``sqs``, where the producer fans out itself), or Kinesis ``PutRecords``
  of what is due (``kinesis``), with bodies the size of the platform's
  envelopes and the same two message attributes;
- the same message work per command: each producer publishes as many events
  per command as the platform's producer stored (``events_per_command``,
  measured on the platform: under the credit saga an order is three events,
  a registration one), so a knee in commands per second compares like with
  like;
- a receiver long-polls its queue as a consumer does (ten messages, the
  process table's ``--wait-seconds``, the topology's visibility timeout, all
  attributes), deletes each batch in one call and, after a batch that did
  not fill, waits the consumers' ``--batch-window`` before it receives
  again; under ``kinesis`` a reader per event source mapping (each consumer
  of each stream) reads every shard from where it started with the runner's
  batch size, and sleeps the runner's idle interval when a round brings
  nothing.

The processes are spawned, not forked: the bench process runs threads, and a
fork would copy their locks in whatever state they were.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.cpu_split import LOAD_GENERATOR, CpuSplit, split_by_kind
from bench.end_to_end import _drain, _sample_backlog
from observe.lag import LagStats
from shared_events.event_source_mapping.mappings import DEFAULT_BATCH_SIZE, SourceKind
from shared_events.event_source_mapping.runner import DEFAULT_POLL_INTERVAL_SECONDS
from shared_events.testing.queues import delete_received
from shared_events.transport.aws_publishers import MAX_BATCH_ENTRIES
from shared_events.transport.clients import AwsSettings
from shared_events.transport.provisioning import ensure_topology
from shared_events.transport.routes import ConsumerSettings
from shared_events.transport.topology import Topology, platform_topology
from stack.local_aws import local_client
from stack.moto_server import start_moto_server
from stack.process_table import WORKERS, Kind

# The consumers' receive, as the process table starts them and
# ConsumerSettings defaults.
CONSUMER_ARGUMENTS = WORKERS[Kind.CONSUMER][0]
WAIT_SECONDS = int(CONSUMER_ARGUMENTS[CONSUMER_ARGUMENTS.index("--wait-seconds") + 1])
BATCH_WINDOW = float(CONSUMER_ARGUMENTS[CONSUMER_ARGUMENTS.index("--batch-window") + 1])
RECEIVE_BATCH = ConsumerSettings.max_messages
STREAM_BATCH = DEFAULT_BATCH_SIZE[SourceKind.KINESIS]
# The relay's Kinesis publisher puts what it claimed in one PutRecords (up to
# 500); a publisher here puts what is due, in calls of at most this many.
STREAM_PUT_RECORDS = 500
TOPOLOGY_PREFIX = "knee-broker-"
START_TIMEOUT = 60.0


def inbox_depths(sqs, queue_urls: list[str]) -> dict[str, int]:
    """Messages waiting or in flight in each queue."""
    depths = {}
    for url in queue_urls:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        depths[url.rsplit("/", 1)[-1]] = sum(int(v) for v in attributes.values())
    return depths


def fan_out(topology: Topology) -> float:
    """Queues each event reaches, on average over the producers."""
    counts = [len(topology.subscribers_of(p)) for p in topology.producers]
    return sum(counts) / len(counts)


def time_drain(
    sqs,
    inboxes: list[str],
    *,
    fan_out: float,
    drain_seconds: float,
    meter,
    extra,
    release: Callable[[], None] = lambda: None,
) -> dict:
    """The messages waiting now, then (after ``release``, which lets the
    receivers go) the time until the inboxes are empty, and the events per
    second that makes."""
    meter.sample()
    waiting = sum(inbox_depths(sqs, inboxes).values())
    release()
    started = time.monotonic()
    deadline = started + drain_seconds
    left = waiting
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        meter.sample()
        left = sum(inbox_depths(sqs, inboxes).values())
    seconds = time.monotonic() - started
    drained_events = (waiting - left) / fan_out
    commands = max(1, round(waiting / fan_out))
    return {
        **extra,
        "waiting_messages": waiting,
        "left_messages": left,
        "drained": left == 0,
        "seconds": round(seconds, 2),
        "events_per_second": drained_events / seconds if seconds else float("nan"),
        "cpu": split_by_kind(meter, load_seconds=seconds, commands=commands),
    }


def _publisher(
    endpoint, delivery, target, producer, body_bytes, commands, published, results
):
    """One relay's publishes: what is due, chunked as the delivery's publisher
    chunks it. ``target`` is the topic's ARN (``sns``), the subscribing
    inboxes' URLs (``sqs``) or the stream's name (``kinesis``).

    Commands: ("pace", step, rate, seconds, start) sends rate*seconds messages
    on schedule from ``start`` (time.monotonic, the same clock in every
    process); ("burst", step, count) sends count at once; None ends.
    """
    client = local_client("kinesis" if delivery == "kinesis" else delivery, endpoint)
    results.put(("ready", producer))
    attributes = {
        "event_type": {"DataType": "String", "StringValue": f"{producer}Registered"},
        "aggregate_type": {"DataType": "String", "StringValue": producer.title()},
    }

    def body(step: int) -> str:
        text = json.dumps({"at": time.time(), "step": step, "pad": ""})
        return text[:-2] + "x" * max(0, body_bytes - len(text)) + '"}'

    def send_chunk(step: int, count: int) -> None:
        if delivery == "kinesis":
            client.put_records(
                StreamName=target,
                Records=[
                    {"Data": body(step).encode(), "PartitionKey": uuid.uuid4().hex}
                    for _ in range(count)
                ],
            )
            return
        entries = [
            {"Id": f"m{number}", "MessageBody": body(step), "MessageAttributes": {}}
            for number in range(count)
        ]
        if delivery == "sqs":
            for entry in entries:
                entry["MessageAttributes"] = attributes
            for queue_url in target:
                client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            return
        client.publish_batch(
            TopicArn=target,
            PublishBatchRequestEntries=[
                {
                    "Id": entry["Id"],
                    "Message": entry["MessageBody"],
                    "MessageAttributes": attributes,
                }
                for entry in entries
            ],
        )

    chunk = STREAM_PUT_RECORDS if delivery == "kinesis" else MAX_BATCH_ENTRIES

    def send(step: int, count: int) -> None:
        for first in range(0, count, chunk):
            size = min(chunk, count - first)
            send_chunk(step, size)
            with published.get_lock():
                published.value += size

    while (command := commands.get()) is not None:
        if command[0] == "burst":
            _, step, count = command
            send(step, count)
            continue
        _, step, rate, seconds, start = command
        total, sent = round(rate * seconds), 0
        while sent < total:
            due = min(total, math.floor((time.monotonic() - start) * rate) + 1)
            if due > sent:
                send(step, due - sent)
                sent = due
            else:
                time.sleep(max(0.0, start + sent / rate - time.monotonic()))


def _stream_reader(endpoint, stream_name, go, stop, received, results):
    """One event source mapping's reads: every shard of the stream from where
    it was when the reader started, ``STREAM_BATCH`` records a call, the
    runner's idle sleep after a round that brought nothing."""
    kinesis = local_client("kinesis", endpoint)
    shards = kinesis.list_shards(StreamName=stream_name)["Shards"]
    iterators = {
        shard["ShardId"]: kinesis.get_shard_iterator(
            StreamName=stream_name,
            ShardId=shard["ShardId"],
            ShardIteratorType="LATEST",
        )["ShardIterator"]
        for shard in shards
    }
    results.put(("ready", stream_name))
    while not stop.is_set():
        if not go.is_set():
            go.wait(0.2)
            continue
        latencies: dict[int, list[float]] = {}
        count = 0
        for shard_id, iterator in iterators.items():
            answer = kinesis.get_records(ShardIterator=iterator, Limit=STREAM_BATCH)
            iterators[shard_id] = answer["NextShardIterator"]
            arrived = time.time()
            for record in answer["Records"]:
                message = json.loads(record["Data"])
                latencies.setdefault(message["step"], []).append(
                    (arrived - message["at"]) * 1000
                )
            count += len(answer["Records"])
        if not count:
            stop.wait(DEFAULT_POLL_INTERVAL_SECONDS)
            continue
        with received.get_lock():
            received.value += count
        results.put(("latencies", latencies))


def _receiver(endpoint, queue_url, visibility_timeout, go, stop, results):
    """One consumer's receives: ten at a time, long-polled, deleted per batch;
    the publish-to-receive latency of each message, by step."""
    sqs = local_client("sqs", endpoint)
    results.put(("ready", queue_url))
    while not stop.is_set():
        if not go.is_set():
            go.wait(0.2)
            continue
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=RECEIVE_BATCH,
            WaitTimeSeconds=WAIT_SECONDS,
            VisibilityTimeout=visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            continue
        arrived = time.time()
        latencies: dict[int, list[float]] = {}
        for message in messages:
            body = json.loads(message["Body"])
            latencies.setdefault(body["step"], []).append((arrived - body["at"]) * 1000)
        delete_received(sqs, queue_url, messages)
        results.put(("latencies", latencies))
        if len(messages) < RECEIVE_BATCH:
            stop.wait(BATCH_WINDOW)  # the consumers' batch window


class BrokerAlone:
    """The platform's topology on a local AWS of its own, a publisher process
    per producing service and a receiver process per consuming queue (under
    ``kinesis``, a reader per consumer of each stream).

    ``events_per_command`` is each producer's events per command (by default
    one each, spread over the producers)."""

    def __init__(
        self,
        *,
        read_side: bool,
        body_bytes: int,
        log,
        delivery: str = "sns",
        events_per_command: dict[str, float] | None = None,
    ) -> None:
        self.delivery = delivery
        self.topology = platform_topology(
            prefix=TOPOLOGY_PREFIX, read_side=read_side, delivery=delivery
        )
        producers = self.topology.producers
        self.events_per_command = events_per_command or {
            producer: 1 / len(producers) for producer in producers
        }
        self.publishers: dict[str, multiprocessing.Process] = {}
        self.receivers: list[multiprocessing.Process] = []
        # Under kinesis: each reader's stream and records read so far.
        self.readers: list[tuple[str, Any]] = []
        self._closing = threading.Event()
        self.moto = start_moto_server()
        try:
            self._start(body_bytes)
        except BaseException:
            self.close()
            raise
        log(
            f"knee: broker alone up ({delivery}), {len(self.publishers)} "
            f"publishers, {len(self.receivers)} receivers, fan-out "
            f"{fan_out(self.topology):g}, {body_bytes} B bodies, events per "
            f"command {self.events_per_command}"
        )

    def _start(self, body_bytes: int) -> None:
        endpoint = self.moto.endpoint_url
        report = ensure_topology(self.topology, AwsSettings(endpoint_url=endpoint))
        self.sqs = local_client("sqs", endpoint)
        self.queue_urls = [
            report.queue_urls[c]
            for c in self.topology.consumers
            if c in report.queue_urls
        ]
        context = multiprocessing.get_context("spawn")
        self.go, self.stop = context.Event(), context.Event()
        self.go.set()
        self.results = context.Queue()
        self.commands = {p: context.Queue() for p in self.topology.producers}
        self.published = {p: context.Value("q", 0) for p in self.topology.producers}
        # Messages each publisher was told to send before the current step.
        self.scheduled = dict.fromkeys(self.topology.producers, 0)
        self.schedule: dict[str, tuple[float, float, int]] = {}
        self.publishers = {
            producer: context.Process(
                target=_publisher,
                args=(
                    endpoint,
                    self.delivery,
                    self._target(report, producer),
                    producer,
                    body_bytes,
                    self.commands[producer],
                    self.published[producer],
                    self.results,
                ),
                daemon=True,
            )
            for producer in self.topology.producers
        }
        self.receivers = [
            context.Process(
                target=_receiver,
                args=(
                    endpoint,
                    url,
                    self.topology.visibility_timeout,
                    self.go,
                    self.stop,
                    self.results,
                ),
                daemon=True,
            )
            for url in self.queue_urls
        ]
        for producer in self.topology.producers if self.delivery == "kinesis" else ():
            stream = self.topology.stream_name(producer)
            for _consumer in self.topology.subscribers_of(producer):
                received = context.Value("q", 0)
                self.readers.append((producer, received))
                self.receivers.append(
                    context.Process(
                        target=_stream_reader,
                        args=(
                            endpoint,
                            stream,
                            self.go,
                            self.stop,
                            received,
                            self.results,
                        ),
                        daemon=True,
                    )
                )
        self.latencies: dict[int, list[float]] = {}
        self._ready = 0
        self._step = 0
        self._collector = threading.Thread(target=self._collect, daemon=True)
        for process in [*self.publishers.values(), *self.receivers]:
            process.start()
        self._collector.start()
        deadline = time.monotonic() + 60
        started = len(self.receivers) + len(self.publishers)
        while self._ready < started and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._ready < started:
            raise RuntimeError(
                f"the broker alone's processes did not start ({self._ready} of "
                f"{started} ready)"
            )

    def _target(self, report, producer: str):
        if self.delivery == "kinesis":
            return self.topology.stream_name(producer)
        if self.delivery == "sqs":
            return [
                report.queue_urls[c] for c in self.topology.subscribers_of(producer)
            ]
        return report.topic_arns[producer]

    def _collect(self) -> None:
        while True:
            try:
                kind, value = self.results.get(timeout=0.5)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            except (EOFError, OSError):
                return
            if kind == "ready":
                self._ready += 1
            else:
                for step, latencies in value.items():
                    self.latencies.setdefault(step, []).extend(latencies)

    def roots(self) -> dict[str, list[int]]:
        return {
            "moto": [self.moto.pid],
            "publisher": [p.pid for p in self.publishers.values() if p.pid],
            "receiver": [p.pid for p in self.receivers if p.pid],
            LOAD_GENERATOR: [os.getpid()],
        }

    def backlog(self) -> dict[str, int]:
        """Not yet published (by schedule) plus waiting in each queue."""
        parts = {}
        now = time.monotonic()
        for producer, (start, rate, total) in self.schedule.items():
            due = min(total, max(0, math.floor((now - start) * rate) + 1))
            due += self.scheduled[producer]
            parts[f"{producer} unpublished"] = max(
                0, due - self.published[producer].value
            )
        parts.update(inbox_depths(self.sqs, self.queue_urls))
        for number, (producer, received) in enumerate(self.readers):
            parts[f"{producer} stream, reader {number}"] = max(
                0, self.published[producer].value - received.value
            )
        return parts

    def offer(self, rate: int, *, seconds: int, drain_seconds: float) -> dict:
        """The paced load for ``seconds``, sampled as the platform's is; the
        same keys as ``end_to_end._offer_load``'s answer, and the CPU meter."""
        self._step += 1
        step = self._step
        start = time.monotonic() + 0.2
        for producer in self.publishers:
            share = rate * self.events_per_command.get(producer, 0.0)
            self.scheduled[producer] += self.schedule.get(producer, (0, 0, 0))[2]
            self.schedule[producer] = (start, share, round(share * seconds))
            if share:
                self.commands[producer].put(("pace", step, share, seconds, start))
        meter = CpuSplit(roots=self.roots)

        def measure() -> dict[str, int]:
            meter.sample()
            return self.backlog()

        samples: list = []
        stop = threading.Event()
        sampler = threading.Thread(
            target=_sample_backlog, args=(measure, samples, stop), daemon=True
        )
        sampler.start()
        time.sleep(max(0.0, start + seconds - time.monotonic()))
        load_seconds = seconds + 0.2
        during_load = [(at, total) for at, total, _ in samples]
        drained = _drain(measure, timeout=drain_seconds)
        stop.set()
        sampler.join()
        time.sleep(1.0)  # the last batches' latencies reach the collector
        # Commands, as the platform counts them: the share of the messages
        # planned that were published.
        planned = sum(s[2] for s in self.schedule.values())
        sent = sum(
            min(planned, self.published[p].value - self.scheduled[p])
            for p, (_, _, planned) in self.schedule.items()
        )
        total = round(rate * seconds)
        return {
            "lag": LagStats.of(self.latencies.pop(step, [])),
            "backlog": during_load,
            "load_seconds": load_seconds,
            "total": total,
            "accepted": round(total * sent / planned) if planned else 0,
            "drained": drained,
            "backlog_max": max((n for _, n in during_load), default=0),
            "meter": meter,
        }

    def burst(self, events: int, *, drain_seconds: float, log) -> dict:
        """Publish ``events`` with the receivers held, then time their drain.

        What an earlier step left (a load past the knee) drains first, as the
        platform's backlog does before its burst.
        """
        if self.delivery == "kinesis":
            raise ValueError("the burst figure times queues draining: sns or sqs")
        settled = _drain(self.backlog, timeout=drain_seconds)
        if not settled:
            log(f"knee: the broker's backlog did not drain: {self.backlog()}")
        self.go.clear()
        time.sleep(WAIT_SECONDS + 0.5)  # polls in progress end empty-handed
        self._step += 1
        expected = 0
        share = events // len(self.publishers)
        for producer in self.publishers:
            self.scheduled[producer] += self.schedule.pop(producer, (0, 0, 0))[2]
            self.scheduled[producer] += share
            self.commands[producer].put(("burst", self._step, share))
            expected += share * len(self.topology.subscribers_of(producer))
        deadline = time.monotonic() + drain_seconds
        while (
            sum(inbox_depths(self.sqs, self.queue_urls).values()) < expected
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        log(
            f"knee: broker burst of {events}: {inbox_depths(self.sqs, self.queue_urls)}"
        )
        result = time_drain(
            self.sqs,
            self.queue_urls,
            fan_out=fan_out(self.topology),
            drain_seconds=drain_seconds,
            meter=CpuSplit(roots=self.roots),
            extra={"events": events, "settled": settled},
            release=self.go.set,
        )
        self.latencies.pop(self._step, None)
        return result

    def close(self) -> None:
        """Stop every process this started; the collector last, so no child
        waits on a queue nobody reads."""
        if hasattr(self, "stop"):
            self.stop.set()
            for commands in self.commands.values():
                commands.put(None)
        for process in [*self.publishers.values(), *self.receivers]:
            if process.pid is None:
                continue
            process.join(timeout=WAIT_SECONDS + 10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        self._closing.set()
        if hasattr(self, "_collector") and self._collector.is_alive():
            self._collector.join(timeout=5)
        self.moto.stop()
