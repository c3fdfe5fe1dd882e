"""Transport: the broker between services, SNS topics, SQS queues, Kinesis streams.

What a learner should notice in this stage:

* The relay publishes through a port (``publisher.EventPublisher``) that
  answers *exactly* which messages the broker accepted and never raises for
  an outage; the SNS and SQS adapters (``aws_publishers``), the Kinesis
  adapter (``kinesis_publisher``) and two stand-ins (``NullPublisher``,
  ``RecordingPublisher``) subclass it.
* The topology is data (``topology``), created idempotently
  (``provisioning``) and read back as routes (``routes``): every process
  derives the same names, and local moto and real AWS differ only by
  ``AwsSettings.endpoint_url`` (``clients``).
* A message nobody could process ends in a dead-letter queue, with the
  reason; ``dead_letters`` lists and redrives it.

Plain Python on purpose, so the same code runs in a Django service, a Celery
worker, a Lambda handler or a test; only ``messaging`` reads Django settings
(lazily) to build the platform's own publishers and consumer settings.
Depends on ``events`` only.
"""

from shared_events.transport import messaging
from shared_events.transport.aws_publishers import SnsPublisher, SqsPublisher
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.dead_letters import DeadLetter, DeadLetterQueue
from shared_events.transport.kinesis_publisher import KinesisPublisher
from shared_events.transport.provisioning import TopologyReport, ensure_topology
from shared_events.transport.publisher import (
    EventPublisher,
    NullPublisher,
    OutgoingMessage,
    PublishResult,
    RecordingPublisher,
    outgoing_message,
)
from shared_events.transport.routes import (
    ConsumerRoute,
    ConsumerSettings,
    ProducerRoute,
    Routes,
    resolve_routes,
)
from shared_events.transport.topology import Topology, TopologyError, platform_topology

__all__ = [
    "AwsSettings",
    "ConsumerRoute",
    "ConsumerSettings",
    "DeadLetter",
    "DeadLetterQueue",
    "EventPublisher",
    "KinesisPublisher",
    "NullPublisher",
    "OutgoingMessage",
    "ProducerRoute",
    "PublishResult",
    "RecordingPublisher",
    "Routes",
    "SnsPublisher",
    "SqsPublisher",
    "Topology",
    "TopologyError",
    "TopologyReport",
    "client",
    "ensure_topology",
    "messaging",
    "outgoing_message",
    "platform_topology",
    "resolve_routes",
]
