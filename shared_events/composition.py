"""What both composition roots share: build once per approach, override in tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Generic, TypeVar

from django.conf import settings

from shared_events.approaches import Approach, parse_approach

W = TypeVar("W")


class WiringCache(Generic[W]):
    """Builds a service's wiring once per approach; lets a test swap adapters."""

    def __init__(self, build: Callable[[Approach], W]) -> None:
        self.build = build
        self._cache: dict[Approach, W] = {}
        self._override: W | None = None

    def wiring(self) -> W:
        """The adapters for the current approach (``ARCHITECTURE_APPROACH``)."""
        if self._override is not None:
            return self._override
        approach = parse_approach(settings.ARCHITECTURE_APPROACH)
        if approach not in self._cache:
            self._cache[approach] = self.build(approach)
        return self._cache[approach]

    @contextmanager
    def overridden(self, **adapters) -> Iterator[W]:
        """Swap adapters for a test, e.g. ``overridden(customer_directory=fake)``."""
        previous = self._override
        self._override = replace(self.wiring(), **adapters)
        try:
            yield self._override
        finally:
            self._override = previous
