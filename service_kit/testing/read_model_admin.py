"""The contract of a read model's admin: staff may look, nobody may write.

A read model is its projection's alone (``shared_events.admin.ReadModelAdmin``):
the admin shows its rows, read from the read database, and refuses add,
change and delete with 403, even to a superuser. Written once; each read
side's ``test_admin`` subclasses it with its admins' names and the rows it
projected (the ``projected`` fixture).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse


class ReadModelAdminContract:
    @pytest.fixture
    def projected(self) -> dict[str, tuple[object, str]]:
        """Per admin ("<app label>_<model name>"): a projected row's primary
        key and a text its changelist shows."""
        raise NotImplementedError

    def rows(self, name: str) -> int:
        """How many rows the read model the admin ``name`` shows holds now."""
        [model] = [
            model
            for model in admin.site._registry  # the admin's own registry
            if f"{model._meta.app_label}_{model._meta.model_name}" == name
        ]
        return model.objects.count()

    def test_staff_see_every_read_model(self, admin_client, projected):
        index = admin_client.get(reverse("admin:index")).content.decode()
        for name, (pk, text) in projected.items():
            changelist = admin_client.get(reverse(f"admin:{name}_changelist"))
            change = admin_client.get(reverse(f"admin:{name}_change", args=[pk]))

            assert reverse(f"admin:{name}_changelist") in index
            assert (changelist.status_code, change.status_code) == (200, 200), name
            assert text in changelist.content.decode(), name
            assert 'name="_save"' not in change.content.decode(), name

    def test_the_admin_cannot_add_change_or_delete_a_read_model(
        self, admin_client, projected
    ):
        for name, (pk, _) in projected.items():
            before = self.rows(name)
            add = admin_client.post(reverse(f"admin:{name}_add"), {})
            change = admin_client.post(reverse(f"admin:{name}_change", args=[pk]), {})
            delete = admin_client.post(
                reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"}
            )

            statuses = (add.status_code, change.status_code, delete.status_code)
            assert statuses == (403, 403, 403), name
            assert self.rows(name) == before, name
