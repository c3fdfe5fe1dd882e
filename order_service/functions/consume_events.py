"""The order service's consumer of customer events, as a Lambda function.

It keeps the customer replica and cancels a deleted customer's orders. One
module serves every event source mapping AWS offers it: the order service's
SQS inbox, the customer service's Kinesis stream, or the DynamoDB stream of
the customer service's event table; the event itself says which
(``eventSource``). Locally the platform's event source mapping runner calls
``handler`` in-process with the same documents.
"""

from shared_events.functions import lambda_entry

handler = lambda_entry(service="order", function="consume_events")
