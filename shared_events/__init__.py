"""Shared events: the events library both services use to talk through events.

It follows the pipeline a learner is taught: the envelope, catalog and
registry (``events/``); the write side (aggregates, event store,
repositories, history); the outbox and its relay; transport (``aws/``,
``messaging``); the consumer; and the read side (projectors, rebuild). With
them come the approach switch (``approaches``) and the platform's
configuration (``configuration``), which say which of these a service uses.

What services share that is not events (settings, API plumbing, access)
lives in ``service_kit``; this package never imports it, nor a service.
"""
