"""Envoxy views: class-based HTTP and MQTT handlers.

Usage::

    from envoxy.decorators import on
    from envoxy.views import View

    @on(endpoint="/v1/items/{item_id:int}", protocols=["http"])
    class ItemView(View):
        def get(self, request, item_id, **kwargs):
            return {"id": item_id}

Modules:

- :mod:`envoxy.views.base`: :class:`View`;
- :mod:`envoxy.views.containers`: :class:`Response`;
- :mod:`envoxy.views.request`: :class:`Request` (the handler's ``request``);
- :mod:`envoxy.views.routing`: URL types and the route table;
- :mod:`envoxy.views.error_responses`: the error contract (ELRC);
- :mod:`envoxy.views.exceptions`: the exceptions.
"""

from envoxy.views.base import View as View
from envoxy.views.containers import Response as Response
from envoxy.views.request import Request as Request

__all__ = ["Request", "Response", "View"]
