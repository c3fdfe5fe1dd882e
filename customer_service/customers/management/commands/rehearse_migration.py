"""Apply a proposed migration to the database, or revert it, without recording it.

The lab's ``schema-change`` scenario rehearses a release of the customer
service: its migration changes the customer table while the platform runs,
and is reverted afterwards. Django's own migration machinery does the work
(the operations' SQL is what ``migrate`` would run), but ``django_migrations``
is left alone, so the service's migration history stays what it shipped.
"""

from __future__ import annotations

import importlib
import pkgutil

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

from customer_service.customers import proposed_migrations
from service_kit.database_owner import connected_as_owner

APP_LABEL = "customers"


def proposed_names() -> list[str]:
    return sorted(
        module.name for module in pkgutil.iter_modules(proposed_migrations.__path__)
    )


class Command(BaseCommand):
    help = (
        "Apply one of the customer service's proposed migrations "
        "(customers/proposed_migrations) to the database, or revert it with "
        "--revert, without recording it in django_migrations."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "name", help=f"the proposed migration: one of {', '.join(proposed_names())}"
        )
        parser.add_argument(
            "--revert",
            action="store_true",
            help="undo the migration (it must have been applied by this command)",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="the database alias to change (default: %(default)s)",
        )

    def handle(self, *args, name: str, revert: bool, database: str, **options):
        if name not in proposed_names():
            raise CommandError(
                f"no proposed migration {name!r}: choose one of "
                f"{', '.join(proposed_names())}"
            )
        module = importlib.import_module(f"{proposed_migrations.__name__}.{name}")
        migration = module.Migration(name, APP_LABEL)
        with connected_as_owner(database):
            connection = connections[database]
            # The state of every migration the database has applied: the
            # proposed one starts from there, as it would in a release.
            state = MigrationLoader(connection).project_state()
            with connection.schema_editor(atomic=migration.atomic) as editor:
                if revert:
                    migration.unapply(state, editor)
                else:
                    migration.apply(state, editor)
        verb = "reverted" if revert else "applied"
        self.stdout.write(self.style.SUCCESS(f"{verb} {APP_LABEL}.{name}"))
