"""``zmqc``: the process-wide ZeroMQ client, called as in the original envoxy.

Every method is static and uses one :class:`~envoxy.zeromq.client.ZmqClient`
configured from ``envoxy.json`` (``zmq_servers``, ``zmq_workers``, ``cache``),
created on first use.
"""

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from envoxy.constants import Performative
from envoxy.zeromq.client import ZmqClient
from envoxy.zeromq.envelope import validate_response
from envoxy.zeromq.headers import generate_headers

__all__ = ["Dispatcher"]

_lock = threading.Lock()
_client: ZmqClient | None = None


class Dispatcher:
    """Static facade over the process's :class:`ZmqClient` (exported as ``zmqc``).

    The verb methods share one signature: ``(server_key, url, params=None,
    payload=None, headers=None, future=False)``. They return the reply dict with
    ``headers.X-Cid``, ``protocol`` and ``performative`` removed, or a
    :class:`concurrent.futures.Future` of it when ``future`` is true.

    :raises ConfigError: for an unknown server key or bad settings.
    :raises PayloadEncodingError: at once when the request cannot be encoded.
    :raises ValidationException: ``"Service Unavailable"`` (code 0, status 503)
        after ``retries`` + 1 failed attempts of ``timeout`` seconds each.
    """

    generate_headers = staticmethod(generate_headers)
    validate_response = staticmethod(validate_response)

    @staticmethod
    def instance() -> ZmqClient:
        """Return the process's client, creating it on first use."""
        client = _client
        if client is None:
            client = _create_client()
        return client

    @staticmethod
    def get(
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send a GET (performative 0)."""
        return (_client or _create_client()).request(
            server_key, Performative.GET, url, params, payload, headers, future
        )

    @staticmethod
    def post(
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send a POST (performative 2)."""
        return (_client or _create_client()).request(
            server_key, Performative.POST, url, params, payload, headers, future
        )

    @staticmethod
    def put(
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send a PUT (performative 1)."""
        return (_client or _create_client()).request(
            server_key, Performative.PUT, url, params, payload, headers, future
        )

    @staticmethod
    def patch(
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send a PATCH (performative 6)."""
        return (_client or _create_client()).request(
            server_key, Performative.PATCH, url, params, payload, headers, future
        )

    @staticmethod
    def delete(
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send a DELETE (performative 3)."""
        return (_client or _create_client()).request(
            server_key, Performative.DELETE, url, params, payload, headers, future
        )

    @staticmethod
    def head(
        server_key: str,
        url: str,
        params: Any = None,
        payload: Any = None,
        headers: Mapping[str, Any] | None = None,
        future: bool = False,
    ) -> Any:
        """Send a HEAD (performative 4)."""
        return (_client or _create_client()).request(
            server_key, Performative.HEAD, url, params, payload, headers, future
        )

    @staticmethod
    def send(server_key: str, message: Mapping[str, Any]) -> Any:
        """Send a prepared request (``resource`` and ``performative`` required).

        Missing ``headers`` are generated; the caller's dict is not modified.
        :raises ValidationException: 412 for a malformed message, 503 as above.
        """
        return (_client or _create_client()).send(server_key, message)

    @staticmethod
    def bulk_requests(items: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Run ``{server_key, performative, url, params?, payload?, headers?}`` items
        concurrently and return the replies in input order (see
        :meth:`ZmqClient.bulk_requests`)."""
        return (_client or _create_client()).bulk_requests(items)

    @staticmethod
    def close() -> None:
        """Close the process's client; the next call creates a new one from the
        current configuration. Idempotent."""
        global _client
        with _lock:
            client, _client = _client, None
        if client is not None:
            client.close()


def _create_client() -> ZmqClient:
    global _client
    with _lock:
        if _client is None:
            _client = ZmqClient()
        return _client
