"""Throughput of ``assertz_*`` validation of a typical request body.

The same script runs under our workspace and under the original envoxy 0.7.1
(each in fresh interpreters, alternating, best of ``_ROUNDS``): it validates a
12-field body (mandatory, uuid, string, email, integer, float, boolean,
timestamp, location, array, url, phone) and reports validations per second.

Rows:

* ``success``: every field valid, the path a healthy service takes. Goal: at
  least 2x the original's throughput.
* ``failure, raise``: the last field invalid, ``ValidationException`` caught.
* ``failure, reply``: the last field invalid with ``reply=True`` (the reply dict
  names the calling line).
"""

import json

from harness import (
    BenchError,
    format_ratio,
    original_python,
    print_table,
    run_script,
    workspace_python,
)

__all__ = ["GOAL_RATIO", "SCENARIOS", "main"]

#: Required speed-up of the success path over envoxy 0.7.1.
GOAL_RATIO = 2.0
#: Scenario name -> seconds spent calling it per sample (5 samples per interpreter).
SCENARIOS = {"success": 0.3, "failure, raise": 0.3, "failure, reply": 0.3}
_ROUNDS = 3

# Runs unchanged under both interpreters; prints one JSON line of seconds per validation.
_SCRIPT = """
import json, time
from envoxy.asserts import (
    assertz_array, assertz_boolean, assertz_email, assertz_float, assertz_integer,
    assertz_location, assertz_mandatory, assertz_phone, assertz_string, assertz_timestamp,
    assertz_url, assertz_uuid,
)
from envoxy.exceptions import ValidationException

BODY = {
    "id": "6912574d-988a-4b34-98c4-424c61d37fef",
    "name": "John Doe",
    "email": "john.doe@example.com",
    "age": 42,
    "score": 7.5,
    "active": True,
    "created": "2018-01-18T16:07:01.970+0000",
    "home": {"latitude": 38.7223, "longitude": -9.1393},
    "application_ids": [1, 2, 3],
    "website": "https://example.com/john",
    "phone": "912345678",
    "nickname": "johnny",
}
BAD_BODY = dict(BODY, nickname=12)


def validate(body, reply=False):
    return (
        assertz_mandatory(body, "id", reply=reply)
        or assertz_uuid(body, "id", reply=reply)
        or assertz_mandatory(body, "email", reply=reply)
        or assertz_email(body, "email", reply=reply)
        or assertz_string(body, "name", reply=reply)
        or assertz_integer(body, "age", reply=reply)
        or assertz_float(body, "score", reply=reply)
        or assertz_boolean(body, "active", reply=reply)
        or assertz_timestamp(body, "created", reply=reply)
        or assertz_location(body, "home", reply=reply)
        or assertz_array(body, "application_ids", reply=reply)
        or assertz_url(body, "website", reply=reply)
        or assertz_phone(body, "phone", reply=reply)
        or assertz_string(body, "nickname", reply=reply)
    )


def success():
    assert validate(BODY) is None


def failure_raise():
    try:
        validate(BAD_BODY)
    except ValidationException:
        return
    raise AssertionError("BAD_BODY passed")


def failure_reply():
    assert validate(BAD_BODY, reply=True)["payload"]["text"] == "Invalid value type: 12"


def best_seconds_per_call(function, budget):
    # best of 5 samples, each calling `function` for about `budget` seconds
    function()
    best = float("inf")
    for _ in range(5):
        calls = 0
        start = now = time.perf_counter()
        while now - start < budget:
            function()
            calls += 1
            now = time.perf_counter()
        best = min(best, (now - start) / calls)
    return best


SCENARIOS = __SCENARIOS__
functions = {"success": success, "failure, raise": failure_raise, "failure, reply": failure_reply}
print(json.dumps({name: best_seconds_per_call(functions[name], budget)
                  for name, budget in SCENARIOS.items()}))
"""


def main() -> None:
    """Time each scenario on both sides and print throughputs and ratios."""
    script = _SCRIPT.replace("__SCENARIOS__", repr(SCENARIOS))
    sides = {"ours": workspace_python(), "envoxy 0.7.1": original_python()}
    best: dict[str, dict[str, float]] = {side: {} for side in sides}
    for _ in range(_ROUNDS):
        for side, python in sides.items():
            try:
                output = run_script(python, script, timeout=300)
            except BenchError as exc:
                print(f"{side} failed:\n{exc}\n")
                return
            timings: dict[str, float] = json.loads(output.strip().splitlines()[-1])
            for scenario, seconds in timings.items():
                best[side][scenario] = min(best[side].get(scenario, seconds), seconds)
    rows: list[list[object]] = []
    for scenario in SCENARIOS:
        ours, original = best["ours"][scenario], best["envoxy 0.7.1"][scenario]
        rows.append(
            [
                scenario,
                f"{1 / ours:,.0f}/s ({ours * 1e6:.1f} µs)",
                f"{1 / original:,.0f}/s ({original * 1e6:.1f} µs)",
                format_ratio(original, ours),
            ]
        )
    print_table(
        "assertz_* on a 12-field body, validations per second (best of "
        f"{_ROUNDS} fresh interpreters)",
        ["scenario", "ours", "envoxy 0.7.1", "ours vs 0.7.1"],
        rows,
    )
    ratio = best["envoxy 0.7.1"]["success"] / best["ours"]["success"]
    verdict = "meets" if ratio >= GOAL_RATIO else "MISSES"
    print(f"\nsuccess path: {ratio:.1f}x the original's throughput: {verdict} the 2x goal")
