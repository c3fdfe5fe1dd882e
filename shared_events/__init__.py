"""Shared events: the events library both services use to talk through events.

One folder per stage of the pipeline a learner is taught, each with a facade
``__init__.py`` saying what to notice there:

- ``events/``: the envelope, catalog and schema registry (plain Python);
- ``write_side/``: aggregates, repositories, the event store, history, and
  the outbox rows queued in the writer's transaction;
- ``transport/``: the publisher port and its SNS/SQS adapters, the topology,
  routes and dead letters (plain Python but for ``messaging``);
- ``outbox/``: the relay that publishes the queued rows, and its listener;
- ``consume/``: ``apply_event``, exactly once and in order, and the SQS
  consumer that feeds it;
- ``read_side/``: projectors, the read-model router, the rebuild.

Each stage imports only the ones before it: ``write_side`` and ``transport``
use ``events``; ``outbox`` uses ``transport``; ``consume`` uses ``transport``;
``read_side`` uses ``consume`` (``tests/test_stages.py`` holds them to it).
At the top sit what spans the stages: the approach switch (``approaches``),
configuration, the shared part of the composition roots (``composition``),
the models (one app label, one set of migrations), the admin, the checks,
and the entry points (``tasks``, ``management/``).

What services share that is not events (settings, API plumbing, access)
lives in ``service_kit``; this package never imports it, nor a service.
"""
