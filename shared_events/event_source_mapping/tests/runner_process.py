"""A runner in a process of its own, for the SIGKILL test.

    python -m shared_events.event_source_mapping.tests.runner_process \\
        --endpoint URL --stream NAME --checkpoint-file F --log F [--sleep S]

Its handler writes one JSON line when a batch starts and one when it is done
(fsynced, so a SIGKILL loses neither), and sleeps in between: a kill during
the sleep is a kill mid-batch.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from shared_events.event_source_mapping import MappingRunner, resolve_mapping
from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import AwsSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--checkpoint-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=5)
    options = parser.parse_args()

    def log(phase: str, event: dict) -> None:
        line = {
            "pid": os.getpid(),
            "phase": phase,
            "records": [r["eventID"].split(":") for r in event["Records"]],
        }
        with open(options.log, "a") as file:
            file.write(json.dumps(line) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def handler(event, context):
        log("start", event)
        time.sleep(options.sleep)
        log("done", event)
        return {"batchItemFailures": []}

    aws = AwsSettings(endpoint_url=options.endpoint)
    mapping = support.stream_mapping(
        source_name=options.stream, batch_size=options.batch_size
    )
    runner = MappingRunner(
        [resolve_mapping(mapping, aws=aws, handler=handler)],
        aws=aws,
        checkpoint_file=options.checkpoint_file,
        poll_interval_seconds=0.02,
    )
    print("running", flush=True)
    runner.run(until_idle=True)


if __name__ == "__main__":
    main()
