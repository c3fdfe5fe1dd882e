"""A customer user sees and changes only its own orders; staff see every one.

The order service keeps no users for customers: a customer user comes with a
JWT issued by the customer service, whose ``customer_id`` claim scopes the
request (``service_kit.access``). Here the tokens are minted with the
shared signing key, as the customer service would. Another customer's order
answers exactly as an unknown id does.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from order_service.orders.models import OPEN_STATUSES, Order, OrderStatus
from order_service.orders.tests.api_support import (
    LIST_URL,
    PLACE_URL,
    as_of_url,
    cancel_url,
    detail_url,
    history_url,
    line,
    place,
    placement,
)
from service_kit.testing.tokens import customer_jwt_client, jwt_client
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(ada, grace) -> dict[str, Order]:
    return {"ada": place(ada), "grace": place(grace)}


# LISTS AND DETAILS
# ------------------------------------------------------------------------------


def test_a_customer_user_lists_only_its_own_orders(ada, orders):
    response = customer_jwt_client(ada.id).get(LIST_URL)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(orders["ada"].id)]


def test_asking_for_another_customers_orders_finds_none(ada, grace, orders):
    response = customer_jwt_client(ada.id).get(LIST_URL, {"customer_id": str(grace.id)})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_staff_jwt_lists_every_order(orders):
    response = jwt_client(is_staff=True).get(LIST_URL)

    assert len(response.json()["results"]) == 2


def test_another_customers_order_is_404_like_an_unknown_id(ada, orders):
    client = customer_jwt_client(ada.id)

    other = client.get(detail_url(orders["grace"].id))
    unknown = client.get(detail_url(uuid.uuid4()))

    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()
    assert client.get(detail_url(orders["ada"].id)).status_code == 200


# COMMANDS
# ------------------------------------------------------------------------------


def test_cancelling_another_customers_order_is_404_and_changes_nothing(ada, orders):
    response = customer_jwt_client(ada.id).post(
        cancel_url(orders["grace"].id), {}, format="json"
    )

    assert response.status_code == 404
    assert Order.objects.get(id=orders["grace"].id).status in OPEN_STATUSES


def test_a_customer_user_cancels_its_own_order(ada, orders):
    response = customer_jwt_client(ada.id).post(
        cancel_url(orders["ada"].id), {}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == OrderStatus.CANCELLED


def test_a_customer_user_places_orders_for_itself(ada):
    response = customer_jwt_client(ada.id).post(
        PLACE_URL, placement(ada), format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["customer_id"] == str(ada.id)


def test_placing_for_another_customer_is_refused_as_unknown_and_records_nothing(
    ada, grace
):
    client = customer_jwt_client(ada.id)

    response = client.post(PLACE_URL, placement(grace), format="json")
    unknown = client.post(
        PLACE_URL,
        {"customer_id": str(uuid.uuid4()), "lines": [line()]},
        format="json",
    )

    assert response.status_code == unknown.status_code == 400
    assert "no customer with id" in response.json()["customer_id"][0]
    assert not Order.objects.filter(customer_id=grace.id).exists()


def test_a_jwt_without_a_customer_or_staff_is_refused_with_the_reason(orders):
    response = jwt_client(is_staff=False).get(LIST_URL)

    assert response.status_code == 403
    assert "linked to a customer" in response.json()["detail"]


def test_a_non_staff_user_of_this_service_is_refused(orders):
    user = get_user_model().objects.create_user(username="clerk")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
    )

    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(orders["ada"].id)).status_code == 403


def test_a_malformed_customer_claim_sees_nothing(orders):
    response = jwt_client(is_staff=False, customer_id="not-a-uuid").get(LIST_URL)

    assert response.status_code == 403


# HISTORY (event sourcing)
# ------------------------------------------------------------------------------


def test_history_and_as_of_are_the_customers_own(event_sourcing, ada, grace):
    adas = place(ada)
    own, other = customer_jwt_client(ada.id), customer_jwt_client(grace.id)

    assert own.get(history_url(adas.id)).status_code == 200
    assert own.get(as_of_url(adas.id, version=1)).status_code == 200
    assert other.get(history_url(adas.id)).status_code == 404
    beyond = other.get(as_of_url(adas.id, version=99))
    assert beyond.status_code == 404
    assert "version" not in beyond.json()["detail"]


def test_a_rejected_placement_is_visible_to_its_customer_only(
    event_sourcing, customer_directory, ada, grace
):
    customer_directory.remove(ada.id)  # the placement will be rejected
    response = customer_jwt_client(ada.id).post(
        PLACE_URL, placement(ada), format="json"
    )
    assert response.status_code == 400
    rejected = StoredEvent.objects.get(event_type="OrderRejected").aggregate_id

    assert customer_jwt_client(ada.id).get(history_url(rejected)).status_code == 200
    assert customer_jwt_client(grace.id).get(history_url(rejected)).status_code == (404)
