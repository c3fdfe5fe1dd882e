"""The base of every query-API view: read models, or a 404 saying why not.

The read-model apps are installed under every approach, but only approach 5
(cqrs_es) keeps read models, in a read database of its own. Under any other
approach a query API answers 404 with the reason its service's composition
root gave (``ServiceWiring.no_read_models``), after authentication, as the
history API does where an approach keeps no events: a learner who asks the
wrong approach for a read model is told which one has it.

The base class has no docstring on purpose: drf-spectacular would show it as
the description of a subclass that has none.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from service_kit.api.pagination import CappedLimitOffsetPagination
from service_kit.api.serializers import READ_MODEL_NOT_FOUND_RESPONSE
from shared_events.composition import service_wiring


class ReadModelApi(APIView):
    pagination_class = CappedLimitOffsetPagination
    not_found_response = READ_MODEL_NOT_FOUND_RESPONSE

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        reason = service_wiring().no_read_models
        if reason is not None:
            raise NotFound(reason)
