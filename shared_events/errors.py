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


class NotRecorded(Exception):
    """A history read asks for something that was never recorded: HTTP 404.

    Unlike a plain unknown id, the answer says why, so a learner sees the
    difference between "no such customer" and "this approach keeps no history".
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HistoryNotKept(NotRecorded):
    """The approach stores current state only; its events were never kept."""


class VersionNotRecorded(NotRecorded):
    """The aggregate exists but has not reached the version asked for."""
