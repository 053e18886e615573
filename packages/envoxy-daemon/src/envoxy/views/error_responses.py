"""The error contract: every exception becomes an HTTP answer with an ELRC reference.

- :class:`~envoxy.exceptions.ValidationException` gives its ``status``, ``code`` and
  message (meant for the caller); werkzeug HTTP errors give their status, name and
  code 0.
- An outage (:func:`envoxy.views.outages.is_outage`: a client's connect error, timeout
  or pool exhaustion) gives 503 ``Service Unavailable`` with ``Retry-After``; anything
  else gives 500 ``Internal Server Error``. Their exception text (SQL, table names,
  ``host:port``, file paths) never reaches a body: only the log has it, under the
  same ELRC.
- Requests that are JSON, or that accept JSON, get
  ``{"error": "<message> :: ELRC(<ref>)", "code": <code>}``; others get
  ``text/plain`` ``error: <message> :: ELRC(<ref>)``.
- ``X-Error: <code>`` is always set. A 204 has no body but ``X-Error-Msg: <message>``
  (CR/LF and characters outside Latin-1 replaced).
- A traceback never reaches a body: statuses of 500 and more are logged at error
  level with the exception's text and traceback (``full_message`` in GELF) and the
  ELRC, the others at warning level.

.. versionchanged:: 1.1
   Exceptions other than ``ValidationException`` answer a fixed message (their text
   was sent); outages answer 503 with ``Retry-After`` (was 500).
"""

import re
import uuid
from typing import Any

from werkzeug.exceptions import HTTPException

from envoxy.exceptions import ValidationException
from envoxy.utils.logs import log
from envoxy.views.containers import Response
from envoxy.views.outages import is_outage

__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "RETRY_AFTER_SECONDS",
    "UNAVAILABLE_MESSAGE",
    "error_response",
    "error_status_and_code",
    "new_elrc",
    "sanitize_header_value",
]

#: the body's message for an unexpected exception
INTERNAL_ERROR_MESSAGE = "Internal Server Error"
#: the body's message when a server the service depends on is unreachable
UNAVAILABLE_MESSAGE = "Service Unavailable"
#: seconds a caller is asked to wait before retrying a 503 (``Retry-After``)
RETRY_AFTER_SECONDS = 2

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def new_elrc() -> str:
    """Return a new error log reference (a uuid4 string)."""
    return str(uuid.uuid4())


def error_status_and_code(exc: BaseException) -> tuple[int, Any]:
    """Return the HTTP status and application code for ``exc`` (see the module rules)."""
    if isinstance(exc, ValidationException):
        status = exc.status
        code = exc.code
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        code = 0
    elif is_outage(exc):
        status = 503
        code = 0
    else:
        status = 500
        code = 0
    if not 100 <= status <= 599:
        status = 500
    return status, code


def error_response(
    exc: BaseException, request: Any = None, *, force_json: bool = False
) -> Response:
    """Log ``exc`` with a new ELRC and return the error response for it.

    :param exc: the exception raised while answering.
    :param request: the werkzeug request (decides JSON or text); ``None`` means text.
    :param force_json: always answer JSON (routing and auth errors).
    """
    status, code = error_status_and_code(exc)
    message = _message(exc, status)
    ref = new_elrc()
    if status >= 500:
        log.error(f"ELRC({ref}) - {status} {_detail(exc)}", exc_info=exc)
    else:
        log.warning(f"ELRC({ref}) - {status} {message}")
    text = f"{message} :: ELRC({ref})"
    headers: dict[str, str] = {"X-Error": sanitize_header_value(str(code))}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status == 204:
        headers["X-Error-Msg"] = sanitize_header_value(message)
        return Response(None, status=204, headers=headers)
    if isinstance(exc, HTTPException) and status == 405:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    if force_json or getattr(exc, "force_json", False) or _wants_json(request):
        return Response({"error": text, "code": code}, status=status, headers=headers)
    return Response(
        f"error: {text}",
        status=status,
        headers=headers,
        content_type="text/plain; charset=utf-8",
    )


def sanitize_header_value(value: str) -> str:
    """Make ``value`` safe as a header value: control characters (CR, LF…) become spaces
    and characters outside Latin-1 become ``?``."""
    cleaned = _CONTROL.sub(" ", value)
    return cleaned.encode("latin-1", "replace").decode("latin-1")


def _message(exc: BaseException, status: int) -> str:
    """The message a caller may read: never the text of an unexpected exception."""
    if isinstance(exc, ValidationException):
        text = str(exc)
        return text if text else type(exc).__name__
    if isinstance(exc, HTTPException):
        return exc.name
    return UNAVAILABLE_MESSAGE if status == 503 else INTERNAL_ERROR_MESSAGE


def _detail(exc: BaseException) -> str:
    """What the log says of ``exc``: its class and text (the traceback goes beside)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _wants_json(request: Any) -> bool:
    if request is None:
        return False
    try:
        return bool(request.is_json or request.accept_mimetypes.accept_json)
    except Exception:  # a header too broken to parse: answer text
        return False
