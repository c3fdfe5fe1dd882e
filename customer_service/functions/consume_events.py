"""The customer service's consumer of order events, as a Lambda function.

It reacts to none yet, but records each one, in order, so nothing piles up.
One module serves every event source mapping AWS offers it: the customer
service's SQS inbox, the order service's Kinesis stream, or the DynamoDB
stream of the order service's event table; the event itself says which
(``eventSource``). Locally the platform's event source mapping runner calls
``handler`` in-process with the same documents.
"""

from shared_events.functions import lambda_entry

handler = lambda_entry(service="customer", function="consume_events")
