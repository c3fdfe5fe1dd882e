"""The platform's Lambda functions table: which handler runs from which source."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from shared_events.approaches import Approach, approach_info
from shared_events.event_source_mapping import SourceKind
from shared_events.functions import platform_mappings
from shared_events.transport.topology import platform_topology

SERVICES = ("customer", "order")


def mappings(approach, *, delivery="sns", store="postgres", service="order"):
    info = approach_info(approach)
    return platform_mappings(
        service=service,
        approach=info,
        delivery=delivery,
        store=store,
        topology=platform_topology(
            prefix="p-", delivery=delivery, read_side=info.read_side
        ),
        retries=8,
    )


@pytest.mark.parametrize("approach", list(Approach))
@pytest.mark.parametrize("service", SERVICES)
def test_the_defaults_need_no_function(approach, service):
    assert mappings(approach, service=service) == []


def test_under_kinesis_each_consumer_reads_the_streams_it_listens_to():
    found = {m.name: m for m in mappings(Approach.EVENT_SOURCING, delivery="kinesis")}

    (consumer,) = found.values()
    assert consumer.name == "order-consume-customer-events"
    assert consumer.function == "order_service.functions.consume_events.handler"
    assert consumer.source_kind is SourceKind.KINESIS
    assert consumer.source_name == "p-customer-events"
    assert consumer.bisect_batch_on_function_error
    assert consumer.maximum_retry_attempts == 8
    assert consumer.on_failure_queue == "p-order-inbox-dlq"


def test_under_kinesis_each_projector_reads_every_stream():
    found = {m.name for m in mappings(Approach.CQRS_ES, delivery="kinesis")}

    assert found == {
        "order-consume-customer-events",
        "order-read-project-customer-events",
        "order-read-project-order-events",
    }


def test_the_dynamodb_stream_is_the_outbox_retried_forever():
    (publish,) = mappings(Approach.EVENT_SOURCING, store="dynamodb")

    assert publish.function == "order_service.functions.publish_committed.handler"
    assert publish.source_kind is SourceKind.DYNAMODB_STREAM
    assert publish.source_name == "p-order-events-store"
    assert publish.maximum_retry_attempts == -1
    assert not publish.bisect_batch_on_function_error
    assert publish.on_failure_queue is None


def test_under_cqrs_the_own_commits_are_projected_straight_from_the_stream():
    found = {m.name: m for m in mappings(Approach.CQRS_ES, store="dynamodb")}

    project = found["order-read-project-committed"]
    assert project.function == "order_service.functions.project_events.handler"
    assert project.source_name == "p-order-events-store"
    assert project.on_failure_queue == "p-order-read-inbox-dlq"


def test_dynamodb_adds_nothing_where_a_service_is_not_event_sourced():
    assert mappings(Approach.DIRECT_PUBLISH, store="dynamodb") == []


@pytest.mark.parametrize("service", SERVICES)
def test_every_function_named_is_a_handler_module(service):
    every = mappings(
        Approach.CQRS_ES, delivery="kinesis", store="dynamodb", service=service
    )
    assert {m.function.split(".")[-2] for m in every} == {
        "consume_events",
        "project_events",
        "publish_committed",
    }
    for mapping in every:
        module, _, attribute = mapping.function.rpartition(".")
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{mapping.name}: no module {module}"
        tree = ast.parse(Path(spec.origin).read_text())
        defined = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert attribute in defined, f"{module} defines no {attribute}"
