"""AWS not answering pauses the runner; it never crashes it.

These tests run a moto server of their own, so that killing it (a real
"connection refused") touches no other test.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared_events.event_source_mapping.stream_poller import StreamPoller
from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import AwsSettings, client
from stack.moto_server import start_moto_server

pytestmark = pytest.mark.slow


def _running_on_the_stream(aws: AwsSettings, tmp_path):
    """A runner on the stream in a thread, its recorder, and the thread, once
    it delivered the records already there (one batch)."""
    recorder = support.Recorder()
    runner = support.runner(
        aws,
        tmp_path,
        (support.stream_mapping(), recorder),
        outage_delay_seconds=0.05,
    )
    thread = support.run_in_thread(runner)
    support.wait_until(lambda: len(recorder.events) == 1)
    return runner, recorder, thread


def test_a_broker_restart_pauses_the_runner_and_it_resumes(tmp_path):
    server = start_moto_server()
    try:
        aws = AwsSettings(endpoint_url=server.endpoint_url, max_attempts=1)
        support.create_stream(aws)
        support.put_records(aws, ["before-1", "before-2"])
        runner, recorder, thread = _running_on_the_stream(aws, tmp_path)

        server.kill()  # connection refused from now on
        support.wait_until(lambda: runner.stats.aws_outages >= 3)
        assert thread.is_alive()

        # moto forgets everything: the stream is created anew, its sequence
        # numbers start at 1 again, below the old checkpoint ("2").
        server = start_moto_server(port=server.port)
        time.sleep(0.3)  # the runner finds no stream for a while: it waits
        support.create_stream(aws)
        support.put_records(aws, ["after-1"])
        support.wait_until(lambda: len(recorder.events) == 2)
        runner.stop.set()
        thread.join(timeout=10)

        assert not thread.is_alive()
        assert [support.data_of(e) for e in recorder.events] == [
            ["before-1", "before-2"],
            ["after-1"],
        ]
    finally:
        server.stop()


def test_an_sqs_outage_pauses_the_runner_and_it_resumes(tmp_path):
    server = start_moto_server()
    try:
        aws = AwsSettings(endpoint_url=server.endpoint_url, max_attempts=1)
        queue_url = support.create_queue(aws)
        recorder = support.Recorder()
        runner = support.runner(
            aws,
            tmp_path,
            (support.queue_mapping(), recorder),
            outage_delay_seconds=0.05,
        )
        thread = support.run_in_thread(runner)

        server.kill()
        support.wait_until(lambda: runner.stats.aws_outages >= 3)
        assert thread.is_alive()
        server = start_moto_server(port=server.port)
        assert support.create_queue(aws) == queue_url
        client("sqs", aws).send_message(QueueUrl=queue_url, MessageBody="after")
        support.wait_until(lambda: len(recorder.events) == 1)
        runner.stop.set()
        thread.join(timeout=10)

        assert [r["body"] for r in recorder.events[0]["Records"]] == ["after"]
    finally:
        server.stop()


@contextmanager
def cutting_proxy(
    target_port: int, *, cut: str
) -> Iterator[tuple[threading.Event, str]]:
    """An HTTP proxy to moto, and the event that, while set, makes it cut
    every answer to ``cut`` (an ``X-Amz-Target`` suffix) to half its body:
    what a client reads from a broker killed mid-answer."""
    cutting = threading.Event()

    class Forward(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            upstream = http.client.HTTPConnection("127.0.0.1", target_port)
            headers = {k: v for k, v in self.headers.items() if k != "Host"}
            upstream.request("POST", self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            upstream.close()
            if cutting.is_set() and headers.get("X-Amz-Target", "").endswith(cut):
                payload = payload[: len(payload) // 2]
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.getheader("Content-Type", ""))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cutting, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_cut_off_answer_pauses_the_runner_and_loses_nothing(
    moto_server, aws, tmp_path
):
    support.create_stream(aws)
    support.put_records(aws, ["first"])
    with cutting_proxy(moto_server.port, cut=".GetRecords") as (cutting, url):
        proxied = AwsSettings(endpoint_url=url, max_attempts=1)
        runner, recorder, thread = _running_on_the_stream(proxied, tmp_path)

        cutting.set()
        support.put_records(aws, ["second", "third"])
        support.wait_until(lambda: runner.stats.aws_outages >= 3)
        assert thread.is_alive(), "a cut-off answer crashed the runner"
        assert len(recorder.events) == 1

        cutting.clear()
        support.wait_until(lambda: len(recorder.events) == 2)
        runner.stop.set()
        thread.join(timeout=10)

    assert [support.data_of(e) for e in recorder.events] == [
        ["first"],
        ["second", "third"],
    ]


def test_a_bug_is_not_mistaken_for_an_outage(aws, tmp_path, monkeypatch):
    support.create_stream(aws)
    runner = support.runner(aws, tmp_path, (support.stream_mapping(), print))

    def broken(self, now):
        raise TypeError("a bug in the poller")

    monkeypatch.setattr(StreamPoller, "step", broken)

    with pytest.raises(TypeError, match="a bug"):
        runner.run(until_idle=True)
