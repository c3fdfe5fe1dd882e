"""SQS: Lambda deletes only what succeeded; the rest comes back by itself."""

from __future__ import annotations

import json
import time

from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import client


def _send(aws, queue_url: str, bodies: list[str]) -> None:
    client("sqs", aws).send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)],
    )


def _bodies(recorder: support.Recorder) -> list[list[str]]:
    return [[r["body"] for r in event["Records"]] for event in recorder.events]


def test_only_the_successful_messages_are_deleted(aws, tmp_path):
    queue_url = support.create_queue(aws, visibility_timeout=1)
    _send(aws, queue_url, ["a", "b", "c"])
    recorder = support.Recorder()
    first_ids: list[str] = []

    def handler(event, context):
        if not first_ids:  # the first time, report "b" as failed
            first_ids.extend(r["messageId"] for r in event["Records"])
            recorder.report = [first_ids[1]]
        return recorder(event, context)

    runner = support.runner(aws, tmp_path, (support.queue_mapping(), handler))
    runner.poll_once()
    assert _bodies(recorder) == [["a", "b", "c"]]

    time.sleep(1.2)  # "b" was not deleted: it is visible again
    runner.run(until_idle=True)

    assert _bodies(recorder) == [["a", "b", "c"], ["b"]]
    (again,) = recorder.events[1]["Records"]
    assert again["attributes"]["ApproximateReceiveCount"] == "2"
    assert support.drain(aws, queue_url) == []


def test_a_handler_that_raises_deletes_nothing(aws, tmp_path):
    queue_url = support.create_queue(aws, visibility_timeout=1)
    _send(aws, queue_url, ["a", "b"])
    recorder = support.Recorder()
    calls = []

    def handler(event, context):
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return recorder(event, context)

    runner = support.runner(aws, tmp_path, (support.queue_mapping(), handler))
    runner.poll_once()
    assert support.drain(aws, queue_url) == []  # in flight, not deleted...
    time.sleep(1.2)
    runner.run(until_idle=True)  # ...so both come back

    assert sorted(b for batch in _bodies(recorder) for b in batch) == ["a", "b"]
    assert runner.stats.function_errors == 1


def test_the_queues_redrive_policy_ends_the_retries(aws, tmp_path):
    sqs = client("sqs", aws)
    dead_letters = support.create_queue(aws, name=support.FAILURE_QUEUE)
    dead_letter_arn = sqs.get_queue_attributes(
        QueueUrl=dead_letters, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=support.QUEUE,
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": "2"}
            ),
        },
    )["QueueUrl"]
    _send(aws, queue_url, ["poison"])
    recorder = support.Recorder()

    def handler(event, context):
        recorder(event, context)
        raise RuntimeError("poison")

    runner = support.runner(aws, tmp_path, (support.queue_mapping(), handler))
    runner.poll_once()
    time.sleep(1.2)
    runner.poll_once()
    time.sleep(1.2)
    runner.poll_once()  # the third receive finds it moved to the DLQ

    assert _bodies(recorder) == [["poison"], ["poison"]]
    assert [m["Body"] for m in support.drain(aws, dead_letters)] == ["poison"]
