"""10,000 ``redisc.set`` + ``redisc.get`` pairs against raw redis-py, same server, one run.

Both sides run in the SAME fresh interpreter, in alternating batches of ``BATCH``
pairs (the order rotates every batch), so a busy machine slows both alike; this is
repeated in ``ROUNDS`` fresh interpreters and the median is reported. Each side is
warmed with one pair first (not timed). Wall-clock and CPU time are both shown: the
CPU time per pair is the client-side cost, without the server and the scheduler.

- **raw redis-py**: ``r.set(key, orjson.dumps(value), ex=3600)`` then
  ``orjson.loads(r.get(key))`` on a plain ``redis.Redis`` (its default pool).
- **redisc**: ``redisc.set(server_key, key, value)`` then ``redisc.get(server_key, key)``
  (JSON via ``envoxy_json_dumps``, the server's ``ttl`` of 3600 s).
- **original 0.7.1, set only**: the original's ``redisc.set`` in its own interpreter
  (its ``get`` raises ``AttributeError`` on every hit, so only ``set`` can be timed:
  the rate is set-only and not comparable). n/a when the reference venv cannot be built.

The server is ``ENVOXY_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/1``, the
Redis of ``tools/services``). Keys live under ``envoxy-bench:redis:<random>:`` and are
deleted afterwards. Goal: redisc at least 0.9x raw redis-py.
"""

import os
import uuid
from itertools import chain
from urllib.parse import urlsplit

import harness

__all__ = ["BATCH", "GOAL_RATIO", "PAIRS", "ROUNDS", "main"]

#: set + get pairs per side and round.
PAIRS = 10_000
#: Pairs per alternating batch.
BATCH = 100
#: Fresh interpreters.
ROUNDS = 3
#: redisc throughput / raw redis-py throughput we aim for.
GOAL_RATIO = 0.9

_VALUE = {"id": 42, "name": "lamp", "state": "on", "level": 73, "tags": ["kitchen", "ceiling"]}

_SIDE_BY_SIDE = """
import json, time
import orjson, redis
from envoxy.redis import redisc

value = {value!r}
prefix = {prefix!r}
r = redis.Redis(host={host!r}, port={port}, db={db})

def raw(keys):
    for key in keys:
        r.set(key, orjson.dumps(value), ex=3600)
        orjson.loads(r.get(key))

def ours(keys):
    for key in keys:
        redisc.set("bench", key, value)
        redisc.get("bench", key)

sides = {{"raw redis-py": raw, "redisc": ours}}
for run in sides.values():
    run([prefix + "warm"])
totals = {{name: [0.0, 0.0] for name in sides}}
keys = [prefix + str(n) for n in range({batch})]
order = list(sides)
for batch in range({count} // {batch}):
    order = order[1:] + order[:1]
    for name in order:
        wall, cpu = time.perf_counter(), time.process_time()
        sides[name](keys)
        totals[name][0] += time.perf_counter() - wall
        totals[name][1] += time.process_time() - cpu
redisc.close()
print(json.dumps(totals))
"""

_ORIGINAL = """
import json, os, time
from envoxy.utils.config import Config
Config.set_file_path(os.environ["ENVOXY_CONFIG"])
from envoxy import redisc

value = {value!r}
redisc.set("bench", {prefix!r} + "warm", value)
wall, cpu = time.perf_counter(), time.process_time()
for n in range({count}):
    redisc.set("bench", {prefix!r} + str(n % {batch}), value)
elapsed = [time.perf_counter() - wall, time.process_time() - cpu]
print(json.dumps({{"original 0.7.1, set only": elapsed}}))
"""

_CLEANUP = """
import redis
r = redis.Redis(host={host!r}, port={port}, db={db})
for key in r.scan_iter({prefix!r} + "*"):
    r.delete(key)
"""


def main() -> None:
    """Measure both sides and print pair throughput, CPU per pair and the ratio."""
    url = os.environ.get("ENVOXY_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    db = int(parts.path.strip("/") or 0)
    prefix = f"envoxy-bench:redis:{uuid.uuid4().hex[:8]}:"
    server = {"bind": f"{host}:{port}", "db": db, "ttl": 3600}
    fields = {"value": _VALUE, "prefix": prefix, "count": PAIRS, "batch": BATCH}
    ours = _SIDE_BY_SIDE.format(host=host, port=port, db=db, **fields)
    scripts = harness.ours_and_original(ours, _ORIGINAL.format(**fields))
    try:
        with harness.config_env({"redis_servers": {"bench": server}}) as env:
            outputs = harness.run_rounds(scripts, ROUNDS, env=env)
    finally:
        cleanup = _CLEANUP.format(host=host, port=port, db=db, prefix=prefix)
        harness.run_script(harness.workspace_python(), cleanup)
    sides = harness.Throughput.of_runs(chain(*outputs.values()), PAIRS)
    raw = sides["raw redis-py"].median
    columns = ["side", "median pairs/s", "best pairs/s", "CPU per pair", "vs raw redis-py"]
    rows = [measured.row(side, raw) for side, measured in sides.items()]
    if "original" not in scripts:
        rows.append(harness.unavailable_row("original 0.7.1", len(columns)))
    harness.print_table(
        f"{PAIRS:,} set+get pairs per side, batches of {BATCH} alternating, {ROUNDS} fresh "
        f"interpreters ({url})",
        columns,
        rows,
    )
    ratio = sides["redisc"].median / raw
    verdict = "meets" if ratio >= GOAL_RATIO else "MISSES"
    print(f"\nredisc set+get reaches {ratio:.2f}x raw redis-py: {verdict} the {GOAL_RATIO}x goal")


if __name__ == "__main__":
    main()
