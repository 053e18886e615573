"""Errors raised by the ZeroMQ client.

Hierarchy::

    EnvoxyError
    ├── PayloadEncodingError (also TypeError)   the request cannot be encoded as JSON
    ├── ZmqAttemptError                         one attempt failed (retried, never escapes)
    │   └── ZmqTimeoutError                     no socket or no reply within the attempt's time
    └── ClientError
        └── ZmqUnavailableError (also ValidationException, status 503, code 0)
            ├── ZmqConnectError (also ConnectError)    the last attempt failed on a socket error
            └── ZmqDeadlineError (also TimeoutError)   no reply within the call's deadline

A request whose attempts all fail, or whose ``deadline`` passes, raises a
:class:`ZmqUnavailableError` chained to the last :class:`ZmqAttemptError`. Its message is
``"Service Unavailable"`` and it is still a ``ValidationException(status=503, code=0)``,
so code written for envoxy 0.7 (``except ValidationException``) keeps working, while
new code catches :class:`envoxy.exceptions.TimeoutError` or ``ConnectError`` like for
every other client. The endpoint and the reason are in the log, never in the message.
"""

from envoxy.exceptions import (
    ClientError,
    ConnectError,
    EnvoxyError,
    TimeoutError,
    ValidationException,
)

__all__ = [
    "SERVICE_UNAVAILABLE",
    "PayloadEncodingError",
    "ZmqAttemptError",
    "ZmqConnectError",
    "ZmqDeadlineError",
    "ZmqTimeoutError",
    "ZmqUnavailableError",
]

#: Message of the error raised when a peer cannot be reached (safe for an HTTP body).
SERVICE_UNAVAILABLE = "Service Unavailable"


class PayloadEncodingError(EnvoxyError, TypeError):
    """The request (usually its ``payload`` or ``params``) cannot be encoded as JSON.

    Raised at once, before any network traffic and without retries. Convert the
    offending value to a JSON-compatible type (see ``envoxy.utils.encoders``).
    """


class ZmqAttemptError(EnvoxyError):
    """One request attempt failed: its socket was closed and the attempt may be retried."""


class ZmqTimeoutError(ZmqAttemptError):
    """No socket became free, or no reply arrived, within the attempt's time."""


class ZmqUnavailableError(ClientError, ValidationException):
    """The peer did not answer: every attempt failed or the call's deadline passed.

    ``str(exc)`` is ``"Service Unavailable"``; ``status`` 503 and ``code`` 0 as in 0.7.
    """

    def __init__(self, message: str = SERVICE_UNAVAILABLE) -> None:
        super().__init__(message, code=0, status=503)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self),))


class ZmqConnectError(ZmqUnavailableError, ConnectError):
    """The last attempt failed on a socket error (the peer could not be reached)."""


class ZmqDeadlineError(ZmqUnavailableError, TimeoutError):
    """No reply arrived within the call's deadline (``zmq_servers.<key>.deadline``) or
    within the last attempt's ``timeout``: the peer is down, frozen or too slow."""
