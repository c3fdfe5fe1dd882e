"""``event_keys``: the keys that sign and verify events here, and new ones.

Each producer signs its events with a key derived from its secret
(``CUSTOMER_EVENT_SIGNING_KEY``, ``ORDER_EVENT_SIGNING_KEY``); consumers trust
the public keys in ``CUSTOMER_EVENT_VERIFYING_KEYS`` and
``ORDER_EVENT_VERIFYING_KEYS`` (``shared_events.event_keys``). This command
shows what this process signs with and trusts, with each key's id and public
key (what a consumer's verifying keys need), and ``--generate PRODUCER``
makes a new secret for a rotation (docs/security.md). Secrets are printed
only by ``--generate``, never read back.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from shared_events import event_keys
from shared_events.events import PRODUCERS, SigningKey


class Command(BaseCommand):
    help = (
        "Show each producer's event signing key (its id and public key) and the "
        "verifying keys this process trusts; --generate PRODUCER prints a new "
        "signing secret and its public key, for a key rotation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            choices=PRODUCERS,
            metavar="PRODUCER",
            help=f"print a new signing secret for PRODUCER (one of "
            f"{', '.join(PRODUCERS)}) and the public key consumers must trust",
        )

    def handle(self, *args, **options):
        if options["generate"]:
            self._generate(options["generate"])
            return
        try:
            trusted = event_keys.verifying_keys()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        for producer in PRODUCERS:
            try:
                key = event_keys.signing_key(producer)
            except ImproperlyConfigured as error:
                self.stdout.write(f"{producer}: signs nothing here ({error})")
            else:
                self.stdout.write(
                    f"{producer}: signs with {key.key_id}, public key "
                    f"{key.verifying_key.text}"
                )
            keys = trusted.of(producer)
            if keys:
                for key in keys:
                    self.stdout.write(
                        f"{producer}: trusts {key.key_id}, public key {key.text}"
                    )
            else:
                self.stdout.write(
                    self.style.WARNING(
                        f"{producer}: trusts no key: its events are refused here "
                        f"(set {event_keys.verifying_variable(producer)})"
                    )
                )

    def _generate(self, producer: str) -> None:
        secret = secrets.token_urlsafe(40)
        key = SigningKey.from_secret(secret, producer=producer)
        self.stdout.write(f"{event_keys.signing_variable(producer)}={secret}")
        self.stdout.write(
            f"# key id {key.key_id}; its public key, to add to "
            f"{event_keys.verifying_variable(producer)} everywhere BEFORE the "
            "producer signs with it:"
        )
        self.stdout.write(key.verifying_key.text)
