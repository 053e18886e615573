"""The request id (and W3C ``traceparent``) carried from a sender to the task it sends.

When the process's Celery app is created, three Celery signals are connected:

- ``before_task_publish`` adds the bound request context to the task message headers
  (``x_request_id``, ``traceparent``) unless the sender set them itself;
- ``task_prerun`` (in the worker) binds a context from those headers (or a new id)
  while the task runs, so its log lines carry ``_request_id`` and what it sends carries
  the id on;
- ``task_postrun`` restores the worker's previous context.
"""

import contextlib
from typing import Any

from envoxy.utils.context import bind, current, request_id_from, reset

__all__ = ["REQUEST_ID_HEADER", "TRACEPARENT_HEADER", "connect_signals"]

#: The task message header holding the request id.
REQUEST_ID_HEADER = "x_request_id"
#: The task message header holding the W3C ``traceparent``.
TRACEPARENT_HEADER = "traceparent"
_TOKEN = "_envoxy_context_token"


def connect_signals(celery: Any) -> None:
    """Connect the three handlers to ``celery.signals`` (idempotent)."""
    signals = celery.signals
    signals.before_task_publish.connect(
        _add_headers, weak=False, dispatch_uid="envoxy-request-id-publish"
    )
    signals.task_prerun.connect(_bind_task, weak=False, dispatch_uid="envoxy-request-id-prerun")
    signals.task_postrun.connect(_reset_task, weak=False, dispatch_uid="envoxy-request-id-postrun")


def _add_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    context = current()
    if context is None or headers is None:
        return
    headers.setdefault(REQUEST_ID_HEADER, context.request_id)
    if context.traceparent:
        headers.setdefault(TRACEPARENT_HEADER, context.traceparent)


def _bind_task(task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    if request is None:
        return
    context = request_id_from(request.get(REQUEST_ID_HEADER), None, request.get(TRACEPARENT_HEADER))
    setattr(request, _TOKEN, bind(context))


def _reset_task(task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    token = getattr(request, _TOKEN, None) if request is not None else None
    if token is not None:
        # a token bound in another context (a custom pool) cannot be reset: leave it
        with contextlib.suppress(ValueError):
            reset(token)
        setattr(request, _TOKEN, None)
