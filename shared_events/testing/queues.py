"""Emptying the SQS queues that tests and benchmarks read from.

What a test received it deletes at once: moto, like SQS, would hand a message
back after its visibility timeout, and moto slows down as a queue grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def delete_received(sqs: Any, queue_url: str, messages: Sequence[dict]) -> dict:
    """Delete up to ten received ``messages`` in one call; return SQS's answer.

    The answer's ``Failed`` list names the messages that were not deleted.
    """
    return sqs.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
            for number, message in enumerate(messages)
        ],
    )
