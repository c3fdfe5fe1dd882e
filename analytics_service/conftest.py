"""Fixtures for the analytics service's tests; the shared ones come from
``service_kit.testing.fixtures`` (a staff user, API clients) and the local
AWS from ``stack.moto_fixtures``."""

pytest_plugins = ["service_kit.testing.fixtures", "stack.moto_fixtures"]
