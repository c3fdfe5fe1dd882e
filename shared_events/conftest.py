"""Fixtures for every shared_events test package: one local AWS per session.

Tests that need an empty broker reset it themselves (``MotoServer.reset``,
``relay_support.fresh_broker``, the ``aws`` fixture of ``transport/tests``).
"""

pytest_plugins = ["stack.moto_fixtures"]
