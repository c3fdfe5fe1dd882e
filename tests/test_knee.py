"""Figure 11's parts: how the knee is decided, the CPU split by process kind
against real processes and a real PostgreSQL backend, and the broker alone
on a real local AWS (a short step and a small burst, not a knee search).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import psycopg2
import pytest

from bench.broker_alone import BrokerAlone, fan_out
from bench.cpu_split import (
    LOAD_GENERATOR,
    OTHER_WORK,
    POSTGRES,
    POSTGRES_SHARED,
    CpuSplit,
    postgres_kind,
    postmaster_of,
)
from bench.knee import (
    GROWTH_FLOOR,
    P99_BOUND_MS,
    PlatformResult,
    Step,
    Subject,
    climb,
    growth,
    keeps_up,
    knee_of,
    rows,
    step_of,
)
from bench.report import summarise
from shared_events.transport.topology import platform_topology
from stack.postgres import create_databases, database_url, drop_databases

# Burned by the child process: CPU seconds, measured by the child itself.
BURN_SECONDS = 0.6


def _step(rate: int, *, passed: bool = True, **changes) -> Step:
    values = dict(
        rate=rate,
        p99_ms=200.0,
        flat=True,
        slope=0.0,
        accepted=rate * 10,
        total=rate * 10,
        drained=True,
        backlog_max=5,
        cpu={"moto": {"cpu_seconds": 1.0, "ms_per_command": 5.0, "cores": 0.5}},
    )
    if not passed:
        values.update(flat=False, slope=float(rate))
    values.update(changes)
    return Step(**values)


# THE KNEE
# ------------------------------------------------------------------------------


def test_stepping_stops_after_two_failures_in_a_row_and_the_knee_is_the_last_pass():
    outcomes = {10: True, 20: True, 30: False, 40: True, 50: False, 60: False}
    offered = []

    def offer(rate):
        offered.append(rate)
        return _step(rate, passed=outcomes.get(rate, True))

    steps = climb([10, 20, 30, 40, 50, 60, 70, 80], offer, log=lambda _: None)

    # One failure (30) is not the end: 40 passes; 50 and 60 end it.
    assert offered == [10, 20, 30, 40, 50, 60]
    assert knee_of(steps) == 40


def test_no_passing_step_is_a_knee_of_zero():
    steps = climb([10, 20, 30], lambda r: _step(r, passed=False), log=lambda _: None)

    assert [s.rate for s in steps] == [10, 20]
    assert knee_of(steps) == 0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"flat": False, "slope": 3.0}, "backlog growing"),
        ({"p99_ms": P99_BOUND_MS}, "p99 1000 ms"),
        ({"p99_ms": None}, "p99 none"),
        ({"accepted": 98}, "98/100 accepted"),
        ({"drained": False}, "did not drain"),
    ],
)
def test_each_rule_fails_a_step_on_its_own(changes, problem):
    step = _step(10, **changes)

    assert not step.passed
    assert [p for p in step.problems if p.startswith(problem)]
    assert "FAIL" in step.describe()


def test_the_warm_up_is_not_growth_but_a_rising_backlog_is():
    # The pipeline fills within the first second, then holds 30 messages.
    filled = [(0.0, 0), *((t, 30) for t in range(1, 11))]
    rising = [(float(t), 8 * t) for t in range(11)]

    assert keeps_up(growth(filled, load_seconds=10), rate=20)
    assert not keeps_up(growth(rising, load_seconds=10), rate=20)
    # A backlog caught up with is not a failure.
    assert keeps_up(
        growth([(t, 100 - 9 * t) for t in range(11)], load_seconds=10), rate=20
    )


def test_a_few_messages_moving_at_a_low_rate_are_not_growth():
    # At 5 cmd/s, 5 % of the rate is 0.25 messages/s: a backlog wandering
    # between 2 and 12 messages fits a slope above it, but under the floor.
    wandering = [(float(t), 2 + t) for t in range(11)]
    slope = growth(wandering, load_seconds=10)

    assert 0.25 < slope < GROWTH_FLOOR
    assert keeps_up(slope, rate=5)
    # At the floor and above, growth is growth whatever the rate.
    assert not keeps_up(GROWTH_FLOOR, rate=5)
    assert not keeps_up(3 * GROWTH_FLOOR, rate=20)


def test_the_knee_row_reports_the_ratio_against_the_target():
    cqrs = Subject("cqrs_es")
    platform = PlatformResult(
        cqrs,
        [_step(10, p99_ms=90.0), _step(20), _step(30, passed=False)],
        1200,
        events_per_command={"customer": 1.0, "order": 0.9},
    )
    broker = PlatformResult(cqrs, [_step(r, p99_ms=20.0) for r in (10, 20, 30)], 1200)

    found = [summarise(row) for row in rows([platform], [broker], step_seconds=10)]

    knee = found[0]
    assert (knee["subject_median"], knee["baseline_median"]) == (20.0, 30.0)
    assert knee["ratio_median"] == pytest.approx(20 / 30)
    assert knee["target_met"] is False
    assert "fan-out 3" in knee["baseline"]
    assert "1.90 events per command" in knee["baseline"]
    assert [s["rate"] for s in knee["steps"]["platform"]] == [10, 20, 30]
    # One row per platform step, the broker's p99 at the same rate beside it.
    assert [row["subject"].split(" at ")[1][:9] for row in found[1:4]] == [
        "10 cmd/s:",
        "20 cmd/s:",
        "30 cmd/s:",
    ]
    # Then the p99 at half the knee (10 cmd/s): 90 ms against 20 ms, over 3x.
    half = found[4]
    assert half["figure"] == "11 p99 at half the knee"
    assert (half["subject_median"], half["baseline_median"]) == (90.0, 20.0)
    assert half["target"] == ["le", 3.0]
    assert half["target_met"] is False


def test_two_platforms_sharing_a_broker_report_its_burst_once():
    burst = {
        "events": 500,
        "events_per_second": 5.0,
        "waiting_messages": 1500,
        "left_messages": 0,
        "drained": True,
        "seconds": 100.0,
        "cpu": {},
    }
    default = PlatformResult(Subject("cqrs_es"), [_step(10)], 700, [burst])
    dynamodb = PlatformResult(Subject("cqrs_es", store="dynamodb"), [_step(10)], 700)
    broker = PlatformResult(Subject("cqrs_es"), [_step(10)], 700, [burst])

    found = rows([default, dynamodb], [broker, broker], step_seconds=10)

    bursts = [row for row in found if row["figure"] == "11 burst and drain"]
    assert len(bursts) == 1 and bursts[0]["subject"].startswith("cqrs_es platform")


def test_a_subject_is_an_approach_on_a_delivery_and_a_store():
    assert Subject.parse("cqrs_es").name == "cqrs_es"
    kinesis = Subject.parse("cqrs_es:kinesis")
    assert kinesis.name == "cqrs_es (Kinesis, PostgreSQL)"
    assert kinesis.env == {"EVENT_DELIVERY": "kinesis", "EVENT_STORE": "postgres"}
    assert kinesis.broker == (True, "kinesis")
    # The store changes who publishes, not the broker's message work.
    assert Subject.parse("cqrs_es:sns:dynamodb").broker == (True, "sns")
    assert Subject.parse("cqrs_es").bursts
    assert not kinesis.bursts
    for wrong in ("cqrs_es:carrier-pigeon", "cqrs_es:sns:sqlite", "monolith"):
        with pytest.raises(ValueError):
            Subject.parse(wrong)


def test_the_fan_out_follows_the_platforms_topology():
    assert fan_out(platform_topology(read_side=True)) == 3
    assert fan_out(platform_topology(read_side=False)) == 1


# THE CPU SPLIT
# ------------------------------------------------------------------------------

# A parent that, when told, starts a child burning BURN_SECONDS of its own CPU,
# then both wait to be killed: the child is born inside the window, below the root.
BURNER = textwrap.dedent(
    f"""
    import subprocess, sys, time
    sys.stdin.readline()
    child = subprocess.Popen([sys.executable, "-c", '''
    import sys, time
    while time.process_time() < {BURN_SECONDS}:
        pass
    print("burnt", flush=True)
    time.sleep(60)
    '''], stdout=sys.stdout)
    time.sleep(60)
    """
)


def test_the_cpu_of_a_tree_counts_a_child_born_inside_the_window():
    burner = subprocess.Popen(
        [sys.executable, "-c", BURNER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        split = CpuSplit(
            roots=lambda: {"burner": [burner.pid], "idle": [idle.pid]},
        )
        split.sample()
        burner.stdin.write("go\n")
        burner.stdin.flush()
        assert burner.stdout.readline().strip() == "burnt"
        split.sample()
        _, seconds = split.seconds()
    finally:
        for process in (burner, idle):
            subprocess.run(["pkill", "-KILL", "-P", str(process.pid)], check=False)
            process.kill()
            process.wait()

    # Clock ticks are 10 ms; the child's startup adds a little.
    assert BURN_SECONDS - 0.05 <= seconds["burner"] <= BURN_SECONDS + 0.5
    assert seconds["idle"] < 0.1


def test_the_load_generator_is_this_process_alone_not_its_children():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nwhile time.process_time() < 0.3: pass"]
    )
    split = CpuSplit(roots=lambda: {LOAD_GENERATOR: [os.getpid()]})
    split.sample()
    child.wait()
    split.sample()

    _, seconds = split.seconds()
    assert seconds.get(LOAD_GENERATOR, 0.0) < 0.3
    # The child's burn was the machine's: it shows as other work.
    assert seconds[OTHER_WORK] >= 0.25


@pytest.fixture
def knee_database(server_url):
    name = "knee_cpu_split_test"
    drop_databases(server_url=server_url, names=[name])
    create_databases(server_url=server_url, names=[name])
    yield name
    drop_databases(server_url=server_url, names=[name])


def test_a_backend_of_the_runs_database_is_postgres_and_the_server_is_shared(
    server_url, knee_database
):
    connection = psycopg2.connect(database_url(server_url, knee_database))
    try:
        postmaster = postmaster_of(connection)
        if postmaster is None:
            pytest.skip("the PostgreSQL server does not run on this machine")
        split = CpuSplit(
            roots=dict,
            databases=frozenset({knee_database}),
            postmaster=postmaster,
        )
        split.sample()
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(g) FROM generate_series(1, 3000000) AS g")
            cursor.fetchone()
        split.sample()
    finally:
        connection.close()

    _, seconds = split.seconds()
    assert seconds[POSTGRES] >= 0.05
    assert POSTGRES_SHARED in seconds


def test_backend_titles_are_told_apart():
    ours = frozenset({"knee_customer_service"})

    assert (
        postgres_kind(
            "postgres: 15/main: u knee_customer_service 127.0.0.1(5) idle", ours
        )
        == POSTGRES
    )
    assert postgres_kind("postgres: 15/main: checkpointer", ours) == POSTGRES_SHARED
    assert (
        postgres_kind("postgres: 15/main: u other_db 127.0.0.1(5) idle", ours) is None
    )


# THE BROKER ALONE
# ------------------------------------------------------------------------------


def test_the_broker_alone_delivers_every_message_to_every_queue_and_drains_a_burst():
    broker = BrokerAlone(read_side=False, body_bytes=800, log=lambda _: None)
    try:
        result = broker.offer(10, seconds=3, drain_seconds=15)
        step = step_of(10, result, result["meter"])
        burst = broker.burst(40, drain_seconds=30, log=lambda _: None)
    finally:
        broker.close()

    assert step.accepted == step.total == 30
    assert step.drained
    assert step.p99_ms is not None
    assert {"moto", "publisher", "receiver"} <= set(step.cpu)
    # Fan-out 1 under event_sourcing: each of the 40 events in one inbox.
    assert burst["waiting_messages"] == 40
    assert burst["drained"]
    assert burst["events_per_second"] > 0
    assert all(not process.is_alive() for process in broker.receivers)


@pytest.mark.parametrize("delivery", ["kinesis"])
def test_the_broker_alone_does_the_message_work_of_each_delivery(delivery):
    # Two events per command from the customer service, none from the order
    # service: every message reaches each of the customer's subscribers.
    broker = BrokerAlone(
        read_side=True,
        body_bytes=600,
        log=lambda _: None,
        delivery=delivery,
        events_per_command={"customer": 2.0, "order": 0.0},
    )
    try:
        result = broker.offer(5, seconds=2, drain_seconds=20)
        step = step_of(5, result, result["meter"])
        published = {p: v.value for p, v in broker.published.items()}
        backlog = broker.backlog()
    finally:
        broker.close()

    assert published == {"customer": 20, "order": 0}
    assert step.accepted == step.total == 10
    assert step.drained
    assert step.p99_ms is not None
    # The customer's events reach the order service and both read sides.
    subscribers = len(broker.topology.subscribers_of("customer"))
    assert subscribers == 3
    assert sum(backlog.values()) == 0
    if delivery == "kinesis":
        assert len(broker.readers) == 6  # each consumer of each stream
        customer_readers = [r for p, r in broker.readers if p == "customer"]
        assert [r.value for r in customer_readers] == [20] * subscribers
