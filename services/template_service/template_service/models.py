"""The service's models: one table, ``aux_products``."""

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from envoxy.db.orm import EnvoxyBase

__all__ = ["Product"]


class Product(EnvoxyBase):
    """A product; ``id``, ``created``, ``updated`` and ``href`` come from EnvoxyBase."""

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    cdata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def to_dict(self) -> dict[str, Any]:
        """The product as the API returns it."""
        return {
            "id": self.id,
            "href": self.href,
            "created": self.created,
            "updated": self.updated,
            "sku": self.sku,
            "name": self.name,
            "price_cents": self.price_cents,
            "cdata": self.cdata,
        }
