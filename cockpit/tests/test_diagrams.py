"""Every approach and backend draws, and the drawing is the platform's tables.

The expected boxes are computed here from the same tables the diagram reads
(the process table, the topology, the approach table) plus what each
approach is known to show: approach 1's one database, approach 2's REST
call, approach 3's publish from the web server, the outbox and relay of 4
and 5, the read side of 5, the Kinesis streams and the DynamoDB tables.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree

import pytest

from cockpit import BoxKind, Diagram, architecture, render_svg
from cockpit import diagrams as diagrams_module
from shared_events.approaches import Approach, approach_info
from shared_events.transport.topology import DELIVERIES, platform_topology
from stack.process_table import Kind, platform_processes

SVG = "{http://www.w3.org/2000/svg}"
STORES = ("postgres", "dynamodb")
COMBINATIONS = list(itertools.product(Approach, DELIVERIES, STORES))
PROCESS_KINDS = {kind.value for kind in Kind}


def expected_boxes(approach: Approach, delivery: str, store: str) -> set[str]:
    info = approach_info(approach)
    processes = platform_processes(approach, delivery=delivery, store=store)
    expected = {process.name for process in processes}
    if info.shares_database:
        expected.add("shared-database")
    else:
        expected |= {"customer-database", "order-database"}
    if info.read_side:
        expected |= {"customer-read-database", "order-read-database"}
    expected |= {f"{p.service}-outbox" for p in processes if p.kind is Kind.RELAY}
    if not info.uses_events:
        return expected
    topology = platform_topology(delivery=delivery, read_side=info.read_side)
    for producer in topology.producers:
        if delivery == "sns":
            expected.add(topology.topic_name(producer))
        elif delivery == "kinesis":
            expected.add(topology.stream_name(producer))
    for consumer in topology.consumers:
        expected.add(topology.dead_letter_queue_name(consumer))
        if delivery != "kinesis":
            expected.add(topology.queue_name(consumer))
    if store == "dynamodb":
        for service in info.outbox_services:
            table = topology.event_table_name(service)
            expected |= {table, f"{table}-stream"}
    return expected


def arrows(diagram: Diagram) -> set[tuple[str, str, str]]:
    return {(a.source, a.target, a.label) for a in diagram.arrows}


@pytest.mark.parametrize(("approach", "delivery", "store"), COMBINATIONS)
def test_every_approach_and_backend_draws_the_tables(approach, delivery, store):
    diagram = architecture(approach, delivery=delivery, store=store)

    ids = [box.id for box in diagram.boxes]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_boxes(approach, delivery, store)
    for arrow in diagram.arrows:
        assert {arrow.source, arrow.target} <= set(ids), arrow
    # Every process kind keeps its name as its box's kind.
    for process in platform_processes(approach, delivery=delivery, store=store):
        assert diagram.box(process.name).kind.value == process.kind.value

    root = ElementTree.fromstring(render_svg(diagram))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert approach_info(approach).title in title.text
    assert approach_info(approach).flaw in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    groups = {g.get("data-box"): g for g in root.iter(f"{SVG}g") if g.get("data-box")}
    assert set(groups) == set(ids)
    for box in diagram.boxes:
        group = groups[box.id]
        assert group.get("id") == box.id
        assert group.get("data-kind") == box.kind.value
        texts = [t for t in group.iter(f"{SVG}text")]
        assert box.label in [t.text for t in texts]
        slots = [t.get("data-metric") for t in texts if t.get("class") == "metric"]
        assert slots == list(box.metrics)


def test_shared_db_draws_one_database_both_web_servers_use():
    diagram = architecture("shared_db")
    assert [box.id for box in diagram.of_kind(BoxKind.DATABASE)] == ["shared-database"]
    for kind in (BoxKind.TOPIC, BoxKind.QUEUE, BoxKind.STREAM, BoxKind.DLQ):
        assert diagram.of_kind(kind) == []
    drawn = arrows(diagram)
    assert ("customer-web", "shared-database", "writes") in drawn
    assert ("order-web", "shared-database", "writes, reads customer table") in drawn


def test_db_per_service_draws_the_rest_call_between_the_services():
    diagram = architecture("db_per_service")
    assert {box.id for box in diagram.of_kind(BoxKind.DATABASE)} == {
        "customer-database",
        "order-database",
    }
    assert ("order-web", "customer-web", "REST call") in arrows(diagram)
    assert diagram.of_kind(BoxKind.TOPIC) == []


def test_direct_publish_publishes_from_the_web_server():
    diagram = architecture("direct_publish")
    drawn = arrows(diagram)
    assert ("customer-web", "customer-events", "publish after commit") in drawn
    assert diagram.of_kind(BoxKind.RELAY) == diagram.of_kind(BoxKind.TABLE) == []
    assert ("customer-events", "order-inbox", "fan out") in drawn
    assert ("order-consumer", "order-inbox", "poll") in drawn
    assert ("order-consumer", "order-database", "applies") in drawn
    # Under plain SQS the producer sends to each inbox itself.
    sqs = arrows(architecture("direct_publish", delivery="sqs"))
    assert ("customer-web", "order-inbox", "send after commit") in sqs


@pytest.mark.parametrize("approach", ["event_sourcing", "cqrs_es"])
def test_event_sourcing_draws_an_outbox_and_its_relay(approach):
    diagram = architecture(approach)
    drawn = arrows(diagram)
    for service in ("customer", "order"):
        assert (f"{service}-web", f"{service}-outbox", "appends") in drawn
        assert (f"{service}-relay", f"{service}-outbox", "poll") in drawn
        assert (f"{service}-relay", f"{service}-events", "publish") in drawn
        assert diagram.box(f"{service}-outbox").metrics == ("outbox_backlog",)


def test_cqrs_draws_projectors_read_databases_and_query_servers():
    diagram = architecture("cqrs_es")
    assert len(diagram.of_kind(BoxKind.PROJECTOR)) == 2
    assert len(diagram.of_kind(BoxKind.QUERY)) == 2
    drawn = arrows(diagram)
    for service in ("customer", "order"):
        read = f"{service}-read-database"
        assert (f"{service}-projector", read, "projects") in drawn
        assert (f"{service}-projector", f"{service}-read-inbox", "poll") in drawn
        assert (f"{service}-query", read, "reads table") in drawn
        assert ("gateway", f"{service}-query", "routes") in drawn
    # Columns follow the pipeline, left to right.
    column = {box.id: box.column for box in diagram.boxes}
    pipeline = [
        "gateway",
        "customer-web",
        "customer-outbox",
        "customer-relay",
        "customer-events",
        "order-inbox",
        "order-consumer",
        "order-read-database",
        "order-query",
    ]
    assert [column[name] for name in pipeline] == list(range(len(pipeline)))
    assert column["customer-database"] == column["customer-outbox"]


def test_kinesis_draws_streams_instead_of_topics_and_queues():
    diagram = architecture("cqrs_es", delivery="kinesis")
    assert {box.id for box in diagram.of_kind(BoxKind.STREAM)} == {
        "customer-events",
        "order-events",
    }
    assert diagram.of_kind(BoxKind.TOPIC) == diagram.of_kind(BoxKind.QUEUE) == []
    assert len(diagram.of_kind(BoxKind.DLQ)) == 4  # each consumer's on-failure queue
    drawn = arrows(diagram)
    assert ("customer-relay", "customer-events", "put records") in drawn
    assert ("order-functions", "customer-events", "poll") in drawn
    assert ("order-functions", "order-database", "applies") in drawn
    assert ("order-functions", "order-read-database", "projects") in drawn
    assert ("order-functions", "order-inbox-dlq", "on failure") in drawn


def test_dynamodb_draws_the_event_table_and_its_stream_instead_of_an_outbox():
    diagram = architecture("event_sourcing", store="dynamodb")
    assert diagram.of_kind(BoxKind.RELAY) == []
    tables = {box.id for box in diagram.of_kind(BoxKind.TABLE)}
    assert tables == {"customer-events-store", "order-events-store"}
    drawn = arrows(diagram)
    stream = "customer-events-store-stream"
    assert diagram.box(stream).kind is BoxKind.STREAM
    assert ("customer-web", "customer-events-store", "conditional put") in drawn
    assert ("customer-events-store", stream, "streams commits") in drawn
    assert ("customer-functions", stream, "poll") in drawn
    assert ("customer-functions", "customer-events", "publish") in drawn


def test_a_change_in_the_process_table_changes_the_drawing(monkeypatch):
    real = diagrams_module.platform_processes

    def without_the_order_relay(*args, **kwargs):
        return [p for p in real(*args, **kwargs) if p.name != "order-relay"]

    monkeypatch.setattr(diagrams_module, "platform_processes", without_the_order_relay)
    ids = {box.id for box in architecture("event_sourcing").boxes}
    assert "order-relay" not in ids and "order-outbox" not in ids
    assert {"customer-relay", "customer-outbox"} <= ids


def test_a_change_in_the_topology_changes_the_drawing(monkeypatch):
    real = diagrams_module.platform_topology

    def with_analytics(**kwargs):
        return real(**kwargs, joining=("analytics",))

    monkeypatch.setattr(diagrams_module, "platform_topology", with_analytics)
    diagram = architecture("event_sourcing")
    assert diagram.box("analytics-inbox").kind is BoxKind.QUEUE
    assert diagram.box("analytics-inbox-dlq").kind is BoxKind.DLQ
    assert ("order-events", "analytics-inbox", "fan out") in arrows(diagram)
    assert ("customer-events", "analytics-inbox", "fan out") not in arrows(diagram)


def test_numbers_fill_their_slots_and_a_missing_one_reads_n_a():
    diagram = architecture("event_sourcing")
    svg = render_svg(
        diagram,
        {
            "order-inbox": {"queue_depth": 7},
            "order-consumer": {"consumer_lag": 12.345},
            "customer-web": {"requests": None},
        },
        id_prefix="es-",
    )
    root = ElementTree.fromstring(svg)

    def value(box: str, metric: str) -> str:
        group = root.find(f".//{SVG}g[@data-box='{box}']")
        assert group.get("id") == f"es-{box}"
        slot = group.find(f"{SVG}text[@data-metric='{metric}']")
        return slot.find(f"{SVG}tspan[@class='metric-value']").text

    assert value("order-inbox", "queue_depth") == "7"
    assert value("order-consumer", "consumer_lag") == "12.3"
    assert value("customer-web", "requests") == "n/a"
    assert value("customer-outbox", "outbox_backlog") == "n/a"
