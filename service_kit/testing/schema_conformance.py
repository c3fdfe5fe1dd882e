"""A service's API against its own OpenAPI schema, by schemathesis.

Schemathesis reads ``/api/schema/`` (drf-spectacular) and sends generated
requests, valid and invalid, to every operation, in process through the WSGI
application, with a real DRF token (the ``token_header`` fixture). Each
answer must be no 5xx, a documented status code, and a body that matches the
schema. ``BOUNDED`` keeps the run short and the same every time.

What a learner should notice: a generated id rarely names anything that
exists, so ``answers_as_documented`` swaps half of the valid UUIDs in paths
for ids that do; both the 404 of an unknown id and the answers about a real
aggregate are tested.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

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
