"""The contract every consumer keeps against forged events, written once.

Part of :class:`~shared_events.testing.lambda_contract.LambdaHandlerContract`
(whose story, effect, AWS fixtures and dead-letter helpers it uses), so each
function module's tests run it: the order service's consumer, the customer
service's, and both read sides' projectors. From one aggregate's genuine
first event, applied, it makes every forgery of the next one
(``shared_events.testing.signing.forgeries``: unsigned, signed with a key
nobody trusts, a trusted key id on a signature it did not make, another
service's real key, another service speaking for the aggregate, an aggregate
id that is not the payload's, the genuine text replayed with its payload
changed) and puts them where an attacker could:

* through the Lambda handler, in every shape AWS delivers (an SQS message,
  one wrapped in an SNS notification, a Kinesis record, a DynamoDB Streams
  commit);
* on the consumer's own SQS queue (the order service's inbox, a read side's
  inbox under cqrs_es), read by the long-running ``EventConsumer``.

What a learner should see proven: no effect anywhere (the read model or
replica as it was, no processed-event record, the cursor where it stood),
every forgery in the consumer's dead-letter queue with the reason it was
refused for, and the genuine next event applied afterwards as if nothing had
happened.
"""

from __future__ import annotations

import time
from dataclasses import replace

from shared_events.consume import EventConsumer, Outcome
from shared_events.consume import consumer as consumer_module
from shared_events.testing.aws_events import SQS, SQS_SNS_WRAPPED, failures
from shared_events.testing.signing import forgeries, signed
from shared_events.transport import messaging
from shared_events.transport.dead_letters import FAILURE_REASON


class ForgedEventsContract:
    """Mixed into ``LambdaHandlerContract``: forged events never take effect."""

    def assert_refused_with_reasons(self, forged, delivered) -> None:
        """Each forgery in the dead-letter queue, with the reason it must carry."""
        letters = self.take_dead_letters(expected=len(forged))
        reasons = {
            letter["Body"]: letter["MessageAttributes"][FAILURE_REASON]["StringValue"]
            for letter in letters
        }
        assert set(reasons) == set(delivered)
        for forgery, body in zip(forged, delivered, strict=True):
            assert reasons[body].startswith(forgery.reason), (
                forgery.name,
                reasons[body],
            )

    def test_forged_and_mismatched_events_are_dead_lettered_without_effect(self, shape):
        story = self.story()
        assert self.invoke(shape, signed(story[0]))[1] == failures()
        forged = forgeries(story[1])

        event, response = self.invoke(shape, *[forgery.body for forgery in forged])

        # Poison is no failure: the mapping goes on with the stream.
        assert response == failures()
        self.assert_applied(story, 1)
        delivered = (
            [record["body"] for record in event["Records"]]
            if shape in (SQS, SQS_SNS_WRAPPED)
            else [forgery.body for forgery in forged]
        )
        self.assert_refused_with_reasons(forged, delivered)

        assert self.invoke(shape, signed(story[1]))[1] == failures()
        self.assert_applied(story, 2)

    def test_forged_and_mismatched_events_on_the_queue_are_dead_lettered_without_effect(
        self, monkeypatch
    ):
        monkeypatch.setattr(consumer_module, "retry_delay", lambda receive_count: 0)
        story = self.story()
        settings = replace(
            messaging.consumer_settings(self.consumer),
            database=self.database,
            max_receive_count=2,
            wait_time_seconds=1,
        )
        sqs = messaging.sqs_client()
        consumer = EventConsumer(
            settings=settings,
            sqs=sqs,
            handlers=getattr(self.service_wiring.current(), self.handlers_field),
        )

        def send(body: str) -> None:
            sqs.send_message(QueueUrl=settings.queue_url, MessageBody=body)

        def poll_until(outcome: Outcome, count: int) -> None:
            deadline = time.monotonic() + 30
            while consumer.stats.counts.get(outcome, 0) < count:
                assert time.monotonic() < deadline, f"{outcome}: {consumer.stats}"
                consumer.poll_once()

        send(signed(story[0]))
        poll_until(Outcome.APPLIED, 1)
        forged = forgeries(story[1])
        for forgery in forged:
            send(forgery.body)

        poll_until(Outcome.DEAD_LETTERED, len(forged))

        assert consumer.stats.counts.get(Outcome.APPLIED) == 1
        self.assert_applied(story, 1)
        self.assert_refused_with_reasons(forged, [forgery.body for forgery in forged])

        send(signed(story[1]))
        poll_until(Outcome.APPLIED, 2)
        self.assert_applied(story, 2)
