"""BatchSize, MaximumBatchingWindowInSeconds, StartingPosition and shard order."""

from __future__ import annotations

from shared_events.event_source_mapping import CheckpointStore
from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import client


class Clock:
    """A clock the test moves by hand, so that a window's end is exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_batches_hold_at_most_batch_size_records(aws, tmp_path):
    support.create_stream(aws)
    support.put_records(aws, [f"r{n}" for n in range(25)])
    recorder = support.Recorder()
    mapping = support.stream_mapping(batch_size=10)

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    assert [len(batch) for batch in recorder.batches] == [10, 10, 5]
    assert [d for e in recorder.events for d in support.data_of(e)] == [
        f"r{n}" for n in range(25)
    ]


def test_a_batch_waits_for_its_window_to_fill(aws, tmp_path):
    support.create_stream(aws)
    clock = Clock()
    recorder = support.Recorder()
    mapping = support.stream_mapping(batch_size=100, maximum_batching_window_seconds=2)
    runner = support.runner(aws, tmp_path, (mapping, recorder), clock=clock)

    support.put_records(aws, ["first"])
    runner.poll_once()  # the window opens with the first record read
    clock.now += 1.5
    support.put_records(aws, ["second", "third"])
    runner.poll_once()
    assert recorder.events == []
    assert runner.pending

    clock.now += 0.5  # the window has passed: what was gathered goes
    runner.poll_once()

    assert [support.data_of(e) for e in recorder.events] == [
        ["first", "second", "third"]
    ]
    assert not runner.pending


def test_a_full_batch_does_not_wait_for_its_window(aws, tmp_path):
    support.create_stream(aws)
    clock = Clock()
    recorder = support.Recorder()
    mapping = support.stream_mapping(batch_size=3, maximum_batching_window_seconds=60)
    runner = support.runner(aws, tmp_path, (mapping, recorder), clock=clock)
    support.put_records(aws, ["a", "b", "c", "d"])

    runner.poll_once()
    assert [support.data_of(e) for e in recorder.events] == [["a", "b", "c"]]
    runner.poll_once()

    assert [support.data_of(e) for e in recorder.events] == [["a", "b", "c"]]
    assert runner.pending  # "d" waits for its own window


def test_window_zero_hands_over_what_one_poll_read(aws, tmp_path):
    support.create_stream(aws)
    recorder = support.Recorder()
    runner = support.runner(
        aws, tmp_path, (support.stream_mapping(batch_size=100), recorder)
    )
    support.put_records(aws, ["a"])
    runner.poll_once()
    support.put_records(aws, ["b", "c"])
    runner.poll_once()

    assert [support.data_of(e) for e in recorder.events] == [["a"], ["b", "c"]]


def test_sqs_receives_repeatedly_to_fill_a_batch_over_ten(aws, tmp_path):
    queue_url = support.create_queue(aws)
    sqs = client("sqs", aws)
    for start in range(0, 25, 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "MessageBody": f"m{n}"}
                for n in range(start, min(start + 10, 25))
            ],
        )
    clock = Clock()
    recorder = support.Recorder()
    mapping = support.queue_mapping(batch_size=25, maximum_batching_window_seconds=1)
    runner = support.runner(aws, tmp_path, (mapping, recorder), clock=clock)

    runner.poll_once()

    assert [len(batch) for batch in recorder.batches] == [25]


def test_sqs_waits_for_the_window_when_the_batch_is_not_full(aws, tmp_path):
    queue_url = support.create_queue(aws)
    client("sqs", aws).send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)],
    )
    clock = Clock()
    recorder = support.Recorder()
    mapping = support.queue_mapping(batch_size=50, maximum_batching_window_seconds=1)
    runner = support.runner(aws, tmp_path, (mapping, recorder), clock=clock)

    runner.poll_once()
    assert recorder.events == []
    clock.now += 1
    runner.poll_once()

    assert [len(batch) for batch in recorder.batches] == [3]
    assert support.drain(aws, queue_url) == []  # handled, so deleted


def test_trim_horizon_starts_from_the_oldest_record(aws, tmp_path):
    support.create_stream(aws)
    support.put_records(aws, ["old-1", "old-2"])
    recorder = support.Recorder()

    support.runner(aws, tmp_path, (support.stream_mapping(), recorder)).run(
        until_idle=True
    )

    assert [support.data_of(e) for e in recorder.events] == [["old-1", "old-2"]]


def test_latest_starts_from_records_written_after_the_start(aws, tmp_path):
    support.create_stream(aws)
    support.put_records(aws, ["old-1", "old-2"])
    recorder = support.Recorder()
    mapping = support.stream_mapping(starting_position="LATEST")
    runner = support.runner(aws, tmp_path, (mapping, recorder))

    runner.poll_once()  # takes its LATEST position
    support.put_records(aws, ["new-1"])
    runner.run(until_idle=True)

    assert [support.data_of(e) for e in recorder.events] == [["new-1"]]


def test_latest_on_a_dynamodb_stream(aws, tmp_path):
    support.create_table(aws)
    support.put_commit(aws, aggregate_id="a", version=1)
    recorder = support.Recorder()
    mapping = support.stream_mapping(
        name="er-ddb",
        source_kind="DYNAMODB_STREAM",
        source_name=support.TABLE,
        starting_position="LATEST",
    )
    runner = support.runner(aws, tmp_path, (mapping, recorder))

    runner.poll_once()
    support.put_commit(aws, aggregate_id="a", version=2)
    runner.run(until_idle=True)

    (event,) = recorder.events
    (record,) = event["Records"]
    assert record["dynamodb"]["Keys"]["version"] == {"N": "2"}


def test_a_checkpoint_wins_over_the_starting_position(aws, tmp_path):
    support.create_stream(aws)
    support.put_records(aws, ["a", "b"])
    first = support.Recorder()
    support.runner(aws, tmp_path, (support.stream_mapping(), first)).run(
        until_idle=True
    )
    # Written while no runner ran: a LATEST mapping with a checkpoint
    # resumes after the checkpoint, and TRIM_HORIZON does not start over.
    support.put_records(aws, ["c"])
    for position in ("LATEST", "TRIM_HORIZON"):
        again = support.Recorder()
        mapping = support.stream_mapping(starting_position=position)
        support.runner(aws, tmp_path, (mapping, again)).run(until_idle=True)
        assert [support.data_of(e) for e in again.events] == (
            [["c"]] if position == "LATEST" else []
        )

    assert [support.data_of(e) for e in first.events] == [["a", "b"]]


def test_sequence_numbers_compare_as_integers(aws, tmp_path):
    support.create_stream(aws)
    support.put_records(aws, [f"r{n}" for n in range(12)])
    recorder = support.Recorder()
    mapping = support.stream_mapping(batch_size=3)  # checkpoints "9", then "12"
    runner = support.runner(aws, tmp_path, (mapping, recorder))

    runner.run(until_idle=True)
    support.put_records(aws, ["r12"])
    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    assert CheckpointStore(tmp_path / "checkpoints.json").snapshot() == {
        "er-kinesis": {"shardId-000000000000": "13"}
    }
    assert [d for e in recorder.events for d in support.data_of(e)] == [
        f"r{n}" for n in range(13)
    ]


def test_each_shard_keeps_its_order_and_shards_take_turns(aws, tmp_path):
    support.create_stream(aws, shards=2)
    for round_number in range(4):
        for shard in (0, 1):
            support.put_records(
                aws,
                [f"s{shard}-{round_number}-{n}" for n in range(3)],
                shard=shard,
            )
    recorder = support.Recorder()
    mapping = support.stream_mapping(batch_size=4)

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    shard_of_batch = []
    handled: dict[str, list[str]] = {"0": [], "1": []}
    for event in recorder.events:
        shards = {record["eventID"].split(":")[0] for record in event["Records"]}
        assert len(shards) == 1, "a batch holds records of one shard"
        shard = shards.pop()[-1]
        shard_of_batch.append(shard)
        handled[shard] += support.data_of(event)
    for shard in ("0", "1"):
        assert handled[shard] == [
            f"s{shard}-{r}-{n}" for r in range(4) for n in range(3)
        ]
    # Polled in turn: shard 1 does not wait until shard 0 is drained.
    assert shard_of_batch[:2] == ["0", "1"]
