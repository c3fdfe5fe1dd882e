"""The auditor: does every copy of the data agree with what really happened?

Each approach keeps copies of data it does not own, and each copy can drift:

- approaches 1 and 2: orders can outlive their customer (orphan orders);
- approach 3 (dual write): the order service's customer replica misses
  every event the customer service failed to publish; a replica row still
  live for a customer who is gone is a lost ``CustomerDeleted``;
- approach 4 (event sourcing): nothing is lost, but the replica trails the
  event store (the lag) and the outbox backlog shows by how much;
- approach 5 (CQRS): the read models (``CustomerSummary``, ``OrderView``)
  are one more copy, built from BOTH services' events.

What a learner should notice: the auditor reads every database directly
with psycopg2 and computes the expected state itself, folding the event
stores with a few lines of plain Python below. It shares no code with the
projections it judges, so a bug in a projection shows up as a difference
instead of being repeated by the check.

Not compared, on purpose: ``projected_at`` and the ``last_event_*`` columns.
They record when and by which event a row was last touched, and events of
different aggregates may be projected in any order, so two correct read
models can differ there.

``--repair`` rebuilds what differs: approach 5's read models by replaying
the events (``manage.py --service X rebuild_read_models``), the replica of
approaches 3 and 4 from the customer table or the fold. It never cancels an
orphan order: that is the order service's decision, made by its own command.

The auditor's parts, one job each: ``connections`` (where it looks, how it
reads), ``fold`` (the event stores folded), ``expected`` (every copy as the
fold says it should be), ``compare`` (row by row), ``checks`` (which copies
each approach keeps), ``report`` and ``repair``. The command that runs it is
``platform_cli.audit_consistency``.
"""

from observe.audit.checks import (
    READ_MODEL_CHECKS,
    audit_consistency,
    audit_until_settled,
)
from observe.audit.compare import RowDifference, compare_rows
from observe.audit.connections import AuditDatabases, AuditError
from observe.audit.expected import (
    expected_customer_summaries,
    expected_order_views,
    expected_summary_orders,
)
from observe.audit.fold import WriteSideFold, fold_event_stores
from observe.audit.repair import audit_and_repair, rebuild_read_models, repair_replica
from observe.audit.report import AuditReport, render_audit

# What the CLI, the lab, the reliability suite and the tests use.
__all__ = [
    "READ_MODEL_CHECKS",
    "AuditDatabases",
    "AuditError",
    "AuditReport",
    "RowDifference",
    "WriteSideFold",
    "audit_and_repair",
    "audit_consistency",
    "audit_until_settled",
    "compare_rows",
    "expected_customer_summaries",
    "expected_order_views",
    "expected_summary_orders",
    "fold_event_stores",
    "rebuild_read_models",
    "render_audit",
    "repair_replica",
]
