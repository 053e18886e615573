"""``default_zmq_backend``: a catch-all ``<path_prefix><path>`` proxied to ``zmqc``.

It is ranked below the views: only a request that no view answers reaches it.
The query is flattened to first values, the headers lose the hop-by-hop ones,
``Host`` and ``Content-Length`` (and ``X-Request-ID``, ``X-Cid`` and ``traceparent``:
the request's validated context is sent instead), and a JSON body is sent as the payload. The reply
is answered as ``Response(reply)``.
"""

from typing import Any

from envoxy.daemon.settings import ZmqBackendSettings
from envoxy.views.containers import HOP_BY_HOP_HEADERS, Response

__all__ = ["PROXY_METHODS", "ZmqBackendProxy"]

#: HTTP methods the proxy forwards
PROXY_METHODS: frozenset[str] = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})

#: the request context headers are sent from the (validated) bound context instead
_DROPPED_HEADERS = HOP_BY_HOP_HEADERS | {"host", "x-request-id", "x-cid", "traceparent"}


class ZmqBackendProxy:
    """Forward unmatched requests under ``path_prefix`` to the ZeroMQ server ``server_key``.

    :param settings: the ``default_zmq_backend`` settings.
    """

    def __init__(self, settings: ZmqBackendSettings) -> None:
        self.path_prefix = settings.path_prefix
        self.server_key = settings.server_key
        #: the ``route`` label of proxied requests in the metrics
        self.route_label = f"{settings.path_prefix}{{path:path}}"

    def handles(self, path: str, method: str) -> bool:
        """Tell whether a request for ``path`` with ``method`` goes to the backend."""
        return method in PROXY_METHODS and path.startswith(self.path_prefix)

    def __call__(self, request: Any) -> Response:
        """Send ``request`` to the backend and return its reply.

        :raises envoxy.exceptions.ValidationException: when the backend is unavailable (503).
        """
        from envoxy.zeromq import zmqc

        send = getattr(zmqc, request.method.lower())
        params = {name: request.args.get(name) for name in request.args} or None
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in _DROPPED_HEADERS
        }
        payload = request.get_json() if request.is_json else None
        reply = send(self.server_key, request.path, params=params, payload=payload, headers=headers)
        return Response(reply)
