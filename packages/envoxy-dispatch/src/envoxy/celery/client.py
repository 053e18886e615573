"""``celeryc``: send tasks to, and declare tasks for, the process's Celery app."""

from collections.abc import Iterable, Mapping
from typing import Any

from envoxy.celery.application import broker_key, close_app, get_app, initialize
from envoxy.utils.observe import observed

__all__ = ["Client"]


class _AppAttribute:
    """``Client.app``: the process's Celery app, created on first access."""

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return get_app()


class Client:
    """Static facade over the process's Celery app (exported as ``celeryc``).

    Usage::

        from envoxy.celery import celeryc

        @celeryc.task
        def add(x, y):
            return x + y

        result = celeryc.send_task("my_service.tasks.add", args=(1, 2))
        result.get(timeout=10)  # 3

    A task that no worker registered comes back as a failure:
    ``result.get()`` raises ``celery.exceptions.NotRegistered`` naming the task.
    """

    app = _AppAttribute()

    @staticmethod
    def initialize(server_key: str | None = None) -> Any:
        """Configure the app from ``envoxy.json`` now and return it (see
        :func:`envoxy.celery.application.initialize`).

        :raises ConfigError: when no broker is configured or a setting is malformed.
        """
        return initialize(server_key)

    @staticmethod
    def task(*args: Any, **options: Any) -> Any:
        """Declare a task: ``@celeryc.task`` or ``@celeryc.task(name=..., ...)``.

        Same as ``app.task``; nothing is configured until the task is used.
        """
        return get_app().task(*args, **options)

    @staticmethod
    @observed("celery", key=lambda *_, **__: broker_key())
    def send_task(
        name: str,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        """Send the task ``name`` to the broker and return its ``AsyncResult``.

        :param options: any ``Celery.send_task`` option (``queue``, ``countdown``,
            ``expires`` …). The queue defaults to the ``default_task_queue`` route.
        :raises ConfigError: when no broker is configured.
        :raises kombu.exceptions.OperationalError: when the broker cannot be reached
            (after Celery's publish retries).
        """
        return get_app().send_task(
            name, args=None if args is None else tuple(args), kwargs=kwargs, **options
        )

    @staticmethod
    def delay(name: str, *args: Any, **kwargs: Any) -> Any:
        """Send the task ``name`` with positional and keyword arguments; return its
        ``AsyncResult``."""
        return Client.send_task(name, args=args, kwargs=kwargs)

    @staticmethod
    def close() -> None:
        """Close the app's pooled broker and backend connections, if the app exists.

        Idempotent; the next use connects again.
        """
        close_app()

    @staticmethod
    def registered_tasks(timeout: float = 1.0) -> set[str]:
        """Return the task names registered by the workers that answer within
        ``timeout`` seconds (empty when none answers)."""
        replies = get_app().control.inspect(timeout=timeout).registered() or {}
        return {name for names in replies.values() for name in names}
