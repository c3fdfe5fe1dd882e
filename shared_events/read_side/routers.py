"""Database routing for approach 5 (CQRS): read models in the read database.

Read-model apps (``settings.READ_MODEL_APPS``) live in the ``read`` database;
everything else stays in ``default``, the write side (event store, outbox,
cached state). Query code reads read models through the ORM as usual and the
router sends it to the read database: no ``.using()`` scattered through the
code.

Only projections may write read models. A consumer runs its projection
handlers inside ``projecting`` (``shared_events.consume``); outside it, a
write to a read model is refused, so query code cannot write and command
code cannot update a read model on the side.
"""

from __future__ import annotations

from django.conf import settings

from shared_events.consume import projection_database

# The processed-event records and cursors of a read-side consumer sit in the
# read database, next to the read models they guard.
TRACKING_MODELS = {"processedevent", "aggregatecursor", "heldevent"}


class ReadModelWriteRefused(RuntimeError):
    """A read model was written outside a projection."""


def read_databases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != "default"]


def read_model_database() -> str:
    target = projection_database()
    if target:
        return target
    return (
        settings.READ_DATABASE
        if settings.READ_DATABASE in settings.DATABASES
        else ("default")
    )


def is_read_model(app_label: str) -> bool:
    return app_label in getattr(settings, "READ_MODEL_APPS", ())


class ReadModelRouter:
    def db_for_read(self, model, **hints):
        if is_read_model(model._meta.app_label):
            return read_model_database()
        return None

    def db_for_write(self, model, **hints):
        if not is_read_model(model._meta.app_label):
            return None
        target = projection_database()
        if target is None:
            raise ReadModelWriteRefused(
                f"{model._meta.label} is a read model: only a projection (run by "
                "the read-side consumer or rebuild_read_models) may write it"
            )
        return target

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == "default":
            return not is_read_model(app_label)
        # A read database holds the read models and the read side's tracking.
        if is_read_model(app_label):
            return True
        return app_label == "shared_events" and model_name in TRACKING_MODELS
