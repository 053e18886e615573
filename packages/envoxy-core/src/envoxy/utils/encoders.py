"""JSON encoding for Envoxy payloads: orjson, plus a :class:`json.JSONEncoder` twin.

:func:`envoxy_json_dumps` and :class:`EnvoxyJsonEncoder` convert the same types the
same way (one table, :data:`ENCODERS`):

- ``datetime`` → UTC ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` (naive counts as UTC; milliseconds
  truncated); ``date`` and ``time`` → ISO strings;
- ``Decimal`` → a number (``null`` for NaN/infinity); ``UUID`` → its string;
- sets, frozensets and dict views → arrays; enums → their value;
- ints outside 64 bits → strings, wherever they are nested;
- anything else → :class:`TypeError` naming the type.
"""

import datetime
import decimal
import enum
import json
import uuid
from collections.abc import Callable, ItemsView, Iterator, KeysView, MappingView, ValuesView
from typing import Any

import orjson

from envoxy.utils.datetime import format_api

__all__ = [
    "ENCODERS",
    "EnvoxyJsonEncoder",
    "envoxy_json_dumps",
    "envoxy_json_encode_default",
    "envoxy_json_loads",
]


def envoxy_json_encode_default(obj: Any) -> Any:
    """Return a JSON-native stand-in for ``obj`` using :data:`ENCODERS`.

    :param obj: a value orjson or :mod:`json` cannot encode by itself.
    :raises TypeError: when no entry of :data:`ENCODERS` matches ``type(obj)``.
    """
    encoder = ENCODERS.get(type(obj))
    if encoder is not None:
        return encoder(obj)
    for kind, encoder in ENCODERS.items():
        if isinstance(obj, kind):
            return encoder(obj)
    raise TypeError(
        f"Object of type {type(obj).__name__} is not JSON serializable; convert it to a "
        "dict, list, str, number, bool or None first"
    )


def envoxy_json_dumps(obj: Any) -> bytes:
    """Serialize ``obj`` to UTF-8 JSON bytes with orjson and :data:`ENCODERS`.

    :param obj: the value to encode.
    :raises TypeError: for a value of an unsupported type (``orjson.JSONEncodeError`` is
        a ``TypeError``), or a dict key that is not a string.
    """
    try:
        return orjson.dumps(obj, default=envoxy_json_encode_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if "Integer exceeds 64-bit range" not in str(exc):
            raise
    return orjson.dumps(
        _without_big_ints(obj), default=envoxy_json_encode_default, option=_ORJSON_OPTIONS
    )


def envoxy_json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text or UTF-8 bytes.

    :raises ValueError: for invalid JSON (``orjson.JSONDecodeError``, a
        :class:`json.JSONDecodeError` with ``lineno`` and ``colno``).
    """
    return orjson.loads(data)


class EnvoxyJsonEncoder(json.JSONEncoder):
    """A :class:`json.JSONEncoder` giving the same output types as :func:`envoxy_json_dumps`.

    Use it where an API takes an encoder class: ``json.dumps(value, cls=EnvoxyJsonEncoder)``.
    """

    def default(self, o: Any) -> Any:
        """Return a JSON-native stand-in for ``o``; see :func:`envoxy_json_encode_default`."""
        return envoxy_json_encode_default(o)

    def iterencode(self, o: Any, _one_shot: bool = False) -> Iterator[str]:
        """Encode ``o`` in chunks, turning ints outside 64 bits into strings first."""
        return super().iterencode(_without_big_ints(o), _one_shot)


def _encode_decimal(value: decimal.Decimal) -> float | None:
    return float(value) if value.is_finite() else None


def _encode_datetime(value: datetime.datetime) -> str:
    return format_api(value)


def _encode_iso(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


def _encode_enum(value: enum.Enum) -> Any:
    return value.value


#: Type → converter shared by both encoders, tried in order with :func:`isinstance`
#: (so ``datetime`` comes before its base class ``date``).
ENCODERS: dict[type, Callable[[Any], Any]] = {
    datetime.datetime: _encode_datetime,
    datetime.date: _encode_iso,
    datetime.time: _encode_iso,
    decimal.Decimal: _encode_decimal,
    uuid.UUID: str,
    set: list,
    frozenset: list,
    MappingView: list,
    enum.Enum: _encode_enum,
}

_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


def _without_big_ints(value: Any) -> Any:
    """Return ``value`` with ints outside 64 bits as strings (containers are copied)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if not _INT64_MIN <= value <= _UINT64_MAX else value
    if isinstance(value, dict):
        return {key: _without_big_ints(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset | KeysView | ValuesView | ItemsView):
        return [_without_big_ints(item) for item in value]
    return value
