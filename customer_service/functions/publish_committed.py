"""The customer service's outbox under EVENT_STORE=dynamodb, as a Lambda function.

Fed by the DynamoDB stream of the customer service's event table
(``<prefix>customer-events-store``, NEW_IMAGE): each INSERT record is one
commit, and its envelopes are published through the customer service's
publisher (SNS, SQS or Kinesis, as EVENT_DELIVERY says), in order. The first
record not wholly accepted is the one ``batchItemFailures`` entry, and the
retry starts there (``shared_events.outbox.stream_relay``). Locally the
platform's event source mapping runner calls ``handler`` in-process with
the same documents.
"""

from shared_events.functions import lambda_entry

handler = lambda_entry(service="customer", function="publish_committed")
