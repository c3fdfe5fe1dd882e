from uuid import UUID

from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from customer_service.accounts.services import customer_user_link
from service_kit.access import access_token_for
from shared_events.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create (or relink) a customer user: a user that sees and changes only "
        "one customer's record and orders, in both services. Prints an API token "
        "for this service and a JWT that both services accept (it carries the "
        "customer's id). Set a password with 'changepassword' to let the user "
        "obtain JWTs itself at /api/auth/token/."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customer", required=True, help="the id of an existing customer"
        )
        parser.add_argument("--username", required=True, help="the user's name")
        parser.add_argument("--quiet", action="store_true", help="print nothing")

    def handle(self, *args, customer, username, quiet, **options):
        try:
            customer_id = UUID(customer)
        except ValueError:
            raise CommandError(f"--customer: {customer!r} is not a UUID") from None
        try:
            user = customer_user_link(username=username, customer_id=customer_id)
        except ApplicationError as error:
            raise CommandError(str(error)) from None
        token, _ = Token.objects.get_or_create(user=user)
        if quiet:
            return
        self.stdout.write(
            self.style.SUCCESS(f"User {username!r} is customer {customer_id}'s user.")
        )
        self.stdout.write(f"Token (customer service only): {token.key}")
        self.stdout.write(
            f"JWT (both services, Authorization: Bearer ...): {access_token_for(user)}"
        )
