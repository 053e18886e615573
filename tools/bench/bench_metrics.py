"""What ``/_metrics`` (on by default) costs each request, measured in process.

One fresh interpreter builds the same view twice, metrics on and metrics off, with
prometheus_client in multiprocess mode (a directory in ``/dev/shm`` when there is one,
as under envoxyd), and calls both apps directly with a prepared environ, alternating
batches so that both see the same machine load. It reports the CPU time
(:func:`time.process_time`) per request of each, and the difference: the Python work the
metrics add to a request. ``bench_daemon.py``'s ``ours, metrics off`` row shows the same
over HTTP, where the noise of a shared machine is larger than the difference.

Goal: the difference is under 5% of what one HTTP request costs envoxyd.
"""

import json
import pathlib
import tempfile

from harness import print_table, run_script, workspace_python

__all__ = ["main"]

_BATCHES = 30
_CALLS = 5000

_SCRIPT = """
import io, json, os, statistics, sys, time
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR
views = os.path.join(WORK, "bench_metrics_views.py")
with open(views, "w") as handle:
    handle.write(
        "from envoxy.decorators import on\\n"
        "from envoxy.views import View\\n\\n\\n"
        '@on(endpoint="/v1/items/{item_id:int}")\\n'
        "class ItemView(View):\\n"
        "    def get(self, request, item_id, **kwargs):\\n"
        '        return {"id": item_id}\\n\\n\\n'
        "__loader__ = [ItemView]\\n"
    )
from envoxy.utils.log_setup import configure_logging
configure_logging(level=4, log_format="json", stream=open(os.devnull, "w"), force=True)
from envoxy.daemon.app import create_app
base = {"modules": [views], "log": {"level": 4}}
apps = {"on": create_app(dict(base)), "off": create_app({**base, "metrics": {"enabled": False}})}
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": "/v1/items/3", "QUERY_STRING": "",
    "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.url_scheme": "http",
}


def start_response(status, headers, exc_info=None):
    pass


def batch(app, calls):
    started = time.process_time()
    for _ in range(calls):
        request = dict(environ)
        request["wsgi.input"] = io.BytesIO()
        for _chunk in app(request, start_response):
            pass
    return (time.process_time() - started) / calls


for app in apps.values():
    batch(app, 2000)
samples = {name: [] for name in apps}
for _ in range(BATCHES):
    for name, app in apps.items():
        samples[name].append(batch(app, CALLS))
print(json.dumps({name: statistics.median(values) for name, values in samples.items()}))
"""


def main() -> None:
    """Measure and print µs of CPU per request with metrics on and off."""
    shm = pathlib.Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(prefix="bench-metrics-") as work,
        tempfile.TemporaryDirectory(
            prefix="bench-metrics-mp-", dir=shm if shm.is_dir() else None
        ) as metrics_dir,
    ):
        header = (
            f"WORK = {work!r}\nMETRICS_DIR = {metrics_dir!r}\n"
            f"BATCHES = {_BATCHES}\nCALLS = {_CALLS}\n"
        )
        output = run_script(workspace_python(), header + _SCRIPT)
    result = json.loads(output.strip().splitlines()[-1])
    on, off = result["on"] * 1e6, result["off"] * 1e6
    print_table(
        f"GET /v1/items/3 called in process, CPU µs per request (median of {_BATCHES} "
        f"alternating batches of {_CALLS})",
        ["metrics", "µs per request", "added by /_metrics"],
        [["off", f"{off:.2f}", "-"], ["on", f"{on:.2f}", f"{on - off:+.2f} µs"]],
    )


if __name__ == "__main__":
    main()
