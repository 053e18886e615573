"""The views envoxyd serves for this service (``packages: ["template_service"]``).

The MQTT view is loaded only when ``mqtt_servers`` is configured.
"""

from template_service.notifications import mqtt_server_key
from template_service.views import ProductCollection, ProductEvents, ProductItem

VIEWS = [ProductCollection, ProductItem]
if mqtt_server_key() is not None:
    VIEWS.append(ProductEvents)
