from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events.composition import service_wiring
from shared_events.configuration import (
    SERVICES,
    ConfigurationError,
    database_url,
    load_env,
)
from shared_events.read_side.rebuild import RebuildError, rebuild_read_models
from shared_events.transport.topology import tracking_name


class Command(BaseCommand):
    help = (
        "Rebuild this service's read models (approach 5, cqrs_es) by replaying "
        "every event of both services' event stores into fresh tables, in bulk "
        "(each chunk folded in memory by the same projections the live consumer "
        "runs, then written with one statement per table), then switch to them in "
        "one short transaction. Queries keep working throughout; the live "
        "read-side consumer only pauses for the switch. See "
        "shared_events/read_side/rebuild/ for how."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--resume",
            action="store_true",
            help="continue a rebuild that was interrupted, from its stored positions",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="drop a half-done rebuild, if there is one, and start again",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="events read, folded and written per transaction (default 500)",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=1000,
            help="print progress after about this many events (default 1000; 0: never)",
        )
        parser.add_argument(
            "--peer-database-url",
            default="",
            help="where to read the other service's events (default: its write "
            "database, as its own settings would name it)",
        )

    def handle(self, *args, resume, restart, batch_size, progress_every, **options):
        if not settings.APPROACH_HAS_READ_SIDE:
            raise CommandError(
                f"approach {settings.ARCHITECTURE_APPROACH} has no read models; "
                "approach 5 (cqrs_es) keeps them"
            )
        if resume and restart:
            raise CommandError("--resume and --restart contradict each other")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        service = settings.SERVICE_NAME
        (peer,) = [other for other in SERVICES if other != service]
        peer_url = options["peer_database_url"]
        if not peer_url:
            try:
                peer_url = database_url(
                    env=load_env(),
                    service=peer,
                    approach=settings.ARCHITECTURE_APPROACH,
                )
            except ConfigurationError as error:
                raise CommandError(str(error)) from None
        handlers = service_wiring().projection_handlers
        try:
            result = rebuild_read_models(
                # The live projector's name: it goes on from these cursors.
                consumer=tracking_name(f"{service}-read"),
                handlers=handlers,
                service=service,
                peer_service=peer,
                peer_database_url=peer_url,
                read_database=settings.READ_DATABASE,
                resume=resume,
                restart=restart,
                batch_size=batch_size,
                progress_every=progress_every,
                report=self.stdout.write,
            )
        except RebuildError as error:
            raise CommandError(str(error)) from None
        if result.still_held:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.still_held} events were held back for an earlier "
                    "version that never came; the live consumer would hold them too"
                )
            )
        self.stdout.write(self.style.SUCCESS(result.summary()))
