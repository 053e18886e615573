"""Sample views used by the envoxy-daemon tests (loaded through ``modules``)."""

import os
import time

from envoxy.decorators import on
from envoxy.exceptions import ValidationException
from envoxy.views import View
from envoxy.views.containers import Response


@on(endpoint="/v1/items/{item_id:int}", protocols=["http"])
class ItemView(View):
    def get(self, request, item_id, **kwargs):
        return {"id": item_id, "endpoint": kwargs["endpoint"], "q": request.args.get("q")}

    def put(self, request, item_id, **kwargs):
        return {"id": item_id, "body": request.get_json()}

    def delete(self, request, item_id, **kwargs):
        raise ValidationException("item is locked", code=42, status=409)


@on(endpoint="/v1/types/{a:str}/{b:float}/{c:uuid}/{d:path}")
class TypesView(View):
    def get(self, request, a, b, c, d, **kwargs):
        return {"a": a, "b": b, "c": str(c), "c_type": type(c).__name__, "d": d}


@on(endpoint="/v1/list")
class ListView(View):
    def get(self, request, **kwargs):
        return [1, 2, 3]

    def post(self, request, **kwargs):
        return {"json": request.get_json(), "is_json": request.is_json}


@on(endpoint="/v1/empty")
class EmptyView(View):
    def get(self, request, **kwargs):
        return None

    def post(self, request, **kwargs):
        raise ValidationException("gone\r\nX-Evil: 1 ünïcode €", code=3, status=204)


@on(endpoint="/v1/boom")
class BoomView(View):
    def get(self, request, **kwargs):
        raise RuntimeError("secret internals")


@on(endpoint="/v1/slow")
class SlowView(View):
    def get(self, request, **kwargs):
        marker = request.args.get("marker")
        if marker:
            with open(marker, "w") as stream:
                stream.write("started")
        time.sleep(float(request.args.get("seconds", "2")))
        return {"slow": True, "pid": os.getpid()}


@on(endpoint="/v1/text")
class TextView(View):
    def get(self, request, **kwargs):
        return Response("plain words")


__loader__ = [ItemView, TypesView, ListView, EmptyView, BoomView, SlowView, TextView]
