"""Real PostgreSQL servers, started and stopped: no mocks, no Django.

Every fixture that starts a server stops it again, even when the test fails, because
the embedded server is a daemon built to outlive the process that started it.
"""

import os
import pwd
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from shared_events.configuration import REPO_DIR
from stack import postgres
from stack.connections import fetch_value
from stack.postgres import (
    EXTERNAL_URL,
    EmbeddedPostgres,
    create_databases,
    database_url,
    drop_databases,
    ensure_server,
    server_reachable,
    start_embedded,
    stop_embedded,
)
from stack.tests.other_process import (
    START_POSTGRES_PRINT_PORT,
    python_command,
    run_to_the_end,
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data dir; whatever server was started in it is stopped afterwards.

    Not pytest's ``tmp_path``: as root its parent ``/tmp/pytest-of-root`` is 0700 and
    pytest resets that mode at every session start, which would cut a running server
    (owned by an unprivileged user) off from its own files.
    """
    with tempfile.TemporaryDirectory(prefix="stack-postgres-") as base:
        path = Path(base) / "postgres"
        try:
            yield path
        finally:
            stop_embedded(data_dir=path)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedPostgres]:
    """One embedded server shared by the tests that only use it."""
    with tempfile.TemporaryDirectory(prefix="stack-postgres-") as base:
        path = Path(base) / "postgres"
        try:
            yield start_embedded(data_dir=path)
        finally:
            stop_embedded(data_dir=path)


def query(url: str, statement: str, dbname: str = "postgres") -> object:
    """First column of the first row, on a connection that is closed afterwards."""
    return fetch_value(database_url(url, dbname), statement, connect_timeout=5)


def postmaster_pid(server: EmbeddedPostgres) -> int:
    return int((server.pgdata / "postmaster.pid").read_text().splitlines()[0])


def test_fresh_start_gives_a_real_durable_server(data_dir: Path) -> None:
    started = time.monotonic()
    server = start_embedded(data_dir=data_dir)
    print(f"fresh start (initdb + pg_ctl start): {time.monotonic() - started:.2f}s")

    assert server.port != 5432
    assert server.data_dir == data_dir.resolve()
    assert server.url == f"postgres://postgres@127.0.0.1:{server.port}"
    assert query(server.url, "SELECT 1") == 1
    assert (data_dir / "platform-port").read_text().strip() == str(server.port)
    assert query(server.url, "SHOW data_directory") == str(server.pgdata)
    assert query(server.url, "SHOW listen_addresses") == "127.0.0.1"
    assert query(server.url, "SHOW max_connections") == "200"
    # Durability is not traded for speed: crash safety is part of the lesson.
    assert query(server.url, "SHOW fsync") == "on"
    assert query(server.url, "SHOW synchronous_commit") == "on"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs a service account")
def test_as_root_the_server_runs_as_an_unprivileged_user(data_dir: Path) -> None:
    server = start_embedded(data_dir=data_dir)
    account = pwd.getpwnam(postgres.SERVICE_USER)
    assert os.stat(f"/proc/{postmaster_pid(server)}").st_uid == account.pw_uid
    assert server.pgdata.stat().st_uid == account.pw_uid


def test_second_call_reuses_the_running_server(data_dir: Path) -> None:
    first = start_embedded(data_dir=data_dir)
    born = query(first.url, "SELECT pg_postmaster_start_time()")

    second = start_embedded(data_dir=data_dir)

    assert second == first
    assert query(second.url, "SELECT pg_postmaster_start_time()") == born


def test_server_outlives_the_process_that_started_it(data_dir: Path) -> None:
    port = int(run_to_the_end(START_POSTGRES_PRINT_PORT, data_dir, timeout=120))

    assert server_reachable(f"postgres://postgres@127.0.0.1:{port}")
    assert start_embedded(data_dir=data_dir).port == port


def test_commands_starting_at_the_same_time_share_one_server(data_dir: Path) -> None:
    children = [
        subprocess.Popen(
            python_command(START_POSTGRES_PRINT_PORT, data_dir),
            cwd=REPO_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=120) for child in children]

    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert len({stdout.strip() for stdout, _ in outputs}) == 1


def test_stale_port_file_after_a_clean_stop_leads_to_a_restart(
    data_dir: Path,
) -> None:
    first = start_embedded(data_dir=data_dir)
    born = query(first.url, "SELECT pg_postmaster_start_time()")
    assert stop_embedded(data_dir=data_dir) is True
    assert (data_dir / "platform-port").read_text().strip() == str(first.port)

    second = start_embedded(data_dir=data_dir)

    assert second.port == first.port  # the remembered port was free: URLs stay valid
    assert query(second.url, "SELECT pg_postmaster_start_time()") > born


def test_crashed_server_is_restarted_and_keeps_committed_data(data_dir: Path) -> None:
    first = start_embedded(data_dir=data_dir)
    connection = psycopg2.connect(first.url + "/postgres")
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE ledger (entry text)")
        cursor.execute("INSERT INTO ledger VALUES ('committed before the crash')")
    connection.close()
    os.kill(postmaster_pid(first), signal.SIGKILL)  # stale postmaster.pid and port
    assert not server_reachable(first.url)

    second = start_embedded(data_dir=data_dir)

    assert query(second.url, "SELECT entry FROM ledger") == (
        "committed before the crash"
    )


def test_a_recycled_pid_in_a_stale_postmaster_pid_is_not_mistaken_for_the_server(
    data_dir: Path,
) -> None:
    first = start_embedded(data_dir=data_dir)
    pid_file = first.pgdata / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    stop_embedded(data_dir=data_dir)
    # As after a container restart: the old pid now belongs to an unrelated process.
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        pid_file.write_text("\n".join([str(bystander.pid), *lines[1:]]) + "\n")

        second = start_embedded(data_dir=data_dir)

        assert query(second.url, "SELECT 1") == 1
        assert bystander.poll() is None  # nobody sent it a signal
    finally:
        bystander.kill()
        bystander.wait()


def test_a_port_file_pointing_at_another_server_is_not_trusted(
    data_dir: Path,
) -> None:
    first = start_embedded(data_dir=data_dir)
    stop_embedded(data_dir=data_dir)
    # 5432 may well answer (the system PostgreSQL), but it is not *our* server.
    (data_dir / "platform-port").write_text("5432\n")

    second = start_embedded(data_dir=data_dir)

    assert second.port != 5432
    assert query(second.url, "SHOW data_directory") == str(first.pgdata)


def test_a_lost_port_file_is_recovered_from_the_running_server(
    data_dir: Path,
) -> None:
    first = start_embedded(data_dir=data_dir)
    (data_dir / "platform-port").unlink()

    assert start_embedded(data_dir=data_dir) == first


def test_stop_embedded_stops_the_server(data_dir: Path) -> None:
    server = start_embedded(data_dir=data_dir)

    assert stop_embedded(data_dir=data_dir) is True

    assert not server_reachable(server.url)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(server.url + "/postgres", connect_timeout=2)
    assert stop_embedded(data_dir=data_dir) is False


def test_stop_embedded_without_a_server_is_false(data_dir: Path) -> None:
    assert stop_embedded(data_dir=data_dir) is False


def test_create_databases_is_idempotent(server: EmbeddedPostgres) -> None:
    names = ["stack_test_orders", "stack test Customers"]  # needs identifier quoting
    try:
        assert create_databases(server_url=server.url, names=names) == names
        assert create_databases(server_url=server.url, names=names) == []
        for name in names:
            assert query(server.url, "SELECT current_database()", name) == name
    finally:
        drop_databases(server_url=server.url, names=names)
    remaining = query(
        server.url,
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'stack%test%'",
    )
    assert remaining == 0


def test_racing_create_databases_creates_each_database_once(
    server: EmbeddedPostgres,
) -> None:
    names = [f"stack_race_{number}" for number in range(5)]
    racers = 4
    barrier = threading.Barrier(racers)
    results: list[list[str]] = []
    failures: list[BaseException] = []

    def race() -> None:
        barrier.wait()
        try:
            results.append(create_databases(server_url=server.url, names=names))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert sorted(name for created in results for name in created) == names
    finally:
        drop_databases(server_url=server.url, names=names)


def test_drop_databases_disconnects_clients(server: EmbeddedPostgres) -> None:
    create_databases(server_url=server.url, names=["stack_test_busy"])
    client = psycopg2.connect(database_url(server.url, "stack_test_busy"))
    try:
        drop_databases(server_url=server.url, names=["stack_test_busy"])
        with pytest.raises(psycopg2.OperationalError), client.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        client.close()
    drop_databases(server_url=server.url, names=["stack_test_busy"])  # no error


def test_ensure_server_without_external_preference_uses_embedded(
    server: EmbeddedPostgres,
) -> None:
    url = ensure_server(data_dir=server.data_dir, prefer_external=False)
    assert url == server.url


def test_ensure_server_falls_back_when_external_is_absent(
    server: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "EXTERNAL_URL", "postgres://postgres@127.0.0.1:1")
    url = ensure_server(data_dir=server.data_dir, prefer_external=True)
    assert url == server.url


@pytest.mark.skipif(
    not server_reachable(EXTERNAL_URL), reason="no PostgreSQL on 127.0.0.1:5432"
)
def test_ensure_server_prefers_a_reachable_external_server(tmp_path: Path) -> None:
    # tmp_path is fine here: nothing is started in it.
    assert ensure_server(data_dir=tmp_path, prefer_external=True) == EXTERNAL_URL
    assert not (tmp_path / "pgdata").exists()


def test_server_reachable_is_false_quickly_for_a_closed_port() -> None:
    started = time.monotonic()
    assert server_reachable("postgres://postgres@127.0.0.1:1", timeout=0.5) is False
    assert time.monotonic() - started < 1


def test_database_url_appends_a_quoted_name() -> None:
    base = "postgres://postgres@127.0.0.1:5555"
    assert database_url(base, "orders") == f"{base}/orders"
    assert database_url(base + "/", "a b") == f"{base}/a%20b"
