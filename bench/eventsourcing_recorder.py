"""Run by the throwaway venv's python, not the project's: no Django here.

``python bench/eventsourcing_recorder.py DSN COUNT`` appends COUNT one-event
aggregates through the ``eventsourcing`` library's PostgreSQL application
recorder (one transaction each) and prints events/s as JSON.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from urllib.parse import urlsplit

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

TABLE = "bench_es_stored_events"


def main(url: str, count: int) -> None:
    parts = urlsplit(url)
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name=TABLE)
    recorder.create_table()
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

    append(5)  # warm up the pool and prepared statements
    started = time.perf_counter()
    append(count)
    print(json.dumps({"events_per_second": count / (time.perf_counter() - started)}))
    datastore.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
