"""The customer service's read-side projector, as a Lambda function (approach 5).

It projects both services' events into the read database (the paper's
Aurora PostgreSQL read store), from whichever event source mapping feeds it:
the read-side SQS inbox, a Kinesis stream or an event table's DynamoDB
stream (the paper's figure: DynamoDB, Streams, Lambda, Aurora). Under any
other approach there are no read models, and each invocation fails with
``ReadSideMissing`` saying so.
"""

from shared_events.functions import lambda_entry

handler = lambda_entry(service="customer", function="project_events")
