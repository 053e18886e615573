"""The service's own credentials: ``authenticate_container`` (exported as ``authenticate``).

.. versionchanged:: 1.0
   The form is POSTed (the secret was in the query string) with a timeout, and a
   failure raises :class:`AuthenticationError` instead of exiting the process.
"""

from collections.abc import Mapping
from typing import Any

from envoxy.auth.exceptions import AuthenticationError
from envoxy.utils.config import as_float

__all__ = ["CREDENTIAL_FIELDS", "DEFAULT_TIMEOUT", "authenticate_container"]

#: keys of the ``credentials`` section sent to the server (all required)
CREDENTIAL_FIELDS: tuple[str, ...] = ("client_id", "client_secret", "response_type", "scope")
#: seconds allowed for the whole exchange unless ``credentials.timeout`` says otherwise
DEFAULT_TIMEOUT = 10.0


def authenticate_container(credentials: Mapping[str, Any] | None) -> Any:
    """Obtain the service's credentials from ``credentials.server``.

    POSTs a form with ``client_id``, ``client_secret``, ``response_type``, ``scope``
    and ``state=active``.

    :param credentials: the ``credentials`` section of ``envoxy.json``.
    :returns: the decoded JSON of a 200 answer.
    :raises AuthenticationError: for a missing or empty setting, a network error or
        timeout, a status other than 200, or a body that is not JSON.
    """
    section = dict(credentials or {})
    url = section.get("server")
    if not url:
        raise AuthenticationError("credentials.server is not set; add it to envoxy.json")
    form = {}
    for name in CREDENTIAL_FIELDS:
        value = section.get(name)
        if value is None or str(value) == "":
            raise AuthenticationError(f"credentials.{name} is empty; set it in envoxy.json")
        form[name] = str(value)
    form["state"] = "active"
    timeout = as_float(section.get("timeout", DEFAULT_TIMEOUT), "credentials.timeout")

    import httpx

    try:
        answer = httpx.post(str(url), data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise AuthenticationError(
            f"credentials server {url} could not be reached: {type(exc).__name__}"
        ) from exc
    if answer.status_code != 200:
        raise AuthenticationError(f"credentials server {url} answered {answer.status_code}")
    try:
        return answer.json()
    except ValueError as exc:
        raise AuthenticationError(
            f"credentials server {url} answered a body that is not JSON"
        ) from exc
