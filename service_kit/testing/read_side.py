"""Collect a read side's tests only where its read models exist (cqrs_es).

Under any other approach there is no ``read`` database (the read-model app is
installed, but its tables exist only there), so a read side's
``tests/conftest.py`` imports ``collect_ignore_glob`` from here and pytest
collects nothing there. The test
runner runs those tests in a pytest process of their own with
``ARCHITECTURE_APPROACH=cqrs_es``.
"""

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

try:
    _has_read_side = settings.APPROACH_HAS_READ_SIDE
except (ImproperlyConfigured, AttributeError):
    _has_read_side = False

collect_ignore_glob = [] if _has_read_side else ["test_*.py"]


def skip_unless_read_side() -> None:
    """Skip a read-side test module named explicitly under another approach.

    The directory's conftest leaves the module out; this is for naming it.
    """
    if not _has_read_side:
        pytest.skip(
            "read models are approach 5's: run under ARCHITECTURE_APPROACH=cqrs_es",
            allow_module_level=True,
        )
