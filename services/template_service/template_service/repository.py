"""Reading and writing products through an EnvoxyBase session."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from envoxy.exceptions import ValidationException
from template_service.models import Product

__all__ = ["DUPLICATE_SKU", "NOT_FOUND", "ProductRepository"]

#: error codes of this service (HTTP 404 and 409)
NOT_FOUND = 2404
DUPLICATE_SKU = 2409


class ProductRepository:
    """Products stored in one SQLAlchemy session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, *, offset: int, limit: int, sku: str | None = None) -> tuple[list[Product], int]:
        """Return one page of products (oldest first) and the total count of the filter."""
        query = select(Product)
        if sku is not None:
            query = query.where(Product.sku == sku)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Product.created, Product.id).offset(offset).limit(limit)
        )
        return list(rows), total

    def get(self, product_id: str) -> Product:
        """Return the product, or raise a 404 ``ValidationException``."""
        product = self.session.get(Product, product_id)
        if product is None:
            raise ValidationException(f"Product {product_id} not found", code=NOT_FOUND, status=404)
        return product

    def create(self, fields: dict[str, Any]) -> Product:
        """Insert a product; a duplicate ``sku`` raises a 409 ``ValidationException``."""
        product = Product(**fields)
        self.session.add(product)
        self._flush(fields.get("sku"))
        return product

    def update(self, product_id: str, changes: dict[str, Any]) -> Product:
        """Apply ``changes`` to a product and return it."""
        product = self.get(product_id)
        for field, value in changes.items():
            setattr(product, field, value)
        self._flush(changes.get("sku"))
        return product

    def delete(self, product_id: str) -> None:
        """Delete a product (404 when it does not exist)."""
        self.session.delete(self.get(product_id))
        self.session.flush()

    def _flush(self, sku: str | None) -> None:
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise ValidationException(
                f"A product with sku {sku!r} already exists", code=DUPLICATE_SKU, status=409
            ) from exc
