"""Bounded JSON request bodies: when a declared JSON body is parsed, and how much of it.

A 16 MB body of ``[{},{},…]`` becomes more than 5 million Python objects (~360 MB). A
parsed value costs 24 to 72 bytes, so the default budget of 200,000 values keeps a parsed
body near 15 MB. Before :func:`json.loads` runs, :func:`check_json_budget` counts what the
text would build, with C-level passes over the bytes (``count``, ``split``, ``translate``,
``replace``; never one Python object per value):

- **depth**: nested arrays and objects, at most :data:`DEFAULT_MAX_JSON_DEPTH` (64) levels
  (``max_json_depth``), else 400 :class:`~envoxy.views.exceptions.JSONTooDeepError`;
- **values**: every value, containers included (an object member counts once), at most
  :data:`DEFAULT_MAX_JSON_ELEMENTS` (``max_json_elements``), else 413
  :class:`~envoxy.views.exceptions.JSONTooLargeError`. They are counted as commas plus
  non-empty containers plus one (``[ ]`` counts as non-empty: an upper bound).

Commas and brackets inside strings do not count: when the raw count is over budget, the
text is counted again with string contents skipped (window by window, so the scan never
holds more than the text outside strings). A body too short to break either bound (fewer
brackets than the depth, fewer bytes than the value budget) is not scanned at all.

The body is parsed by orjson (:func:`parse_json_body`, through
:func:`~envoxy.utils.encoders.envoxy_json_loads`), about five times faster than
:func:`json.loads`; a body holding a run of 20 digits or more, or a minus sign and 19
digits (an integer orjson would make a float past 64 bits), by the standard library,
which keeps it exact. Both refuse (400) what is not strict JSON in UTF-8: ``NaN``,
``Infinity``, a number past a float (``1e400``), lone UTF-16 surrogates, a byte order
mark, bytes that are not UTF-8: values that could not be written back as JSON.

The daemon parses a declared JSON body before the handler runs (malformed → 400), but
for a handler behind ``@auth_required``/``@auth_anonymous_allowed`` only once the auth
decorators accepted the caller: an anonymous caller never makes a worker read or parse
its body (see :func:`declares_json_body`).
"""

import json
import math
import re
from typing import Any

from envoxy.utils.encoders import envoxy_json_loads
from envoxy.views.exceptions import JSONTooDeepError, JSONTooLargeError

__all__ = [
    "DEFAULT_MAX_JSON_DEPTH",
    "DEFAULT_MAX_JSON_ELEMENTS",
    "check_json_budget",
    "declares_json_body",
    "parse_json_body",
]

#: deepest nesting of arrays and objects accepted in a JSON request body
DEFAULT_MAX_JSON_DEPTH = 64
#: most values and members accepted in a JSON request body
DEFAULT_MAX_JSON_ELEMENTS = 200_000

#: bytes scanned at a time when string contents must be told apart (bounds the scan's memory)
_WINDOW = 64 * 1024
# keep only brackets, and make every bracket square: depth counting ignores their kind
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
# every digit and "-" becomes "0", every other byte a space: a run of 20 digits, or "-"
# and 19 (below -2**63), may be past 64 bits (one search: a second would cost 0.3 µs)
_DIGITS_ONLY = bytes(ord("0") if byte in b"0123456789-" else ord(" ") for byte in range(256))
_LONG_NUMBER = b"0" * 20
# a \uD800-\uDFFF escape: the standard library makes a lone surrogate of an unpaired one
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json_body(data: bytes) -> Any:
    """Parse a JSON body (check its budget first: :func:`check_json_budget`).

    :raises ValueError: for text that is not JSON (``json.JSONDecodeError``).
    """
    if _has_long_number(data):  # exact beyond 64 bits
        return _parse_exact(data)
    return envoxy_json_loads(data)


def _has_long_number(data: bytes) -> bool:
    """Whether ``data`` holds a run of 20 digits or a minus sign and 19 (or 20 digits and
    minus signs: those bodies are parsed exactly too), looked for window by window (a
    large body is never copied whole)."""
    if len(data) <= _WINDOW:
        return _LONG_NUMBER in data.translate(_DIGITS_ONLY)
    overlap = len(_LONG_NUMBER) - 1  # a run across two windows is in the second
    for start in range(0, len(data), _WINDOW):
        window = data[max(0, start - overlap) : start + _WINDOW]
        if _LONG_NUMBER in window.translate(_DIGITS_ONLY):
            return True
    return False


def _parse_exact(data: bytes) -> Any:
    """Parse ``data`` with the standard library, refusing what orjson refuses: text that
    is not UTF-8 (a byte order mark, an encoded surrogate), ``NaN``/``Infinity``, numbers
    past a float and lone surrogate escapes (``json.loads`` accepts them all)."""
    value = json.loads(
        data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float
    )
    if _SURROGATE_ESCAPE.search(data) is not None:  # rare: only then is every string checked
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a lone UTF-16 surrogate escape is not a character") from None
    return value


def _refuse_constant(name: str) -> Any:
    """``NaN``, ``Infinity``, ``-Infinity``: not JSON (orjson refuses them too)."""
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    """A JSON number as a float, refused past the largest float (orjson refuses ``1e400``;
    ``json.loads`` makes it infinite, which JSON cannot write back)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is past the largest float")
    return value


def declares_json_body(request: Any) -> bool:
    """Return True when ``request`` has a body (a length or chunked) declared as JSON."""
    environ = request.environ
    length = environ.get("CONTENT_LENGTH")
    return bool(
        ((length and length != "0") or "HTTP_TRANSFER_ENCODING" in environ) and request.is_json
    )


def check_json_budget(data: bytes, max_depth: int, max_elements: int) -> None:
    """Refuse a JSON text that would nest deeper or build more values than allowed.

    Malformed text is left for the parser to report: brackets that never close are not
    reported as too deep (a ``}`` closing a ``[`` counts as closing it). Besides the text
    outside strings and one byte per bracket, the scan holds one window of
    :data:`_WINDOW` bytes at a time.

    :raises JSONTooLargeError: more than ``max_elements`` values and members (413).
    :raises JSONTooDeepError: arrays and objects nested deeper than ``max_depth`` (400).
    """
    openers = data.count(b"[") + data.count(b"{")
    if openers <= max_depth and len(data) <= max_elements:
        return
    structure: bytes | bytearray | None = None
    # counted with string contents too: an upper bound, exact when no string holds , [ {
    if _elements(data) > max_elements:
        structure = _outside_strings(data)
        if _elements(structure) > max_elements:
            raise JSONTooLargeError(max_elements)
    if openers <= max_depth:
        return
    if structure is None:
        structure = _outside_strings(data)
    brackets = structure.translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(max_depth):
        if not brackets:
            return
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            return  # brackets that do not pair up: malformed, the parser says so
        brackets = inner
    if b"[]" in brackets:
        raise JSONTooDeepError(max_depth)


def _elements(text: bytes | bytearray) -> int:
    """Values in ``text``: every value but the root sits in a container of n values and
    n - 1 commas, so commas + non-empty containers + 1 (``[ ]`` counts as non-empty)."""
    containers = text.count(b"[") + text.count(b"{")
    empty = text.count(b"[]") + text.count(b"{}")
    return text.count(b",") + containers - empty + 1


def _outside_strings(data: bytes) -> bytes | bytearray:
    """``data`` without the contents of its strings (each string becomes ``""``).

    Works through windows of :data:`_WINDOW` bytes: escaped backslashes and quotes are
    dropped first, then the window is split at the remaining quotes, whose parity says
    which parts are string contents.
    """
    if b'"' not in data:
        return data
    kept = bytearray()
    inside = False
    position, size = 0, len(data)
    while position < size:
        end = min(size, position + _WINDOW)
        while end < size and data[end - 1] == 0x5C:  # never cut an escape sequence
            end += 1
        window = data[position:end]
        if b"\\" in window:
            window = window.replace(b"\\\\", b"").replace(b'\\"', b"")
        parts = window.split(b'"')
        first, last = (1 if inside else 0), len(parts) - 1
        # outside parts alternate with string contents: one "" stands for each string
        kept += b'""'.join(parts[first::2])
        if last > first and (last - first) % 2:
            kept += b'""'  # a string opens here and goes on in the next window
        inside = inside != (last % 2 == 1)
        position = end
    return kept
