"""The analytics service: a third Django project that joins a running platform.

The paper's "audit records for analytics": revenue per customer per day,
built from the order service's events alone. What a learner should notice:
nothing of the customer and order services changes for it. It subscribes a
new inbox to the order events topic that already exists, replays the order
service's event store (read-only) to learn the past, then follows the inbox
live, through the same idempotent core as every consumer.
"""
