"""envoxyd side by side with a bare WSGI app, Falcon and Flask: req/s and µs per request.

Every server runs under the workspace's own ``pyuwsgi`` with the same flags
(``--http-socket``, 1 process, 1 thread), measured with ``wrk -t1 -c8`` on loopback in
interleaved rounds (each row once per round; the median is kept), all in one run:

- ``bare WSGI``: a plain function answering envoxyd's bytes for ``GET /hello`` (body and
  the four headers ``Content-Type``, ``Content-Length``, ``Server``, ``Date``);
- Falcon and Flask (``.bench/frameworks``, :func:`harness.frameworks_site`; never a
  dependency of a package) answering the same greeting, ``/items/{id:int}`` and a POSTed
  JSON body;
- envoxyd with both view styles (a plain dict or list, and ``Response(...)``), each at
  the default log level (INFO: one access line per request) and at warning, plus the URL
  variable route and the JSON body (:mod:`daemon_apps`), and at INFO with ``/_metrics``
  off (``"metrics": {"enabled": false}``): the gap to the INFO rows is what the request
  counters, latency histogram and in-flight gauge cost (issue 18's goal: <= 5%);
- the original envoxyd 0.6.1 when ``.bench/envoxy-0.7.1/bin/envoxyd`` exists.

Each row's ratio is to Falcon answering the same request. Before the wrk rounds,
:mod:`daemon_profile` prints the in-process cost of one request (µs) per case; after
them, the time from start to the first 200 on ``/_health``. ``--long`` (or
``ENVOXY_BENCH_LONG=1``) adds a 60 s soak at 64 connections with the workers' memory.

``--add-header Connection:close`` makes wrk reconnect cleanly after each answer (uWSGI's
``--http-socket`` closes the connection) instead of counting read errors. With ``taskset``
and two CPUs or more, servers run on CPU 0 and wrk on CPU 1, so that they never take
turns on one core.

Options: ``--rounds N`` (3), ``--duration S`` (5), ``--profile-only``, ``--wrk-only``, and
``--compare CHECKOUT``: the envoxyd rows and the profile once more with another checkout's
``.venv`` (e.g. a worktree of the previous commit), interleaved, for a before/after table.
"""

import argparse
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
from typing import NamedTuple

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from daemon_apps import BARE_APP, ENVOXY_VIEWS, FALCON_APP, FLASK_APP, POST_BODY
from daemon_profile import profile
from harness import (
    BENCH_DIR,
    ORIGINAL_VERSION,
    REPO_ROOT,
    frameworks_site,
    print_table,
    workspace_python,
)

__all__ = ["main"]

WRK_THREADS = 1
CONNECTIONS = 8
LONG_DURATION = 60
LONG_CONNECTIONS = 64
COMMON_FLAGS = [
    "--processes", "1", "--threads", "1", "--master", "--disable-logging", "--enable-threads",
    "--die-on-term", "--need-app", "--harakiri", "90", "--vacuum",
    "--add-header", "Connection:close",
]  # fmt: skip

ORIGINAL_VIEWS = """\
from envoxy import Response, View, on


@on(endpoint="/hello", protocols=["http"])
class Hello(View):
    def get(self, request, **kwargs):
        return Response({"message": "Hello, World!"})


__loader__ = [Hello]
"""

Command = Callable[[], list[str]]


class Row(NamedTuple):
    """One measured line: a server answering one request."""

    label: str
    server: str
    method: str
    path: str
    #: the label of the Falcon row answering the same request (the ratio's reference)
    reference: str = "Falcon 4"


ROWS = (
    Row("bare WSGI", "bare", "GET", "/hello"),
    Row("Falcon 4", "falcon", "GET", "/hello"),
    Row("Flask 3", "flask", "GET", "/hello"),
    Row("envoxyd dict, INFO", "ours-info", "GET", "/hello"),
    Row("envoxyd Response({...}), INFO", "ours-info", "GET", "/hello/response"),
    Row("envoxyd list, INFO", "ours-info", "GET", "/hello/list"),
    Row("envoxyd Response([...]), INFO", "ours-info", "GET", "/hello/response-list"),
    Row("envoxyd dict, warning", "ours-warning", "GET", "/hello"),
    Row("envoxyd Response({...}), warning", "ours-warning", "GET", "/hello/response"),
    Row("envoxyd list, warning", "ours-warning", "GET", "/hello/list"),
    Row("envoxyd Response([...]), warning", "ours-warning", "GET", "/hello/response-list"),
    Row("envoxyd dict, INFO, /_metrics off", "metrics-off", "GET", "/hello"),
    Row("envoxyd Response({...}), INFO, /_metrics off", "metrics-off", "GET", "/hello/response"),
    Row("envoxyd 0.6.1 Response({...})", "0.6.1", "GET", "/hello"),
    Row("Falcon 4 /items/{id:int}", "falcon", "GET", "/items/3", "Falcon 4 /items/{id:int}"),
    Row(
        "envoxyd /items/{id:int}, INFO", "ours-info", "GET", "/items/3", "Falcon 4 /items/{id:int}"
    ),
    Row("Falcon 4 POST JSON", "falcon", "POST", "/items", "Falcon 4 POST JSON"),
    Row("envoxyd POST JSON, INFO", "ours-info", "POST", "/items", "Falcon 4 POST JSON"),
)


@dataclass
class WrkResult:
    """What one wrk run reported, and the CPU time the server's worker spent meanwhile."""

    requests_per_second: float
    errors: int
    non_2xx: int
    requests: int = 0
    #: µs of CPU (user + system) the worker spent per answered request
    cpu_per_request: float = 0.0


def main(argv: Sequence[str] | None = None) -> None:
    """Run the profile, the wrk rounds, the start-up and (optionally) the soak."""
    parser = argparse.ArgumentParser(prog="bench_daemon", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--long", action="store_true", help="add the 60 s soak")
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument("--wrk-only", action="store_true")
    parser.add_argument("--compare", type=pathlib.Path, help="another checkout with a .venv")
    options = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    compare = options.compare.resolve() if options.compare else None
    long_run = options.long or os.environ.get("ENVOXY_BENCH_LONG") == "1"
    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as directory:
        work = pathlib.Path(directory)
        if not options.wrk_only:
            _print_profile(work, compare)
        if options.profile_only:
            return
        if shutil.which("wrk") is None:
            print("bench_daemon: wrk is not installed (apt-get install wrk); skipped")
            return
        with _credentials_server() as credentials_url:
            servers = _servers(work, credentials_url, compare)
            _throughput(work, servers, options.rounds, options.duration, compare)
            _startup(servers)
            if long_run:
                _long_run(servers)
            else:
                print("\n(the 60 s soak runs with --long or ENVOXY_BENCH_LONG=1)")


def _print_profile(work: pathlib.Path, compare: pathlib.Path | None) -> None:
    results = profile(work)
    before = profile(work, compare / ".venv" / "bin" / "python") if compare else None
    levels = list(results)
    labels = list(results[levels[0]])
    columns = ["case"]
    for level in levels:
        columns += [f"{level} log", f"{level} before"] if before else [f"{level} log"]
    rows = []
    for label in labels:
        row = [label]
        for level in levels:
            row.append(_micros(results[level].get(label)))
            if before:
                row.append(_micros(before[level].get(label)))
        rows.append(row)
    title = "in-process cost of one request, µs (thread CPU, best of 7 loops of 5,000 calls)"
    if compare:
        title += f"; before: {compare}"
    print_table(title, columns, rows)


def _micros(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _throughput(
    work: pathlib.Path,
    servers: dict[str, Command | None],
    rounds: int,
    duration: int,
    compare: pathlib.Path | None,
) -> None:
    script = work / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(POST_BODY.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    rows = [row for row in ROWS if servers.get(row.server) is not None]
    if compare is not None:
        rows += [
            Row(f"{row.label} (before)", f"before-{row.server}", *row[2:])
            for row in ROWS
            if row.server.startswith("ours-")
        ]
    samples: dict[str, list[WrkResult]] = {}
    for _ in range(rounds):
        for row in rows:
            command = servers[row.server]
            assert command is not None
            with _serving(command(), "/hello") as port:
                lua = script if row.method == "POST" else None
                _wrk(port, row.path, 1, lua)  # warm-up
                workers = _worker_pids(_pid_listening(port))
                cpu = _cpu_seconds(workers)
                result = _wrk(port, row.path, duration, lua)
                spent = _cpu_seconds(workers) - cpu
                result.cpu_per_request = spent / max(result.requests, 1) * 1e6
                samples.setdefault(row.label, []).append(result)
    results = {label: _median(runs) for label, runs in samples.items()}
    table = []
    for row in rows:
        result = results[row.label]
        reference = results[row.reference]
        table.append(
            [
                row.label,
                f"{row.method} {row.path}",
                f"{result.requests_per_second:,.0f}",
                f"{result.requests_per_second / reference.requests_per_second:.2f}x",
                f"{result.cpu_per_request:.1f}",
                f"{reference.cpu_per_request / max(result.cpu_per_request, 1e-9):.2f}x",
                result.errors,
                result.non_2xx,
            ]
        )
    print_table(
        f"wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{duration}s, pyuwsgi --http-socket, 1 process, "
        f"1 thread (median of {rounds} interleaved rounds; errors summed)",
        ["server", "request", "req/s", "vs Falcon", "worker CPU µs/req", "vs Falcon (CPU)",
         "socket errors", "non-2xx"],
        table,
    )  # fmt: skip
    print(
        "worker CPU µs/req: user + system time of the uWSGI worker over the run divided by "
        "the requests wrk counted (steadier than req/s on a shared machine); vs Falcon "
        "(CPU): Falcon's CPU per request over this row's, the req/s ratio the worker's own "
        "cost gives when it, not wrk or the machine, is the limit"
    )
    if servers.get("0.6.1") is None:
        print(f"original envoxyd: not measured ({_ORIGINAL_MISSING})")


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
    return WrkResult(
        statistics.median(run.requests_per_second for run in runs),
        sum(run.errors for run in runs),
        sum(run.non_2xx for run in runs),
        sum(run.requests for run in runs),
        statistics.median(run.cpu_per_request for run in runs),
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


def _servers(
    work: pathlib.Path, credentials_url: str, compare: pathlib.Path | None = None
) -> dict[str, Command | None]:
    (work / "bench_views.py").write_text(ENVOXY_VIEWS)
    (work / "bench_bare.py").write_text(BARE_APP)
    (work / "bench_falcon.py").write_text(FALCON_APP)
    (work / "bench_flask.py").write_text(FLASK_APP)
    (work / "original_views.py").write_text(ORIGINAL_VIEWS)
    confs = {}
    for name, level in (("info", 6), ("warning", 4)):
        confs[name] = work / f"envoxy-{name}.json"
        confs[name].write_text(
            json.dumps({"modules": ["bench_views.py"], "log": {"level": level, "format": "json"}})
        )
    confs["metrics-off"] = work / "envoxy-metrics-off.json"
    confs["metrics-off"].write_text(
        json.dumps(
            {
                "modules": ["bench_views.py"],
                "log": {"level": 6, "format": "json"},
                "metrics": {"enabled": False},
            }
        )
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
    site = frameworks_site()

    def module(name: str, *pythonpath: pathlib.Path) -> Command:
        paths = [
            argument for path in (work, *pythonpath) for argument in ("--pythonpath", str(path))
        ]
        return lambda: [str(pyuwsgi), "--module", f"{name}:application", *paths, *COMMON_FLAGS]

    def ours(conf: pathlib.Path, daemon: pathlib.Path = envoxyd) -> Command:
        return lambda: [str(daemon), "--set", f"conf={conf}", *COMMON_FLAGS]

    def theirs() -> list[str]:
        return [str(ORIGINAL_ENVOXYD), "--set", f"conf={original_conf}",
                "--pythonpath", str(ORIGINAL_RUN_DIR), *COMMON_FLAGS]  # fmt: skip

    before = compare / ".venv" / "bin" / "envoxyd" if compare else None
    return {
        **(
            {
                "before-ours-info": ours(confs["info"], before),
                "before-ours-warning": ours(confs["warning"], before),
            }
            if before
            else {}
        ),
        "bare": module("bench_bare"),
        "falcon": module("bench_falcon", site),
        "flask": module("bench_flask", site),
        "ours-info": ours(confs["info"]),
        "ours-warning": ours(confs["warning"]),
        "metrics-off": ours(confs["metrics-off"]),
        "0.6.1": theirs if ORIGINAL_ENVOXYD.exists() else None,
    }


@contextlib.contextmanager
def _serving(command: list[str], ready_path: str) -> Iterator[int]:
    port = _free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-daemon-", suffix=".log") as log:
        process = subprocess.Popen(
            [*_pinned(0), *command, "--http-socket", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=_environment(command),
            start_new_session=True,
        )
        try:
            _wait_for(port, ready_path, process, log.name)
            yield port
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
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


def _wrk(
    port: int,
    path: str,
    seconds: int,
    script: pathlib.Path | None = None,
    connections: int = CONNECTIONS,
) -> WrkResult:
    command = [*_pinned(1), "wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
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
    requests = re.search(r"(\d+) requests in", output)
    return WrkResult(
        rate,
        errors,
        int(non_2xx.group(1)) if non_2xx else 0,
        int(requests.group(1)) if requests else 0,
    )


def _startup(servers: dict[str, Command | None]) -> None:
    rows = []
    commands = {"envoxyd (/_health)": servers["ours-info"]}
    if servers.get("0.6.1") is not None:
        commands["0.6.1 (/_health)"] = servers["0.6.1"]
    for name, command in commands.items():
        assert command is not None
        samples = []
        for _ in range(5):
            port = _free_port()
            arguments = command()
            with tempfile.NamedTemporaryFile(suffix=".log") as log:
                started = time.monotonic()
                process = subprocess.Popen(
                    [*arguments, "--http-socket", f"127.0.0.1:{port}"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=REPO_ROOT,
                    env=_environment(arguments),
                    start_new_session=True,
                )
                try:
                    _wait_for(port, "/_health", process, log.name)
                    samples.append(time.monotonic() - started)
                finally:
                    _stop(process)
        rows.append([name, f"{min(samples):.2f} s", f"{statistics.median(samples):.2f} s"])
    print_table("start to the first 200 (1 process, 5 runs)", ["server", "min", "median"], rows)


def _long_run(servers: dict[str, Command | None]) -> None:
    command = servers["ours-info"]
    assert command is not None
    with _serving([*command(), "--processes", "2"], "/hello") as port:
        _wrk(port, "/hello", 5, connections=LONG_CONNECTIONS)  # warm-up
        master = _pid_listening(port)
        before = _children_rss(master)
        result = _wrk(port, "/hello", LONG_DURATION, connections=LONG_CONNECTIONS)
        after = _children_rss(master)
    rows = []
    for pid, rss in sorted(before.items()):
        grown = after.get(pid, rss)
        rows.append([pid, f"{rss / 1024:.1f} MiB", f"{grown / 1024:.1f} MiB",
                     f"{(grown - rss) / rss * 100:+.1f}%"])  # fmt: skip
    print_table(
        f"soak: wrk -t{WRK_THREADS} -c{LONG_CONNECTIONS} -d{LONG_DURATION}s on envoxyd "
        f"(2 workers, INFO): {result.requests_per_second:,.0f} req/s, socket errors "
        f"{result.errors}, non-2xx {result.non_2xx}",
        ["process (workers + service mule)", "RSS after warm-up", "RSS after 60 s", "growth"],
        rows,
    )


def _pid_listening(port: int) -> int:
    output = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return min(int(pid) for pid in re.findall(r"pid=(\d+)", output))


def _worker_pids(master: int) -> list[int]:
    return [
        int(pid)
        for pid in pathlib.Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` (fields 14 and 15 of ``/proc/<pid>/stat``)."""
    ticks = 0
    for pid in pids:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children_rss(master: int) -> dict[int, int]:
    sizes = {}
    for child in _worker_pids(master):
        status = pathlib.Path(f"/proc/{child}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        if found:
            sizes[int(child)] = int(found.group(1))
    return sizes


def _pinned(cpu: int) -> list[str]:
    """``taskset -c <cpu>`` when it exists and the machine has two CPUs or more."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
