"""What the write side refuses: a stale write, a history it never recorded.

The API layer turns them into HTTP answers (``service_kit.api.errors``): 409
for a conflict, 404 with the reason for a history read, 503 when the event
store (DynamoDB) did not take a commit.
"""


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


class EventStoreUnavailable(Exception):
    """The event store did not take the commit (throttled, down): HTTP 503.

    Nothing was changed, unless the reason says the answer was lost on the
    way back: then the commit may have been applied, and a client reads
    before it repeats the command (``expected_version`` makes a repeat safe).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
