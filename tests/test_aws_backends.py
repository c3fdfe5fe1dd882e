"""The paper's AWS pictures, run end to end through the real processes.

Each backend combination starts a real platform (web servers, and the
workers the process table gives it: the local event source mapping runner
calling the Lambda handler modules, a Celery relay where the outbox remains),
registers a customer, places an order and deletes the customer through the
HTTP APIs, and checks what the paper promises: the order service learns the
customer from events, the deleted customer's order is cancelled, and under
approach 5 both read models show it.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
import requests

from lab.client import PlatformClient
from shared_events.approaches import approach_info
from stack.platform_run import running_platform
from stack.process_table import Kind

pytestmark = pytest.mark.slow

BACKENDS = [
    # Kinesis Data Streams consumed by Lambda, behind the PostgreSQL outbox.
    ("event_sourcing", "kinesis", "postgres"),
    # DynamoDB whose stream is the outbox, fanned out by SNS to SQS.
    ("event_sourcing", "sns", "dynamodb"),
    # The paper's whole figure: DynamoDB -> Streams -> Lambda -> Kinesis and
    # the read store (PostgreSQL standing for Aurora).
    ("cqrs_es", "kinesis", "dynamodb"),
]


def wait_for(condition, *, timeout: float, what: str, run):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    logs = "\n".join(
        f"--- {key}\n{process.log_tail(15)}" for key, process in run.workers.items()
    )
    raise AssertionError(f"{what} within {timeout:.0f}s\n{logs}")


@pytest.mark.parametrize(
    ("approach", "delivery", "store"),
    BACKENDS,
    ids=["-".join(backend) for backend in BACKENDS],
)
def test_a_deleted_customers_order_is_cancelled_through_the_aws_backends(
    server_url, database_prefix, approach, delivery, store
):
    with running_platform(
        approach=approach,
        server_url=server_url,
        prefix=database_prefix,
        extra_env={"EVENT_DELIVERY": delivery, "EVENT_STORE": store},
    ) as run:
        kinds = {spec.kind for spec in run.worker_specs.values()}
        assert Kind.FUNCTIONS in kinds
        assert (Kind.RELAY in kinds) == (store == "postgres")
        assert (Kind.CONSUMER in kinds) == (delivery != "kinesis")
        client = PlatformClient(
            customer_url=run.url("customer"),
            order_url=run.url("order"),
            token=run.token,
        )
        customer = client.register_customer(
            name="Grace", email=f"{uuid.uuid4().hex}@example.com", address="1 Stream"
        )

        def placed():
            response = client.place_order(
                customer_id=customer["id"], lines=[("SKU-K", 2, Decimal("4.00"))]
            )
            return response.json() if response.status_code == 201 else None

        order = wait_for(
            placed, timeout=60, what="the order service learned the customer", run=run
        )
        client.delete_customer(customer["id"])

        def shown(path: str, service: str = "order") -> dict:
            """What ``service`` answers at ``path`` ({} until it is there)."""
            response = requests.get(
                f"{run.url(service)}{path}",
                headers={"Authorization": f"Token {run.token}"},
                timeout=10,
            )
            return response.json() if response.status_code == 200 else {}

        wait_for(
            lambda: shown(f"/api/orders/{order['id']}/").get("status") == "cancelled",
            timeout=60,
            what="the deleted customer's order was cancelled",
            run=run,
        )
        if approach_info(approach).read_side:
            wait_for(
                lambda: (
                    shown(f"/api/query/orders/{order['id']}/").get("status")
                    == "cancelled"
                ),
                timeout=60,
                what="the order's read model showed it cancelled",
                run=run,
            )

            # The customer's summary is another projector's read model: it
            # catches up on its own, in no order with the order's.
            wait_for(
                lambda: (
                    shown(f"/api/query/customers/{customer['id']}/", "customer").get(
                        "deleted"
                    )
                    is True
                ),
                timeout=60,
                what="the customer's summary showed it deleted",
                run=run,
            )
        restarts = {key: count for key, count in run.restarts.items() if count}
        assert restarts == {}
