"""SQL types for model declarations: ``from envoxy.db.orm.sqltypes import String, JSONB``.

``Decimal`` is SQLAlchemy's ``Numeric``; ``UUID``, ``JSONB`` and ``ARRAY`` are the
PostgreSQL dialect types.
"""

from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.types import (
    DECIMAL,
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    Unicode,
    UnicodeText,
)

__all__ = [
    "ARRAY",
    "DECIMAL",
    "JSON",
    "JSONB",
    "UUID",
    "BigInteger",
    "Boolean",
    "Date",
    "DateTime",
    "Decimal",
    "Enum",
    "Float",
    "Integer",
    "Interval",
    "Numeric",
    "SmallInteger",
    "String",
    "Text",
    "Time",
    "Unicode",
    "UnicodeText",
]

#: Fixed-precision decimal column type (SQLAlchemy's ``Numeric``).
Decimal = Numeric
