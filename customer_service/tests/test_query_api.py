"""The query API is routed under every approach; only approach 5 has read models.

Elsewhere it answers 404 with the reason the composition root gives, after
authentication, as the history API does where an approach keeps no events.
The base view (service_kit.api.query) is both services'.
"""

import pytest
from django.urls import reverse

from customer_service import bootstrap
from shared_events.approaches import APPROACHES, Approach

pytestmark = pytest.mark.django_db

WITHOUT_READ_SIDE = [a for a, info in APPROACHES.items() if not info.read_side]


@pytest.mark.parametrize("approach", WITHOUT_READ_SIDE)
def test_an_approach_without_read_models_says_so(approach):
    reason = bootstrap.build_wiring(approach, wake_relay=lambda: None).no_read_models

    assert reason.startswith(f"approach {approach.value} ")
    assert "keeps no read models" in reason
    assert "cqrs_es" in reason


def test_cqrs_es_keeps_read_models_and_projects_them():
    wiring = bootstrap.build_wiring(Approach.CQRS_ES, wake_relay=lambda: None)

    assert wiring.no_read_models is None
    assert "CustomerRegistered" in wiring.projection_handlers


@pytest.mark.parametrize("approach", [Approach.DB_PER_SERVICE, Approach.SHARED_DB])
@pytest.mark.parametrize("name", ["query-customer-list", "query-customer-detail"])
def test_the_query_api_answers_404_with_the_reason(api_client, approach, name):
    wiring = bootstrap.build_wiring(approach, wake_relay=lambda: None)
    kwargs = {"customer_id": "0" * 32} if name.endswith("detail") else {}

    with bootstrap.overridden(no_read_models=wiring.no_read_models):
        response = api_client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 404
    assert response.json() == {"detail": wiring.no_read_models}


def test_the_query_api_still_asks_who_is_calling(anonymous_client):
    response = anonymous_client.get(reverse("query-customer-list"))

    assert response.status_code == 401
