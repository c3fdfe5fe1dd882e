"""``rehearse_migration`` changes the customer table with Django's migration
machinery, reverts it, and leaves the migration history alone."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from customer_service.customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


def columns() -> set[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, Customer._meta.db_table
        )
    return {column.name for column in description}


def recorded() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        return cursor.fetchone()[0]


def test_the_column_is_renamed_and_renamed_back_unrecorded():
    history = recorded()
    try:
        call_command("rehearse_migration", "rename_customer_name")
        renamed = columns()
    finally:
        call_command("rehearse_migration", "rename_customer_name", "--revert")

    assert {"full_name"} <= renamed and "name" not in renamed
    assert {"name"} <= columns() and "full_name" not in columns()
    assert recorded() == history


def test_an_unknown_migration_is_refused_naming_the_known_ones():
    with pytest.raises(CommandError, match="rename_customer_name"):
        call_command("rehearse_migration", "drop_everything")
