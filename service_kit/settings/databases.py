"""A service's databases under the running approach, and the read-model router."""

from django.core.exceptions import ImproperlyConfigured

from service_kit.settings.approach import (
    APPROACH_HAS_READ_SIDE,
    ARCHITECTURE_APPROACH,
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
        url = database_url(env=env, service=service, approach=ARCHITECTURE_APPROACH)
    except ConfigurationError as error:
        raise ImproperlyConfigured(str(error)) from None
    databases = {"default": _database_config(url)}
    if APPROACH_HAS_READ_SIDE:
        # Approach 5: the read models live in a database of their own.
        try:
            read_url = read_database_url(env=env, service=service)
        except ConfigurationError as error:
            raise ImproperlyConfigured(str(error)) from None
        databases[READ_DATABASE] = _database_config(read_url)
    return databases


def _database_config(url: str) -> dict:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {"connect_timeout": 5}
    return config


# Read models are routed to the read database by app label (approach 5); the
# router also keeps command code from writing them. See shared_events.read_side.routers.
DATABASE_ROUTERS = ["shared_events.read_side.routers.ReadModelRouter"]
