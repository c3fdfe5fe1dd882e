"""The read side (approach 5): denormalized read models, written only by projections.

What a learner should notice in this stage:

* A projection handler is a fold (``projectors``): one event and the rows it
  touches; where the rows come from is a port, ``ReadModelRows``. The live
  consumer runs it on the database, a rebuild in memory
  (``bulk_projection``, written with ``bulk_writes``), so a rebuilt read
  model cannot drift from the live one.
* The router (``routers``) keeps read models in the read database and lets
  only a projection write them.
* A read model is only a cache of the events: ``rebuild`` replays every event
  into fresh tables beside the live ones and swaps them in, while queries go
  on.

Depends on ``events`` and ``consume`` (the consumer's rules: exactly once, in
order, under the swap lock).
"""

from shared_events.read_side.bulk_projection import BulkProjection, ChunkRows
from shared_events.read_side.projectors import (
    DATABASE_ROWS,
    DatabaseRows,
    NotBulkProjectable,
    Projector,
    ReadModelRows,
    require_projectors,
)
from shared_events.read_side.routers import (
    ReadModelRouter,
    ReadModelWriteRefused,
    is_read_model,
    read_databases,
    read_model_database,
)

__all__ = [
    "DATABASE_ROWS",
    "BulkProjection",
    "ChunkRows",
    "DatabaseRows",
    "NotBulkProjectable",
    "Projector",
    "ReadModelRouter",
    "ReadModelRows",
    "ReadModelWriteRefused",
    "is_read_model",
    "read_databases",
    "read_model_database",
    "require_projectors",
]
