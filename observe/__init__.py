"""Watching the platform from outside: what its data says happened.

Every module here reads the services' databases (and the local AWS) directly
instead of going through the services' code, so a bug in a service shows up
as a difference instead of being repeated by the check:

- ``audit/``: does every copy of the data agree with its source?
- ``consistency``: orphan orders across the two services' databases;
- ``lag``: commit-to-projection lag from the consumers' processed events
  (the same on every backend: the handlers write the same rows);
- ``quiescence``: when nothing is left to relay, deliver or apply, with
  ``stream_backlog`` for the records a stream's functions have not got past;
- ``event_tables``: the DynamoDB event tables (``EVENT_STORE=dynamodb``),
  the upstream truth when PostgreSQL's event store is empty;
- ``tap``: sees every event published (a queue on the topics, or the
  streams), and can send it again;
- ``tables``: the services' table names, for the raw SQL of all of these.

``observe`` imports ``stack`` (the runtime) and ``shared_events``; the lab,
the benchmarks and the platform CLI import it, never the other way round.
"""
