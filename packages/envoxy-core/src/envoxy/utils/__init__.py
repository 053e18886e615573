"""Envoxy's foundation utilities (the ``envoxy-core`` distribution).

Import the module you need; this package imports nothing itself.

==================  =================================================================
module              holds
==================  =================================================================
``config``          ``Config`` (the cached ``envoxy.json``), ``as_int``/``as_float``/``as_bool``
``interpolation``   ``${VAR}`` / ``${VAR:-default}`` expansion
``conversions``     the numeric and boolean setting converters
``settings``        the shape of a client's settings class (``ServerSettings``) and the
                    converters they share (``timeout``, ``host_port``, ``url``, ...)
``config_keys``     ``unknown_keys``: keys of ``envoxy.json`` nothing reads, with the
                    closest known one
``registry``        ``ClientRegistry``: one client per server key and process, fork-aware
``facade``          ``ClientFacade``: the static shape of ``redisc``, ``zmqc``, ...
``retry``           ``RetryPolicy`` and ``Backoff`` (full jitter, deadline)
``deprecation``     ``warn_deprecated`` and ``deprecated_aliases`` (old names of 0.7)
``logs``            ``log``/``Log``: level-named methods on the ``envoxy`` logger
``log_setup``       ``configure_logging``, ``reset_logging``, the stderr handler
``log_format``      the ``json`` and ``pretty`` formatters
``log_levels``      the ten levels and their :mod:`logging` numbers
``log_style``       ``LogStyle`` ANSI codes
``context``         the request context (request id, ``traceparent``) and its parsers
``observe``         instrumentation hooks: ``observe_call``, ``@observed``, ``register_pool``
``redaction``       the shared list of sensitive names (``is_sensitive``) and ``redact``,
                    ``redact_headers``/``_query``/``_json``, ``RedactingFilter``
``encoders``        ``envoxy_json_dumps``/``envoxy_json_loads``, ``EnvoxyJsonEncoder``
``datetime``        ``Now``, ``Format``, ``format_*``, ``api_format``
``singleton``       ``Singleton``, ``SingletonPerThread``
``watchdog``        ``notify`` (sd_notify) and ``Watchdog``
``imports``         ``require``: optional imports that name what to install
``cache``           ``LRUCache`` (a miss returns -1)
``throttle``        ``@throttle``: at most one call per period
``profiling``       cProfile decorator, context manager and call helper
==================  =================================================================
"""
