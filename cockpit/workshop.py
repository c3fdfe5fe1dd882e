"""The guided workshop's steps, for the cockpit's workshop page.

The steps are plain data written once in ``lab.workshop`` (the lab's CLI
writes them to ``docs/workshop.md``, and the lab may not import the
cockpit); this module hands the page the same steps, filled from the last
lab run, so the page and the document cannot disagree.

What a learner should notice: one step per approach, in the paper's order,
each with the paper's prediction beside what the lab measured; then the
migration, the same path walked by a running monolith with its data.
"""

from lab.reports import read_latest_report
from lab.workshop import (
    MIGRATION,
    RUN_FIRST,
    STEPS,
    FilledStep,
    WorkshopStep,
    filled_migration,
    filled_steps,
)

__all__ = [
    "MIGRATION",
    "RUN_FIRST",
    "STEPS",
    "FilledStep",
    "WorkshopStep",
    "filled_migration",
    "filled_steps",
    "latest_migration",
    "latest_workshop",
]


def latest_workshop() -> list[FilledStep]:
    """The steps filled from ``reports/latest`` (unfilled when the lab has
    not run yet: the page then shows ``RUN_FIRST``)."""
    return filled_steps(read_latest_report())


def latest_migration() -> FilledStep:
    """The migration chapter filled from ``reports/latest``."""
    return filled_migration(read_latest_report())
