"""Twelve-factor configuration shared by both services and the platform commands.

Values come, in this order of precedence, from the process environment, the
repository's ``.env`` file (or the file ``PLATFORM_DOTENV`` names: the
learner's own settings, and where ``manage.py approach set`` records the
approach), and ``var/platform.env`` (written by the platform itself: generated
local secrets). Production sets everything in the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

from shared_events.approaches import (
    DEFAULT_APPROACH,
    Approach,
    approach_info,
    parse_approach,
)

REPO_DIR = Path(__file__).resolve().parent.parent
# Where the platform keeps its state (secrets, logs, the embedded database,
# the local AWS daemon, what ``manage.py up`` runs); PLATFORM_VAR_DIR moves it,
# so a test can run a whole platform without touching the learner's.
VAR_DIR = Path(os.environ.get("PLATFORM_VAR_DIR") or REPO_DIR / "var")
PLATFORM_ENV_FILE = VAR_DIR / "platform.env"

SERVICES = ("customer", "order")
SHARED_DATABASE_NAME = "platform_shared"
SERVICE_DATABASE_NAMES = {"customer": "customer_service", "order": "order_service"}
READ_DATABASE_NAMES = {"customer": "customer_read", "order": "order_read"}
# Services a new team adds to a running platform (the paper's "audit records
# for analytics"): each subscribes to events the others already publish, owns
# a database of its own under every approach (shared_db too: it is another
# team's service) and runs only when asked. Nothing of the two services above
# changes for them.
JOINING_SERVICES = ("analytics",)
JOINING_DATABASE_NAMES = {"analytics": "analytics_service"}
# Env files hold secrets: their owner alone may read them.
SECRET_FILE_MODE = 0o600


class ConfigurationError(RuntimeError):
    """The platform cannot find a setting it needs; the message says which."""


def user_env_file() -> Path:
    """The learner's env file: ``.env`` in the repository, or ``PLATFORM_DOTENV``."""
    return Path(os.environ.get("PLATFORM_DOTENV") or REPO_DIR / ".env")


def load_env() -> environ.Env:
    """Read .env then var/platform.env into os.environ without overriding."""
    for path in (user_env_file(), PLATFORM_ENV_FILE):
        if path.exists():
            environ.Env.read_env(str(path), overwrite=False)
    return environ.Env()


def current_approach(env: environ.Env) -> Approach:
    return parse_approach(env.str("ARCHITECTURE_APPROACH", default=DEFAULT_APPROACH))


def database_name(*, service: str, approach: Approach, prefix: str = "") -> str:
    """The database a service uses under an approach (before any URL override)."""
    if service in JOINING_DATABASE_NAMES:
        return prefix + JOINING_DATABASE_NAMES[service]
    if approach_info(approach).shares_database:
        return prefix + SHARED_DATABASE_NAME
    return prefix + SERVICE_DATABASE_NAMES[service]


def all_database_names(prefix: str = "") -> list[str]:
    """Every database some approach needs, so switching never finds one missing."""
    return (
        [prefix + SHARED_DATABASE_NAME]
        + [prefix + name for name in SERVICE_DATABASE_NAMES.values()]
        + [prefix + name for name in READ_DATABASE_NAMES.values()]
        + [prefix + name for name in JOINING_DATABASE_NAMES.values()]
    )


def read_database_url(*, env: environ.Env, service: str) -> str:
    """The URL of a service's read database (approach 5, CQRS).

    ``CUSTOMER_READ_DATABASE_URL`` / ``ORDER_READ_DATABASE_URL`` name it
    outright; otherwise it is derived from ``DATABASE_SERVER_URL``.
    """
    explicit = env.str(f"{service.upper()}_READ_DATABASE_URL", default="")
    if explicit:
        return explicit
    server = env.str("DATABASE_SERVER_URL", default="")
    if not server:
        raise ConfigurationError(
            f"no read database configured: set {service.upper()}_READ_DATABASE_URL "
            "or DATABASE_SERVER_URL"
        )
    prefix = env.str("DATABASE_NAME_PREFIX", default="")
    return f"{server.rstrip('/')}/{prefix}{READ_DATABASE_NAMES[service]}"


def database_url(*, env: environ.Env, service: str, approach: Approach) -> str:
    """The URL of the database the service uses under the approach.

    ``CUSTOMER_DATABASE_URL`` / ``ORDER_DATABASE_URL`` (and ``SHARED_DATABASE_URL``
    for approach 1) name a database outright; otherwise the name is derived
    from ``DATABASE_SERVER_URL`` and the approach. A joining service
    (``ANALYTICS_DATABASE_URL``) never shares the one database.
    """
    if approach_info(approach).shares_database and service in SERVICES:
        explicit = env.str("SHARED_DATABASE_URL", default="")
    else:
        explicit = env.str(f"{service.upper()}_DATABASE_URL", default="")
    if explicit:
        return explicit
    server = env.str("DATABASE_SERVER_URL", default="")
    if not server:
        raise ConfigurationError(
            "no database configured: set DATABASE_SERVER_URL (for example "
            "postgres://postgres@127.0.0.1:5432) or run through manage.py, "
            "which starts the embedded PostgreSQL server"
        )
    prefix = env.str("DATABASE_NAME_PREFIX", default="")
    name = database_name(service=service, approach=approach, prefix=prefix)
    return f"{server.rstrip('/')}/{name}"


def write_env_value(path: Path, key: str, value: str) -> None:
    """Set KEY=value in an env file, keeping every other line as it was.

    The file is readable and writable by its owner only (0600), an existing
    one included: env files hold secrets (``var/platform.env`` the signing
    keys), and other users of the machine must not read them.
    """
    lines = path.read_text().splitlines() if path.exists() else []
    entry = f"{key}={value}"
    replaced = False
    for index, line in enumerate(lines):
        if line.split("=", 1)[0].strip() == key:
            lines[index] = entry
            replaced = True
    if not replaced:
        lines.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 (no moment when others could read it), and an older file
    # written with the default mode is narrowed too.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SECRET_FILE_MODE)
    os.fchmod(descriptor, SECRET_FILE_MODE)
    with open(descriptor, "w") as file:
        file.write("\n".join(lines) + "\n")


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values
