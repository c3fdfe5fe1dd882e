"""The one way a platform command refuses."""


class PlatformError(Exception):
    """A platform command refused; the message says why and what to do."""
