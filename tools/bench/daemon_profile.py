"""In-process cost of one request: µs per WSGI call for each case of :data:`daemon_apps.CASES`.

No server and no socket: the app is called directly with a prepared environ, so the number
is the Python work of one request (routing, handler, response, log line). It is CPU time
of the calling thread (:func:`time.thread_time`), the best of several loops, so time spent
descheduled on a busy machine does not count. Each log level
runs in its own fresh interpreter, logging JSON lines to a real file as envoxyd does. Falcon
and Flask answer ``GET /hello`` in the same interpreter as a reference.
"""

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from daemon_apps import CASES, ENVOXY_VIEWS, FALCON_APP, FLASK_APP
from harness import frameworks_site, run_script, workspace_python

__all__ = ["LEVELS", "profile"]

#: log levels profiled: the default (INFO) and warning
LEVELS = {"INFO": 6, "warning": 4}

_CHILD = """\
import gc, io, json, os, sys, tempfile, time, types
sys.path.append(FRAMEWORKS)
from werkzeug.test import EnvironBuilder
from envoxy.utils.log_setup import configure_logging

log_file = open(os.environ.get("PROFILE_LOG") or os.path.join(WORK, "profile.log"), "w")
configure_logging(level=LEVEL, log_format="json", stream=log_file, force=True)
views = os.path.join(WORK, "profile_views.py")
with open(views, "w") as handle:
    handle.write(VIEWS)
from envoxy.daemon.app import create_app
app = create_app({"modules": [views], "log": {"level": LEVEL}})


def module(name, source):
    namespace = types.ModuleType(name)
    exec(compile(source, name, "exec"), namespace.__dict__)
    return namespace.application


def environ_factory(method, path, body):
    base = EnvironBuilder(
        path=path, method=method, data=body or None,
        content_type="application/json" if body else None,
        headers={"Host": "127.0.0.1:8080", "User-Agent": "wrk"},
    ).get_environ()
    def make():
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body)
        return environ
    return make


def measure(application, make, expected, calls=CALLS, repeat=REPEAT):
    seen = []
    def start_response(status, headers, exc_info=None):
        seen.append(status)
    def call(environ):
        result = application(environ, start_response)
        for _ in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    call(make())
    if int(seen[-1][:3]) != expected:
        raise SystemExit(f"expected {expected}, got {seen[-1]}")
    best = float("inf")
    for _ in range(repeat):
        environs = [make() for _ in range(calls)]
        started = time.thread_time()
        for environ in environs:
            call(environ)
        best = min(best, (time.thread_time() - started) / calls)
    return best * 1e6


gc.collect()
gc.freeze()
results = {}
for label, method, path, status, body in CASES:
    results[label] = measure(app, environ_factory(method, path, body), status)
if WITH_FRAMEWORKS:
    make = environ_factory("GET", "/hello", b"")
    results["Falcon 4 (dict)"] = measure(module("falcon_app", FALCON), make, 200)
    results["Flask 3 (dict)"] = measure(module("flask_app", FLASK), make, 200)
print(json.dumps(results))
"""


def profile(
    work: pathlib.Path,
    python: pathlib.Path | None = None,
    *,
    calls: int = 5000,
    repeat: int = 7,
) -> dict[str, dict[str, float]]:
    """Return level name -> case label -> µs per request (the best of ``repeat`` loops).

    :param work: a scratch directory (views file and log file).
    :param python: the interpreter whose envoxy is profiled (default: the workspace's);
        Falcon and Flask are profiled only with the default.
    """
    results: dict[str, dict[str, float]] = {}
    for name, level in LEVELS.items():
        values = {
            "WORK": str(work),
            "FRAMEWORKS": str(frameworks_site()),
            "LEVEL": level,
            "VIEWS": ENVOXY_VIEWS,
            "FALCON": FALCON_APP,
            "FLASK": FLASK_APP,
            "CASES": [tuple(case) for case in CASES],
            "CALLS": calls,
            "REPEAT": repeat,
            "WITH_FRAMEWORKS": name == "INFO" and python is None,
        }
        prelude = "".join(f"{key} = {value!r}\n" for key, value in values.items())
        output = run_script(python or workspace_python(), prelude + _CHILD, timeout=600)
        results[name] = json.loads(output.strip().splitlines()[-1])
    return results


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="daemon-profile-") as directory:
        for level_name, cases in profile(pathlib.Path(directory)).items():
            for label, micros in cases.items():
                print(f"{level_name:8} {label:18} {micros:7.2f} µs")
