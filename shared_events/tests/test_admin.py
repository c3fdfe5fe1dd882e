"""The event tables in the admin: staff can look, nobody can add, change, delete."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from shared_events.models import (
    AggregateCursor,
    OutboxMessage,
    ProcessedEvent,
    StoredEvent,
)
from shared_events.testing import customer_events
from shared_events.write_side import event_store_append, outbox_append

pytestmark = pytest.mark.django_db

MODELS = ["storedevent", "outboxmessage", "processedevent", "aggregatecursor"]
HOSTILE_NAME = "<script>alert(1)</script>"


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:shared_events_{model}_{view}", args=args)


@pytest.fixture
def staff_client(client):
    """A staff member allowed to view the event tables, and nothing more."""
    staff = get_user_model().objects.create_user(
        username="instructor", password=None, is_staff=True
    )
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="shared_events",
            codename__in=[f"view_{model}" for model in MODELS],
        )
    )
    client.force_login(staff)
    return client


@pytest.fixture
def recorded():
    """One event, stored and queued, with a name that is also an XSS attempt."""
    customer_id = uuid.uuid4()
    envelope = customer_events.registered(customer_id, name=HOSTILE_NAME)
    (event,) = event_store_append(envelopes=[envelope], expected_version=0)
    (message,) = outbox_append(envelopes=[envelope])
    renamed = customer_events.renamed(customer_id, version=2, name="Ada")
    event_store_append(envelopes=[renamed], expected_version=1)
    outbox_append(envelopes=[renamed])
    OutboxMessage.objects.filter(event_id=renamed.event_id).update(
        published_at=timezone.now()
    )
    return event, message


def escaped_json_line(key: str, value: str) -> str:
    """How ``"key": "value"`` reads in the page once HTML-escaped."""
    value = value.replace("<", "&lt;").replace(">", "&gt;")
    return f"&quot;{key}&quot;: &quot;{value}&quot;"


def test_staff_see_the_event_store_changelist(staff_client, recorded):
    event, _ = recorded

    response = staff_client.get(admin_url("storedevent", "changelist"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "CustomerRegistered" in content
    assert "CustomerRenamed" in content
    assert str(event.aggregate_id) in content


def test_the_change_page_shows_the_decoded_payload_escaped(staff_client, recorded):
    event, _ = recorded

    response = staff_client.get(admin_url("storedevent", "change", event.id))

    assert response.status_code == 200
    content = response.content.decode()
    assert escaped_json_line("name", HOSTILE_NAME) in content
    assert escaped_json_line("email", "ada@example.com") in content
    assert HOSTILE_NAME not in content
    assert "<pre" in content  # pretty-printed, one key a line
    assert f"\n  {escaped_json_line('address', 'London')}" in content
    assert escaped_json_line("producer", "customer") in content  # metadata
    # View only: no form to save, no link to delete.
    assert 'name="_save"' not in content
    assert admin_url("storedevent", "delete", event.id) not in content


def test_the_outbox_change_page_shows_the_decoded_envelope(staff_client, recorded):
    _, message = recorded

    response = staff_client.get(admin_url("outboxmessage", "change", message.id))

    assert response.status_code == 200
    content = response.content.decode()
    assert escaped_json_line("event_type", "CustomerRegistered") in content
    assert escaped_json_line("name", HOSTILE_NAME) in content
    assert HOSTILE_NAME not in content


def test_an_outbox_body_that_is_not_json_is_shown_as_stored(staff_client):
    message = OutboxMessage.objects.create(
        event_id=uuid.uuid4(),
        event_type="CustomerRenamed",
        aggregate_type="Customer",
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        body="<not json>",
    )

    response = staff_client.get(admin_url("outboxmessage", "change", message.id))

    assert response.status_code == 200
    assert "&lt;not json&gt;" in response.content.decode()


@pytest.mark.parametrize(
    ("model", "query", "shown", "hidden"),
    [
        ("storedevent", {"event_type": "CustomerRenamed"}, "Renamed", "Registered"),
        ("outboxmessage", {"published": "no"}, "Registered", "Renamed"),
        ("outboxmessage", {"published": "yes"}, "Renamed", "Registered"),
    ],
)
def test_the_changelists_filter(staff_client, recorded, model, query, shown, hidden):
    response = staff_client.get(admin_url(model, "changelist"), query)

    assert response.status_code == 200
    listed = {row.event_type for row in response.context["cl"].result_list}
    assert listed == {f"Customer{shown}"}
    assert f"Customer{hidden}" in response.content.decode()  # a filter choice


@pytest.mark.parametrize("model", ["storedevent", "outboxmessage"])
def test_the_changelists_search_by_aggregate_id_and_event_id(
    staff_client, recorded, model
):
    event, _ = recorded
    other = customer_events.registered(
        uuid.uuid4(), name="Grace", email="grace@example.com", address="Arlington"
    )
    event_store_append(envelopes=[other], expected_version=0)
    outbox_append(envelopes=[other])
    url = admin_url(model, "changelist")

    by_aggregate = staff_client.get(url, {"q": str(event.aggregate_id)})
    by_event = staff_client.get(url, {"q": str(other.event_id)})

    found = by_aggregate.context["cl"].result_list
    assert sorted(row.aggregate_version for row in found) == [1, 2]
    assert {row.aggregate_id for row in found} == {event.aggregate_id}
    assert [str(row.event_id) for row in by_event.context["cl"].result_list] == [
        str(other.event_id)
    ]


def test_the_consumer_tables_are_listed_and_filtered_by_consumer(staff_client):
    aggregate_id = uuid.uuid4()
    ProcessedEvent.objects.create(
        consumer="order",
        event_id=uuid.uuid4(),
        event_type="CustomerDeleted",
        aggregate_id=aggregate_id,
        aggregate_version=3,
        occurred_at=timezone.now(),
    )
    cursor = AggregateCursor.objects.create(
        consumer="order",
        aggregate_type="Customer",
        aggregate_id=aggregate_id,
        version=3,
    )

    processed = staff_client.get(
        admin_url("processedevent", "changelist"), {"consumer": "order"}
    )
    cursors = staff_client.get(
        admin_url("aggregatecursor", "changelist"), {"consumer": "order"}
    )
    cursor_page = staff_client.get(admin_url("aggregatecursor", "change", cursor.id))

    assert processed.status_code == cursors.status_code == 200
    assert "CustomerDeleted" in processed.content.decode()
    assert str(aggregate_id) in cursors.content.decode()
    assert cursor_page.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_nobody_may_add_an_event_row_not_even_a_superuser(admin_client, model):
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "add"), {}).status_code == 403


def test_nobody_may_delete_or_change_a_stored_event(admin_client, recorded):
    event, message = recorded

    delete = admin_client.post(
        admin_url("storedevent", "delete", event.id), {"post": "yes"}
    )
    change = admin_client.post(
        admin_url("storedevent", "change", event.id), {"event_type": "Forged"}
    )
    bulk_delete = admin_client.post(
        admin_url("outboxmessage", "changelist"),
        {"action": "delete_selected", "_selected_action": [message.id]},
    )

    assert delete.status_code == 403
    assert change.status_code == 403
    assert bulk_delete.status_code in (200, 302)  # no such action: nothing done
    assert StoredEvent.objects.get(id=event.id).event_type == "CustomerRegistered"
    assert OutboxMessage.objects.filter(id=message.id).exists()


def test_staff_without_the_view_permission_see_nothing(client, recorded):
    staff = get_user_model().objects.create_user(
        username="visitor", password=None, is_staff=True
    )
    client.force_login(staff)

    response = client.get(admin_url("storedevent", "changelist"))

    assert response.status_code == 403
