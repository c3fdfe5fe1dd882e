"""A service's API against its own OpenAPI schema, by schemathesis.

Schemathesis reads ``/api/schema/`` (drf-spectacular; ``load_schema`` signs
in with a staff JWT, as the schema needs credentials) and sends generated
requests, valid and invalid, to every operation, in process through the WSGI
application, with a real DRF token (the ``token_header`` fixture), under a
state table and under the event store (the ``approach`` fixture). Each
answer must be no 5xx, a documented status code, and a body that matches the
schema. ``BOUNDED`` keeps the run short and the same every time. The bodies
a generator does not write (too deep, ``NaN``, lone surrogates...) are
``service_kit.testing.odd_bodies``'.

What a learner should notice: a generated id rarely names anything that
exists, so ``answers_as_documented`` swaps half of the valid UUIDs in paths
for ids that do; both the 404 of an unknown id and the answers about a real
aggregate are tested.
"""

from __future__ import annotations

import uuid

import schemathesis
from django.test import override_settings
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from service_kit.access import STAFF_CLAIM

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def load_schema(application):
    """The service's schema, read through ``application`` with a staff JWT."""
    token = AccessToken()  # stateless: no database is open at collection time
    token["user_id"] = 4242
    token[STAFF_CLAIM] = True
    # Nor may the throttles count in the database then: this one request is
    # counted in memory.
    with override_settings(CACHES=IN_MEMORY_CACHES):
        return schemathesis.openapi.from_wsgi(
            "/api/schema/", application, headers={"Authorization": f"Bearer {token}"}
        )


IN_MEMORY_CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}


BOUNDED = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def use_known_id(case, name: str, known: uuid.UUID) -> None:
    """Swap half of the valid UUIDs generated for ``name`` for ``known``."""
    try:
        generated = uuid.UUID(str((case.path_parameters or {})[name]))
    except (KeyError, ValueError):
        return
    if generated.int % 2 == 0:
        case.path_parameters[name] = str(known)


def answers_as_documented(case, headers: dict, **known: uuid.UUID) -> None:
    """Send ``case`` (with ids in ``known`` swapped in) and run the ``CHECKS``."""
    for name, value in known.items():
        use_known_id(case, name, value)
    case.call_and_validate(headers=headers, checks=CHECKS)
