"""``prepare_service``: every database of this service migrated, and the demo user.

What a platform run does to each service before it serves (``stack.platform_run``):
``migrate``, ``migrate --database read`` where the approach has a read side,
then ``create_demo_user``. One process instead of three: each Django start-up
costs a second or two of CPU, and the lab and the tests start many platforms.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Migrate this service's databases (the read database too under an "
        "approach with a read side), then create or reset the demo user with "
        "--token: what 'migrate' and 'create_demo_user' do, in one process."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--token",
            required=True,
            help="the demo user's API token, the same in every service",
        )
        parser.add_argument(
            "--username", default="demo", help="the demo user (default demo)"
        )

    def handle(self, *args, token, username, **options):
        databases = [
            alias
            for alias in ("default", settings.READ_DATABASE)
            if alias in settings.DATABASES
        ]
        for alias in databases:
            call_command("migrate", database=alias, interactive=False, verbosity=0)
        call_command("create_demo_user", username=username, token=token, quiet=True)
