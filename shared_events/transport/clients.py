"""boto3 clients built from explicit settings, never from Django settings.

Things a learner should notice:

* Local and real AWS differ only by configuration: ``endpoint_url`` points at the
  moto server locally and is ``None`` for real AWS. No code path asks "am I local?".
* Timeouts and retries are decisions, written down in :class:`AwsSettings`. The
  "standard" retry mode retries throttling and connection errors with exponential
  backoff and jitter; after the last attempt the error reaches the caller, which
  must decide what "the broker did not answer" means for its data.
* Clients are cached. A boto3 *client* is thread-safe and expensive to build (it
  loads the service model), so one per (service, settings) is shared by all
  threads. A boto3 *session* is not thread-safe, so each client is built from its
  own short-lived session, under a lock.
* ``throttle`` (``FAULT_INJECTION=throttle_aws:...``) makes a client answer some
  calls as a throttling AWS would (``throttle_injection``); with it unset, the
  client is boto3's own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from shared_events.transport.throttle_injection import InjectedThrottle

#: moto accepts any credentials, but boto3 refuses to sign a request without some.
LOCAL_CREDENTIALS = ("testing", "testing")


@dataclass(frozen=True)
class AwsSettings:
    """Where and how to reach AWS.

    ``endpoint_url=None`` means real AWS, with credentials from the usual chain
    (environment, profile, or the role of an EC2 instance, ECS task or Lambda)
    unless keys are given. With an ``endpoint_url`` (the local moto server) and no
    keys, dummy keys are used.

    ``read_timeout`` must be longer than the longest long poll (20 seconds), or a
    consumer's ``ReceiveMessage`` would time out while waiting for messages.
    ``max_attempts`` counts the first try: 1 means no retries.
    ``throttle`` injects throttling answers (a fault, on purpose); None: none.
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    connect_timeout: float = 2.0
    read_timeout: float = 30.0
    max_attempts: int = 3
    throttle: InjectedThrottle | None = None

    def __post_init__(self) -> None:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or none")
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first try: it must be >= 1")

    def botocore_config(self) -> Config:
        return Config(
            region_name=self.region,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
        )

    def credentials(self) -> tuple[str, str] | None:
        """Explicit keys, dummy keys for a local endpoint, or None (default chain)."""
        if self.access_key_id is not None and self.secret_access_key is not None:
            return self.access_key_id, self.secret_access_key
        if self.endpoint_url is not None:
            return LOCAL_CREDENTIALS
        return None


_clients: dict[tuple[str, AwsSettings], Any] = {}
_clients_lock = threading.Lock()


def client(service_name: str, settings: AwsSettings) -> Any:
    """A boto3 client for ``service_name`` ("sqs", "sns", ...), shared per settings.

    The return type is ``Any`` because boto3 generates client classes at run time.
    """
    key = (service_name, settings)
    cached = _clients.get(key)
    if cached is not None:
        return cached
    with _clients_lock:
        cached = _clients.get(key)
        if cached is None:
            cached = _clients[key] = _new_client(service_name, settings)
        return cached


def clear_client_cache() -> None:
    """Forget every cached client (for tests that change the environment)."""
    with _clients_lock:
        _clients.clear()


def _new_client(service_name: str, settings: AwsSettings) -> Any:
    credentials = settings.credentials()
    session = boto3.session.Session(
        aws_access_key_id=credentials[0] if credentials else None,
        aws_secret_access_key=credentials[1] if credentials else None,
        region_name=settings.region,
    )
    built = session.client(
        service_name,
        endpoint_url=settings.endpoint_url,
        config=settings.botocore_config(),
    )
    if settings.throttle is not None:
        settings.throttle.install(built)
    return built
