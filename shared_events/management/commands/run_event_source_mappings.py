import logging
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events.configuration import VAR_DIR
from shared_events.event_source_mapping import (
    MappingRunner,
    SourceNotFound,
    resolve_mapping,
)
from shared_events.functions import service_mappings
from shared_events.management.worker_metrics import serve_worker_metrics
from shared_events.transport import messaging

CHECKPOINT_DIR = VAR_DIR / "event-source-mappings"


class Command(BaseCommand):
    help = (
        "Run this service's Lambda handlers locally, fed by their event source "
        "mappings (SQS, Kinesis, DynamoDB Streams) with AWS's semantics: batch "
        "size and window, per-shard order, bisect, bounded retries, partial batch "
        "responses, the on-failure queue, and a checkpoint per (mapping, shard) "
        "that survives a kill. Never creates an event source mapping on AWS or "
        "moto. SIGTERM or Ctrl-C finishes the batch in hand, then exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--mapping",
            action="append",
            dest="names",
            metavar="NAME",
            help="run only this mapping (repeat for several; default: all of the "
            "service's mappings)",
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="exit after a round that read nothing (for scripts and tests)",
        )
        parser.add_argument(
            "--checkpoint-dir",
            default=str(CHECKPOINT_DIR),
            help="where the checkpoint file <prefix><service>.json is kept "
            "(default: %(default)s)",
        )
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=0.2,
            help="seconds to sleep after a round that found nothing (default: "
            "%(default)s)",
        )

    def handle(self, *args, names, until_idle, checkpoint_dir, poll_interval, **opts):
        # Installed first, so a SIGTERM during start-up is a clean exit too.
        stop = threading.Event()

        def request_stop(signum, frame):
            self.stdout.write("stopping after the batch in hand...")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        if int(opts.get("verbosity", 1)) > 1:
            logging.basicConfig(level=logging.INFO)
        service = settings.SERVICE_NAME
        mappings = _chosen(service_mappings(service), names, service)
        aws = messaging.aws_settings()
        try:
            runnables = [resolve_mapping(mapping, aws=aws) for mapping in mappings]
        except (SourceNotFound, ImportError) as error:
            raise CommandError(f"cannot run the mappings: {error}") from error
        runner = MappingRunner(
            runnables,
            aws=aws,
            # Named by the topology prefix too: two platforms never share one.
            checkpoint_file=Path(checkpoint_dir)
            / f"{settings.EVENT_TOPOLOGY_PREFIX}{service}.json",
            stop=stop,
            poll_interval_seconds=poll_interval,
        )
        metrics_url = serve_worker_metrics(
            dead_letter_queue_urls=[r.on_failure_queue_url for r in runnables]
        )
        if metrics_url:
            self.stdout.write(f"metrics on {metrics_url}")
        described = "; ".join(
            f"{m.name}: {m.source_kind} {m.source_name} -> {m.function}"
            for m in mappings
        )
        self.stdout.write(f"running {len(mappings)} event source mappings: {described}")
        self.stdout.flush()
        stats = runner.run(until_idle=until_idle)
        self.stdout.write(self.style.SUCCESS(f"stopped; {stats}"))


def _chosen(mappings, names, service):
    if not mappings:
        raise CommandError(
            f"the {service} service has no event source mappings under this "
            "approach and backends: nothing to run"
        )
    if not names:
        return mappings
    known = {mapping.name: mapping for mapping in mappings}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise CommandError(
            f"unknown mapping(s) {', '.join(unknown)}; the {service} service has: "
            f"{', '.join(sorted(known))}"
        )
    return [known[name] for name in dict.fromkeys(names)]
