"""CORS for ``enable_cors``: explicit ``cors_origins``, applied with werkzeug's header properties.

- an ``Origin`` listed in ``cors_origins`` is echoed, with credentials allowed (and
  ``Vary: Origin``);
- ``"*"`` in the list allows any origin, without credentials;
- without a list nothing is allowed (a warning is logged when the app is built).

Preflight requests (``OPTIONS`` with ``Access-Control-Request-Method``) also get the
allowed methods and the requested headers.

.. versionchanged:: 1.0
   Every origin was allowed; now only ``cors_origins``.
"""

from collections.abc import Iterable
from typing import Any

from envoxy.utils.logs import log

__all__ = ["PREFLIGHT_MAX_AGE", "CorsPolicy"]

#: seconds a browser may cache a preflight answer
PREFLIGHT_MAX_AGE = 600


class CorsPolicy:
    """Decide and set the CORS headers of responses.

    :param origins: the allowed origins (``"*"`` for any, without credentials).
    """

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(origin.rstrip("/") for origin in origins)
        self.any_origin = "*" in self.origins
        if not self.origins:
            log.warning("enable_cors is true but cors_origins is empty: no origin is allowed")

    def apply(self, request: Any, response: Any, allowed_methods: Iterable[str] = ()) -> None:
        """Set the CORS headers on ``response`` for ``request`` when its origin is allowed."""
        origin = request.headers.get("Origin")
        if not origin:
            return
        if self.any_origin:
            response.access_control_allow_origin = "*"
        elif origin.rstrip("/") in self.origins:
            response.access_control_allow_origin = origin
            response.access_control_allow_credentials = True
            response.vary.add("Origin")
        else:
            return
        if request.method == "OPTIONS" and request.access_control_request_method:
            methods = sorted(set(allowed_methods)) or [request.access_control_request_method]
            response.access_control_allow_methods = methods
            requested = request.access_control_request_headers
            if requested:
                response.access_control_allow_headers = requested
            response.access_control_max_age = PREFLIGHT_MAX_AGE
