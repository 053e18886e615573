"""Cost of one emitted log line, measured in-process with a real file as the destination.

Each scenario runs in fresh interpreters (alternating ours and the original, best of
``_ROUNDS``) and reports microseconds per ``log.info(...)`` call that writes a line:

* ``json``: the request line envoxyd writes at INFO, in the default ``json`` format.
* ``json, secret``: a line holding a bearer token and a password (the redaction regexes
  run); ours only, the original does not redact.
* ``pretty``: the same request line in the ``pretty`` format; ours only.
* ``json, request id``: the request line while a request context is bound (the line
  gains ``_request_id``), as envoxyd writes it for every request; ours only.
* ``json, request id + extra``: the same with two ``extra={...}`` fields; ours only.

The original envoxy 0.7.1 logs through ``uwsgi.log`` inside uWSGI. Outside it, its
``Log.info`` still builds the full line (caller lookup with ``inspect.stack()``,
formatting) and hands it to the stdlib logger ``envoxy.utils.logs`` at DEBUG; the
benchmark attaches a :class:`logging.StreamHandler` on the same kind of file to that
logger, so both sides format and write every line. Goal: under 8 µs per line for ours.
"""

import json
import pathlib
import tempfile

from harness import (
    BenchError,
    format_ratio,
    original_python,
    print_table,
    run_script,
    workspace_python,
)

__all__ = ["GOAL_MICROSECONDS", "SCENARIOS", "main"]

#: The target cost of one emitted line on our side.
GOAL_MICROSECONDS = 8.0
#: Scenario name -> (log format, message).
SCENARIOS = {
    "json": ("json", "> Request [HTTP] GET /v1/items/3?page=2"),
    "json, secret": ("json", "> Request [HTTP] GET /v1/items Authorization: Bearer abc password=x"),
    "pretty": ("pretty", "> Request [HTTP] GET /v1/items/3?page=2"),
    "json, request id": ("json", "> Request [HTTP] GET /v1/items/3?page=2"),
    "json, request id + extra": ("json", "> Request [HTTP] GET /v1/items/3?page=2"),
}
#: scenario -> code run after the set-up (a bound request context, extra fields)
_SCENARIO_SETUP = {
    "json, request id": (
        "from envoxy.utils.context import bind, request_id_from\n"
        "bind(request_id_from('6f1c2f1e-0b7e-4c1a-9d4e-3c2b1a0f9e8d'))\n"
    ),
    "json, request id + extra": (
        "from envoxy.utils.context import bind, request_id_from\n"
        "bind(request_id_from('6f1c2f1e-0b7e-4c1a-9d4e-3c2b1a0f9e8d'))\n"
        "_info = log.info\n"
        "class log:\n"
        "    info = staticmethod(lambda text: _info(text, extra={'order': 42, 'user': 'bob'}))\n"
    ),
}
_ROUNDS = 3
#: seconds spent logging per sample (5 samples per interpreter, the fastest is kept)
_SAMPLE_SECONDS = 0.25

_OURS_SETUP = """
from envoxy.utils.log_setup import configure_logging
from envoxy.utils.logs import log
configure_logging(6, LOG_FORMAT, stream=open(PATH, "w"), force=True)
"""

_ORIGINAL_SETUP = """
import logging
from envoxy import log
logger = logging.getLogger("envoxy.utils.logs")
logger.addHandler(logging.StreamHandler(open(PATH, "w")))
logger.setLevel(logging.DEBUG)
logger.propagate = False
"""

# Prints one JSON line: the fastest sample's seconds per call.
_TIMER = """
import json, time
for _ in range(200):
    log.info(MESSAGE)
best = float("inf")
for _ in range(5):
    calls = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SAMPLE_SECONDS:
        for _ in range(50):
            log.info(MESSAGE)
        calls += 50
    best = min(best, elapsed / calls)
print(json.dumps({"seconds": best}))
"""


def main() -> None:
    """Measure each scenario on both sides and print microseconds per line and ratios."""
    ours = workspace_python()
    try:
        original = original_python()
    except BenchError as exc:
        print(f"bench_logging: the original envoxy is unavailable ({exc}); ours only")
        original = None
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-logging-") as directory:
        for name, (log_format, message) in SCENARIOS.items():
            ours_best = theirs_best = float("inf")
            for _ in range(_ROUNDS):
                ours_best = min(
                    ours_best,
                    _measure(
                        ours,
                        _OURS_SETUP + _SCENARIO_SETUP.get(name, ""),
                        log_format,
                        message,
                        directory,
                    ),
                )
                if original is not None and log_format == "json" and name == "json":
                    theirs_best = min(
                        theirs_best,
                        _measure(original, _ORIGINAL_SETUP, log_format, message, directory),
                    )
            has_reference = theirs_best != float("inf")
            rows.append(
                [
                    name,
                    f"{ours_best * 1e6:.2f}",
                    f"{theirs_best * 1e6:.2f}" if has_reference else "-",
                    format_ratio(theirs_best, ours_best) if has_reference else "-",
                    "yes" if ours_best * 1e6 < GOAL_MICROSECONDS else "NO",
                ]
            )
    print_table(
        f"one emitted log.info line written to a file, µs per line (best of {_ROUNDS} runs)",
        ["scenario", "ours µs", "0.7.1 µs", "ours vs 0.7.1", f"< {GOAL_MICROSECONDS:g} µs"],
        rows,
    )


def _measure(
    python: pathlib.Path, setup: str, log_format: str, message: str, directory: str
) -> float:
    """Return the seconds per emitted line in a fresh interpreter."""
    header = (
        f"LOG_FORMAT = {log_format!r}\nMESSAGE = {message!r}\n"
        f"PATH = {directory!r} + '/lines.log'\nSAMPLE_SECONDS = {_SAMPLE_SECONDS!r}\n"
    )
    output = run_script(python, header + setup + _TIMER)
    return float(json.loads(output.strip().splitlines()[-1])["seconds"])


if __name__ == "__main__":
    main()
