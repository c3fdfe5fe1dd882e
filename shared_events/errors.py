"""Errors a service raises that the API layer turns into HTTP answers.

The write side's own refusals (a stale version, a history never kept) live
with the code that raises them, in ``shared_events.write_side.errors``.
"""


class ApplicationError(Exception):
    """A request that the domain refuses; becomes HTTP 400 with the field named."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DependencyUnavailable(Exception):
    """A service this one depends on synchronously cannot be reached: HTTP 503."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
