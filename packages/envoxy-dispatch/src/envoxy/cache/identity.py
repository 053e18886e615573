"""Who a cached answer belongs to: the caller digest of ``@cache`` and zmqc's reply cache.

A cached answer is only ever served to the caller it was made for. Its key therefore
holds :func:`caller_digest`: a SHA-256 over

- the identity the auth plugin returned (canonical JSON: sorted keys, ``True`` and
  ``None`` as themselves), when auth ran; and
- every credential-bearing header present, by lower-case name: :data:`DEFAULT_VARY_HEADERS`
  plus the names listed in ``cache.vary_headers`` (:func:`vary_headers`).

An identity that has no canonical JSON form (an object of an unknown type) makes the
answer uncacheable rather than risk two callers sharing a key.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from envoxy.exceptions import ConfigError
from envoxy.utils.encoders import envoxy_json_encode_default

__all__ = [
    "DEFAULT_VARY_HEADERS",
    "caller_digest",
    "canonical_json",
    "credential_headers",
    "vary_headers",
]

#: request headers that carry credentials; always part of a cache key when present
DEFAULT_VARY_HEADERS: tuple[str, ...] = (
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
    "x-auth-token",
)


def vary_headers(section: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Return the lower-case names of the credential-bearing headers of a ``cache`` section.

    ``cache.vary_headers`` adds to :data:`DEFAULT_VARY_HEADERS`; it never removes one.

    :param section: the ``cache`` object of ``envoxy.json`` (``None`` or ``{}``: defaults).
    :raises ConfigError: ``vary_headers`` is not a list of header names.
    """
    extra = (section or {}).get("vary_headers") or []
    if isinstance(extra, str):
        extra = [extra]
    if not isinstance(extra, list | tuple) or not all(
        isinstance(name, str) and name.strip() and ":" not in name for name in extra
    ):
        raise ConfigError(
            f"cache.vary_headers must be a list of header names, e.g. "
            f'["X-Session-Id"], got {extra!r}'
        )
    names = dict.fromkeys(DEFAULT_VARY_HEADERS)
    names.update(dict.fromkeys(name.strip().lower() for name in extra))
    return tuple(names)


def credential_headers(
    headers: Iterable[tuple[str, Any]], names: Iterable[str] = DEFAULT_VARY_HEADERS
) -> list[tuple[str, str]]:
    """Pick the credential-bearing headers out of ``(name, value)`` pairs.

    Names are compared case-insensitively (``authorization`` is ``Authorization``);
    every occurrence is kept, so a duplicated header cannot hide behind the first.

    :returns: sorted ``(lower-case name, value)`` pairs.
    """
    wanted = frozenset(names)
    return sorted(
        (str(name).lower(), str(value))
        for name, value in headers
        if str(name).lower() in wanted and value is not None
    )


def caller_digest(identity: Any, credentials: Iterable[tuple[str, str]]) -> str | None:
    """Return the hex SHA-256 naming one caller, or ``None`` when it cannot be named safely.

    :param identity: what the auth plugin returned (``None`` when no auth ran).
    :param credentials: ``(lower-case name, value)`` pairs of :func:`credential_headers`.
    :returns: ``None`` when ``identity`` has no canonical JSON form: do not cache then.
    """
    try:
        document = canonical_json([identity, [list(pair) for pair in credentials]])
    except TypeError:
        return None
    return hashlib.sha256(document).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as JSON with sorted keys, so equal values give equal bytes.

    :raises TypeError: for a value of a type :data:`envoxy.utils.encoders.ENCODERS`
        cannot encode, or non-string keys that cannot be sorted.
    """
    try:
        return orjson.dumps(value, default=envoxy_json_encode_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if "Integer exceeds 64-bit range" not in str(exc):
            raise TypeError(str(exc)) from exc
    try:  # integers beyond 64 bits: the standard library encodes them exactly
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), default=envoxy_json_encode_default
        ).encode()
    except (ValueError, TypeError) as exc:
        raise TypeError(str(exc)) from exc


_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
