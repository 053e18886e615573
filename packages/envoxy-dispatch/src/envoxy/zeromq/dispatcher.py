"""``zmqc``: the process-wide ZeroMQ client, called as in the original envoxy.

Every method is the bound method of one :class:`~envoxy.zeromq.client.ZmqClient`
configured from ``envoxy.json`` (``zmq_servers``, ``zmq_workers``, ``cache``; see
:class:`~envoxy.utils.facade.ClientFacade`); nothing is read or opened before the
first request.
"""

from envoxy.utils.deprecation import deprecated_aliases
from envoxy.utils.facade import ClientFacade
from envoxy.zeromq.client import ZmqClient
from envoxy.zeromq.envelope import validate_response
from envoxy.zeromq.headers import generate_headers

__all__ = ["Dispatcher"]

#: 0.7 names: its errors are this client's, its ``ZMQ`` singleton is kept in
#: :mod:`envoxy.zeromq.legacy`; each warns once.
__getattr__ = deprecated_aliases(
    __name__,
    {
        "NoSocketException": ("envoxy.zeromq", "ZmqAttemptError"),
        "ZMQException": ("envoxy.zeromq", "ZmqUnavailableError"),
        "ZMQ": ("envoxy.zeromq.legacy", "ZMQ", "envoxy.zeromq.zmqc"),
    },
)

_default = ZmqClient()


class Dispatcher(ClientFacade[ZmqClient], client=_default):
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
    get = staticmethod(_default.get)
    post = staticmethod(_default.post)
    put = staticmethod(_default.put)
    patch = staticmethod(_default.patch)
    delete = staticmethod(_default.delete)
    head = staticmethod(_default.head)
    send = staticmethod(_default.send)
    bulk_requests = staticmethod(_default.bulk_requests)
    close = staticmethod(_default.close)
