"""Request validation: the ``assertz_*`` family.

Each validator returns None when its check passes. When it fails it raises
:class:`envoxy.exceptions.ValidationException` with a message, an application
``code`` (1202 by default, 1200 for a missing mandatory value) and an HTTP
``status`` (412 by default, 401 for :func:`assertz_unauthorized`)::

    from envoxy.asserts import assertz_email, assertz_integer, assertz_mandatory

    assertz_mandatory(body, "email")   # present and not None ("" passes)
    assertz_email(body, "email")       # Invalid email
    assertz_integer(body, "age")       # Invalid value type: ...

With ``reply=True``, or through the ``assertz_<name>_reply`` variant, a failure
returns the reply dict instead of raising::

    {"status": 412, "payload": {"text": "Invalid email", "code": 1202,
     "assertion_failed": "assertz_email_reply(body, 'email') failed on file
     myservice.views.users.py, line 42"}}

A validator never lets ``KeyError``, ``TypeError`` or any other error of the
value it checks escape: bad input is a validation failure.
"""

from ._expressions import (
    assertz,
    assertz_call,
    assertz_intersects,
    assertz_mandatory,
    assertz_reply,
    assertz_unauthorized,
    assertz_valid_values,
)
from ._failure import (
    DEFAULT_STATUS_CODE,
    EMPTY_KEY_ERROR_CODE,
    INVALID_TYPE_ERROR_CODE,
    MANDATORY_ERROR_CODE,
    UNAUTHORIZED_STATUS_CODE,
    Reply,
    ReplyPayload,
)
from ._formats import (
    assertz_ascii,
    assertz_email,
    assertz_hash,
    assertz_phone,
    assertz_regex,
    assertz_token,
    assertz_uri,
    assertz_url,
    assertz_utf8,
)
from ._reply import (
    assertz_array_even_empty_reply,
    assertz_array_reply,
    assertz_ascii_reply,
    assertz_boolean_reply,
    assertz_complex_reply,
    assertz_dict_reply,
    assertz_email_reply,
    assertz_float_reply,
    assertz_hash_reply,
    assertz_integer_reply,
    assertz_intersects_reply,
    assertz_json_reply,
    assertz_location_reply,
    assertz_mandatory_reply,
    assertz_phone_reply,
    assertz_regex_reply,
    assertz_string_reply,
    assertz_timestamp_reply,
    assertz_token_reply,
    assertz_unauthorized_reply,
    assertz_uri_reply,
    assertz_url_reply,
    assertz_utf8_reply,
    assertz_uuid_reply,
    assertz_valid_values_reply,
)
from ._scalars import (
    TIMESTAMP_FORMAT,
    assertz_boolean,
    assertz_float,
    assertz_integer,
    assertz_string,
    assertz_timestamp,
    assertz_uuid,
)
from ._structures import (
    assertz_array,
    assertz_array_even_empty,
    assertz_complex,
    assertz_dict,
    assertz_json,
    assertz_location,
)

__all__ = [
    "DEFAULT_STATUS_CODE",
    "EMPTY_KEY_ERROR_CODE",
    "INVALID_TYPE_ERROR_CODE",
    "MANDATORY_ERROR_CODE",
    "TIMESTAMP_FORMAT",
    "UNAUTHORIZED_STATUS_CODE",
    "Reply",
    "ReplyPayload",
    "assertz",
    "assertz_array",
    "assertz_array_even_empty",
    "assertz_array_even_empty_reply",
    "assertz_array_reply",
    "assertz_ascii",
    "assertz_ascii_reply",
    "assertz_boolean",
    "assertz_boolean_reply",
    "assertz_call",
    "assertz_complex",
    "assertz_complex_reply",
    "assertz_dict",
    "assertz_dict_reply",
    "assertz_email",
    "assertz_email_reply",
    "assertz_float",
    "assertz_float_reply",
    "assertz_hash",
    "assertz_hash_reply",
    "assertz_integer",
    "assertz_integer_reply",
    "assertz_intersects",
    "assertz_intersects_reply",
    "assertz_json",
    "assertz_json_reply",
    "assertz_location",
    "assertz_location_reply",
    "assertz_mandatory",
    "assertz_mandatory_reply",
    "assertz_phone",
    "assertz_phone_reply",
    "assertz_regex",
    "assertz_regex_reply",
    "assertz_reply",
    "assertz_string",
    "assertz_string_reply",
    "assertz_timestamp",
    "assertz_timestamp_reply",
    "assertz_token",
    "assertz_token_reply",
    "assertz_unauthorized",
    "assertz_unauthorized_reply",
    "assertz_uri",
    "assertz_uri_reply",
    "assertz_url",
    "assertz_url_reply",
    "assertz_utf8",
    "assertz_utf8_reply",
    "assertz_uuid",
    "assertz_uuid_reply",
    "assertz_valid_values",
    "assertz_valid_values_reply",
]
