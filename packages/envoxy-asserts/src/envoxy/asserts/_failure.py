"""How a failed assertion is reported: raised, or returned as a reply dict.

Only the failure path does any work here. The reply dict's ``assertion_failed``
text names the line that called the public validator; it is worked out from the
call stack when, and only when, an assertion fails with ``reply=True``.
"""

import linecache
import os
import sys
from types import FrameType
from typing import Any, Final, NoReturn, TypedDict

from envoxy.exceptions import ValidationException

from ._values import MISSING, describe

__all__ = [
    "DEFAULT_STATUS_CODE",
    "EMPTY_KEY_ERROR_CODE",
    "INVALID_TYPE_ERROR_CODE",
    "MANDATORY_ERROR_CODE",
    "UNAUTHORIZED_STATUS_CODE",
    "Reply",
    "ReplyPayload",
    "fail",
    "fail_type",
    "raise_failure",
    "reply_failure",
]

#: HTTP status of a failed assertion (412 Precondition Failed).
DEFAULT_STATUS_CODE: Final = 412
#: HTTP status of :func:`~envoxy.asserts.assertz_unauthorized` (401 Unauthorized).
UNAUTHORIZED_STATUS_CODE: Final = 401
#: Application code of a missing mandatory value.
MANDATORY_ERROR_CODE: Final = 1200
#: Application code of :func:`~envoxy.asserts.assertz_mandatory` given an empty key.
EMPTY_KEY_ERROR_CODE: Final = 1201
#: Application code of a value of the wrong type or format.
INVALID_TYPE_ERROR_CODE: Final = 1202


class ReplyPayload(TypedDict):
    """The ``payload`` of a :class:`Reply`."""

    #: The failure message.
    text: str
    #: The application error code.
    code: int
    #: ``"<source line> failed on file <a.b.py>, line <n>"``, naming the caller.
    assertion_failed: str


class Reply(TypedDict):
    """What a validator returns on failure with ``reply=True``."""

    #: The HTTP status to answer with.
    status: int
    payload: ReplyPayload


def fail(message: str, code: int, status: int, reply: bool) -> Reply:
    """Report a failed assertion: raise it, or return its reply dict when ``reply``.

    :param message: the failure text.
    :param code: the application error code.
    :param status: the HTTP status.
    :param reply: return the :class:`Reply` instead of raising.
    :raises ValidationException: when ``reply`` is false.
    """
    if reply:
        return reply_failure(message, code, status)
    raise ValidationException(message, code=code, status=status)


def fail_type(value: Any, key: Any, code: int, status: int, reply: bool) -> Reply:
    """Report ``Invalid value type: …`` for ``value``, or for ``key`` when it was missing.

    :param value: the value at fault, or :data:`~envoxy.asserts._values.MISSING`.
    :param key: the key that was looked up (named when the value is missing).
    :param code: the application error code.
    :param status: the HTTP status.
    :param reply: return the :class:`Reply` instead of raising.
    :raises ValidationException: when ``reply`` is false.
    """
    culprit = key if value is MISSING else value
    return fail(f"Invalid value type: {describe(culprit)}", code, status, reply)


def raise_failure(message: str, code: int, status: int) -> NoReturn:
    """Raise ``ValidationException(message, code=code, status=status)``.

    :raises ValidationException: always.
    """
    raise ValidationException(message, code=code, status=status)


def reply_failure(message: str, code: int, status: int) -> Reply:
    """Build the reply dict of a failure, naming the caller of the public validator.

    :param message: the failure text.
    :param code: the application error code.
    :param status: the HTTP status.
    """
    return {
        "status": status,
        "payload": {"text": message, "code": code, "assertion_failed": _caller_description()},
    }


# Frames whose code lives in this package are the validators themselves.
_PACKAGE_PREFIX: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller_description() -> str:
    frame = _first_outside_frame(sys._getframe(1))
    if frame is None:
        return "<unknown> failed on file <unknown>, line 0"
    filename = frame.f_code.co_filename
    line_number = frame.f_lineno or 0
    source_line = linecache.getline(filename, line_number).strip() or "<source unavailable>"
    short_file = ".".join(filename.replace(os.sep, "/").split("/")[-3:])
    return f"{source_line} failed on file {short_file}, line {line_number}"


def _first_outside_frame(frame: FrameType | None) -> FrameType | None:
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_PREFIX):
        frame = frame.f_back
    return frame
