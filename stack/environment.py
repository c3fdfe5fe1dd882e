"""Get a process ready to run a service: secrets, database server, databases, roles.

With nothing configured the platform runs on its embedded default: a real
PostgreSQL server from a pip-installed wheel, data under ``var/postgres``.
A ``DATABASE_SERVER_URL`` (or per-service database URLs) in the environment
or in ``.env`` turns that off.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from shared_events.approaches import UnknownApproach, approach_info
from shared_events.configuration import (
    PLATFORM_ENV_FILE,
    SECRET_FILE_MODE,
    VAR_DIR,
    all_database_names,
    current_approach,
    load_env,
    read_env_file,
    user_env_file,
    write_env_value,
)
from stack import database_roles, postgres
from stack.moto_server import ensure_moto_daemon

EMBEDDED_DATA_DIR = VAR_DIR / "postgres"
GENERATED_SECRETS = (
    "DJANGO_SECRET_KEY",
    "CUSTOMER_SERVICE_TOKEN",
    "JWT_SIGNING_KEY",
    # Each producer's event signing key is derived from its secret; locally
    # both services also derive the other's verifying key from it.
    "CUSTOMER_EVENT_SIGNING_KEY",
    "ORDER_EVENT_SIGNING_KEY",
    # The bearer token every process's /metrics asks of Prometheus.
    "METRICS_TOKEN",
)
EXPLICIT_DATABASE_KEYS = (
    "DATABASE_SERVER_URL",
    "CUSTOMER_DATABASE_URL",
    "ORDER_DATABASE_URL",
    "SHARED_DATABASE_URL",
)
# Databases named outright carry their own users in their URLs: the platform
# then makes no roles and sets none (stack/database_roles.py).
NAMED_DATABASE_KEYS = (
    *EXPLICIT_DATABASE_KEYS[1:],
    "CUSTOMER_READ_DATABASE_URL",
    "ORDER_READ_DATABASE_URL",
)


def _configured(key: str) -> str:
    """A value the learner set (process environment or .env), never our own."""
    return os.environ.get(key) or read_env_file(user_env_file()).get(key, "")


def ensure_local_secrets() -> None:
    """Generate local secrets once into var/platform.env (production sets its own)."""
    if PLATFORM_ENV_FILE.exists():
        # One written before env files were kept private: narrow it now.
        PLATFORM_ENV_FILE.chmod(SECRET_FILE_MODE)
    stored = read_env_file(PLATFORM_ENV_FILE)
    for key in (*GENERATED_SECRETS, *database_roles.ROLE_PASSWORD_SECRETS):
        if _configured(key) or stored.get(key):
            continue
        write_env_value(PLATFORM_ENV_FILE, key, secrets.token_urlsafe(40))


def ensure_database_server(*, prefer_external: bool = False) -> str | None:
    """Make sure DATABASE_SERVER_URL points at a running server; return it.

    Returns None when the learner named each database outright, in which case
    those databases are theirs to create.
    """
    server = _configured("DATABASE_SERVER_URL")
    if not server:
        if any(_configured(key) for key in EXPLICIT_DATABASE_KEYS):
            return None
        server = postgres.ensure_server(
            data_dir=EMBEDDED_DATA_DIR, prefer_external=prefer_external
        )
    os.environ["DATABASE_SERVER_URL"] = server
    return server


MOTO_STATE_DIR = VAR_DIR / "moto"


def server_url_for_tests() -> str:
    """The PostgreSQL server a test session uses: ``DATABASE_SERVER_URL``
    (make test sets it), else the embedded one; the local secrets made."""
    ensure_local_secrets()
    url = os.environ.get("DATABASE_SERVER_URL") or ensure_database_server(
        prefer_external=True
    )
    if not url:
        raise RuntimeError(
            "cross-service tests need DATABASE_SERVER_URL or the embedded server"
        )
    return url


def approach_uses_events() -> bool:
    """Whether the configured approach needs the broker (approaches 3 to 5)."""
    try:
        info = approach_info(current_approach(load_env()))
    except UnknownApproach:
        return False  # the service's settings refuse it with a clear message
    return info.uses_events


def configured_aws() -> bool:
    """The learner chose an AWS endpoint (or real AWS): not ours to stop."""
    return bool(_configured("AWS_ENDPOINT_URL")) or _configured(
        "AWS_USE_REAL"
    ).lower() in ("1", "true", "yes")


def ensure_aws_endpoint() -> str | None:
    """Point AWS_ENDPOINT_URL at the local moto server, unless configured.

    ``AWS_ENDPOINT_URL`` set (in the environment or .env) wins; so does
    ``AWS_USE_REAL=true``, which leaves boto3 to talk to real AWS.
    """
    if _configured("AWS_ENDPOINT_URL"):
        os.environ["AWS_ENDPOINT_URL"] = _configured("AWS_ENDPOINT_URL")
        return os.environ["AWS_ENDPOINT_URL"]
    if configured_aws():
        return None
    os.environ["AWS_ENDPOINT_URL"] = ensure_moto_daemon(state_dir=MOTO_STATE_DIR)
    return os.environ["AWS_ENDPOINT_URL"]


def prepare(
    *,
    prefer_external: bool = False,
    create_databases: bool = True,
    aws: bool | None = None,
) -> None:
    """Everything a manage.py command needs before Django starts.

    ``aws=None`` starts the local AWS endpoint only when the configured
    approach uses events.
    """
    ensure_local_secrets()
    server = ensure_database_server(prefer_external=prefer_external)
    load_env()
    if aws or (aws is None and approach_uses_events()):
        ensure_aws_endpoint()
    if server and create_databases:
        prefix = os.environ.get("DATABASE_NAME_PREFIX", "")
        postgres.create_databases(server_url=server, names=all_database_names(prefix))
        if not any(_configured(key) for key in NAMED_DATABASE_KEYS):
            _use_platform_roles(server_url=server, prefix=prefix)


def _use_platform_roles(*, server_url: str, prefix: str) -> None:
    """Each service connects as its own role (stack/database_roles.py): the
    settings read it from these variables, and so does every child process."""
    roles = database_roles.secure_platform(
        server_url=server_url, prefix=prefix, env=os.environ
    )
    if roles is not None:
        os.environ.update(roles.environment())


@contextmanager
def embedded_database_stopped_after() -> Iterator[None]:
    """Stop the embedded PostgreSQL on the way out if this command started it.

    A server that was running before (``make up``, an earlier command) is
    left as it was; its data stays in ``var/postgres`` either way.
    """
    was_running = postgres.embedded_running(EMBEDDED_DATA_DIR)
    try:
        yield
    finally:
        if not was_running and postgres.stop_embedded(data_dir=EMBEDDED_DATA_DIR):
            print("embedded PostgreSQL stopped (its data stays in var/postgres)")
