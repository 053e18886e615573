"""The error contract: every exception becomes an HTTP answer with an ELRC reference.

- :class:`~envoxy.exceptions.ValidationException` gives its ``status`` and ``code``;
  werkzeug HTTP errors give their status and code 0; anything else gives 500, code 0.
- Requests that are JSON, or that accept JSON, get
  ``{"error": "<message> :: ELRC(<ref>)", "code": <code>}``; others get
  ``text/plain`` ``error: <message> :: ELRC(<ref>)``.
- ``X-Error: <code>`` is always set. A 204 has no body but ``X-Error-Msg: <message>``
  (CR/LF and characters outside Latin-1 replaced).
- A traceback never reaches a body: statuses of 500 and more are logged at error
  level with the traceback and the ELRC, the others at warning level.
"""

import re
import traceback
import uuid
from typing import Any

from werkzeug.exceptions import HTTPException

from envoxy.exceptions import ValidationException
from envoxy.utils.logs import log
from envoxy.views.containers import Response

__all__ = ["error_response", "error_status_and_code", "new_elrc", "sanitize_header_value"]

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
    message = _message(exc)
    ref = new_elrc()
    if status >= 500:
        trace = "".join(traceback.format_exception(exc))
        log.error(f"ELRC({ref}) - {message}\n{trace}")
    else:
        log.warning(f"ELRC({ref}) - {status} {message}")
    text = f"{message} :: ELRC({ref})"
    headers: dict[str, str] = {"X-Error": sanitize_header_value(str(code))}
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


def _message(exc: BaseException) -> str:
    if isinstance(exc, HTTPException) and not isinstance(exc, ValidationException):
        return exc.name
    text = str(exc)
    return text if text else type(exc).__name__


def _wants_json(request: Any) -> bool:
    if request is None:
        return False
    try:
        return bool(request.is_json or request.accept_mimetypes.accept_json)
    except Exception:  # a header too broken to parse: answer text
        return False
