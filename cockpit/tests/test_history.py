"""An event browser's table from history answers (the shape the services send).

``test_on_a_platform`` reads real histories over HTTP; here the answers'
items are written as ``StoredEventOutputSerializer`` gives them.
"""

from __future__ import annotations

import pytest

from cockpit.history import HistoryEvent, history_url, render_history

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def item(version: int, event_type: str, *, cause=None, traceparent=None) -> dict:
    return {
        "event_id": f"00000000-0000-0000-0000-00000000000{version}",
        "event_type": event_type,
        "schema_version": 1,
        "aggregate_version": version,
        "occurred_at": f"2026-12-06T03:0{version}:00Z",
        "recorded_at": f"2026-12-06T03:0{version}:00Z",
        "payload": {},
        "correlation_id": "11111111-1111-1111-1111-111111111111",
        "causation_id": cause,
        "trace_context": {"traceparent": traceparent} if traceparent else None,
    }


def test_an_event_keeps_its_envelope_and_its_traces_id():
    event = HistoryEvent.of_answer(
        item(2, "CustomerDeleted", traceparent=f"00-{TRACE}-00f067aa0ba902b7-01")
    )

    assert (event.event_type, event.version, event.trace_id) == (
        "CustomerDeleted",
        2,
        TRACE,
    )
    assert event.correlation_id == "11111111-1111-1111-1111-111111111111"


def test_each_row_folds_the_whole_recorded_event_with_its_payload():
    answer = item(1, "CustomerRegistered")
    answer["payload"] = {"name": "Ada <Lovelace>", "email": "ada@example.com"}

    table = render_history([HistoryEvent.of_answer(answer)])

    assert "<details><summary>v1 CustomerRegistered</summary>" in table
    # The payload, escaped: a name is data, never markup.
    assert "Ada &lt;Lovelace&gt;" in table
    assert "&quot;schema_version&quot;: 1" in table


def test_a_malformed_or_missing_traceparent_gives_no_trace():
    assert HistoryEvent.of_answer(item(1, "CustomerRegistered")).trace_id is None
    broken = item(1, "CustomerRegistered", traceparent="00-xyz-01")
    assert HistoryEvent.of_answer(broken).trace_id is None


def test_the_table_links_each_trace_and_a_cause_found_in_this_history():
    first = HistoryEvent.of_answer(
        item(1, "CustomerRegistered", traceparent=f"00-{TRACE}-00f067aa0ba902b7-01")
    )
    second = HistoryEvent.of_answer(item(2, "CustomerRenamed", cause=first.event_id))
    elsewhere = HistoryEvent.of_answer(
        item(3, "CustomerDeleted", cause="99999999-9999-9999-9999-999999999999")
    )

    table = render_history([first, second, elsewhere])

    assert table.count("<tr id=") == 3
    assert f'<a href="/traces/{TRACE}/">' in table
    assert f'<a href="#event-{first.event_id}">' in table
    # A cause in another aggregate's history is named, not linked.
    assert "<td><code>99999999-9999-9999-9999-999999999999</code></td>" in table


def test_an_empty_history_says_so():
    assert "no events" in render_history([])


def test_the_url_names_the_aggregate_and_refuses_another():
    assert (
        history_url(base_url="http://gw/", aggregate="orders", aggregate_id="x y")
        == "http://gw/api/orders/x%20y/history/"
    )
    assert (
        history_url(
            base_url="http://gw", aggregate="customers", aggregate_id="1", api_prefix=""
        )
        == "http://gw/customers/1/history/"
    )
    with pytest.raises(ValueError, match="customers, orders"):
        history_url(base_url="http://gw", aggregate="users", aggregate_id="1")
