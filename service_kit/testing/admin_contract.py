"""The contract of an aggregate's admin: staff may look, nobody may write.

Every write to an aggregate goes through its service's API, so that it
records events (under event sourcing: in the event store and the outbox).
What a learner should notice: the admin could write the row alone, so it
refuses, even a superuser, with 403; the event store still holds only the
one event that made the aggregate. Written once; each service's
``test_admin`` subclasses it with its admin's name, its aggregate (the
``aggregate`` fixture) and what a refused write would have sent.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from shared_events.models import StoredEvent


class ReadOnlyAggregateAdminContract:
    admin_name: str  # "<app label>_<model name>", as in the admin's URL names
    add_data: dict  # a form the add page would take
    change_data: dict  # a change the change page would take

    @pytest.fixture
    def aggregate(self):
        """The one aggregate the test looks at, made through its service."""
        raise NotImplementedError

    def on_change_page(self, aggregate) -> list[str]:
        """What the (read-only) change page shows of ``aggregate``."""
        return []

    def on_changelist(self, aggregate) -> str:
        raise NotImplementedError

    def assert_unchanged(self, aggregate) -> None:
        raise NotImplementedError

    def url(self, page: str, *args) -> str:
        return reverse(f"admin:{self.admin_name}_{page}", args=args)

    def test_staff_see_it_and_cannot_save_it(self, admin_client, aggregate):
        changelist = admin_client.get(self.url("changelist"))
        change = admin_client.get(self.url("change", aggregate.id))

        assert changelist.status_code == change.status_code == 200
        assert self.on_changelist(aggregate) in changelist.content.decode()
        for text in self.on_change_page(aggregate):
            assert text in change.content.decode()
        assert 'name="_save"' not in change.content.decode()

    def test_the_admin_cannot_add_change_or_delete_it(self, admin_client, aggregate):
        add = admin_client.post(self.url("add"), self.add_data)
        change = admin_client.post(self.url("change", aggregate.id), self.change_data)
        delete = admin_client.post(self.url("delete", aggregate.id), {"post": "yes"})

        statuses = (add.status_code, change.status_code, delete.status_code)
        assert statuses == (403, 403, 403)
        self.assert_unchanged(aggregate)
        assert StoredEvent.objects.count() == 1
