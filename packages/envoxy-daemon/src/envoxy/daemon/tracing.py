"""OpenTelemetry tracing (the optional extra ``envoxy-daemon[otel]``).

With ``"otel": {"enabled": true}`` in ``envoxy.json`` every worker and the service mule
set up the SDK after the fork (its export thread must not be forked) and trace:

- each HTTP request: a ``SERVER`` span ``<METHOD> <route template>``, child of the
  incoming ``traceparent`` when there is one;
- each client call (redisc, pgsqlc, couchdbc, mqttc, zmqc, celeryc): a ``CLIENT`` span
  ``<client> <server key>`` (made when the call returns, with its real start time);
- each MQTT message handled by ``on_event`` (and any handler using
  :meth:`Tracing.handler_span`): a ``CONSUMER`` span, child of the envelope's
  ``traceparent``.

While a span is current, the request context's ``traceparent`` is the span's, so the
envelopes and Celery tasks sent meanwhile continue the trace
(:mod:`envoxy.zeromq.headers`, :mod:`envoxy.celery.propagation`). Each span carries
``envoxy.request_id``.
"""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from envoxy.utils.context import (
    RequestContext,
    bind,
    context_from_headers,
    current,
    reset,
)
from envoxy.utils.imports import require
from envoxy.utils.observe import add_call_observer, remove_call_observer

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from envoxy.daemon.settings import OtelSettings

__all__ = ["EXTRA", "RequestSpan", "Tracing", "start_tracing"]

#: What to install for tracing.
EXTRA = "envoxy-daemon[otel]"


class RequestSpan(NamedTuple):
    """An HTTP request's span and what to undo when it ends."""

    span: "Span"
    method: str
    otel_token: object
    context_token: object


class Tracing:
    """Spans for requests, client calls and message handlers from ``provider``.

    :param provider: an OpenTelemetry SDK ``TracerProvider`` (tests give one with an
        in-memory exporter).
    """

    def __init__(self, provider: "TracerProvider") -> None:
        from opentelemetry import context as otel_context
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.provider = provider
        self.tracer: Tracer = provider.get_tracer("envoxy")
        self._trace = trace
        self._context = otel_context
        self._propagator = TraceContextTextMapPropagator()
        add_call_observer(self.observe_call)

    def close(self) -> None:
        """Stop tracing client calls (the provider is left to its owner)."""
        remove_call_observer(self.observe_call)

    def start_request(self, environ: Mapping[str, Any]) -> RequestSpan:
        """Start the span of an HTTP request (its name is set by :meth:`end_request`)."""
        method = str(environ.get("REQUEST_METHOD", ""))
        span = self.tracer.start_span(
            method or "HTTP",
            context=self._parent(),
            kind=self._trace.SpanKind.SERVER,
            attributes={"http.request.method": method, **self._request_id()},
        )
        return RequestSpan(span, method, *self._enter(span))

    def end_request(self, state: RequestSpan, route: str, status: int) -> None:
        """End the request's span: name ``<METHOD> <route>``, status code, error on 5xx."""
        span = state.span
        span.update_name(f"{state.method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
        span.end()
        self._leave(state.otel_token, state.context_token)

    @contextmanager
    def handler_span(
        self, name: str, headers: Mapping[str, Any] | None, **attributes: Any
    ) -> Iterator["Span"]:
        """Run a message handler inside a ``CONSUMER`` span, child of the envelope's
        ``traceparent`` (the request context must already be bound from ``headers``).

        An exception is recorded on the span and raised again.
        """
        parent = self._parent(headers)
        span = self.tracer.start_span(
            name,
            context=parent,
            kind=self._trace.SpanKind.CONSUMER,
            attributes={**attributes, **self._request_id()},
        )
        tokens = self._enter(span)
        try:
            yield span
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
            raise
        finally:
            span.end()
            self._leave(*tokens)

    def observe_call(
        self, client: str, key: str, seconds: float, error: BaseException | None
    ) -> None:
        """The client-call listener: a ``CLIENT`` span over the call that just ended."""
        end = time.time_ns()
        span = self.tracer.start_span(
            f"{client} {key}",
            kind=self._trace.SpanKind.CLIENT,
            start_time=end - int(seconds * 1e9),
            attributes={"envoxy.client": client, "envoxy.server_key": key},
        )
        if error is not None:
            span.record_exception(error)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
        span.end(end_time=end)

    def _parent(self, headers: Mapping[str, Any] | None = None) -> Any:
        """The OpenTelemetry context of the bound (or given) ``traceparent``."""
        context = current() if headers is None else context_from_headers(headers)
        if context is None or not context.traceparent:
            return None
        return self._propagator.extract({"traceparent": context.traceparent})

    def _request_id(self) -> dict[str, str]:
        context = current()
        return {"envoxy.request_id": context.request_id} if context is not None else {}

    def _enter(self, span: "Span") -> tuple[object, object]:
        """Make ``span`` current, and its ``traceparent`` the request context's."""
        otel_token = self._context.attach(self._trace.set_span_in_context(span))
        bound = current()
        span_context = span.get_span_context()
        traceparent = (
            f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
            f"{int(span_context.trace_flags):02x}"
        )
        request_id = bound.request_id if bound is not None else f"{span_context.trace_id:032x}"
        return otel_token, bind(RequestContext(request_id, traceparent))

    def _leave(self, otel_token: Any, context_token: Any) -> None:
        reset(context_token)
        self._context.detach(otel_token)


def start_tracing(settings: "OtelSettings") -> Tracing:
    """Set up the OpenTelemetry SDK in this process (after the fork) and return it.

    The provider (``service.name`` from ``settings``) becomes the global one, so code
    using ``opentelemetry.trace.get_tracer`` joins the same traces.

    :raises MissingDependencyError: when ``envoxy-daemon[otel]`` is not installed.
    """
    require("opentelemetry.sdk.trace", EXTRA)
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if settings.exporter == "otlp":
        require("opentelemetry.exporter.otlp.proto.http.trace_exporter", EXTRA)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif settings.exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return Tracing(provider)
