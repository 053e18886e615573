"""The WSGI application: ``create_app(config) -> EnvoxyApp``.

The app is a small dispatcher over werkzeug's request, response and routing:

1. the built-in routes ``/_health``, ``/_ready`` and ``/_metrics`` (and ``GET /`` under
   ``mode=test``);
2. the views' routes (HEAD and OPTIONS automatic, 405 with ``Allow``, 404 as JSON);
3. ``default_zmq_backend``, when enabled, for what no view answers.

A declared JSON body is parsed before the handler (malformed → 400), after the auth
decorators accepted the caller when the handler has some (:mod:`envoxy.views.jsonbody`);
every exception becomes the error contract of :mod:`envoxy.views.error_responses`.
"""

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Response as WerkzeugResponse

from envoxy.daemon.cors import CorsPolicy
from envoxy.daemon.credentials import CredentialsKeeper
from envoxy.daemon.health import HEALTH_BODY, ReadinessProbe
from envoxy.daemon.httpinput import InputGuard
from envoxy.daemon.ledger import RequestLedger
from envoxy.daemon.metrics import METRICS_PATH, UNMATCHED_ROUTE, Metrics, get_metrics
from envoxy.daemon.mqtt_route import MqttRoute, check_mqtt_routes, mqtt_options
from envoxy.daemon.proxy import ZmqBackendProxy
from envoxy.daemon.reqlog import RequestLogger, environ_method_and_path
from envoxy.daemon.settings import DaemonSettings
from envoxy.decorators import AUTH_MARKER
from envoxy.utils.context import bind, request_id_from, reset
from envoxy.views.base import View
from envoxy.views.containers import (
    RESERVED_KEYS,
    LeanAnswer,
    Response,
    answer_response,
    json_answer,
    send_adding,
    send_answer,
)
from envoxy.views.error_responses import error_response
from envoxy.views.exceptions import InvalidViewError
from envoxy.views.jsonbody import declares_json_body
from envoxy.views.request import Request
from envoxy.views.route_spec import route_spec_of
from envoxy.views.routing import Route, RouteTable

if TYPE_CHECKING:
    from envoxy.daemon.tracing import Tracing

__all__ = [
    "METRICS_CONTENT_TYPE",
    "TEST_MODE_BODY",
    "EnvoxyApp",
    "MqttRoute",
    "create_app",
    "to_response",
]

TEST_MODE_BODY = "ENVOXY Working!"
#: the Content-Type of ``/_metrics`` (Prometheus text format 0.0.4)
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

StartResponse = Callable[..., Any]


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    views: Iterable[type[View]] | None = None,
    mode: str | None = None,
    config_path: str | None = None,
) -> "EnvoxyApp":
    """Build the WSGI application.

    :param config: the parsed ``envoxy.json``; ``None`` reads the file loaded by
        :class:`envoxy.utils.config.Config`.
    :param views: the view classes; ``None`` loads the configured ``modules``/``packages``.
    :param mode: ``"test"`` serves only ``/_health``, ``/_ready`` and ``GET /``.
    :param config_path: the file's path (relative ``modules`` are taken from its directory).
    :raises envoxy.exceptions.ConfigError: for an invalid setting.
    :raises envoxy.daemon.exceptions.StartupError: when views cannot be loaded.
    :raises envoxy.views.exceptions.ViewError: for an unusable view or route.
    :raises envoxy.auth.AuthPluginError: when auth decorators are used without a plugin.
    :raises envoxy.exceptions.ConfigError: ``cache.vary_headers`` is not a list of names
        while a handler uses ``@cache``.
    """
    from envoxy.daemon.settings import config_snapshot

    if config is None:
        from envoxy.utils.config import Config

        config = config_snapshot()
        config_path = config_path or Config.file_path
    settings = DaemonSettings.from_config(config, config_path=config_path, mode=mode)
    if settings.test_mode:
        return EnvoxyApp(settings, [])
    from envoxy.daemon.loader import (
        load_view_classes,
        needs_auth_plugin,
        uses_cache,
        validate_view_class,
    )

    if views is None:
        classes = load_view_classes(settings)
    else:
        classes = list(views)
        for cls in classes:
            validate_view_class(cls)
    uses_auth = needs_auth_plugin(classes)
    if uses_auth:
        from envoxy.auth import AuthPluginError, load_auth_plugin, set_auth_class

        if not settings.auth_plugin:
            raise AuthPluginError(
                f"{', '.join(uses_auth)} use auth decorators but plugins.auth is not set in "
                "envoxy.json; set it to the directory or module of the Auth class"
            )
        set_auth_class(load_auth_plugin(settings.auth_plugin))
    if uses_cache(classes):
        from envoxy.cache.identity import vary_headers

        section = config.get("cache")
        vary_headers(section if isinstance(section, Mapping) else None)
    return EnvoxyApp(settings, classes)


class EnvoxyApp:
    """The WSGI callable serving the views of one service.

    :param settings: the daemon settings.
    :param view_classes: validated view classes (instantiated once here).
    """

    def __init__(self, settings: DaemonSettings, view_classes: Iterable[type[View]]) -> None:
        self.settings = settings
        self.routes = RouteTable()
        self.mqtt_routes: list[MqttRoute] = []
        for cls in view_classes:
            self._add_view(cls)
        check_mqtt_routes(self.mqtt_routes)
        self.credentials = CredentialsKeeper(settings.credentials) if settings.credentials else None
        self.readiness = ReadinessProbe(
            settings.clients,
            self.credentials.check if self.credentials else None,
            settings.readiness,
        )
        self.cors = CorsPolicy(settings.cors_origins) if settings.enable_cors else None
        self.proxy = ZmqBackendProxy(settings.zmq_backend) if settings.zmq_backend else None
        self.logger = RequestLogger()
        self.input_guard = InputGuard(settings.max_body_size, settings.body_timeout)
        self.request_class = type(
            "EnvoxyRequest",
            (Request,),
            {
                "max_content_length": settings.max_body_size,
                "max_json_depth": settings.max_json_depth,
                "max_json_elements": settings.max_json_elements,
            },
        )
        self.builtin: dict[str, Callable[[Any], Any]] = {
            "/_health": self._health,
            "/_ready": self._ready,
        }
        self.metrics: Metrics | None = None
        if settings.metrics.enabled:
            self.metrics = get_metrics()
            self.builtin[METRICS_PATH] = self._metrics
        #: finished requests, settled in batches into access lines and metrics
        self.ledger = (
            RequestLedger(self.metrics, self.logger.lines)
            if self.metrics is not None or self.logger.lines is not None
            else None
        )
        #: VERBOSE: the access line (with headers and bodies) is written as each request ends
        self.verbose_access = self.logger.enabled and self.logger.lines is None
        #: set after the fork by :meth:`start_background` when ``otel.enabled``
        self.tracing: Tracing | None = None
        if settings.test_mode:
            self.builtin["/"] = self._test_index

    def start_background(self) -> None:
        """Start this process's background work (the credentials fetcher, and the
        OpenTelemetry SDK when ``otel.enabled``: its export thread must start after the
        fork).

        envoxyd calls it in each worker and the service mule after the fork; call it
        yourself when serving the app another way.
        """
        if self.settings.otel.enabled and self.tracing is None:
            from envoxy.daemon.tracing import start_tracing

            self.tracing = start_tracing(self.settings.otel)
        if self.credentials is not None:
            from envoxy.utils.config import Config

            Config.set_credentials_provider(self.credentials.get)
            self.credentials.start()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one WSGI request.

        The request id (``X-Request-ID``, else ``X-Cid``, else the ``traceparent``
        trace id, else a new one) is bound while the request is handled, so every log
        line carries it, and sent back in ``X-Request-ID``. The finished request goes to
        the ledger: its access line and metrics (:mod:`envoxy.daemon.ledger`).
        """
        started = time.perf_counter_ns()
        context = request_id_from(
            environ.get("HTTP_X_REQUEST_ID"),
            environ.get("HTTP_X_CID"),
            environ.get("HTTP_TRACEPARENT"),
        )
        token = bind(context)
        metrics = self.metrics
        if metrics is not None:
            in_flight = metrics.active
            in_flight.append(started)
        tracing = self.tracing
        span = None
        request = None
        route = UNMATCHED_ROUTE
        status = 500
        try:
            if tracing is not None:
                span = tracing.start_request(environ)
            refusal = self.input_guard(environ)
            if refusal is None:
                request = self.request_class(environ)
                response, route = self._answer(request)
            else:
                response = refusal
            if type(response) is tuple:  # a plain dict or list: its lean answer, sent as is
                status = response[0]
                if self.verbose_access:
                    self.logger.access(environ, request, answer_response(response), started)
                return send_answer(response, environ, start_response, ("X-Request-ID", context[0]))
            status = response.status_code
            if self.verbose_access:
                self.logger.access(environ, request, response, started)
            return send_adding(response, environ, start_response, ("X-Request-ID", context[0]))
        finally:
            if metrics is not None:
                try:  # noqa: SIM105  (contextlib.suppress costs an object per request)
                    in_flight.remove(started)
                except ValueError:  # the list was replaced: os.fork in another thread
                    pass
                if not in_flight and metrics.flushed_in_flight:
                    metrics.went_idle()
            # the one place a finished request is reported: its access line and metrics
            ledger = self.ledger
            if ledger is not None:
                if request is not None:
                    method, path = request.method, request.path
                else:
                    method, path = environ_method_and_path(environ)
                ended = time.perf_counter_ns()
                ledger.add((started, ended, method, path, status, route, context[0]))
            if span is not None and tracing is not None:
                tracing.end_request(span, route, status)
            reset(token)

    def _answer(self, request: Any) -> tuple[Any, str]:
        """The response to ``request`` (errors included, CORS headers set) and the route
        template that answered (the ``route`` label of the metrics). A view's plain dict
        or list, or lean :class:`~envoxy.views.containers.Response`, gives its
        :data:`~envoxy.views.containers.LeanAnswer`: sent as it is, by
        :func:`~envoxy.views.containers.send_answer`."""
        logger = self.logger
        if logger.debug:
            logger.request(request)
        method = request.method
        allowed: Iterable[str] = ()
        label = UNMATCHED_ROUTE
        try:
            builtin = self.builtin.get(request.path)
            if builtin is not None:
                label = request.path
                if method not in ("GET", "HEAD"):
                    raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
                response = builtin(request)
            else:
                try:
                    route, values = self.routes.match(request.path, method)
                except (NotFound, MethodNotAllowed):
                    if self.proxy is None or not self.proxy.handles(request.path, method):
                        raise
                    label = self.proxy.route_label
                    response = self.proxy(request)
                else:
                    label = route.endpoint
                    allowed = route.methods
                    response = self._dispatch(request, route, values)
        except HTTPException as exc:
            response = error_response(exc, request, force_json=exc.code in (404, 405))
        except Exception as exc:
            response = error_response(exc, request)
        if self.cors is not None:
            if type(response) is tuple:
                response = answer_response(response)
            response = self.cors.apply(request, response, allowed)
        return response, label

    def _dispatch(
        self, request: Any, route: Route, values: dict[str, Any]
    ) -> WerkzeugResponse | LeanAnswer:
        method = request.method
        if method == "OPTIONS" and "OPTIONS" not in route.methods:
            allow = sorted(
                route.methods | {"OPTIONS"} | ({"HEAD"} if "GET" in route.methods else set())
            )
            return Response(None, status=200, headers={"Allow": ", ".join(allow)})
        handler = route.handlers[method]
        environ = request.environ
        # behind auth decorators the body is parsed once they accepted the caller
        if (
            (environ.get("CONTENT_LENGTH") or "HTTP_TRANSFER_ENCODING" in environ)
            and declares_json_body(request)
            and not getattr(handler, AUTH_MARKER, None)
        ):
            request.get_json()
        if values:
            result = handler(request, **values, endpoint=route.endpoint)
        else:
            result = handler(request, endpoint=route.endpoint)
        kind = type(result)
        if kind is list or (kind is dict and RESERVED_KEYS.isdisjoint(result)):
            return json_answer(result)
        if kind is Response:  # a lean one is sent from its answer, unchanged
            # read from __dict__ once: Response's __getattr__ slows attribute reads
            lean = result.__dict__.get("_lean")
            if lean is not None:
                return lean
        return to_response(result)

    def _add_view(self, cls: type[View]) -> None:
        spec = route_spec_of(cls)
        if spec is None:  # create_app validated the class: only a class changed since
            raise InvalidViewError(f"view {cls.__qualname__} has no endpoint: decorate it with @on")
        view = cls()
        if spec.http:
            self.routes.add(spec.endpoint, view, cls.http_methods)
        if spec.mqtt:
            options = mqtt_options(spec, cls.__qualname__)
            self.mqtt_routes.append(MqttRoute(view, spec.endpoint, str(spec.server), **options))

    def _health(self, request: Any) -> Any:
        return Response(HEALTH_BODY)

    def _metrics(self, request: Any) -> WerkzeugResponse:
        assert self.metrics is not None
        return WerkzeugResponse(self.metrics.render(), content_type=METRICS_CONTENT_TYPE)

    def _ready(self, request: Any) -> WerkzeugResponse:
        ready, body = self.readiness.run()
        return Response(body, status=200 if ready else 503)

    def _test_index(self, request: Any) -> WerkzeugResponse:
        return Response(TEST_MODE_BODY, content_type="text/plain; charset=utf-8")


def to_response(result: Any) -> WerkzeugResponse:
    """Turn a handler's return value into a response.

    A response is kept; ``None`` gives 204; a ``(body, status[, headers])`` tuple sets the
    status and headers; anything else is ``Response(result)``.
    """
    if isinstance(result, WerkzeugResponse):
        return result
    if result is None:
        return Response(None, status=204)
    if isinstance(result, tuple) and 2 <= len(result) <= 3:
        return Response(
            result[0], status=result[1], headers=result[2] if len(result) == 3 else None
        )
    return Response(result)
