"""The verdict of the auth decorators on what the plugin returned: fail closed, then roles.

``Auth().authenticate`` accepts a caller by returning an identity: a non-empty dict
(merged into the handler's keyword arguments) or ``True``. Anything else (``None``,
``False``, ``{}``, ``""``, ``0``, a list, a string...) is a 401. ``Auth().anonymous``
may also return ``None`` or ``{}`` (an anonymous caller, unless the decorator requires
``roles``) but ``False`` or a value of another type is a 401 too. When the decorator
names ``roles`` and the identity is a dict carrying ``roles``, every required role must
be among them, else 403.

The accepted identities of a request are kept in ``request.environ[IDENTITY_KEY]`` (a
list, one entry per auth decorator that ran) for ``@cache`` to key its entries on.
"""

from collections.abc import Iterable
from typing import Any

from envoxy.exceptions import ValidationException
from envoxy.utils.logs import log

__all__ = ["IDENTITY_KEY", "AuthRejectedError", "required_roles", "verdict"]

#: WSGI environ key of the identities the auth decorators accepted for a request
IDENTITY_KEY = "envoxy.auth.identities"


class AuthRejectedError(ValidationException):
    """The auth plugin refused a request; answered as JSON with 401 or 403."""

    force_json = True


def required_roles(value: Any) -> frozenset[str]:
    """Normalise a decorator's ``roles`` option: a name or an iterable of names.

    :raises TypeError: ``roles`` is neither a string nor an iterable of strings.
    """
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, Iterable) and all(isinstance(role, str) for role in value):
        return frozenset(value)
    raise TypeError(f"auth decorator roles= must be a role name or a list of names, not {value!r}")


def verdict(method_name: str, result: Any, roles: frozenset[str]) -> Any:
    """Return the accepted identity (a dict, ``True`` or, for ``anonymous``, ``None``).

    :param method_name: ``"authenticate"`` or ``"anonymous"``.
    :param result: what the plugin's method returned.
    :param roles: the roles the decorator requires (empty: none).
    :raises AuthRejectedError: 401 when ``result`` accepts no caller, 403 when the
        identity's ``roles`` lack a required one.
    """
    if result is True:
        return True
    if isinstance(result, dict):
        if not result and (method_name == "authenticate" or roles):
            if method_name == "authenticate":
                _explain(method_name, result)
            raise AuthRejectedError("Unauthorized", code=0, status=401)
        if roles and "roles" in result and not _has_roles(result["roles"], roles):
            raise AuthRejectedError("Forbidden", code=0, status=403)
        return result
    if result is None and method_name == "anonymous":
        if roles:  # an anonymous caller holds no role
            raise AuthRejectedError("Unauthorized", code=0, status=401)
        return None
    _explain(method_name, result)
    raise AuthRejectedError("Unauthorized", code=0, status=401)


def _has_roles(held: Any, required: frozenset[str]) -> bool:
    if held is None:
        return False
    if isinstance(held, str):
        return required <= {held}
    try:
        return required <= set(held)
    except TypeError:  # not an iterable of hashable names: nothing to grant
        return False


_explained: set[tuple[str, str]] = set()


def _explain(method_name: str, result: Any) -> None:
    """Say once per result type why a plugin answer denied the request (never the value)."""
    kind = "empty dict" if result == {} else type(result).__name__
    if (method_name, kind) in _explained:
        return
    _explained.add((method_name, kind))
    log.warning(
        f"auth plugin: Auth.{method_name} returned a {kind}; the request is denied (401). "
        "Return a non-empty dict (the identity) or True to accept a caller, or raise "
        "Auth.exception to refuse one"
    )
