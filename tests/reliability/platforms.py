"""A platform of the reliability suite, on the suite's own PostgreSQL server.

The AWS backends (``EVENT_DELIVERY``, ``EVENT_STORE``) are part of what a
platform is: ``Backends`` names them, and the throttling the platform must
ride out the whole time (``FAULT_INJECTION=throttle_aws:...``, in every
process: the web servers' ``PutItem``, the publishers' ``PutRecords``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared_events.configuration import VAR_DIR, all_database_names
from stack import postgres
from stack.platform_run import PlatformRun, running_platform
from tests.reliability.rounds import platform_env

# The server is the suite's own, so the names need only keep the suite's
# platforms apart (they run one after the other).
DATABASE_PREFIX = "rel_"
# The AWS backends' platforms: databases rl_*, topology (streams, tables,
# queues, checkpoint files) rl-*.
AWS_DATABASE_PREFIX = "rl_"
CHECKPOINT_DIR = VAR_DIR / "event-source-mappings"


@dataclass(frozen=True)
class Backends:
    """Where events are kept and how they travel, and the throttling injected."""

    delivery: str = "sns"
    store: str = "postgres"
    throttle: str = ""

    @property
    def default(self) -> bool:
        return self == Backends()

    def label(self, approach: str) -> str:
        """``cqrs_es``, or ``cqrs_es+kinesis+dynamodb`` off the defaults."""
        if self.default:
            return approach
        return f"{approach}+{self.delivery}+{self.store}"

    def env(self) -> dict[str, str]:
        env = {"EVENT_DELIVERY": self.delivery, "EVENT_STORE": self.store}
        if self.throttle:
            env["FAULT_INJECTION"] = self.throttle
        return env


@contextmanager
def reliability_platform(
    approach: str,
    *,
    server: postgres.EmbeddedPostgres,
    backends: Backends = Backends(),
) -> Iterator[PlatformRun]:
    """A fresh platform under ``approach`` on ``server``, which the rounds restart."""
    prefix = DATABASE_PREFIX if backends.default else AWS_DATABASE_PREFIX
    # The event source mapping runners' checkpoints of an earlier run of the
    # suite: a stream of the same name on a new moto server is another stream.
    for stale in CHECKPOINT_DIR.glob(f"{prefix.replace('_', '-')}*.json"):
        stale.unlink(missing_ok=True)
    try:
        with running_platform(
            approach=approach,
            server_url=server.url,
            prefix=prefix,
            extra_env={**platform_env(), **backends.env()},
        ) as run:
            yield run
    finally:
        postgres.drop_databases(server_url=server.url, names=all_database_names(prefix))
