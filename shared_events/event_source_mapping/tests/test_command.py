"""``manage.py --service X run_event_source_mappings``: thin, and clear when it
has nothing to run. Needs a service's Django settings (the ``customer-service``
step of ``make test`` has them); skipped under ``-p no:django``."""

from __future__ import annotations

import io
import signal

import pytest
from django.conf import settings as django_settings

from shared_events.event_source_mapping.tests import recorded, support

pytestmark = pytest.mark.skipif(
    not django_settings.configured, reason="needs a service's Django settings"
)
COMMAND = "run_event_source_mappings"


@pytest.fixture
def command(aws, monkeypatch, tmp_path):
    """Run the command against the test's moto, with these mappings."""
    from django.core.management import call_command
    from django.test import override_settings

    from shared_events.management.commands import run_event_source_mappings

    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}

    def run(*arguments: str, mappings=()):
        monkeypatch.setattr(
            run_event_source_mappings,
            "service_mappings",
            lambda service: list(mappings),
        )
        out = io.StringIO()
        with override_settings(
            AWS_ENDPOINT_URL=aws.endpoint_url, AWS_REGION=aws.region
        ):
            call_command(
                COMMAND, *arguments, "--checkpoint-dir", str(tmp_path), stdout=out
            )
        return out.getvalue()

    yield run
    for number, handler in handlers.items():  # the command installs its own
        signal.signal(number, handler)


def test_with_no_mappings_it_says_there_is_nothing_to_run(command):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no event source mappings.*nothing to run"):
        command("--until-idle")


def test_it_runs_the_mappings_and_prints_its_ready_line(aws, command):
    queue_url = support.create_queue(aws)
    from shared_events.transport.clients import client

    client("sqs", aws).send_message(QueueUrl=queue_url, MessageBody="hello")
    recorded.EVENTS.clear()

    output = command("--until-idle", mappings=[support.queue_mapping()])

    assert output.startswith("running 1 event source mappings: er-sqs: SQS er-inbox")
    assert [r["body"] for e in recorded.EVENTS for r in e["Records"]] == ["hello"]
    assert support.drain(aws, queue_url) == []


def test_an_unknown_mapping_name_is_refused(command):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="unknown mapping.*nope.*er-sqs"):
        command("--mapping", "nope", mappings=[support.queue_mapping()])


def test_a_missing_source_is_a_clear_error(command):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="SQS queue 'er-inbox' does not exist"):
        command("--until-idle", mappings=[support.queue_mapping()])
