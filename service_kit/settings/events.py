"""The events library's settings: AWS, topology, relay, consumer, fault injection.

Read by ``shared_events`` through ``django.conf.settings``.
"""

from service_kit.settings.base import env
from shared_events.events import PRODUCERS as _PRODUCERS

# AWS AND EVENTS
# ------------------------------------------------------------------------------
# No AWS_ENDPOINT_URL means real AWS (credentials from the usual chain); the
# platform's own commands start a local moto server and set it for you.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
EVENT_TOPOLOGY_PREFIX = env.str("EVENT_TOPOLOGY_PREFIX", default="")
# How events travel (approaches 3-5): "sns" (a topic per producer fanning out
# to SQS inboxes), "sqs" (the producer sends to every inbox itself, no SNS) or
# "kinesis" (a stream per producer, partition key = aggregate id, read by the
# event source mapping runner; EVENT_FIFO does not apply).
EVENT_DELIVERY = env.str("EVENT_DELIVERY", default="sns")
# Shards per Kinesis stream, fixed when the stream is created: the platform
# never reshards (an existing stream with another count is refused).
EVENT_KINESIS_SHARDS = env.int("EVENT_KINESIS_SHARDS", default=2)
EVENT_FIFO = env.bool("EVENT_FIFO", default=False)
# Where an event-sourced service (approaches 4 and 5) keeps its events:
# "postgres" (the event_store table, an outbox and its relay) or "dynamodb"
# (one item per commit in <prefix><service>-events-store; the table's stream
# is the outbox, published by <service>.functions.publish_committed).
EVENT_STORE = env.str("EVENT_STORE", default="postgres")
# Receives of a failing message before the dead-letter queue (the consumer's
# backoff: 1, 2, 4, 8, 16, 30, 30 s).
EVENT_MAX_RECEIVE_COUNT = env.int("EVENT_MAX_RECEIVE_COUNT", default=8)
# An event ahead of its aggregate is parked in the consumer's database; when
# the aggregate's cursor has not moved for this long, the gap is given up on
# and the parked events dead-lettered. Longer than the visibility timeout a
# crashed consumer leaves on the event before it.
EVENT_GAP_PATIENCE_SECONDS = env.float("EVENT_GAP_PATIENCE_SECONDS", default=45.0)
EVENT_VISIBILITY_TIMEOUT = env.int("EVENT_VISIBILITY_TIMEOUT", default=30)
EVENT_CONSUMER_WAIT_SECONDS = env.int("EVENT_CONSUMER_WAIT_SECONDS", default=5)
# After a batch that did not fill, a consumer waits this long before it
# receives again, so the next batch gathers more (ConsumerSettings).
EVENT_CONSUMER_BATCH_WINDOW_SECONDS = env.float(
    "EVENT_CONSUMER_BATCH_WINDOW_SECONDS", default=0.0
)
EVENT_RELAY_BATCH_SIZE = env.int("EVENT_RELAY_BATCH_SIZE", default=100)
EVENT_RELAY_TIME_BUDGET_SECONDS = env.float(
    "EVENT_RELAY_TIME_BUDGET_SECONDS", default=20.0
)
EVENT_RELAY_SWEEP_SECONDS = env.float("EVENT_RELAY_SWEEP_SECONDS", default=2.0)
# How a commit wakes the relay: "notify" (PostgreSQL NOTIFY from the outbox,
# heard by every relay worker: shared_events.outbox.listener) or "celery" (a
# relay task through the Celery broker per commit, for a database behind a
# pooler that cannot LISTEN). Either way the sweep runs too.
EVENT_RELAY_WAKE = env.str("EVENT_RELAY_WAKE", default="notify")
OUTBOX_RETENTION_HOURS = env.int("OUTBOX_RETENTION_HOURS", default=24 * 7)

# Fault injection, to show the dual write's flaw on purpose (approach 3) and
# that the outbox survives the same fault (approach 4). One of:
#   crash_before_publish  the process dies between commit and publish
#   broker_refuses        the publish after commit fails
# optionally limited to some event types, e.g. crash_before_publish:CustomerDeleted;
# or throttle_aws:PutRecords,PutItem@0.1, AWS answering "throttled" to one call
# in ten of those operations (moto never throttles: shared_events.transport).
FAULT_INJECTION = env.str("FAULT_INJECTION", default="")

# EVENT SIGNATURES (shared_events.event_keys, docs/security.md)
# ------------------------------------------------------------------------------
# Each producer signs its events with a key derived from its secret
# (CUSTOMER_EVENT_SIGNING_KEY, ORDER_EVENT_SIGNING_KEY: production gives each
# service its own only); consumers verify with the producers' public keys
# (CUSTOMER_EVENT_VERIFYING_KEYS, ORDER_EVENT_VERIFYING_KEYS: comma-separated,
# two during a rotation; unset, derived from the signing secret if present).
EVENT_SIGNING_KEYS = {
    producer: env.str(f"{producer.upper()}_EVENT_SIGNING_KEY", default="")
    for producer in _PRODUCERS
}
EVENT_VERIFYING_KEYS = {
    producer: env.list(f"{producer.upper()}_EVENT_VERIFYING_KEYS", default=[])
    for producer in _PRODUCERS
}
