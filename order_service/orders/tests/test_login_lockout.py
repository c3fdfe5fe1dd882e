"""Password guessing on the order service's own login forms (django-axes)."""

from service_kit.testing.login_lockout import LoginLockoutContract


class TestOrderServiceLoginLockout(LoginLockoutContract):
    pass
