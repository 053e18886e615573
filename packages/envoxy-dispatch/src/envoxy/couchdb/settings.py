"""Connection settings of one ``couchdb_servers`` key.

``bind`` (required) is the server URL, optionally with ``user:password@``; ``user``
and ``passwd`` override those credentials. ``connect_timeout`` (5 s) limits
connecting and ``timeout`` (30 s) every read, write and pool wait; ``null`` means
no timeout, stated explicitly.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from envoxy.utils.imports import require
from envoxy.utils.settings import optional_str, timeout, url

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CONNECT_RETRIES",
    "COUCHDB_EXTRA",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_TIMEOUT",
    "SECTION",
    "CouchDBSettings",
]

#: The ``envoxy.json`` section holding the CouchDB server keys.
SECTION = "couchdb_servers"
#: What to install when httpx is missing.
COUCHDB_EXTRA = "envoxy-dispatch[couchdb]"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 30.0
#: Most connections one server key keeps open at once.
DEFAULT_MAX_CONNECTIONS = 50
#: A request that cannot connect is retried this many times (httpx transport retries,
#: with an exponential backoff). A request that was sent is never retried.
CONNECT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class CouchDBSettings:
    """Validated settings of one CouchDB server.

    :param where: ``"couchdb_servers.<key>"``, used in messages.
    :param base_url: ``bind`` without credentials and trailing slash.

    .. versionchanged:: 1.1
       ``from_config(key, conf)``, the one signature of every client (was ``(conf, where)``).
    """

    SECTION: ClassVar[str] = SECTION
    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"bind", "user", "passwd", "connect_timeout", "timeout"}
    )

    where: str
    base_url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT
    timeout: float | None = DEFAULT_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    @classmethod
    def from_config(
        cls, key: str, conf: Mapping[str, Any], *, where: str | None = None
    ) -> "CouchDBSettings":
        """Build the settings of server ``key`` from its ``couchdb_servers`` object.

        :param where: the location named in messages; default ``"couchdb_servers.<key>"``.
        :raises ConfigError: ``bind`` is missing or not an http(s) URL, or a timeout
            is invalid; the message names ``where.<setting>``.
        """
        where = where or f"{SECTION}.{key}"
        bind = url(
            conf.get("bind"),
            f"{where}.bind",
            schemes={"http", "https"},
            example="http://127.0.0.1:5984",
        )
        base_url = f"{bind.scheme}://{bind.netloc}{bind.path.rstrip('/')}"
        return cls(
            where=where,
            base_url=base_url,
            user=optional_str(conf, "user", where) or bind.user or None,
            password=optional_str(conf, "passwd", where) or bind.password or None,
            connect_timeout=timeout(conf, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, where),
            timeout=timeout(conf, "timeout", DEFAULT_TIMEOUT, where),
        )

    def worst_case(self) -> float:
        """Return the longest one request can block, in seconds (``inf`` without a
        timeout): the wait for a pooled connection (``timeout``), every connect attempt
        (``connect_timeout`` each), and the wait for the answer (``timeout``)."""
        if self.timeout is None or self.connect_timeout is None:
            return math.inf
        return 2 * self.timeout + (CONNECT_RETRIES + 1) * self.connect_timeout

    def create_client(self) -> "httpx.Client":
        """Return a pooled ``httpx.Client`` for this server (connects on first request).

        :raises MissingDependencyError: httpx is not installed (``envoxy-dispatch[couchdb]``).
        """
        httpx_module = require("httpx", COUCHDB_EXTRA)
        auth = httpx_module.BasicAuth(self.user, self.password or "") if self.user else None
        limits = httpx_module.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_connections
        )
        client: httpx.Client = httpx_module.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=httpx_module.Timeout(self.timeout, connect=self.connect_timeout),
            transport=httpx_module.HTTPTransport(retries=CONNECT_RETRIES, limits=limits),
            headers={"Accept": "application/json"},
        )
        return client
