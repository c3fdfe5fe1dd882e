"""The micro-frontends through the front door: each service's fragments,
reached on the gateway's ``/ui/`` routes, as the cockpit page reaches them.

One platform (db_per_service: the order service asks the customer service
over HTTP) and the real HAProxy gateway in front. What a learner should
notice: the two fragments are independent: each comes from its own
service, with its own version, and when the order service stops, its
fragment is refused at the gateway while the customer fragment still
answers (the cockpit shows the one as unavailable and keeps the other).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
import requests

from customer_service.ui import FRAGMENT_VERSION as CUSTOMER_FRAGMENT_VERSION
from customer_service.ui import GATEWAY_PATH as CUSTOMER_GATEWAY_PATH
from order_service.ui import FRAGMENT_VERSION as ORDER_FRAGMENT_VERSION
from order_service.ui import GATEWAY_PATH as ORDER_GATEWAY_PATH
from service_kit.testing.fragments import parse_fragment
from stack.connections import fetch_value
from stack.gateway_routes import platform_routes
from stack.platform_run import running_platform

pytestmark = pytest.mark.slow

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def platform(server_url, database_prefix):
    with running_platform(
        approach="db_per_service", server_url=server_url, prefix=database_prefix
    ) as run:
        yield run


@pytest.fixture(scope="module")
def gateway(platform):
    return platform.start_gateway()


@pytest.fixture(scope="module")
def staff(platform) -> dict[str, str]:
    """The demo user's (staff) JWT: the customer service checks that the user
    a JWT names exists and still has the claimed rights."""
    demo = fetch_value(
        platform.database_url("customer"),
        "SELECT id FROM auth_user WHERE username = %s",
        ["demo"],
    )
    now = datetime.now(UTC)
    token = pyjwt.encode(
        {
            "token_type": "access",
            "exp": now + timedelta(minutes=5),
            "iat": now,
            "jti": uuid.uuid4().hex,
            "user_id": str(demo),
            "iss": "customer",
            "is_staff": True,
        },
        platform.env["JWT_SIGNING_KEY"],
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {token}"}


def root_of(response: requests.Response) -> dict[str, str]:
    parsed = parse_fragment(response.text)
    assert parsed.root_tag == "section", response.text
    return parsed.root


def test_the_fragments_paths_are_the_gateways_routes():
    """The paths the fragments' links name are routes of the gateway, to the
    service that serves them."""
    routes = {
        route.prefix: route for route in platform_routes(["customer-web", "order-web"])
    }

    assert routes[CUSTOMER_GATEWAY_PATH].process == "customer-web"
    assert routes[CUSTOMER_GATEWAY_PATH].service_prefix == "/api/ui/customers/"
    assert routes[ORDER_GATEWAY_PATH].process == "order-web"
    assert routes[ORDER_GATEWAY_PATH].service_prefix == "/api/ui/orders/"
    assert not routes[CUSTOMER_GATEWAY_PATH].open
    assert not routes[ORDER_GATEWAY_PATH].open


@pytest.mark.parametrize(
    ("path", "service", "version"),
    [
        (CUSTOMER_GATEWAY_PATH, "customer", CUSTOMER_FRAGMENT_VERSION),
        (ORDER_GATEWAY_PATH, "order", ORDER_FRAGMENT_VERSION),
    ],
)
def test_each_services_list_fragment_comes_through_the_gateway(
    gateway, staff, path, service, version
):
    response = requests.get(f"{gateway.base_url}{path}", headers=staff, timeout=10)

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["X-Fragment-Version"] == version
    root = root_of(response)
    assert root["class"] == "fragment"
    assert root["data-service"] == service
    assert root["data-fragment"] == f"{service}-list"
    assert root["data-fragment-version"] == version


@pytest.mark.parametrize("path", [CUSTOMER_GATEWAY_PATH, ORDER_GATEWAY_PATH])
def test_without_a_jwt_the_gateway_refuses_a_fragment(gateway, path):
    response = requests.get(f"{gateway.base_url}{path}", timeout=10)

    assert response.status_code == 401
    assert "JWT" in response.json()["detail"]


def test_a_customer_registered_and_an_order_placed_through_the_fragments(
    gateway, staff
):
    """The forms post to the gateway's paths they name; the order service
    checks the new customer with the customer service, as for the JSON API."""
    registered = requests.post(
        f"{gateway.base_url}{CUSTOMER_GATEWAY_PATH}register/",
        data={"name": "Ada", "email": "ada@example.com", "address": "1 Main St"},
        headers={**staff, **FORM},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    customer = root_of(registered)
    assert customer["data-fragment"] == "customer-detail"

    form = requests.get(
        f"{gateway.base_url}{ORDER_GATEWAY_PATH}place/", headers=staff, timeout=10
    )
    (post,) = [a for a in parse_fragment(form.text).hx if "hx-post" in a]
    placed = requests.post(
        f"{gateway.base_url}{post['hx-post']}",
        data={
            "customer_id": customer["data-customer-id"],
            "lines-0-sku": "BOOK-1",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "3.50",
        },
        headers={**staff, **FORM},
        timeout=10,
    )

    assert placed.status_code == 201, placed.text
    order = root_of(placed)
    assert order["data-fragment"] == "order-detail"
    detail = requests.get(
        f"{gateway.base_url}{ORDER_GATEWAY_PATH}{order['data-order-id']}/",
        headers=staff,
        timeout=10,
    )
    assert detail.status_code == 200
    assert "Ada" in detail.text and "7.00" in detail.text


def test_a_stopped_service_takes_only_its_own_fragment_away(platform, gateway, staff):
    """Last in this module: it stops the order service."""
    platform.stop_service("order")

    orders = requests.get(
        f"{gateway.base_url}{ORDER_GATEWAY_PATH}", headers=staff, timeout=10
    )
    customers = requests.get(
        f"{gateway.base_url}{CUSTOMER_GATEWAY_PATH}", headers=staff, timeout=10
    )

    assert orders.status_code == 503
    assert customers.status_code == 200
    assert root_of(customers)["data-service"] == "customer"
