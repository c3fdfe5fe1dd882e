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


class CommandRefused(Exception):
    """The domain refused a command for the state the aggregate is in, and
    recorded the refusal as an event: HTTP 409 with the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DependencyUnavailable(Exception):
    """A service this one depends on synchronously cannot be reached: HTTP 503."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
