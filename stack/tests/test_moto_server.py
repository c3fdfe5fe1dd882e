"""The local AWS endpoint as a real process: started, reset, killed, reused, stopped.

No Django and no mocks: boto3 talks HTTP to a ``moto.server`` subprocess. Every
fixture stops what it started, because a moto daemon is built to outlive the
process that started it.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from stack.moto_server import (
    MotoServer,
    MotoServerError,
    daemon_pid,
    ensure_moto_daemon,
    start_moto_server,
    stop_moto_daemon,
)
from stack.tests.other_process import START_MOTO_DAEMON_PRINT_URL, run_to_the_end


def sqs_client(endpoint_url: str):  # noqa: ANN201 (boto3 clients are generated)
    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            connect_timeout=1, read_timeout=5, retries={"total_max_attempts": 1}
        ),
    )


@pytest.fixture
def server() -> Iterator[MotoServer]:
    with start_moto_server() as started:
        yield started


@pytest.fixture
def state_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="stack-moto-") as base:
        path = Path(base)
        try:
            yield path
        finally:
            stop_moto_daemon(state_dir=path)


def test_a_started_server_serves_sqs_over_http(server: MotoServer) -> None:
    assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
    assert server.running() and server.answers()

    sqs = sqs_client(server.endpoint_url)
    url = sqs.create_queue(QueueName="lesson-inbox")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]

    assert [message["Body"] for message in received] == ["hello"]


def test_reset_forgets_every_queue(server: MotoServer) -> None:
    sqs = sqs_client(server.endpoint_url)
    sqs.create_queue(QueueName="lesson-inbox")

    server.reset()

    assert sqs.list_queues().get("QueueUrls", []) == []


def test_a_killed_server_is_an_outage_clients_can_see(server: MotoServer) -> None:
    sqs = sqs_client(server.endpoint_url)
    url = sqs.create_queue(QueueName="lesson-inbox")["QueueUrl"]

    server.kill()

    assert not server.running()
    with pytest.raises(EndpointConnectionError):
        sqs.send_message(QueueUrl=url, MessageBody="into the void")


def test_stop_is_idempotent(server: MotoServer) -> None:
    server.stop()
    server.stop()

    assert not server.running()
    assert not server.answers()


def test_a_fixed_port_is_honoured() -> None:
    first = start_moto_server()
    port = first.port
    first.stop()

    with start_moto_server(port=port) as again:
        assert again.port == port and again.answers()


def test_the_daemon_outlives_its_starter_and_is_reused(state_dir: Path) -> None:
    endpoint_url = run_to_the_end(START_MOTO_DAEMON_PRINT_URL, state_dir, timeout=60)

    assert endpoint_url.startswith("http://127.0.0.1:")
    assert ensure_moto_daemon(state_dir=state_dir) == endpoint_url
    sqs_client(endpoint_url).create_queue(QueueName="still-here")
    assert (state_dir / "moto.json").exists()
    assert (state_dir / "moto.log").exists()


def test_stop_daemon_then_ensure_starts_again_on_the_same_port(
    state_dir: Path,
) -> None:
    endpoint_url = ensure_moto_daemon(state_dir=state_dir)
    sqs_client(endpoint_url).create_queue(QueueName="forgotten")

    assert stop_moto_daemon(state_dir=state_dir) is True
    assert stop_moto_daemon(state_dir=state_dir) is False
    with pytest.raises(EndpointConnectionError):
        sqs_client(endpoint_url).list_queues()

    restarted = ensure_moto_daemon(state_dir=state_dir)
    assert restarted == endpoint_url
    # A new moto process starts empty: the topology must be created again.
    assert sqs_client(restarted).list_queues().get("QueueUrls", []) == []


def test_a_stale_state_file_starts_a_new_daemon_on_the_remembered_port(
    state_dir: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A pid that cannot exist (above Linux's pid_max): the recorded server is gone.
    (state_dir / "moto.json").write_text(f'{{"pid": 999999999, "port": {port}}}\n')

    endpoint_url = ensure_moto_daemon(state_dir=state_dir)

    assert endpoint_url == f"http://127.0.0.1:{port}"
    assert sqs_client(endpoint_url).list_queues().get("QueueUrls", []) == []


def test_the_daemons_pid_is_known_only_while_it_runs(state_dir: Path) -> None:
    assert daemon_pid(state_dir=state_dir) is None

    ensure_moto_daemon(state_dir=state_dir)
    running = daemon_pid(state_dir=state_dir)
    assert running is not None and Path(f"/proc/{running}").exists()

    stop_moto_daemon(state_dir=state_dir)
    assert daemon_pid(state_dir=state_dir) is None


def test_stop_without_a_daemon_is_false(state_dir: Path) -> None:
    assert stop_moto_daemon(state_dir=state_dir) is False


def test_a_taken_port_is_a_clear_error_with_the_log_tail(state_dir: Path) -> None:
    log_path = state_dir / "failed.log"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        with pytest.raises(MotoServerError, match="exited while starting") as error:
            start_moto_server(port=port, log_path=log_path)

    assert "already in use" in str(error.value)
    assert str(log_path) in str(error.value) and log_path.exists()
