"""A service's databases under the running approach, and the read-model router."""

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
        databases = {"default": _database_config(url)}
        if APPROACH_HAS_READ_SIDE:
            # Approach 5: the read models live in a database of their own.
            databases[READ_DATABASE] = _read_database(service)
    except ConfigurationError as error:
        raise ImproperlyConfigured(str(error)) from None
    return databases


def _read_database(service: str) -> dict:
    return _database_config(read_database_url(env=env, service=service))


def _database_config(url: str) -> dict:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {"connect_timeout": 5}
    return config


# Read models are routed to the read database by app label (approach 5); the
# router also keeps command code from writing them. See shared_events.read_side.routers.
DATABASE_ROUTERS = ["shared_events.read_side.routers.ReadModelRouter"]
