import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from service_kit.access import access_token_for


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo user, a staff user (it sees every customer's "
        "data, as the operator running the lab must) with an API token in this "
        "service, and print the token and a JWT. The platform command 'python "
        "manage.py create_demo_user' runs this in both services with the same "
        "token, so one token works everywhere. A user that sees one customer "
        "only: 'manage.py --service customer create_customer_user'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username", default="demo", help="user name (default demo)"
        )
        parser.add_argument(
            "--token",
            default="",
            help="the token key to set, 40 characters at most (default: a new one)",
        )
        parser.add_argument("--quiet", action="store_true", help="print nothing")
        parser.add_argument(
            "--print-credentials",
            action="store_true",
            help='print {"token": ..., "jwt": ...} as JSON (for the platform command)',
        )

    @transaction.atomic
    def handle(self, *args, username, token, quiet, print_credentials, **options):
        if token and len(token) > 40:
            raise CommandError("--token must be 40 characters or fewer")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.set_unusable_password()
        user.save()
        existing = Token.objects.filter(user=user).first()
        if token and (existing is None or existing.key != token):
            Token.objects.filter(user=user).delete()
            key = Token.objects.create(user=user, key=token).key
        elif existing is not None:
            # Kept: a token printed before keeps working, here and in the
            # other service, which holds the same key.
            key = existing.key
        else:
            key = Token.objects.create(user=user).key
        if print_credentials:
            self.stdout.write(json.dumps({"token": key, "jwt": access_token_for(user)}))
        elif not quiet:
            verb = "Created" if created else "Updated"
            self.stdout.write(self.style.SUCCESS(f"{verb} user {username!r}."))
            self.stdout.write(f"Token: {key}")
            self.stdout.write(
                f"JWT (Authorization: Bearer ...): {access_token_for(user)}"
            )
