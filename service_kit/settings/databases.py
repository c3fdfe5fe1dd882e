"""A service's databases under the running approach, and the read-model router.

Who a service connects as is a setting of its own. ``<SERVICE>_DATABASE_USER``
and ``<SERVICE>_DATABASE_PASSWORD`` name the role it reads and writes rows as
(``CUSTOMER_DATABASE_USER``...), ``<SERVICE>_READ_DATABASE_USER`` and
``_PASSWORD`` the role of its read database (its projectors'), whatever the
URL says; unset, the URL's user is used. ``DATABASE_MIGRATION_USER`` and
``_PASSWORD`` name the owner of the write database's tables, the one role
that may change them: only ``migrate`` connects as it
(``service_kit/management/commands/migrate.py``), so a serving process never
holds a connection that could drop a table. On a server the platform
manages, ``stack.environment.prepare`` makes these roles and sets these
variables (``stack/database_roles.py``).
"""

from django.core.exceptions import ImproperlyConfigured

from service_kit.settings.approach import (
    APPROACH_HAS_READ_SIDE,
    ARCHITECTURE_APPROACH,
    QUERY_SIDE_ONLY,
    READ_DATABASE,
)
from service_kit.settings.base import env
from shared_events.configuration import (
    ConfigurationError,
    database_url,
    read_database_url,
)

# DATABASES
# ------------------------------------------------------------------------------


def service_databases(service: str) -> dict:
    """The DATABASES setting of one service under the current approach."""
    try:
        if QUERY_SIDE_ONLY and APPROACH_HAS_READ_SIDE:
            # The query process never opens the write database: "default" is
            # Django's dummy backend, so any code that reaches for it fails
            # loudly instead of quietly coupling the two sides, and the
            # process needs no write credentials at all.
            return {"default": {}, READ_DATABASE: _read_database(service)}
        url = database_url(env=env, service=service, approach=ARCHITECTURE_APPROACH)
        databases = {
            "default": _database_config(url, role=f"{service.upper()}_DATABASE")
        }
        if APPROACH_HAS_READ_SIDE:
            # Approach 5: the read models live in a database of their own.
            databases[READ_DATABASE] = _read_database(service)
    except ConfigurationError as error:
        raise ImproperlyConfigured(str(error)) from None
    return databases


def own_database(service: str) -> dict:
    """The DATABASES setting of a service that joins later (analytics): its
    own database alone, under every approach (no shared, no read database)."""
    try:
        url = database_url(env=env, service=service, approach=ARCHITECTURE_APPROACH)
    except ConfigurationError as error:
        raise ImproperlyConfigured(str(error)) from None
    return {"default": _database_config(url, role=f"{service.upper()}_DATABASE")}


def _read_database(service: str) -> dict:
    return _database_config(
        read_database_url(env=env, service=service),
        role=f"{service.upper()}_READ_DATABASE",
    )


def _database_config(url: str, *, role: str) -> dict:
    config = env.db_url_config(url) | _credentials(role)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {"connect_timeout": 5}
    return config


def _credentials(role: str) -> dict:
    """USER and PASSWORD from ``<ROLE>_USER`` and ``<ROLE>_PASSWORD``, if set."""
    user = env.str(f"{role}_USER", default="")
    if not user:
        return {}
    return {"USER": user, "PASSWORD": env.str(f"{role}_PASSWORD", default="")}


# MIGRATIONS
# ------------------------------------------------------------------------------
# Credentials ``migrate`` swaps in per database alias. A read database is
# its projectors' own, so they migrate it with the role they project as.
def _migration_credentials() -> dict:
    credentials = _credentials("DATABASE_MIGRATION")
    return {"default": credentials} if credentials else {}


DATABASE_MIGRATION_CREDENTIALS = _migration_credentials()


# Read models are routed to the read database by app label (approach 5); the
# router also keeps command code from writing them. See shared_events.read_side.routers.
DATABASE_ROUTERS = ["shared_events.read_side.routers.ReadModelRouter"]
