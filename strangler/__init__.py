"""From monolith to microservices while it runs: the strangler fig.

A strangler fig grows around a tree until the tree is no longer needed. A
platform moves the same way: the new side (the services' own databases) is
built beside the old one (the shared database) while traffic continues; the
data is copied across, the two are proven equal, and only then does the
platform switch over. The old side stays until the learner confirms.

What a learner should notice:

- every step is made of small idempotent stages, each recorded as done in
  the new side's database (``state``): kill the command at any moment and
  run it again, and it skips what is done and redoes the half-done stage
  safely (``copying``: inserts that ignore rows already there, then a
  compare-and-fill);
- nothing switches before ``verify`` has found both sides equal (row counts
  and a checksum per table, plus the auditor);
- the cut-over window, the time writes are refused, is measured and
  printed: the bulk copy runs while the old side still takes writes, and
  only the final compare-and-fill runs behind the write freeze
  (``write_freeze``).

``path`` names the steps along the paper's approaches, one at a time.
"""

from strangler.context import MigrationContext
from strangler.path import StepRefused, step_to
from strangler.plan import Plan
from strangler.step import Step

__all__ = ["MigrationContext", "Plan", "Step", "StepRefused", "step_to"]
