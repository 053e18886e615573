"""Celery integration (``celeryc``) configured from ``envoxy.json``.

Usage::

    from envoxy.celery import celeryc

    result = celeryc.send_task("my_service.tasks.add", args=(1, 2))

and, with the same ``envoxy.json``::

    ENVOXY_CONFIG=envoxy.json celery -A envoxy.celery worker

Importing this package imports neither Celery nor the configuration: the app
(``envoxy.celery.app``) is created on first access and reads ``envoxy.json`` when
Celery first needs a setting. See ``docs/CELERY.md``.
"""

from typing import TYPE_CHECKING, Any

from envoxy.celery.client import Client

if TYPE_CHECKING:
    from celery import Celery

    app: Celery

__all__ = ["Client", "app", "celeryc"]

#: The Celery facade (the :class:`Client` class, as in the original).
celeryc = Client


def __getattr__(name: str) -> Any:
    """Create ``app`` on first access (``celery -A envoxy.celery`` looks it up)."""
    if name == "app":
        from envoxy.celery.application import get_app

        return get_app()
    raise AttributeError(f"module 'envoxy.celery' has no attribute {name!r}")
