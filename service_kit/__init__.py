"""Service kit: what both services share that is not events.

- ``settings/``: the settings both services start from, one module per
  integration (``base``, ``approach``, ``databases``, ``rest_framework``,
  ``events``, ``celery``); each service's ``settings.py`` names what it takes.
- ``api/``: the HTTP plumbing of every API: error answers, shared serializers
  and the schema class, pagination, request limits, health, the staleness
  header of the query APIs, the correlation id of a request.
- ``access``: whose data a request may see (``CustomerScope``).
- ``checks``: system checks of a service's configuration.
- ``testing/``: test support, such as API clients with JWTs.

How services talk through events (the envelope and registry, the write
side, the outbox, transport, consumer and read side) belongs in
``shared_events``, the events library: service_kit may import it, never the
reverse, and neither imports a service.
"""
