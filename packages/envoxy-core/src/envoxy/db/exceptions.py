"""Database errors shared by envoxy-orm and envoxy-dispatch."""

from envoxy.exceptions import EnvoxyError

__all__ = ["DatabaseException"]


class DatabaseException(EnvoxyError):
    """A database operation failed: bad SQL, a pool timeout, an unknown server key."""
