"""``migrate``, connected as the owner of the tables it changes.

A service serves as a role that may read and write rows and nothing more
(``stack/database_roles.py``): it can neither create, alter nor drop a
table. A schema change needs the tables' owner, so this command, Django's
own ``migrate`` otherwise, connects to the database it migrates as the
owner (``DATABASE_MIGRATION_USER``, swapped in by
``service_kit.database_owner``) for as long as it runs. A serving process
never opens such a connection.

Every ``migrate`` runs through here, pytest-django's creation of the test
databases included; with no owner's credentials (a read database, which its
projectors own, or a server where the platform made no roles) nothing is
swapped.
"""

from __future__ import annotations

from django.core.management.commands import migrate

from service_kit.database_owner import connected_as_owner


class Command(migrate.Command):
    help = (
        f"{migrate.Command.help} Connects as the owner role of the database "
        "(DATABASE_MIGRATION_USER) when one is configured."
    )

    def handle(self, *args, **options):
        with connected_as_owner(options["database"]):
            return super().handle(*args, **options)
