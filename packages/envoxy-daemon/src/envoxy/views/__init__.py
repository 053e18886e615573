"""Envoxy views: class-based HTTP and MQTT handlers.

Usage::

    from typing import Any

    from envoxy.decorators import on
    from envoxy.views import Request, ResponseValue, View

    @on("/v1/items/{item_id:int}")
    class ItemView(View):
        def get(self, request: Request, item_id: int, **kwargs: Any) -> ResponseValue:
            return {"id": item_id}

    VIEWS = [ItemView]

Modules:

- :mod:`envoxy.views.base`: :class:`View`;
- :mod:`envoxy.views.route_spec`: :class:`RouteSpec` (what ``@on`` declares);
- :mod:`envoxy.views.containers`: :class:`Response`, :data:`ResponseValue`;
- :mod:`envoxy.views.request`: :class:`Request` (the handler's ``request``);
- :mod:`envoxy.views.routing`: URL types and the route table;
- :mod:`envoxy.views.error_responses`: the error contract (ELRC);
- :mod:`envoxy.views.exceptions`: the exceptions.
"""

from envoxy.views.base import View as View
from envoxy.views.containers import Response as Response
from envoxy.views.containers import ResponseValue as ResponseValue
from envoxy.views.request import Request as Request
from envoxy.views.route_spec import RouteSpec as RouteSpec

__all__ = ["Request", "Response", "ResponseValue", "RouteSpec", "View"]
