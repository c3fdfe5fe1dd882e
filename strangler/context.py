"""Where a step reads and writes: the databases of the source and target approach.

Everything comes from the platform's own configuration (``.env``, the
environment), the same way the services find their databases, so the step
moves exactly the data the running platform serves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import environ

from shared_events.approaches import Approach
from shared_events.configuration import (
    current_approach,
    database_url,
    load_env,
)

Progress = Callable[[str], None]


@dataclass
class MigrationContext:
    """The platform as a step sees it: its configuration and current approach."""

    env: environ.Env = field(default_factory=load_env)

    @property
    def current(self) -> Approach:
        return current_approach(self.env)

    @property
    def server_url(self) -> str:
        return self.env.str("DATABASE_SERVER_URL", default="")

    @property
    def prefix(self) -> str:
        return self.env.str("DATABASE_NAME_PREFIX", default="")

    def database_url(self, *, service: str, approach: Approach) -> str:
        """The database ``service`` uses under ``approach``."""
        return database_url(env=self.env, service=service, approach=approach)

    def child_environment(self, approach: Approach) -> dict[str, str]:
        """This process's environment with ``approach`` set, for a child command."""
        return {**os.environ, "ARCHITECTURE_APPROACH": approach.value}
