"""Masking of secrets in log text.

:func:`redact` replaces with ``***``:

- the credentials after ``Bearer`` and ``Basic``;
- the password in URLs (``postgresql://user:***@host/db``);
- the value of any key whose name contains ``password``, ``passwd``, ``secret``,
  ``token``, ``apikey``/``api_key``/``api-key`` or ``authorization``, written
  ``key=value``, ``key: value`` or ``"key": "value"`` (single quotes too).

Both Envoxy log formats apply it to every line. :class:`RedactingFilter` does the same
for an application's own handlers.
"""

import logging
import re

__all__ = ["MASK", "RedactingFilter", "redact"]

#: What replaces a secret.
MASK = "***"


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
    if (
        "passw" in lowered
        or "secret" in lowered
        or "token" in lowered
        or "key" in lowered
        or "authorization" in lowered
    ):
        text = _KEY_VALUE.sub(_mask_key_value, text)
    return text


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


_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic)(?P<space>\s+)(?!\*\*\*)[^\s,;\"']+", re.I)

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@")

_SECRET_KEY = r"[\w.-]*?(?:password|passwd|secret|token|api[_-]?key|authorization)[\w.-]*"

_KEY_VALUE = re.compile(
    r"(?P<prefix>(?P<quote>[\"']?)\b" + _SECRET_KEY + r"(?P=quote)\s*[:=]\s*)"
    r"(?:(?P<vquote>[\"'])(?:\\.|(?!(?P=vquote))[^\\])*(?P=vquote)"
    r"|(?:(?:bearer|basic)\s+)?[^\s,;&\"'}\])]+)",
    re.I,
)


def _mask_auth_scheme(match: re.Match[str]) -> str:
    return f"{match['scheme']}{match['space']}{MASK}"


def _mask_key_value(match: re.Match[str]) -> str:
    quote = match["vquote"] or ""
    return f"{match['prefix']}{quote}{MASK}{quote}"
