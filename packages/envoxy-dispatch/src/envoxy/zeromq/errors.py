"""Errors raised by the ZeroMQ client besides :class:`~envoxy.exceptions.ValidationException`.

Hierarchy::

    EnvoxyError
    ├── PayloadEncodingError (also TypeError)   the request cannot be encoded as JSON
    └── ZmqAttemptError                         one attempt failed (retried, never escapes)
        └── ZmqTimeoutError                     no socket or no reply within ``timeout``

A request whose attempts all fail raises
``ValidationException("Service Unavailable", code=0, status=503)`` chained to the
last :class:`ZmqAttemptError`.
"""

from envoxy.exceptions import EnvoxyError

__all__ = ["PayloadEncodingError", "ZmqAttemptError", "ZmqTimeoutError"]


class PayloadEncodingError(EnvoxyError, TypeError):
    """The request (usually its ``payload`` or ``params``) cannot be encoded as JSON.

    Raised at once, before any network traffic and without retries. Convert the
    offending value to a JSON-compatible type (see ``envoxy.utils.encoders``).
    """


class ZmqAttemptError(EnvoxyError):
    """One request attempt failed: its socket was closed and the attempt may be retried."""


class ZmqTimeoutError(ZmqAttemptError):
    """No socket became free, or no reply arrived, within the server's ``timeout``."""
