"""Private server processes for tests that stop, kill, freeze or restart a server.

The shared servers of ``tools/services`` belong to everyone running tests on the machine:
a test must never take them away. A test that breaks a server starts its own, on a free
loopback port in a directory of its own, and breaks that one::

    with PrivateRedis() as redis_server:          # started and answering
        redis_server.freeze()                     # SIGSTOP: sockets open, nothing answers
        redis_server.thaw()                       # SIGCONT
        redis_server.kill()                       # SIGKILL, no clean-up (a crash)
        redis_server.start()                      # same port, same directory
        redis_server.restart()                    # clean stop, then start

Every server runs in a session of its own, and ``freeze()``, ``thaw()`` and ``kill()``
signal it and every process it forked (PostgreSQL's backends, which each call
``setsid()``: a process group alone would miss them). Every wait is
bounded. ``close()`` (or leaving the ``with`` block) stops it even when frozen and
removes the directory the server made for itself. :class:`PrivatePostgres` lives in
:mod:`envoxy_testing.postgres`.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from envoxy_testing.network import free_port, port_accepts, wait_until
from envoxy_testing.tls import TlsFiles

__all__ = [
    "PrivateMosquitto",
    "PrivateRedis",
    "ServerError",
    "ServerProcess",
    "ServerStartError",
    "find_binary",
    "redis_answers",
]


class ServerError(RuntimeError):
    """A private server could not be set up, started or signalled."""


class ServerStartError(ServerError):
    """A private server exited or did not answer in time; the message ends with its log."""


class ServerProcess:
    """One server process of its own on a loopback port, with its files in one directory.

    Subclasses name the command (:meth:`command`), the one-off preparation of the data
    (:meth:`prepare`) and the readiness probe (:meth:`answers`).

    Args:
        directory: Where config, data and log go. ``None`` makes a temporary directory
            that :meth:`close` removes.
        port: Port to listen on; ``None`` picks a free one (and picks another when a
            concurrent test took it before the server could bind it).
        host: Loopback address to listen on.
    """

    #: Short name used in file names and messages.
    name: ClassVar[str] = "server"
    #: URL scheme of :attr:`url`.
    scheme: ClassVar[str] = "tcp"
    #: Signal that stops the server cleanly.
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    #: Seconds :meth:`start` waits for the first answer.
    start_timeout: ClassVar[float] = 20.0
    #: Seconds :meth:`stop` waits before it kills the server and its forks.
    stop_timeout: ClassVar[float] = 10.0

    def __init__(
        self, directory: Path | None = None, *, port: int | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.host = host
        self._own_directory = directory is None
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix=f"envoxy-{self.name}-"))
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port(host)
        self.log_path = directory / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False
        self._prepared = False
        self._started_once = False

    # ------------------------------------------------------------------ hooks

    def command(self) -> list[str]:
        """The command line that runs the server in the foreground (may write its config)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Set up the data once, before the first start (e.g. initdb)."""

    def answers(self) -> bool:
        """Whether the server answers now; must return within about a second."""
        return port_accepts(self.host, self.port)

    def popen_options(self) -> dict[str, Any]:
        """Extra :class:`subprocess.Popen` arguments (e.g. ``user=``)."""
        return {}

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        """``scheme://host:port`` of the server."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` of the server."""
        return (self.host, self.port)

    @property
    def running(self) -> bool:
        """Whether the server process is alive (frozen counts as alive)."""
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        """Process id of the server (its session and process group have the same id)."""
        if self.process is None:
            raise ServerError(f"{self.name} on port {self.port} was never started")
        return self.process.pid

    def start(self) -> Self:
        """Start the server and wait until it answers; the first start may retry on a new port.

        Raises:
            ServerStartError: It exited or did not answer within :attr:`start_timeout`.
        """
        if self.running:
            raise ServerError(f"{self.name} on port {self.port} is already running")
        attempts = 1 if self._fixed_port or self._started_once else 3
        for attempt in range(1, attempts + 1):
            if not self._prepared:
                self.prepare()
                self._prepared = True
            self._spawn()
            try:
                self._wait_until_answering()
            except ServerStartError:
                exited = self.process is not None and self.process.poll() is not None
                self._kill_tree()
                if exited and attempt < attempts and port_accepts(self.host, self.port):
                    self.port = free_port(self.host)  # someone took the port meanwhile
                    continue
                raise
            self._started_once = True
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop cleanly with :attr:`stop_signal` (thawing first); SIGKILL after the timeout."""
        if not self.running:
            return
        assert self.process is not None
        if self.frozen:
            self.thaw()
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._kill_tree()

    def kill(self) -> None:
        """SIGKILL every process of the server at once: a crash, nothing written on the way out."""
        if not self.running:
            return
        self._kill_tree()

    def freeze(self) -> None:
        """SIGSTOP every process of the server: sockets stay open, nothing answers.

        Returns once every one of its processes is stopped.
        """
        if not self.running:
            raise ServerError(f"{self.name} on port {self.port} is not running: cannot freeze it")
        self._signal_tree(signal.SIGSTOP)
        self.frozen = True
        wait_until(
            lambda: all(state in "Tt" for state in self._process_tree().values()),
            timeout=5,
            what=f"every process of {self.name} stopped",
        )

    def thaw(self) -> None:
        """SIGCONT every process of the server (undoes :meth:`freeze`)."""
        if self.running:
            self._signal_tree(signal.SIGCONT)
        self.frozen = False

    def restart(self) -> Self:
        """Stop cleanly and start again on the same port with the same data."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server (even frozen) and remove its directory if it made it. Idempotent."""
        try:
            if self.running:
                try:
                    self.stop()
                except BaseException:
                    self._kill_tree()
                    raise
        finally:
            _LIVE.discard(self)
            if self._own_directory:
                shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        """Everything the server printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of :meth:`log`."""
        return "\n".join(self.log().splitlines()[-lines:])

    def __enter__(self) -> Self:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "frozen" if self.frozen else "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"

    # ------------------------------------------------------------------ helpers

    def _spawn(self) -> None:
        _LIVE.add(self)
        command = self.command()
        with self.log_path.open("ab") as log:
            try:
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    start_new_session=True,  # signals to pytest's group do not reach it
                    **self.popen_options(),
                )
            except OSError as exc:
                raise ServerStartError(f"cannot run {command[0]}: {exc}") from exc

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while not self.answers():
            code = self.process.poll()
            if code is not None:
                raise ServerStartError(
                    f"{self.name} exited with {code} before answering on "
                    f"{self.host}:{self.port}; its log:\n{self.log_tail()}"
                )
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"{self.name} did not answer on {self.host}:{self.port} within "
                    f"{self.start_timeout}s; its log:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def _signal_tree(self, signum: signal.Signals) -> set[int]:
        """Send ``signum`` to the server and every process it forked; return their pids.

        The leader goes first (a stopped PostgreSQL forks no new backend), then every
        descendant and group member, again until a scan finds none it has not signalled.
        """
        signalled: set[int] = set()
        while fresh := set(self._process_tree()) - signalled:
            for pid in sorted(fresh, key=lambda pid: pid != self.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            signalled |= fresh
        return signalled

    def _kill_tree(self) -> None:
        """SIGKILL the server and its forks, reap the leader, wait until every one is gone."""
        if self.process is None:
            return
        # Stop the whole tree first: a killed postmaster's backends would be re-parented
        # and no longer found as its descendants.
        doomed = self._signal_tree(signal.SIGSTOP)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"{self.name} (pid {self.pid}) survived SIGKILL") from exc
        self.frozen = False
        wait_until(
            lambda: not doomed & set(_live_processes()),
            timeout=5,
            what=f"every process of {self.name} gone",
        )

    def _process_tree(self) -> dict[int, str]:
        """Live processes of the server: the leader, its descendants and its process group.

        Maps pid to its scheduler state letter (``T`` when stopped). PostgreSQL's backends
        call ``setsid()``, so a process group alone would miss them.
        """
        if self.process is None or self.process.poll() is not None:
            return {}  # reaped: its pid may already belong to someone else
        processes = _live_processes()
        leader = self.pid
        tree = {pid: state for pid, (state, _, pgrp) in processes.items() if pgrp == leader}
        pending = [leader] if leader in processes else []
        while pending:
            parent = pending.pop()
            tree[parent] = processes[parent][0]
            pending += [pid for pid, (_, ppid, _) in processes.items() if ppid == parent]
        return tree


#: Every server started and not closed yet: closed at exit if the test run ends without
#: its teardown (an internal error, a broken pipe), so no frozen server outlives it.
_LIVE: weakref.WeakSet[ServerProcess] = weakref.WeakSet()


@atexit.register
def _close_live_servers() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.close()


def _live_processes() -> dict[int, tuple[str, int, int]]:
    """Every process that is not a zombie: pid -> (state letter, parent pid, process group)."""
    processes = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        state = fields[0].decode()
        if state not in "ZX":
            processes[int(entry.name)] = (state, int(fields[1]), int(fields[2]))
    return processes


class PrivateRedis(ServerProcess):
    """``redis-server`` without persistence (``--save ""``, ``--appendonly no``).

    It reads an (initially empty) ``redis.conf`` in its directory, so ``CONFIG REWRITE``
    works: Sentinel rewrites the configuration of the servers it reconfigures.

    Args:
        password: Sets ``requirepass`` (and ``masterauth``); :attr:`url` then carries it.
        extra_args: More ``redis-server`` arguments, e.g. ``("--maxclients", "10")``.
        tls: Certificate files (:func:`envoxy_testing.tls.make_tls_files`); the server
            then speaks TLS only (``--port 0 --tls-port``) and :attr:`url` is ``rediss://``.
        tls_auth_clients: With ``tls``, require a client certificate the CA signed.
    """

    name = "redis"
    scheme = "redis"

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        password: str | None = None,
        extra_args: Sequence[str] = (),
        tls: TlsFiles | None = None,
        tls_auth_clients: bool = False,
    ) -> None:
        super().__init__(directory, port=port)
        self.password = password
        self.extra_args = tuple(extra_args)
        self.tls = tls
        self.tls_auth_clients = tls_auth_clients
        self.config_path = self.directory / "redis.conf"

    @property
    def url(self) -> str:
        """``redis://[:password@]host:port/0`` (``rediss://`` with TLS)."""
        auth = f":{self.password}@" if self.password else ""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{auth}{self.host}:{self.port}/0"

    def prepare(self) -> None:
        self.config_path.touch()

    def command(self) -> list[str]:
        arguments = [find_binary("redis-server", "redis"), str(self.config_path)]
        if self.tls is None:
            arguments += ["--port", str(self.port)]
        else:
            arguments += ["--port", "0", "--tls-port", str(self.port)]
            arguments += ["--tls-cert-file", str(self.tls.cert)]
            arguments += [
                "--tls-key-file",
                str(self.tls.key),
                "--tls-ca-cert-file",
                str(self.tls.ca),
            ]
            arguments += ["--tls-auth-clients", "yes" if self.tls_auth_clients else "no"]
        arguments += ["--bind", self.host, "--dir", str(self.directory), "--daemonize", "no"]
        arguments += ["--save", "", "--appendonly", "no", "--logfile", ""]
        if self.password:
            arguments += ["--requirepass", self.password, "--masterauth", self.password]
        return [*arguments, *self.extra_args]

    def answers(self) -> bool:
        """A ``PING`` gets a reply (``+PONG``, or ``-NOAUTH`` with a password)."""
        return redis_answers(self.address, self.tls_context())

    def tls_context(self) -> ssl.SSLContext | None:
        """A client TLS context trusting the test CA (with the client certificate), or None."""
        if self.tls is None:
            return None
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        context.load_cert_chain(str(self.tls.client_cert), str(self.tls.client_key))
        return context


def redis_answers(address: tuple[str, int], tls: ssl.SSLContext | None = None) -> bool:
    """Whether a Redis (or Sentinel) at ``address`` replies to ``PING`` within half a second."""
    try:
        with socket.create_connection(address, timeout=0.5) as raw:
            connection = raw if tls is None else tls.wrap_socket(raw, server_hostname=address[0])
            with connection:
                connection.sendall(b"*1\r\n$4\r\nPING\r\n")
                return connection.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


class PrivateMosquitto(ServerProcess):
    """A Mosquitto broker with anonymous access, optionally persistent and over TLS.

    Args:
        persistence: Keep sessions and queued QoS 1/2 messages across a clean restart
            (``persistence true``, written on :meth:`stop`).
        tls: Certificate files (:func:`envoxy_testing.tls.make_tls_files`); the listener
            then speaks TLS only and :attr:`url` is ``mqtts://``.
        extra: More ``mosquitto.conf`` lines, e.g. ``"max_queued_messages 10000"``.
    """

    name = "mosquitto"

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        persistence: bool = False,
        tls: TlsFiles | None = None,
        extra: str = "",
    ) -> None:
        super().__init__(directory, port=port)
        self.persistence = persistence
        self.tls = tls
        self.extra = extra
        self.config_path = self.directory / "mosquitto.conf"

    @property
    def url(self) -> str:
        """``mqtt://host:port``, or ``mqtts://`` with TLS."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def command(self) -> list[str]:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.directory}/",
            f"user {getpass.getuser()}",  # as root: stay root, the directory is root's
        ]
        if self.tls is not None:
            tls = self.tls
            lines += [f"cafile {tls.ca}", f"certfile {tls.cert}", f"keyfile {tls.key}"]
        self.config_path.write_text("\n".join([*lines, self.extra, ""]))
        return [find_binary("mosquitto", "mosquitto"), "-c", str(self.config_path)]


def find_binary(program: str, service: str, extra_dirs: Sequence[str] = ("/usr/sbin",)) -> str:
    """Path of ``program`` on PATH or in ``extra_dirs``.

    Raises:
        ServerError: Not installed; the message names the ``tools/services`` command.
    """
    found = shutil.which(program) or shutil.which(program, path=os.pathsep.join(extra_dirs))
    if found is None:
        raise ServerError(
            f"{program} is not installed: run `tools/services install {service}` (as root)"
        )
    return found
