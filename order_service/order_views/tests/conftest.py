"""The order views' tests run only under cqrs_es (see the module)."""

from service_kit.testing.read_side import collect_ignore_glob  # noqa: F401
