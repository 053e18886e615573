"""envoxyd throughput and start-up, side by side with a bare WSGI app and the original.

Three servers answer ``GET /v1/items/3`` with ``{"id":3}`` under the same uWSGI flags
(``--http-socket``, 1 thread, 1 process then 2 processes), measured with ``wrk`` on
loopback:

- ``bare``: a plain WSGI function under the workspace's ``pyuwsgi``, answering the same
  bytes (body and the four headers ``Content-Type``, ``Content-Length``, ``Server``,
  ``Date``);
- ``ours``: a view under ``envoxyd`` (envoxy-daemon);
- ``0.6.1``: the same view under the original ``envoxyd`` (the last on PyPI; there is
  no 0.7.1) with envoxy 0.7.1, when ``.bench/envoxy-0.7.1/bin/envoxyd`` exists. It
  also gets ``--pythonpath <its package folder>`` (its embedded config loads
  ``run:app`` from there), ``VIRTUAL_ENV`` and a loopback credentials server (it
  exits without credentials).

Then the time from start to the first 200 on ``/_health``, and, with ``--long`` (or
``ENVOXY_BENCH_LONG=1``), a 60 s run at 64 connections checking errors and the
workers' memory growth.

The flags add ``--add-header Connection:close`` so that wrk reconnects cleanly after
each answer (uWSGI's ``--http-socket`` closes the connection) instead of counting
read errors. Logging is at level 4 (warnings) on our side: request lines at INFO are
two log records per request and are measured separately (``ours, INFO log``).
``ours, metrics off`` turns ``/_metrics`` off: its per-request cost (counters, latency
histogram, in-flight gauge in the multiprocess files) is the gap to ``ours``.
"""

import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from harness import BENCH_DIR, ORIGINAL_VERSION, REPO_ROOT, print_table, workspace_python

__all__ = ["main"]

DURATION = 8
#: each server is measured this many times, interleaved with the others; the median is kept
ROUNDS = 3
CONNECTIONS = 16
LONG_DURATION = 60
LONG_CONNECTIONS = 64
COMMON_FLAGS = [
    "--threads", "1", "--master", "--disable-logging", "--enable-threads", "--die-on-term",
    "--need-app", "--harakiri", "90", "--vacuum", "--add-header", "Connection:close",
]  # fmt: skip

OUR_VIEWS = """\
from envoxy.decorators import on
from envoxy.views import View


@on(endpoint="/v1/items/{item_id:int}", protocols=["http"])
class ItemView(View):
    def get(self, request, item_id, **kwargs):
        return {"id": item_id}


__loader__ = [ItemView]
"""

ORIGINAL_VIEWS = """\
from envoxy import Response, View, on


@on(endpoint="/v1/items/{item_id:int}", protocols=["http"])
class ItemView(View):
    def get(self, request, item_id, **kwargs):
        return Response({"id": item_id})


__loader__ = [ItemView]
"""

BARE_APP = """\
import time
from email.utils import formatdate

BODY = b'{"id":3}'
DATE = [0, ""]


def application(environ, start_response):
    # the same bytes as envoxyd's answer: its four headers, the Date computed once a second
    now = int(time.time())
    if DATE[0] != now:
        DATE[:] = [now, formatdate(now, usegmt=True)]
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(BODY))),
            ("Server", "Envoxy Server"),
            ("Date", DATE[1]),
        ],
    )
    return [BODY]
"""


Command = Callable[[int], list[str]]


@dataclass
class WrkResult:
    """What one wrk run reported."""

    requests_per_second: float
    errors: int
    non_2xx: int


def main(argv: Sequence[str] | None = None) -> None:
    """Run the throughput, start-up and (optionally) long-run measurements."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    long_run = "--long" in arguments or os.environ.get("ENVOXY_BENCH_LONG") == "1"
    if shutil.which("wrk") is None:
        print("bench_daemon: wrk is not installed (apt-get install wrk); skipped")
        return
    with (
        tempfile.TemporaryDirectory(prefix="bench-daemon-") as directory,
        _credentials_server() as credentials_url,
    ):
        work = pathlib.Path(directory)
        servers = _servers(work, credentials_url)
        rows = []
        for processes in (1, 2):
            samples: dict[str, list[WrkResult]] = {}
            for _ in range(ROUNDS):
                for name, command in servers.items():
                    if command is None:
                        continue
                    with _serving(command(processes)) as port:
                        _wrk(port, 2)  # warm-up
                        samples.setdefault(name, []).append(_wrk(port, DURATION))
            results = {name: _median(runs) for name, runs in samples.items()}
            bare = results["bare"].requests_per_second
            for name, result in results.items():
                rows.append(
                    [
                        f"{processes} process{'es' if processes > 1 else ''}",
                        name,
                        f"{result.requests_per_second:,.0f}",
                        f"{result.requests_per_second / bare:.2f}x",
                        result.errors,
                        result.non_2xx,
                    ]
                )
        print_table(
            f"GET /v1/items/3, wrk -t2 -c{CONNECTIONS} -d{DURATION}s, --http-socket, 1 thread "
            f"(median of {ROUNDS} interleaved rounds; errors summed)",
            ["workers", "server", "req/s", "vs bare", "socket errors", "non-2xx"],
            rows,
        )
        if servers.get("0.6.1") is None:
            print(f"original envoxyd: not measured ({_ORIGINAL_MISSING})")
        _startup(servers)
        if long_run:
            _long_run(servers)
        else:
            print("\n(the 60 s soak runs with --long or ENVOXY_BENCH_LONG=1)")


ORIGINAL_VENV = BENCH_DIR / f"envoxy-{ORIGINAL_VERSION}"
ORIGINAL_ENVOXYD = ORIGINAL_VENV / "bin" / "envoxyd"
#: the original's embedded uWSGI config loads ``run:app`` from the envoxyd package folder
ORIGINAL_RUN_DIR = ORIGINAL_VENV / "lib" / "python3.12" / "site-packages" / "envoxyd"

_ORIGINAL_MISSING = (
    f"{BENCH_DIR}/envoxy-{ORIGINAL_VERSION}/bin/envoxyd is absent: envoxyd 0.7.1 was never "
    "published, and 0.6.1 is an sdist that compiles uWSGI; install it with "
    f"`{BENCH_DIR}/envoxy-{ORIGINAL_VERSION}/bin/pip install --no-deps envoxyd==0.6.1` "
    "(needs gcc and the Python 3.12 headers)"
)


def _median(runs: list[WrkResult]) -> WrkResult:
    rates = sorted(run.requests_per_second for run in runs)
    return WrkResult(
        statistics.median(rates),
        sum(run.errors for run in runs),
        sum(run.non_2xx for run in runs),
    )


@contextlib.contextmanager
def _credentials_server() -> Iterator[str]:
    """A loopback credentials server: the original envoxyd exits without one."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"access_token": "bench"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


def _servers(work: pathlib.Path, credentials_url: str) -> dict[str, Command | None]:
    (work / "bench_views.py").write_text(OUR_VIEWS)
    (work / "bench_bare.py").write_text(BARE_APP)
    (work / "original_views.py").write_text(ORIGINAL_VIEWS)
    ours_conf = work / "envoxy.json"
    ours_conf.write_text(json.dumps({"modules": ["bench_views.py"], "log": {"level": 4}}))
    # the cost of /_metrics' per-request work (on by default) is this row against "ours"
    bare_conf = work / "envoxy-no-metrics.json"
    bare_conf.write_text(
        json.dumps(
            {"modules": ["bench_views.py"], "log": {"level": 4}, "metrics": {"enabled": False}}
        )
    )
    info_conf = work / "envoxy-info.json"
    info_conf.write_text(
        json.dumps({"modules": ["bench_views.py"], "log": {"level": 6, "format": "json"}})
    )
    original_conf = work / "original.json"
    original_conf.write_text(
        json.dumps(
            {
                "modules": [str(work / "original_views.py")],
                "log": {"level": 4},
                "credentials": {
                    "server": credentials_url,
                    "client_id": "bench",
                    "client_secret": "bench",
                    "response_type": "token",
                    "scope": "all",
                },
            }
        )
    )
    python = workspace_python()
    envoxyd = python.with_name("envoxyd")
    pyuwsgi = python.with_name("pyuwsgi")
    original = ORIGINAL_ENVOXYD

    def bare(processes: int) -> list[str]:
        return [str(pyuwsgi), "--module", "bench_bare:application", "--pythonpath", str(work),
                "--processes", str(processes), *COMMON_FLAGS]  # fmt: skip

    def ours(processes: int, conf: pathlib.Path = ours_conf) -> list[str]:
        return [str(envoxyd), "--set", f"conf={conf}", "--processes", str(processes),
                *COMMON_FLAGS]  # fmt: skip

    def ours_info(processes: int) -> list[str]:
        return ours(processes, info_conf)

    def ours_no_metrics(processes: int) -> list[str]:
        return ours(processes, bare_conf)

    def theirs(processes: int) -> list[str]:
        return [str(original), "--set", f"conf={original_conf}", "--processes", str(processes),
                "--pythonpath", str(ORIGINAL_RUN_DIR), *COMMON_FLAGS]  # fmt: skip

    return {
        "bare": bare,
        "ours": ours,
        "ours, metrics off": ours_no_metrics,
        "ours, INFO log": ours_info,
        "0.6.1": theirs if original.exists() else None,
    }


@contextlib.contextmanager
def _serving(command: list[str]) -> Iterator[int]:
    port = _free_port()
    environment = _environment(command)
    with tempfile.NamedTemporaryFile(prefix="bench-daemon-", suffix=".log") as log:
        process = subprocess.Popen(
            [*command, "--http-socket", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=environment,
            start_new_session=True,
        )
        try:
            _wait_for(port, "/v1/items/3", process, log.name)
            yield port
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _environment(command: list[str]) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    if command[0] == str(ORIGINAL_ENVOXYD):
        # the original's embedded bootstrap finds its packages through VIRTUAL_ENV
        environment["VIRTUAL_ENV"] = str(ORIGINAL_VENV)
    return environment


def _wait_for(port: int, path: str, process: subprocess.Popen[bytes], log: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 30:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_read(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"no 200 on {path} within 30 s:\n{_read(log)}")


def _read(path: str) -> str:
    return pathlib.Path(path).read_text(errors="replace")


def _wrk(port: int, seconds: int, connections: int = CONNECTIONS) -> WrkResult:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/v1/items/3"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = 0
    found = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if found:
        errors = sum(int(value) for value in found.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(rate, errors, int(non_2xx.group(1)) if non_2xx else 0)


def _startup(servers: dict[str, Command | None]) -> None:
    rows = []
    ours = servers["ours"]
    assert ours is not None
    commands = {"ours (/_health)": (ours(2), "/_health")}
    original = servers.get("0.6.1")
    if original is not None:
        commands["0.6.1 (/_health)"] = (original(2), "/_health")
    for name, (command, path) in commands.items():
        samples = []
        for _ in range(5):
            port = _free_port()
            with tempfile.NamedTemporaryFile(suffix=".log") as log:
                started = time.monotonic()
                process = subprocess.Popen(
                    [*command, "--http-socket", f"127.0.0.1:{port}"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=REPO_ROOT,
                    env=_environment(command),
                    start_new_session=True,
                )
                try:
                    _wait_for(port, path, process, log.name)
                    samples.append(time.monotonic() - started)
                finally:
                    process.send_signal(signal.SIGINT)
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
        rows.append([name, f"{min(samples):.2f} s", f"{statistics.median(samples):.2f} s"])
    print_table("start to the first 200 (2 workers, 5 runs)", ["server", "min", "median"], rows)


def _long_run(servers: dict[str, Command | None]) -> None:
    ours = servers["ours"]
    assert ours is not None
    command = ours(2)
    with _serving(command) as port:
        _wrk(port, 5, LONG_CONNECTIONS)  # warm-up
        master = _pid_listening(port)
        before = _children_rss(master)
        result = _wrk(port, LONG_DURATION, LONG_CONNECTIONS)
        after = _children_rss(master)
    rows = []
    for pid, rss in sorted(before.items()):
        grown = after.get(pid, rss)
        rows.append([pid, f"{rss / 1024:.1f} MiB", f"{grown / 1024:.1f} MiB",
                     f"{(grown - rss) / rss * 100:+.1f}%"])  # fmt: skip
    print_table(
        f"soak: wrk -t2 -c{LONG_CONNECTIONS} -d{LONG_DURATION}s on ours (2 workers): "
        f"{result.requests_per_second:,.0f} req/s, socket errors {result.errors}, "
        f"non-2xx {result.non_2xx}",
        ["process (workers + service mule)", "RSS after warm-up", "RSS after 60 s", "growth"],
        rows,
    )


def _pid_listening(port: int) -> int:
    output = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return min(int(pid) for pid in re.findall(r"pid=(\d+)", output))


def _children_rss(master: int) -> dict[int, int]:
    children = pathlib.Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = {}
    for child in children:
        status = pathlib.Path(f"/proc/{child}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        if found:
            sizes[int(child)] = int(found.group(1))
    return sizes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
