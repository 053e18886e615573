"""``envoxyd``: uWSGI (from the ``pyuwsgi`` wheel) serving an Envoxy service.

``envoxyd [uWSGI flags]``, e.g. ``envoxyd --http :8080 --set conf=/path/envoxy.json``.
The configuration is parsed, and the views loaded, once, in this process (the uWSGI
master) before uWSGI forks its workers. See docs/ENVOXYD.md.
"""

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envoxy.daemon.exceptions import StartupError, UsageError

if TYPE_CHECKING:
    from envoxy.daemon.settings import DaemonSettings

__all__ = [
    "DEFAULT_OPTIONS",
    "HELP",
    "ROUTER_OPTIONS",
    "LaunchOptions",
    "log_budgets",
    "main",
    "option_value",
    "parse_args",
    "uwsgi_arguments",
    "warn_past_harakiri",
]

#: uWSGI options envoxyd adds unless the command line gives the same option. 8 threads
#: per worker: a thread waiting for a slow client's body (at most ``body_timeout``) is
#: idle, and 32 of them keep the service answering while 16 slow clients hold some.
#: ``buffer-size`` 65535 (uWSGI's largest) lets envoxy answer 431 past 32 KiB of headers
#: instead of uWSGI closing the connection past 4 KiB.
DEFAULT_OPTIONS: tuple[tuple[str, str | None], ...] = (
    ("master", None),
    ("processes", "4"),
    ("threads", "8"),
    ("buffer-size", "65535"),
    ("enable-threads", None),
    ("die-on-term", None),
    ("need-app", None),
    ("harakiri", "90"),
    ("vacuum", None),
    ("disable-logging", None),
)

#: added with ``--http`` (uWSGI's HTTP router), unless given: pass chunked request bodies
#: on to the workers (the router drops them otherwise), and close a connection whose
#: headers stall for 10 s (the router holds slow headers without a worker)
ROUTER_OPTIONS: tuple[tuple[str, str | None], ...] = (
    ("http-chunked-input", None),
    ("http-headers-timeout", "10"),
)

#: short flags and synonyms -> the option they set
_ALIASES: dict[str, str] = {
    "M": "master",
    "p": "processes",
    "workers": "processes",
    "T": "enable-threads",
    "t": "harakiri",
    "L": "disable-logging",
    "S": "set",
}
#: room for a chunk's size line and CRLF in uWSGI's chunk buffer
_CHUNK_FRAMING = 64
_SOCKET_OPTIONS = frozenset(
    {
        "http",
        "http-socket",
        "https",
        "socket",
        "s",
        "uwsgi-socket",
        "fastcgi-socket",
        "shared-socket",
    }
)

HELP = """\
usage: envoxyd [uWSGI options] --set conf=PATH
       envoxyd [uWSGI options] --set mode=test

Serve the views of an Envoxy service with uWSGI.

envoxy options:
  --set conf=PATH     the service's envoxy.json (else ENVOXY_CONFIG); parsed once,
                      in the master, before the workers fork
  --set mode=test     serve only /_health, /_ready and GET / ("ENVOXY Working!")
  --help              this help;  --help-uwsgi  every uWSGI option
  --version           the envoxy-daemon and uWSGI versions

listening (one is required, else boot[0].http.bind of envoxy.json is used):
  --http :8080        uWSGI's HTTP router in front of the workers
  --http-socket :8080 workers speak HTTP themselves (fastest)

defaults (a flag given on the command line replaces its default):
  --master --processes 4 --threads 8 --buffer-size 65535 --enable-threads
  --die-on-term --need-app --harakiri 90 --vacuum --disable-logging
  --chunked-input-limit <max_body_size + 64>
  with --http: --http-chunked-input --http-headers-timeout 10

always added: --module "envoxy.daemon.wsgi:load()", one service mule
(MQTT views, systemd watchdog), the removal of the metrics directory at exit,
and a graceful stop on SIGTERM (and SIGHUP): new
connections are refused and requests in progress get shutdown_grace seconds
(envoxy.json). To reload, restart the service.

examples:
  envoxyd --http :8080 --set conf=/etc/my-service/envoxy.json
  envoxyd --http-socket 127.0.0.1:8080 --processes 2 --set conf=envoxy.json
"""


@dataclass
class LaunchOptions:
    """The parsed command line.

    :param arguments: the uWSGI arguments as given.
    :param given: the uWSGI option names present (aliases resolved).
    :param placeholders: ``--set key=value`` pairs (``conf``, ``mode``...).
    """

    arguments: list[str] = field(default_factory=list)
    given: set[str] = field(default_factory=set)
    placeholders: dict[str, str] = field(default_factory=dict)

    @property
    def conf(self) -> str | None:
        """The ``--set conf=`` path."""
        return self.placeholders.get("conf") or None

    @property
    def mode(self) -> str | None:
        """The ``--set mode=`` value."""
        return self.placeholders.get("mode") or None


def parse_args(arguments: Sequence[str]) -> LaunchOptions:
    """Find the options given (for the defaults) and the ``--set`` placeholders."""
    options = LaunchOptions(arguments=list(arguments))
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if not argument.startswith("-") or argument == "-":
            continue
        name, has_value, value = argument.lstrip("-").partition("=")
        name = _ALIASES.get(name, name)
        options.given.add(name)
        if name == "set":
            if not has_value and index < len(arguments):
                value = arguments[index]
                index += 1
            key, _, setting = value.partition("=")
            options.placeholders[key.strip()] = setting.strip()
    return options


def uwsgi_arguments(
    options: LaunchOptions, *, http_bind: str | None, grace: int, max_body_size: int | None = None
) -> list[str]:
    """Return the full uWSGI argument list: defaults, the given flags, then envoxy's own.

    :param max_body_size: the largest request body; one chunk of a chunked body may be
        that large (``--chunked-input-limit``, uWSGI's default is 1 MiB).
    :raises UsageError: when no listening socket is given nor configured.
    """
    defaults = list(DEFAULT_OPTIONS)
    if "http" in options.given:
        defaults += ROUTER_OPTIONS
    if max_body_size is not None:
        defaults.append(("chunked-input-limit", str(max_body_size + _CHUNK_FRAMING)))
    arguments: list[str] = []
    for name, value in defaults:
        if name not in options.given:
            arguments.append(f"--{name}")
            if value is not None:
                arguments.append(value)
    arguments.extend(options.arguments)
    if not options.given & _SOCKET_OPTIONS:
        if not http_bind:
            raise UsageError(
                "no listening address: pass --http :8080 or --http-socket :8080 "
                "(or set boot[0].http.bind in envoxy.json)"
            )
        arguments += ["--http-socket", http_bind]
    arguments += ["--module", "envoxy.daemon.wsgi:load()"]
    arguments += ["--mule=envoxy.daemon.service:run"]
    arguments += ["--hook-master-start", "unix_signal:15 gracefully_kill_them_all"]
    # uWSGI's SIGHUP reload re-executes the binary, which a pyuwsgi process cannot do
    # cleanly: SIGHUP is a graceful stop too (restart the service to reload it)
    arguments += ["--hook-master-start", "unix_signal:1 gracefully_kill_them_all"]
    for name, seconds in (
        ("worker-reload-mercy", grace),
        ("mule-reload-mercy", grace + 1),
        ("reload-mercy", grace + 2),
    ):
        if name not in options.given:
            arguments += [f"--{name}", str(seconds)]
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    """Run envoxyd with ``argv`` (default: ``sys.argv[1:]``); never returns while serving."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--help" in arguments or "-h" in arguments:
        _print(HELP)
        return
    if "--help-uwsgi" in arguments:
        _run_uwsgi(["--help"])
        return
    if "--version" in arguments:
        _print(version_text() + "\n")
        return
    options = parse_args(arguments)
    try:
        from envoxy.daemon.boot import prepare

        runtime = prepare(options.conf, options.mode)
        settings = runtime.app.settings
        full = uwsgi_arguments(
            options,
            http_bind=settings.http_bind,
            grace=settings.shutdown_grace,
            max_body_size=settings.max_body_size,
        )
        if runtime.metrics_dir is not None:
            from envoxy.daemon.metrics_dir import cleanup_hook

            full += cleanup_hook(runtime.metrics_dir)
        warn_past_harakiri(settings, full)
        log_budgets(settings, full)
    except UsageError as exc:
        sys.stderr.write(f"envoxyd: {exc}\n{HELP.splitlines()[0]}\n")
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:
        code = exc.exit_code if isinstance(exc, StartupError) else 1
        sys.stderr.write(f"envoxyd: error: {_one_line(exc)}\n")
        raise SystemExit(code) from None
    _run_uwsgi(full)


def warn_past_harakiri(settings: "DaemonSettings", arguments: Sequence[str]) -> None:
    """Log a warning for each configured client whose worst-case call outlives the
    ``--harakiri`` of ``arguments`` (see :mod:`envoxy.daemon.budget`)."""
    harakiri = option_value(arguments, "harakiri")
    if not harakiri or not settings.clients:
        return
    try:
        seconds = float(harakiri)
    except ValueError:
        return
    from envoxy.daemon.budget import check_harakiri
    from envoxy.daemon.settings import CLIENT_SECTIONS

    sections = {
        section: settings.clients[kind]
        for section, kind in CLIENT_SECTIONS.items()
        if kind in settings.clients
    }
    check_harakiri(sections, seconds)


def log_budgets(settings: "DaemonSettings", arguments: Sequence[str]) -> None:
    """Log each PostgreSQL key's connection budget for the ``--processes`` of ``arguments``
    (see :mod:`envoxy.daemon.connection_budget`)."""
    postgresql = settings.clients.get("postgresql")
    if not postgresql:
        return
    from envoxy.daemon.connection_budget import log_connection_budgets

    processes = option_value(arguments, "processes") or "1"
    workers = int(processes) if processes.isdigit() else 1
    log_connection_budgets({"psql_servers": postgresql}, workers)


def option_value(arguments: Sequence[str], name: str) -> str | None:
    """Return the last value given to uWSGI option ``name`` (aliases and ``--x=v`` too)."""
    found: str | None = None
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if not argument.startswith("-") or argument == "-":
            continue
        option, has_value, value = argument.lstrip("-").partition("=")
        if _ALIASES.get(option, option) != name:
            continue
        if not has_value and index < len(arguments) and not arguments[index].startswith("-"):
            value = arguments[index]
            index += 1
        found = value
    return found


def version_text() -> str:
    """Return ``envoxy-daemon <version> (uWSGI <version>)``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("envoxy-daemon")
    except PackageNotFoundError:
        ours = "unknown"
    try:
        theirs = version("pyuwsgi").split(".post")[0]
    except PackageNotFoundError:
        theirs = "unknown"
    return f"envoxy-daemon {ours} (uWSGI {theirs})"


def _print(text: str) -> None:
    """Write ``text`` to stdout; a reader that went away (``envoxyd --help | head -1``)
    ends the command quietly, as with other Unix tools (no BrokenPipeError traceback)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # let the interpreter's final flush hit /dev/null instead of the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


def _run_uwsgi(arguments: list[str]) -> None:
    import pyuwsgi

    pyuwsgi.run(arguments)


def _one_line(exc: BaseException) -> str:
    """Return the startup error on one line, redacted like a log line."""
    from envoxy.exceptions import EnvoxyError
    from envoxy.utils.redaction import redact

    text = redact(" ".join(str(exc).split()))

    if isinstance(exc, EnvoxyError) or not text:
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
