"""Errors a service raises that the API layer turns into HTTP answers."""


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


class ConcurrencyConflict(Exception):
    """The write was based on a stale version of the aggregate: HTTP 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
