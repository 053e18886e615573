"""Fixtures of the envoxy-daemon tests: a real ``envoxyd`` process on a free port."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.network import free_port

ENVOXYD = Path(sys.executable).with_name("envoxyd")


class Daemon:
    """A running envoxyd: its process, port and log file."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self, timeout: float = 15.0) -> None:
        """Wait until the uWSGI master runs its start hooks (SIGTERM is graceful from then)."""
        deadline = time.monotonic() + timeout
        while "(master-start)" not in self.log():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.02)

    def wait_healthy(self, timeout: float = 15.0) -> float:
        """Wait for 200 on /_health; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"envoxyd exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(self.base + "/_health", timeout=1) as answer:
                    if answer.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"envoxyd did not become healthy:\n{self.log()}")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def start_envoxyd(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start envoxyd with the given arguments on a free port (``--http-socket``)."""
    started: list[Daemon] = []

    def start(
        *arguments: str,
        env: dict[str, str] | None = None,
        wait: bool = True,
        listen: str = "--http-socket",
    ) -> Daemon:
        port = free_port()
        log_path = tmp_path / f"envoxyd-{port}.log"
        environment = {name: value for name, value in os.environ.items() if name != "NOTIFY_SOCKET"}
        environment.update(env or {})
        with open(log_path, "wb") as output:
            process = subprocess.Popen(
                [str(ENVOXYD), listen, f"127.0.0.1:{port}", *arguments],
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
                env=environment,
            )
        daemon = Daemon(process, port, log_path)
        started.append(daemon)
        if wait:
            daemon.wait_healthy()
            daemon.wait_started()
        return daemon

    yield start
    for daemon in started:
        daemon.stop(timeout=10)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config dict as ``envoxy.json`` in the test's directory; return its path."""
    import json

    def write(config: dict[str, Any], name: str = "envoxy.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(config))
        return path

    return write
