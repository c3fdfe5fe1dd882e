"""The approach switch and the configuration derived from it."""

import environ
import pytest

from shared_events.approaches import (
    APPROACHES,
    Approach,
    ApproachNotBuilt,
    UnknownApproach,
    approach_info,
    parse_approach,
    require_built,
)
from shared_events.configuration import (
    ConfigurationError,
    database_url,
    write_env_value,
)

BUILT = [approach for approach, info in APPROACHES.items() if info.built]


def make_env(**values) -> environ.Env:
    """An Env reading only these values, never the process environment."""
    env = environ.Env()
    env.ENVIRON = dict(values)
    return env


# THE APPROACHES
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("approach", list(Approach))
def test_parse_approach_accepts_every_name(approach):
    assert parse_approach(approach.value) is approach


def test_parse_approach_ignores_surrounding_whitespace():
    assert parse_approach("  cqrs_es\n") is Approach.CQRS_ES


@pytest.mark.parametrize("value", ["", "Shared_DB", "microservices", "shared-db"])
def test_parse_approach_refuses_an_unknown_name(value):
    with pytest.raises(UnknownApproach) as refused:
        parse_approach(value)

    assert refused.value.value == value


def test_the_unknown_approach_message_lists_every_valid_name():
    with pytest.raises(UnknownApproach) as refused:
        parse_approach("monolith")

    message = str(refused.value)
    assert "'monolith'" in message
    for approach in Approach:
        assert approach.value in message


def test_an_unknown_approach_is_a_value_error():
    with pytest.raises(ValueError):
        parse_approach("monolith")


def test_the_approaches_are_numbered_in_the_papers_order():
    assert [APPROACHES[a].number for a in Approach] == [1, 2, 3, 4, 5]


def test_only_the_shared_database_approach_shares_a_database():
    assert [a for a in Approach if approach_info(a).shares_database] == [
        Approach.SHARED_DB
    ]


def test_approach_info_accepts_a_name():
    assert approach_info("db_per_service") is APPROACHES[Approach.DB_PER_SERVICE]


@pytest.mark.parametrize("approach", BUILT)
def test_require_built_returns_the_info_of_a_built_approach(approach):
    assert require_built(approach) is APPROACHES[approach]


@pytest.fixture
def cqrs_not_built(monkeypatch):
    """Every approach is built today; the guard is tested on a pretend one."""
    import dataclasses

    pretend = dataclasses.replace(APPROACHES[Approach.CQRS_ES], built=False)
    monkeypatch.setitem(APPROACHES, Approach.CQRS_ES, pretend)
    return Approach.CQRS_ES


def test_require_built_refuses_an_approach_not_built_yet(cqrs_not_built):
    approach = cqrs_not_built
    with pytest.raises(ApproachNotBuilt) as refused:
        require_built(approach)

    message = str(refused.value)
    assert repr(approach.value) in message
    for built, info in APPROACHES.items():
        if info.built:
            assert built.value in message


def test_the_label_names_the_approach_and_its_place():
    assert approach_info(Approach.DB_PER_SERVICE).label == (
        "db_per_service (2 of 5: database per service)"
    )


# ENV FILES
# ------------------------------------------------------------------------------


def test_write_env_value_replaces_the_key_and_keeps_every_other_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# my settings\nDJANGO_DEBUG=true\n\nARCHITECTURE_APPROACH=shared_db\nX=1\n"
    )

    write_env_value(path, "ARCHITECTURE_APPROACH", "cqrs_es")

    assert path.read_text() == (
        "# my settings\nDJANGO_DEBUG=true\n\nARCHITECTURE_APPROACH=cqrs_es\nX=1\n"
    )


def test_write_env_value_appends_a_new_key(tmp_path):
    path = tmp_path / ".env"
    path.write_text("DJANGO_DEBUG=true")

    write_env_value(path, "ARCHITECTURE_APPROACH", "shared_db")

    assert path.read_text() == "DJANGO_DEBUG=true\nARCHITECTURE_APPROACH=shared_db\n"


def test_write_env_value_does_not_touch_a_key_that_only_starts_alike(tmp_path):
    path = tmp_path / ".env"
    path.write_text("ARCHITECTURE_APPROACH_NOTE=keep\n# ARCHITECTURE_APPROACH=old\n")

    write_env_value(path, "ARCHITECTURE_APPROACH", "shared_db")

    assert path.read_text() == (
        "ARCHITECTURE_APPROACH_NOTE=keep\n# ARCHITECTURE_APPROACH=old\n"
        "ARCHITECTURE_APPROACH=shared_db\n"
    )


def test_write_env_value_creates_the_file_and_its_folder(tmp_path):
    path = tmp_path / "var" / "platform.env"

    write_env_value(path, "KEY", "value")

    assert path.read_text() == "KEY=value\n"


# DATABASE URLS
# ------------------------------------------------------------------------------

SERVER = "postgres://postgres@db.example:5432/"


@pytest.mark.parametrize("service", ["customer", "order"])
def test_the_shared_approach_puts_both_services_in_one_database(service):
    env = make_env(DATABASE_SERVER_URL=SERVER)

    url = database_url(env=env, service=service, approach=Approach.SHARED_DB)

    assert url == "postgres://postgres@db.example:5432/platform_shared"


@pytest.mark.parametrize(
    ("service", "name"), [("customer", "customer_service"), ("order", "order_service")]
)
@pytest.mark.parametrize("approach", [a for a in Approach if a != Approach.SHARED_DB])
def test_the_other_approaches_give_each_service_its_own_database(
    service, name, approach
):
    env = make_env(DATABASE_SERVER_URL=SERVER)

    url = database_url(env=env, service=service, approach=approach)

    assert url == f"postgres://postgres@db.example:5432/{name}"


def test_the_name_prefix_keeps_parallel_runs_apart():
    env = make_env(DATABASE_SERVER_URL=SERVER, DATABASE_NAME_PREFIX="run7_")

    url = database_url(env=env, service="order", approach=Approach.DB_PER_SERVICE)

    assert url.endswith("/run7_order_service")


def test_a_service_url_overrides_the_derived_one():
    env = make_env(
        DATABASE_SERVER_URL=SERVER, ORDER_DATABASE_URL="postgres://o@elsewhere/orders"
    )

    url = database_url(env=env, service="order", approach=Approach.DB_PER_SERVICE)

    assert url == "postgres://o@elsewhere/orders"


def test_the_shared_url_overrides_under_the_shared_approach_only():
    env = make_env(
        DATABASE_SERVER_URL=SERVER,
        SHARED_DATABASE_URL="postgres://s@elsewhere/shared",
        CUSTOMER_DATABASE_URL="postgres://c@elsewhere/customers",
    )

    shared = database_url(env=env, service="customer", approach=Approach.SHARED_DB)
    separate = database_url(
        env=env, service="customer", approach=Approach.DB_PER_SERVICE
    )

    assert shared == "postgres://s@elsewhere/shared"
    assert separate == "postgres://c@elsewhere/customers"


def test_an_explicit_url_needs_no_server():
    env = make_env(CUSTOMER_DATABASE_URL="postgres://c@elsewhere/customers")

    url = database_url(env=env, service="customer", approach=Approach.DB_PER_SERVICE)

    assert url == "postgres://c@elsewhere/customers"


def test_no_server_and_no_url_is_a_configuration_error_naming_the_setting():
    with pytest.raises(ConfigurationError, match="DATABASE_SERVER_URL"):
        database_url(
            env=make_env(), service="customer", approach=Approach.DB_PER_SERVICE
        )
