"""The broker alone: the platform's message work by raw boto3, and nothing else.

Figure 11's baseline (``bench.knee``). On a local AWS of its own it creates
the platform's topology under an approach (``platform_topology``, by
``ensure_topology``: a topic per producing service, the inboxes subscribed as
the platform subscribes them), then runs one publisher process per relay
and one receiver process per consuming queue:

- a publisher sends what is due on its schedule with SNS ``PublishBatch``,
  ten entries a call, as the relay's ``SnsPublisher`` chunks a claimed batch,
  with bodies the size of the platform's envelopes and the same two message
  attributes;
- a receiver long-polls its queue as a consumer does (ten messages, the
  process table's ``--wait-seconds``, the topology's visibility timeout, all
  attributes) and deletes each batch in one call.

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
from collections.abc import Callable

from bench.cpu_split import LOAD_GENERATOR, CpuSplit, split_by_kind
from bench.end_to_end import _drain, _sample_backlog
from observe.lag import LagStats
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
RECEIVE_BATCH = ConsumerSettings.max_messages
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


def _publisher(endpoint, topic_arn, producer, body_bytes, commands, published, results):
    """One relay's publishes: what is due, in PublishBatch calls of ten.

    Commands: ("pace", step, rate, seconds, start) sends rate*seconds messages
    on schedule from ``start`` (time.monotonic, the same clock in every
    process); ("burst", step, count) sends count at once; None ends.
    """
    sns = local_client("sns", endpoint)
    results.put(("ready", topic_arn))
    attributes = {
        "event_type": {"DataType": "String", "StringValue": f"{producer}Registered"},
        "aggregate_type": {"DataType": "String", "StringValue": producer.title()},
    }

    def send(step: int, count: int) -> None:
        for first in range(0, count, MAX_BATCH_ENTRIES):
            entries = []
            for number in range(first, min(count, first + MAX_BATCH_ENTRIES)):
                body = json.dumps({"at": time.time(), "step": step, "pad": ""})
                body = body[:-2] + "x" * max(0, body_bytes - len(body)) + '"}'
                entries.append(
                    {
                        "Id": f"m{number - first}",
                        "Message": body,
                        "MessageAttributes": attributes,
                    }
                )
            sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
            with published.get_lock():
                published.value += len(entries)

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


class BrokerAlone:
    """The platform's topology on a local AWS of its own, a publisher process
    per producing service and a receiver process per consuming queue."""

    def __init__(self, *, read_side: bool, body_bytes: int, log) -> None:
        self.topology = platform_topology(prefix="knee-broker-", read_side=read_side)
        self.publishers: dict[str, multiprocessing.Process] = {}
        self.receivers: list[multiprocessing.Process] = []
        self._closing = threading.Event()
        self.moto = start_moto_server()
        try:
            self._start(body_bytes)
        except BaseException:
            self.close()
            raise
        log(
            f"knee: broker alone up, {len(self.publishers)} publishers, "
            f"{len(self.receivers)} receivers, fan-out {fan_out(self.topology):g}, "
            f"{body_bytes} B bodies"
        )

    def _start(self, body_bytes: int) -> None:
        endpoint = self.moto.endpoint_url
        report = ensure_topology(self.topology, AwsSettings(endpoint_url=endpoint))
        self.sqs = local_client("sqs", endpoint)
        self.queue_urls = [report.queue_urls[c] for c in self.topology.consumers]
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
                    report.topic_arns[producer],
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
        return parts

    def offer(self, rate: int, *, seconds: int, drain_seconds: float) -> dict:
        """The paced load for ``seconds``, sampled as the platform's is; the
        same keys as ``end_to_end._offer_load``'s answer, and the CPU meter."""
        self._step += 1
        step = self._step
        share = rate / len(self.publishers)
        start = time.monotonic() + 0.2
        for producer in self.publishers:
            self.scheduled[producer] += self.schedule.get(producer, (0, 0, 0))[2]
            self.schedule[producer] = (start, share, round(share * seconds))
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
        total = sum(s[2] for s in self.schedule.values())
        return {
            "lag": LagStats.of(self.latencies.pop(step, [])),
            "backlog": during_load,
            "load_seconds": load_seconds,
            "total": total,
            "accepted": sum(
                min(planned, self.published[p].value - self.scheduled[p])
                for p, (_, _, planned) in self.schedule.items()
            ),
            "drained": drained,
            "backlog_max": max((n for _, n in during_load), default=0),
            "meter": meter,
        }

    def burst(self, events: int, *, drain_seconds: float, log) -> dict:
        """Publish ``events`` with the receivers held, then time their drain.

        What an earlier step left (a load past the knee) drains first, as the
        platform's backlog does before its burst.
        """
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
