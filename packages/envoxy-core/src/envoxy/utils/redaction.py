"""Masking of secrets in log text, request data and error messages.

One list of sensitive names serves every place a secret can leak: HTTP headers, query
strings, JSON bodies, free log text and configuration errors. :func:`is_sensitive`
applies it:

- a name is split into lower-case tokens at every character outside ``[A-Za-z0-9]``
  and at camelCase and digit boundaries (``X-Auth-Token`` -> ``x auth token``,
  ``apiKey`` -> ``api key``, ``cvv2`` -> ``cvv 2``);
- it is sensitive when one token is in :data:`SENSITIVE_WORDS` (``code``, ``key``,
  ``pin``, ``sig``, ``auth``, ``session``, ``pass``…) or when the name with every
  character outside ``[a-z0-9]`` removed contains one of :data:`SENSITIVE_PARTS`
  (``password``, ``token``, ``secret``, ``apikey``, ``cookie``…: ``accesstoken``,
  ``PHPSESSID``);
- except when its last token is in :data:`NOT_SENSITIVE_LAST_WORDS` (``KeyError``,
  ``token_type``, ``session_ttl``): those name something about a secret, not a secret.

Short words match whole tokens only, so ``author``, ``keyboard``, ``decode`` and
``ping`` stay visible; a few harmless names are masked too (``country_code``,
``sort_key``): a masked value costs less than a leaked one. The check is
case-insensitive.

What each function masks with :data:`MASK`:

- :func:`redact` (every line of both Envoxy log formats, and :class:`RedactingFilter`):
  the credentials after ``Bearer``/``Basic``; the password in URLs
  (``postgresql://user:***@host/db``); the value after a sensitive name written
  ``name=value``, ``name: value``, ``"name": "value"`` or ``'name': value`` — a quoted
  string, a number or word, or a whole ``{...}``/``[...]``; a line that starts with
  ``Name: value`` (a header) is masked to its end;
- :func:`redact_headers`: the value of every sensitive header;
- :func:`redact_query`: the value of every sensitive query parameter (names are
  percent-decoded first) and any value holding a card number;
- :func:`redact_json`: the value of every sensitive key at any depth (whatever its
  type, except ``null``/``true``/``false``) and card numbers in any string or integer;
- :func:`safe_repr` (values in configuration errors): the whole value of a sensitive
  setting, and the user information of an address (``***@db:5432``);
- :func:`mask_card_numbers`: runs of 13 to 19 digits (single spaces or dashes allowed
  between them) that start with 2 to 6, the card networks' ranges, and pass the Luhn
  check. Millisecond timestamps (they start with 1) are left alone.
"""

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "MASK",
    "NOT_SENSITIVE_LAST_WORDS",
    "SENSITIVE_PARTS",
    "SENSITIVE_WORDS",
    "RedactingFilter",
    "is_sensitive",
    "mask_card_numbers",
    "redact",
    "redact_headers",
    "redact_json",
    "redact_query",
    "safe_repr",
]

#: What replaces a secret.
MASK = "***"

#: Tokens that make a name sensitive when they appear as a whole token of it.
SENSITIVE_WORDS: frozenset[str] = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "code",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "csc",
        "csrf",
        "cvc",
        "cvv",
        "jwt",
        "key",
        "keys",
        "otp",
        "pass",
        "passcode",
        "passphrase",
        "passwd",
        "password",
        "pin",
        "pwd",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
        "totp",
        "verifier",
        "xsrf",
    }
)

#: Substrings that make a name sensitive wherever they appear in its compact form.
SENSITIVE_PARTS: tuple[str, ...] = (
    "apikey",
    "authorization",
    "cookie",
    "credential",
    "passphrase",
    "passwd",
    "password",
    "privatekey",
    "secret",
    "sessid",
    "session",
    "signature",
    "token",
)

#: A name ending in one of these tokens describes a secret without holding one.
NOT_SENSITIVE_LAST_WORDS: frozenset[str] = frozenset(
    {
        "count",
        "error",
        "errors",
        "exception",
        "expires",
        "expiry",
        "length",
        "size",
        "ttl",
        "type",
        "warning",
    }
)


def is_sensitive(name: str) -> bool:
    """Return whether values named ``name`` must be masked (rule in the module docstring).

    :param name: a header, query parameter, JSON key or setting name, in any case.
    """
    if len(name) > _CACHED_NAME_LENGTH:
        return _is_sensitive(name)
    return _is_sensitive_cached(name)


def redact(text: str) -> str:
    """Return ``text`` with the secrets described in the module docstring replaced by ``***``.

    :param text: a log message or traceback.
    """
    lowered = text.lower()
    # Substring tests first: most lines hold none of the trigger words, and each test is
    # far cheaper than a regex scan. Each regex below only runs when it could match.
    if "bearer" in lowered or "basic" in lowered:
        text = _AUTH_SCHEME.sub(_mask_auth_scheme, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
    if ("=" in text or ":" in text) and _TRIGGER.search(lowered):
        text = _mask_named_values(text)
    return text


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return the headers as a dict, each sensitive header's value replaced by ``***``.

    :param headers: a mapping, or ``(name, value)`` pairs (e.g. werkzeug ``Headers``).
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name: MASK if is_sensitive(name) else value for name, value in items}


def redact_query(query: str) -> str:
    """Return the query string ``query`` with sensitive values replaced by ``***``.

    The parameters keep their order and raw (percent-encoded) form; a parameter is masked
    when its decoded name :func:`is_sensitive` or its decoded value holds a card number.

    :param query: the part of a URL after ``?``, without the ``?``.
    """
    if "=" not in query:
        return query
    parts = query.split("&")
    for index, part in enumerate(parts):
        name, equals, value = part.partition("=")
        if not equals or not value or value == MASK:
            continue
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if is_sensitive(name) or (
            len(value) >= _CARD_MIN_DIGITS and _has_card_number(unquote_plus(value))
        ):
            parts[index] = f"{part[: len(part) - len(value)]}{MASK}"
    return "&".join(parts)


def redact_json(value: Any) -> Any:
    """Return a copy of the JSON value ``value`` with its secrets masked.

    The value of a sensitive key becomes ``"***"`` at any depth (``null``, ``true`` and
    ``false`` are kept); card numbers are masked in every string and integer.

    :param value: a decoded JSON document (dicts, lists, strings, numbers...).
    :raises RecursionError: for a document nested deeper than the interpreter allows.
    """
    if isinstance(value, dict):
        return {
            key: MASK
            if isinstance(key, str)
            and item is not None
            and item is not True
            and item is not False
            and is_sensitive(key)
            else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    if isinstance(value, str):
        return mask_card_numbers(value) if len(value) >= _CARD_MIN_DIGITS else value
    if type(value) is int and value >= _SMALLEST_CARD_NUMBER and _has_card_number(str(value)):
        return MASK
    return value


def mask_card_numbers(text: str) -> str:
    """Return ``text`` with every card number (rule in the module docstring) replaced by ``***``.

    :param text: any text, e.g. a JSON string value or a query value.
    """
    return _CARD_NUMBER.sub(_mask_card_number, text)


def safe_repr(value: Any, name: str = "") -> str:
    """Return ``repr(value)`` for an error message, without the secrets it may hold.

    The value of a sensitive setting is not shown at all; in any other string, what
    precedes the last ``@`` (``user:password@host``) is masked, then :func:`redact` runs.

    :param value: the value at fault.
    :param name: the setting's name, e.g. ``"psql_servers.default.password"`` (its last
        dotted part is checked with :func:`is_sensitive`).
    """
    if name and is_sensitive(name.rpartition(".")[2]):
        return "(a value not shown: the setting holds a secret)"
    if isinstance(value, str) and "@" in value:
        scheme, separator, rest = value.rpartition("://")
        head = f"{scheme}{separator}" if separator else ""
        value = f"{head}{MASK}@{rest.rpartition('@')[2]}" if "@" in rest else value
    return redact(repr(value))


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that redacts each record's message (and drops its args).

    Attach it to a handler to redact what Envoxy's own formats would::

        handler.addFilter(RedactingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace ``record.msg`` with its redacted, fully formatted message; keep the record."""
        record.msg = redact(record.getMessage())
        record.args = None
        return True


#: names up to this length are remembered (a hostile client cannot fill memory with long ones)
_CACHED_NAME_LENGTH = 64

#: a name's tokens: an acronym, a capitalised or lower-case word, or digits
_NAME_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def _is_sensitive(name: str) -> bool:
    tokens = [token.lower() for token in _NAME_TOKEN.findall(name)]
    if not tokens or tokens[-1] in NOT_SENSITIVE_LAST_WORDS:
        return False
    if not SENSITIVE_WORDS.isdisjoint(tokens):
        return True
    compact = _NOT_ALPHANUMERIC.sub("", name.lower())
    return any(part in compact for part in SENSITIVE_PARTS)


_is_sensitive_cached = functools.lru_cache(maxsize=1024)(_is_sensitive)


def _triggers(words: Iterable[str]) -> tuple[str, ...]:
    """The shortest set of substrings, one of which every sensitive name contains."""
    unique = sorted(set(words), key=len)
    kept: list[str] = []
    for word in unique:
        if not any(shorter in word for shorter in kept):
            kept.append(word)
    return tuple(kept)


#: a lower-cased text that matches none of these has no sensitive name in it
_TRIGGER = re.compile("|".join(_triggers([*SENSITIVE_WORDS, *SENSITIVE_PARTS])))

_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic)(?P<space>\s+)(?!\*\*\*)[^\s,;\"']+", re.I)

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@")

#: ``name=``, ``name:``, ``"name":``, ``'name' =``… followed by the value's first character
_NAMED_VALUE = re.compile(
    r"(?<![\w.-])(?P<quote>[\"']?)(?P<name>[A-Za-z_][\w.-]*)(?P=quote)"
    r"[ \t]*(?P<separator>[:=])[ \t]*(?=[^\s])"
)
_SCHEME_PREFIX = re.compile(r"(?:bearer|basic|digest|token)\s+", re.I)
_WORD_END = re.compile(r"[\s,;&\"'}\])]")
_CLOSING = {"{": "}", "[": "]", "(": ")"}


def _mask_named_values(text: str) -> str:
    """Mask the value after each sensitive ``name=``/``name:`` in ``text``."""
    pieces: list[str] = []
    copied = 0  # text[:copied] is in pieces
    position = 0  # where the next search starts
    search = _NAMED_VALUE.search
    while (match := search(text, position)) is not None:
        start = position = match.end()
        if not is_sensitive(match["name"]):
            continue
        header = (
            match["separator"] == ":"
            and not match["quote"]
            and not text[text.rfind("\n", 0, match.start()) + 1 : match.start()].strip()
        )
        end, replacement = _value_extent(text, start, header=header)
        if end == start:  # ``name=`` with nothing after it
            continue
        pieces.append(text[copied:start])
        pieces.append(replacement)
        copied = position = end
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


def _value_extent(text: str, start: int, *, header: bool) -> tuple[int, str]:
    """Return where the value starting at ``start`` ends and what replaces it."""
    first = text[start]
    if first in "\"'":
        end = _quoted_end(text, start)
        return end, f"{first}{MASK}{first}"
    if first in _CLOSING:
        return _bracketed_end(text, start), MASK
    if header:
        # ``Name: value`` opening a line (a header): the value is the rest of the line
        newline = text.find("\n", start)
        return (len(text) if newline < 0 else newline), MASK
    prefix = _SCHEME_PREFIX.match(text, start)
    word = _WORD_END.search(text, prefix.end() if prefix else start)
    return (len(text) if word is None else word.start()), MASK


def _quoted_end(text: str, start: int) -> int:
    """Return the index after the string literal opening at ``start`` (or the text's end)."""
    match = _STRING_LITERAL[text[start]].match(text, start)
    return len(text) if match is None else match.end()


def _bracketed_end(text: str, start: int) -> int:
    """Return the index after the bracket opening at ``start`` closes (or the text's end).

    Only the brackets and quotes are visited; a value still open after
    :data:`_MAX_BRACKETED` characters is taken to run to the end of the text.
    """
    stack = [_CLOSING[text[start]]]
    limit = min(len(text), start + _MAX_BRACKETED)
    position = start + 1
    while (found := _BRACKET_OR_QUOTE.search(text, position, limit)) is not None:
        char = found[0]
        position = found.end()
        if char in "\"'":
            position = _quoted_end(text, found.start())
        elif char in _CLOSING:
            stack.append(_CLOSING[char])
        elif char == stack[-1]:
            stack.pop()
            if not stack:
                return position
    return len(text)


_STRING_LITERAL = {
    '"': re.compile(r'"(?:[^"\\]|\\.)*"', re.S),
    "'": re.compile(r"'(?:[^'\\]|\\.)*'", re.S),
}
_BRACKET_OR_QUOTE = re.compile(r"[\"'{}\[\]()]")
#: the longest ``{...}``/``[...]`` value followed to its closing bracket
_MAX_BRACKETED = 8192


def _mask_auth_scheme(match: re.Match[str]) -> str:
    return f"{match['scheme']}{match['space']}{MASK}"


_CARD_MIN_DIGITS = 13
_SMALLEST_CARD_NUMBER = 2 * 10**12
_CARD_NUMBER = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")


def _has_card_number(text: str) -> bool:
    return any(_luhn_valid(match[0]) for match in _CARD_NUMBER.finditer(text))


def _mask_card_number(match: re.Match[str]) -> str:
    return MASK if _luhn_valid(match[0]) else match[0]


def _luhn_valid(candidate: str) -> bool:
    """Return whether the digits of ``candidate`` pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(candidate.replace(" ", "").replace("-", ""))):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
