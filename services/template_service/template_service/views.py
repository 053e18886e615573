"""HTTP and MQTT views of the products API."""

from typing import Any

from envoxy import View, on
from envoxy.db.orm.session import session_scope
from envoxy.decorators import cache, log_event
from envoxy.exceptions import ValidationException
from envoxy.utils.logs import log
from envoxy.views import Request
from template_service.notifications import (
    PRODUCTS_PATH,
    cache_enabled,
    mqtt_server_key,
    product_changed,
)
from template_service.repository import ProductRepository
from template_service.validation import validate_new_product, validate_product_changes

__all__ = ["CACHE_TTL", "DEFAULT_PAGE_SIZE", "ProductCollection", "ProductEvents", "ProductItem"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CACHE_TTL = 60
INVALID_QUERY = 1202


def cached_read(handler: Any) -> Any:
    """``@cache`` the handler when the ``cache`` section is configured."""
    return cache(ttl=CACHE_TTL)(handler) if cache_enabled() else handler


@on(endpoint=PRODUCTS_PATH, protocols=["http"])
class ProductCollection(View):
    """``GET`` a page of products (``page_size``, ``page_start_index``, ``sku``); ``POST`` one."""

    @cached_read
    def get(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        limit = _int_arg(request, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        offset = _int_arg(request, "page_start_index", 0, 0, None)
        with session_scope() as session:
            products, total = ProductRepository(session).page(
                offset=offset, limit=limit, sku=request.args.get("sku")
            )
            elements = [product.to_dict() for product in products]
        return {"elements": elements, "size": len(elements), "total": total}

    def post(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        fields = validate_new_product(request.get_json())
        with session_scope() as session:
            product = ProductRepository(session).create(fields).to_dict()
        product_changed("created", product)
        return {"status": 201, "payload": product}


@on(endpoint=PRODUCTS_PATH + "/{product_id:str}", protocols=["http"])
class ProductItem(View):
    """``GET``, ``PATCH`` or ``DELETE`` one product by id."""

    @cached_read
    def get(self, request: Request, product_id: str, **kwargs: Any) -> dict[str, Any]:
        with session_scope() as session:
            return ProductRepository(session).get(product_id).to_dict()

    def patch(self, request: Request, product_id: str, **kwargs: Any) -> dict[str, Any]:
        changes = validate_product_changes(request.get_json())
        with session_scope() as session:
            product = ProductRepository(session).update(product_id, changes).to_dict()
        product_changed("updated", product)
        return product

    def delete(self, request: Request, product_id: str, **kwargs: Any) -> None:
        with session_scope() as session:
            ProductRepository(session).delete(product_id)
        product_changed("deleted", {"id": product_id})


@on(endpoint=PRODUCTS_PATH + "/+", protocols=["mqtt"], server=mqtt_server_key())
class ProductEvents(View):
    """Log every product event consumed from the broker."""

    @log_event
    def on_event(self, data: Any, **meta: Any) -> None:
        event = data.get("event") if isinstance(data, dict) else None
        log.info(f"products: consumed {event or 'an unknown event'} on {meta.get('topic')}")


def _int_arg(request: Request, name: str, default: int, minimum: int, maximum: int | None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        bound = f"between {minimum}{upper}" if upper else f"at least {minimum}"
        raise ValidationException(
            f"{name} must be an integer {bound}", code=INVALID_QUERY, status=412
        )
    return value
