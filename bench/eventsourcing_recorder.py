"""Run by the throwaway venv's python, not the project's: no Django here.

``python -m bench.eventsourcing_recorder DSN COUNT [WRITERS]`` appends COUNT
one-event aggregates per writer through the ``eventsourcing`` library's
PostgreSQL application recorder (one transaction each: the event row with its
notification id, optimistic concurrency on (originator_id, originator_version))
and prints events/s as JSON. WRITERS processes (default 1), each with its own
datastore, warm up, wait on a barrier and start together; throughput is all
events / (last finish - first start), as in ``bench/write_path.py``: both
start their writers with ``bench.concurrent_writers``, which needs the standard
library only.
"""

from __future__ import annotations

import json
import sys
import uuid
from urllib.parse import urlsplit

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from bench.concurrent_writers import StartLine, race

TABLE = "bench_es_stored_events"
WARM_UP = 5


def _recorder(url: str) -> tuple[PostgresDatastore, PostgresApplicationRecorder]:
    parts = urlsplit(url)
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
    )
    return datastore, PostgresApplicationRecorder(datastore, events_table_name=TABLE)


def _writer(url: str, count: int, start_line: StartLine) -> None:
    datastore, recorder = _recorder(url)
    state = json.dumps(
        {"name": "Bench Customer", "email": "x@bench.example", "address": "1 Road"}
    ).encode()

    def append(n: int) -> None:
        for _ in range(n):
            recorder.insert_events(
                [
                    StoredEvent(
                        originator_id=uuid.uuid4(),
                        originator_version=1,
                        topic="customer:CustomerRegistered",
                        state=state,
                    )
                ]
            )

    append(WARM_UP)  # warm up the pool and prepared statements
    start_line.run(lambda: append(count))
    datastore.close()


def main(url: str, count: int, writers: int) -> None:
    datastore, recorder = _recorder(url)
    recorder.create_table()  # once, before the writers race
    datastore.close()
    elapsed = race(_writer, [(url, count)] * writers, name="library")
    print(json.dumps({"events_per_second": writers * count / elapsed}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
