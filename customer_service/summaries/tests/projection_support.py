"""The customer summaries' binding of ``shared_events.testing.projection_events``.

The events themselves are built by that module's functions (``registered``,
``placed`` ...); this read side adds its consumer's name and its handlers.
"""

from customer_service.summaries.projections import PROJECTION_HANDLERS
from shared_events.testing.projection_events import read_side_projector

CONSUMER = "customer-read"
project = read_side_projector(consumer=CONSUMER, handlers=PROJECTION_HANDLERS)
