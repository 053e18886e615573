"""A real ``envoxyd`` on a free loopback port, for tests that drive the daemon from outside.

:class:`Envoxyd` starts the process (its whole output in one log file), waits for
``/_health`` within a bound, and offers the two ways tests talk to it: plain HTTP
(:meth:`Envoxyd.get`) and raw bytes on a new connection (:meth:`Envoxyd.send`, for
hostile clients). :meth:`Envoxyd.stop` sends SIGTERM and returns the exit status;
:meth:`Envoxyd.kill` kills the master and every process it forked, as a crash would.
The ``start_envoxyd`` fixture of :mod:`envoxy_testing.plugin` makes them and stops
every one at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envoxy_testing.network import free_port
from envoxy_testing.servers import _live_processes

__all__ = ["ENVOXYD", "Envoxyd", "RawAnswer", "write_config"]

#: the envoxyd script of the interpreter running the tests
ENVOXYD = Path(sys.executable).with_name("envoxyd")


@dataclass
class RawAnswer:
    """What came back on one raw connection."""

    raw: bytes
    reset: bool
    seconds: float

    @property
    def status(self) -> int:
        """The status of the first answer, 0 when there was none."""
        parts = self.raw.split(b"\r\n", 1)[0].split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    @property
    def headers(self) -> dict[str, str]:
        """The answer's headers, names lower-cased (a repeated header keeps the last)."""
        head = self.raw.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]
        pairs = (line.decode("latin-1").partition(":") for line in head)
        return {name.strip().lower(): value.strip() for name, _, value in pairs}

    @property
    def body(self) -> bytes:
        """Everything after the first blank line."""
        return self.raw.partition(b"\r\n\r\n")[2]

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


class Envoxyd:
    """A running ``envoxyd``: ``Envoxyd(*uwsgi_arguments, cwd=folder)``.

    :param arguments: envoxyd's arguments after the listening address (``--set conf=...``,
        ``--processes 2``...).
    :param cwd: the working directory (relative ``modules`` and config paths start here).
    :param listen: ``--http-socket`` (workers parse HTTP) or ``--http`` (uWSGI's router).
    :param env: variables added to the environment (``NOTIFY_SOCKET`` is always removed,
        and every ``ENVOXY_*`` variable too when ``clean_env``).
    :param wait: wait until ``/_health`` answers 200 (and the master runs its hooks).
    """

    def __init__(
        self,
        *arguments: str,
        cwd: Path,
        listen: str = "--http-socket",
        env: Mapping[str, str] | None = None,
        clean_env: bool = False,
        wait: bool = True,
    ) -> None:
        self.port = free_port()
        self.listen = listen
        self.log_path = Path(cwd) / f"envoxyd-{self.port}.log"
        environment = {
            name: value
            for name, value in os.environ.items()
            if name != "NOTIFY_SOCKET" and not (clean_env and name.startswith("ENVOXY_"))
        }
        environment.update(env or {})
        with open(self.log_path, "wb") as output:
            self.process = subprocess.Popen(
                [str(ENVOXYD), listen, f"127.0.0.1:{self.port}", *arguments],
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=environment,
            )
        if wait:
            self.wait_healthy()
            self.wait_started()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything envoxyd wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 20.0) -> float:
        """Wait for 200 on ``/_health``; return the seconds it took.

        :raises AssertionError: envoxyd exited or stayed unhealthy (its log attached).
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"envoxyd exited with {self.process.returncode}:\n{self.log()}"
                )
            if self.get("/_health", timeout=1)[0] == 200:
                return time.monotonic() - started
            time.sleep(0.02)
        raise AssertionError(f"envoxyd did not become healthy within {timeout} s:\n{self.log()}")

    def wait_started(self, timeout: float = 15.0) -> None:
        """Wait until the uWSGI master runs its start hooks (SIGTERM is graceful from then)."""
        deadline = time.monotonic() + timeout
        while "(master-start)" not in self.log():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.02)

    def get(
        self, path: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0
    ) -> tuple[int, dict[str, str], bytes]:
        """``GET path``: the status (0 when nothing answered), headers and body."""
        request = urllib.request.Request(self.base + path, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except OSError:
            return 0, {}, b""

    def send(self, raw: bytes, *, half_close: bool = False, timeout: float = 10.0) -> RawAnswer:
        """Send ``raw`` on a new connection and read until the server closes it.

        :param half_close: shut our sending side after ``raw`` (uWSGI's router then drops
            the answer: only ``--http-socket`` tests use it).
        """
        started = time.monotonic()
        chunks: list[bytes] = []
        reset = False
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as connection:
            try:
                # the server may answer (and close) before it read everything: read anyway
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    connection.sendall(raw)
                    if half_close:
                        connection.shutdown(socket.SHUT_WR)
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:
                reset = True
        return RawAnswer(b"".join(chunks), reset, time.monotonic() - started)

    def kill(self) -> set[int]:
        """SIGKILL the master, its workers and its mules at once (a crashed host or an OOM
        kill: nothing runs a handler, sends a packet or cleans up after); return their pids.

        The tree is stopped first (SIGSTOP), so no process notices the others dying.
        """
        doomed: set[int] = set()
        while fresh := set(self._process_tree()) - doomed:
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            doomed |= fresh
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while doomed & set(_live_processes()):
            assert time.monotonic() < deadline, f"envoxyd processes {doomed} survived SIGKILL"
            time.sleep(0.01)
        return doomed

    def _process_tree(self) -> list[int]:
        """The master and its descendants, while the master runs."""
        if self.process.poll() is not None:
            return []
        processes = _live_processes()
        tree: list[int] = []
        pending = [self.process.pid]
        while pending:
            parent = pending.pop()
            tree.append(parent)
            pending += [pid for pid, (_, ppid, _) in processes.items() if ppid == parent]
        return tree

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def write_config(folder: Path, config: Mapping[str, Any], name: str = "envoxy.json") -> Path:
    """Write ``config`` as JSON in ``folder``; return its path."""
    path = Path(folder) / name
    path.write_text(json.dumps(config))
    return path
