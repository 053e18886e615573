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
from envoxy.views.containers import private_copy

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

    def apply(self, request: Any, response: Any, allowed_methods: Iterable[str] = ()) -> Any:
        """Return ``response`` with the CORS headers for ``request`` when its origin is
        allowed: set on a copy (see :func:`~envoxy.views.containers.private_copy`), so a
        response object a view hands every caller never carries one caller's origin to
        the next. Without an allowed ``Origin``, ``response`` itself is returned."""
        origin = request.headers.get("Origin")
        if not origin:
            return response
        credentials = False
        if self.any_origin:
            allowed_origin = "*"
        elif origin.rstrip("/") in self.origins:
            allowed_origin = origin
            credentials = True
        else:
            return response
        response = private_copy(response)
        response.access_control_allow_origin = allowed_origin
        if credentials:
            response.access_control_allow_credentials = True
            response.vary.add("Origin")
        if request.method == "OPTIONS" and request.access_control_request_method:
            methods = sorted(set(allowed_methods)) or [request.access_control_request_method]
            response.access_control_allow_methods = methods
            requested = request.access_control_request_headers
            if requested:
                response.access_control_allow_headers = requested
            response.access_control_max_age = PREFLIGHT_MAX_AGE
        return response
