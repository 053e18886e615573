"""What a write tells the outside world: an MQTT event and stale cached reads dropped.

Both are optional and follow envoxy.json: events go out only when ``mqtt_servers``
is configured, cached reads exist only when the ``cache`` section is.
"""

from typing import Any

from envoxy import mqttc
from envoxy.utils.config import Config
from envoxy.utils.logs import log

__all__ = ["PRODUCTS_PATH", "cache_enabled", "mqtt_server_key", "product_changed"]

PRODUCTS_PATH = "/v1/products"


def mqtt_server_key() -> str | None:
    """The first ``mqtt_servers`` key, or ``None`` when MQTT is not configured."""
    servers = Config.get("mqtt_servers")
    return next(iter(servers), None) if isinstance(servers, dict) else None


def cache_enabled() -> bool:
    """Whether reads are cached: the ``cache`` section is configured."""
    return bool(Config.get("cache"))


def product_changed(event: str, product: dict[str, Any]) -> None:
    """Publish ``event`` for a product on ``/v1/products/<id>`` and drop cached reads.

    A broker or cache that is down is logged and does not fail the write, which is
    already committed.
    """
    if cache_enabled():
        from envoxy.cache import Cache

        try:
            Cache().invalidate(PRODUCTS_PATH)
        except Exception as exc:
            log.warning(f"products: could not drop cached reads ({type(exc).__name__}: {exc})")
    server_key = mqtt_server_key()
    if server_key is not None:
        topic = f"{PRODUCTS_PATH}/{product['id']}"
        if not mqttc.publish(server_key, topic, {"event": event, "product": product}):
            log.warning(f"products: event {event} for {product['id']} was not published")
