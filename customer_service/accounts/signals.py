"""Access that a change to a user takes away: its refresh tokens are revoked.

When a user is deleted, deactivated, demoted from staff or given a new
password, every refresh token it holds is blacklisted
(``services.user_tokens_revoke``), so no new access token can be had with
one; whoever still holds a session must sign in again, and gets only what
the user is now. Connected in ``AccountsConfig.ready``.

What a learner should notice: this listens to saves of the user model, so
the admin, ``manage.py`` commands and services all revoke alike; a bulk
``QuerySet.update()`` sends no signal and so revokes nothing (use ``save``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from customer_service.accounts.services import user_tokens_revoke

# A change to one of these fields takes access away.
GUARDED_FIELDS = ("is_active", "is_staff", "password")


def revoke_tokens_of_a_changed_user(sender, instance, update_fields=None, **kwargs):
    """pre_save: revoke when the save takes a right away (or the password)."""
    if instance.pk is None:
        return  # a new user holds no tokens
    if update_fields is not None and not set(GUARDED_FIELDS) & set(update_fields):
        return  # e.g. last_login on every sign-in: nothing to compare
    before = (
        get_user_model().objects.filter(pk=instance.pk).values(*GUARDED_FIELDS).first()
    )
    if before is None:
        return
    if (
        (before["is_active"] and not instance.is_active)
        or (before["is_staff"] and not instance.is_staff)
        or before["password"] != instance.password
    ):
        user_tokens_revoke(user=instance)


def revoke_tokens_of_a_deleted_user(sender, instance, **kwargs):
    """pre_delete: the tokens would outlive the user (their link is nulled)."""
    user_tokens_revoke(user=instance)
