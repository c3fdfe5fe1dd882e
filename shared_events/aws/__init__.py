"""AWS adapters for the event backbone: clients, messaging topology, publishers.

Plain Python on purpose: nothing here imports Django or reads settings. Callers pass
an :class:`~shared_events.aws.clients.AwsSettings`, so the same code runs in a
Django service, a Celery worker, a Lambda handler or a test. Locally the endpoint is
the moto server (``stack/moto_server.py``); in production it is real AWS, and the
only difference is ``AwsSettings.endpoint_url`` (None) and the credentials.
"""
