"""Names and values shared by every Envoxy distribution.

They keep the names and values of the original envoxy project (``TOKEN_LENGHT``
included). The ``*_REGEX`` patterns are written to be used with
:func:`re.fullmatch`; the URI and phone patterns were corrected so that they
reject what they always should have.
"""

import enum

__all__ = [
    "CACHE_DEFAULT_TTL",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_OFFSET_LIMIT",
    "DEFAULT_STATUS_CODE",
    "DELETE",
    "EMAIL_REGEX",
    "GET",
    "HASH_CHARSET",
    "HASH_LENGTH",
    "HASH_REGEX",
    "MAX_CONN",
    "MIN_CONN",
    "PATCH",
    "PHONE_REGEX",
    "POST",
    "PUT",
    "REDIS_BACKEND",
    "SERVER_NAME",
    "TIMEOUT_CONN",
    "TOKEN_CHARSET",
    "TOKEN_LENGHT",
    "TOKEN_REGEX",
    "URI_REGEX",
    "URL_REGEX",
    "ZEROMQ_MAX_WORKERS",
    "ZEROMQ_POLLER_RETRIES",
    "ZEROMQ_POLLIN_TIMEOUT",
    "ZEROMQ_RETRY_TIMEOUT",
    "Performative",
]

# HTTP methods, as handler names.
GET = "get"
POST = "post"
PUT = "put"
PATCH = "patch"
DELETE = "delete"

SERVER_NAME = "Envoxy Server"

#: HTTP status used by validation failures that do not name one.
DEFAULT_STATUS_CODE = 412

# ZeroMQ
ZEROMQ_POLLIN_TIMEOUT = 5 * 1000  # milliseconds
ZEROMQ_RETRY_TIMEOUT = 2  # seconds between attempts
ZEROMQ_POLLER_RETRIES = 5
ZEROMQ_MAX_WORKERS = 15


class Performative(enum.IntEnum):
    """The integer verb of a ZeroMQ ("Zapata") request envelope."""

    GET = 0
    PUT = 1
    POST = 2
    DELETE = 3
    HEAD = 4
    OPTIONS = 5
    PATCH = 6
    REPLY = 7
    SEARCH = 8
    NOTIFY = 9
    TRACE = 10
    CONNECT = 11


# Databases
MIN_CONN = 1
MAX_CONN = 20
TIMEOUT_CONN = 5  # seconds
DEFAULT_CHUNK_SIZE = 10000
DEFAULT_OFFSET_LIMIT = 0

# Cache
CACHE_DEFAULT_TTL = 60 * 60  # seconds

# Redis
REDIS_BACKEND = "redis"

# Validation
HASH_LENGTH = 45
HASH_CHARSET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890"
HASH_REGEX = r"[a-zA-Z0-9]{45}"

TOKEN_LENGHT = 128
TOKEN_CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789"
TOKEN_REGEX = r"[a-z0-9]{128}"

#: Optional ``@``/``>``, a scheme of two or more characters, ``:``, then a
#: non-empty remainder without whitespace.
URL_REGEX = r"[@>]?[a-zA-Z][a-zA-Z0-9+.-]+:[^\s]+"

#: A non-empty path, an optional ``?query`` and ``#fragment``, no whitespace.
URI_REGEX = r"[^\s?#]+(?:\?[^\s#]*)?(?:#\S*)?"

EMAIL_REGEX = r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+"

#: An optional ``(1-3 digits)`` country code plus spaces, then 3 to 12 digits.
PHONE_REGEX = r"(?:\([0-9]{1,3}\) *)?[0-9]{3,12}"

#: 0.7 names that nothing used, kept for old code: each use warns once (replacement, value)
#: (1.0 had dropped the ``ZEROMQ_*`` ones: they come back deprecated since 1.0)
_DEPRECATED: dict[str, tuple[str, object, str]] = {
    "REDIS_DEFAULT_DB": ("envoxy.redis.settings.DEFAULT_DB", 1, "1.1"),
    "REDIS_DEFAULT_TTL": ("envoxy.redis.settings.DEFAULT_TTL", CACHE_DEFAULT_TTL, "1.1"),
    "REDIS_DEFAULT_HOST": ("envoxy.redis.settings.DEFAULT_HOST", "127.0.0.1", "1.1"),
    "REDIS_DEFAULT_PORT": ("envoxy.redis.settings.DEFAULT_PORT", "6379", "1.1"),
    "ZEROMQ_MAX_WORKERS_PER_THREAD": (
        "zmq_workers.context_max_workers (envoxy.zeromq.settings.DEFAULT_MAX_SOCKETS)",
        20,
        "1.0",
    ),
    "ZEROMQ_CONTEXT": ("nothing: zmqc keeps one zmq.Context per process", 1, "1.0"),
}


def __getattr__(name: str) -> object:
    """Serve the deprecated 0.7 names of :data:`_DEPRECATED`, warning once for each.

    .. deprecated:: 1.1
       ``REDIS_DEFAULT_*``: use the defaults of ``envoxy.redis.settings`` (envoxy-dispatch).
    .. deprecated:: 1.0
       ``ZEROMQ_MAX_WORKERS_PER_THREAD`` and ``ZEROMQ_CONTEXT`` (unused since 1.0).
    """
    entry = _DEPRECATED.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from envoxy.utils.deprecation import warn_deprecated

    replacement, value, since = entry
    warn_deprecated(f"envoxy.constants.{name}", replacement, since=since)
    return value
