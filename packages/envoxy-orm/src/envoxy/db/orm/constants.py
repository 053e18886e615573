"""Table prefixes and the service namespace, read once at import.

``ENVOXY_SERVICE_NAMESPACE`` (else ``SERVICE_NAMESPACE``) names the service. It is
lowercased, every character outside ``[a-z0-9_]`` becomes ``_`` and outer ``_`` are
stripped, so ``My-Svc`` gives the prefix ``aux_my_svc_``. Without a namespace the
prefix is ``aux_``. Set the variable before the first ``import envoxy.db.orm``.
"""

import os
import re

__all__ = [
    "AUX_TABLE_PREFIX",
    "BASE_TABLE_PREFIX",
    "MAX_IDENTIFIER_LENGTH",
    "NAMESPACE_ENV_VARS",
    "SERVICE_NAMESPACE",
    "prefix_for_namespace",
    "read_namespace",
    "sanitize_namespace",
]

#: The prefix every Envoxy table starts with; a name starting with it counts as prefixed.
BASE_TABLE_PREFIX = "aux_"
#: Longest identifier PostgreSQL keeps (names are shortened to fit, see ``naming``).
MAX_IDENTIFIER_LENGTH = 63
#: Environment variables naming the service namespace, in order of precedence.
NAMESPACE_ENV_VARS = ("ENVOXY_SERVICE_NAMESPACE", "SERVICE_NAMESPACE")

_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]")


def sanitize_namespace(raw: str) -> str:
    """Return ``raw`` lowercased, with characters outside ``[a-z0-9_]`` as ``_``, outer ``_`` cut.

    :param raw: the namespace as written, e.g. ``"My-Svc"`` (gives ``"my_svc"``).
    """
    return _NOT_IDENTIFIER.sub("_", raw.lower()).strip("_")


def prefix_for_namespace(namespace: str) -> str:
    """Return the table prefix for a namespace: ``aux_<ns>_``, or ``aux_`` when it is empty.

    :param namespace: a raw or sanitised namespace.
    """
    clean = sanitize_namespace(namespace)
    return f"{BASE_TABLE_PREFIX}{clean}_" if clean else BASE_TABLE_PREFIX


def read_namespace(environ: dict[str, str] | os._Environ[str] | None = None) -> str:
    """Return the sanitised namespace from ``environ`` (default ``os.environ``), or ``""``.

    :param environ: where to read ``ENVOXY_SERVICE_NAMESPACE`` / ``SERVICE_NAMESPACE``.
    """
    env = os.environ if environ is None else environ
    for variable in NAMESPACE_ENV_VARS:
        value = env.get(variable)
        if value:
            return sanitize_namespace(value)
    return ""


#: The namespace this process was started with (``""`` when none).
SERVICE_NAMESPACE = read_namespace()
#: The active table prefix: ``aux_`` or ``aux_<namespace>_``.
AUX_TABLE_PREFIX = prefix_for_namespace(SERVICE_NAMESPACE)
