"""Request-body rules of the products API, written with the ``assertz_*`` helpers.

Every failure raises ``ValidationException``: envoxyd answers 412 with the code.
"""

from typing import Any

from envoxy.asserts import (
    assertz,
    assertz_integer,
    assertz_mandatory,
    assertz_string,
)

__all__ = ["EDITABLE_FIELDS", "validate_new_product", "validate_product_changes"]

EDITABLE_FIELDS = frozenset({"sku", "name", "price_cents", "cdata"})
MAX_LENGTHS = {"sku": 64, "name": 255}
#: code of the rules this service adds on top of the typed validators
INVALID_VALUE = 1202


def validate_new_product(body: Any) -> dict[str, Any]:
    """Check a POST body and return the fields of the new product."""
    _require_object(body)
    for field in ("sku", "name"):
        assertz_mandatory(body, field)
    return _checked_fields(body)


def validate_product_changes(body: Any) -> dict[str, Any]:
    """Check a PATCH body (any subset of the editable fields) and return the changes."""
    _require_object(body)
    assertz(bool(body), "Nothing to change: send at least one field", INVALID_VALUE, 412)
    return _checked_fields(body)


def _require_object(body: Any) -> None:
    assertz(isinstance(body, dict), "The body must be a JSON object", INVALID_VALUE, 412)
    unknown = sorted(set(body) - EDITABLE_FIELDS)
    assertz(not unknown, f"Unknown fields: {', '.join(unknown)}", INVALID_VALUE, 412)


def _checked_fields(body: dict[str, Any]) -> dict[str, Any]:
    for field, limit in MAX_LENGTHS.items():
        if field in body:
            assertz_mandatory(body, field)
            assertz_string(body, field)
            assertz(
                0 < len(body[field]) <= limit,
                f"{field} must have 1 to {limit} characters",
                INVALID_VALUE,
                412,
            )
    if "price_cents" in body:
        assertz_mandatory(body, "price_cents")
        assertz_integer(body, "price_cents")
        assertz(body["price_cents"] >= 0, "price_cents must not be negative", INVALID_VALUE, 412)
    if "cdata" in body:
        assertz(isinstance(body["cdata"], dict), "cdata must be a JSON object", INVALID_VALUE, 412)
    return {field: body[field] for field in EDITABLE_FIELDS if field in body}
