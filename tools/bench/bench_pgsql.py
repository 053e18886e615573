"""10,000 single-row ``pgsqlc.query`` calls against raw psycopg2, same server, one run.

The sides run in the SAME fresh interpreter, in alternating batches of ``BATCH``
queries (the order rotates every batch), so a busy machine slows them alike; this is
repeated in ``ROUNDS`` fresh interpreters and the median is reported. Each side runs
one query first (not timed). The statement is
``SELECT id, name, level FROM <table> WHERE id = %s`` on a 100-row table. Wall-clock
and CPU time are both shown: CPU time per query is the client-side cost.

- **raw psycopg2, pool**: ``ThreadedConnectionPool.getconn``, ``execute``, ``fetchall``
  (tuples), ``putconn`` per call, autocommit: raw psycopg2 on a pooled connection.
- **raw psycopg2, held**: one autocommit connection kept by the caller: the floor.
- **pgsqlc**: ``pgsqlc.query(server_key, sql, [id])``, rows as dicts, from its pool.
- **original 0.7.1**: the original's ``pgsqlc.query`` in its own interpreter (it pings
  ``SELECT 1`` on every checkout and release). n/a when the reference venv cannot be
  built.

The server is ``ENVOXY_TEST_POSTGRESQL_URL`` (default the ``envoxy_test`` database of
``tools/services``); the table is created and dropped by the benchmark. Goal: pgsqlc
at least 0.9x raw psycopg2 on a pooled connection.
"""

import os
import uuid
from itertools import chain
from urllib.parse import unquote, urlsplit

import harness

__all__ = ["BATCH", "GOAL_RATIO", "QUERIES", "ROUNDS", "main"]

#: Queries per side and round.
QUERIES = 10_000
#: Queries per alternating batch.
BATCH = 100
#: Fresh interpreters.
ROUNDS = 3
#: pgsqlc throughput / raw psycopg2 (pool) throughput we aim for.
GOAL_RATIO = 0.9

_SETUP = """
import psycopg2
conn = psycopg2.connect(**{dsn!r})
conn.autocommit = True
with conn.cursor() as cursor:
    cursor.execute("CREATE TABLE {table} (id int PRIMARY KEY, name text, level int)")
    cursor.execute(
        "INSERT INTO {table} SELECT g, 'item ' || g, g % 7 FROM generate_series(0, 99) g"
    )
conn.close()
"""

_CLEANUP = """
import psycopg2
conn = psycopg2.connect(**{dsn!r})
conn.autocommit = True
with conn.cursor() as cursor:
    cursor.execute("DROP TABLE IF EXISTS {table}")
conn.close()
"""

_SIDE_BY_SIDE = """
import json, time
import psycopg2
from psycopg2.pool import ThreadedConnectionPool
from envoxy.postgresql import pgsqlc

sql = "SELECT id, name, level FROM {table} WHERE id = %s"
pool = ThreadedConnectionPool(1, 20, **{dsn!r})
first = pool.getconn()
first.autocommit = True
pool.putconn(first)
held = psycopg2.connect(**{dsn!r})
held.autocommit = True

def raw_pool(ids):
    for n in ids:
        conn = pool.getconn()
        with conn.cursor() as cursor:
            cursor.execute(sql, [n])
            cursor.fetchall()
        pool.putconn(conn)

def raw_held(ids):
    for n in ids:
        with held.cursor() as cursor:
            cursor.execute(sql, [n])
            cursor.fetchall()

def ours(ids):
    for n in ids:
        pgsqlc.query("bench", sql, [n])

sides = {{"raw psycopg2, pool": raw_pool, "raw psycopg2, held": raw_held, "pgsqlc": ours}}
for run in sides.values():
    run([0])
totals = {{name: [0.0, 0.0] for name in sides}}
ids = list(range({batch}))
order = list(sides)
for batch in range({count} // {batch}):
    order = order[1:] + order[:1]
    for name in order:
        wall, cpu = time.perf_counter(), time.process_time()
        sides[name](ids)
        totals[name][0] += time.perf_counter() - wall
        totals[name][1] += time.process_time() - cpu
pgsqlc.close()
pool.closeall()
held.close()
print(json.dumps(totals))
"""

_ORIGINAL = """
import json, os, time
from envoxy.utils.config import Config
Config.set_file_path(os.environ["ENVOXY_CONFIG"])
from envoxy import pgsqlc

sql = "SELECT id, name, level FROM {table} WHERE id = %(id)s"
pgsqlc.query("bench", sql, {{"id": 0}})
wall, cpu = time.perf_counter(), time.process_time()
for n in range({count}):
    pgsqlc.query("bench", sql, {{"id": n % 100}})
elapsed = [time.perf_counter() - wall, time.process_time() - cpu]
print(json.dumps({{"original 0.7.1": elapsed}}))
"""


def main() -> None:
    """Measure each side and print query throughput, CPU per query and the ratios."""
    url = os.environ.get(
        "ENVOXY_TEST_POSTGRESQL_URL",
        "postgresql+psycopg2://envoxy:envoxy@127.0.0.1:5432/envoxy_test",
    )
    parts = urlsplit(url)
    dsn = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "envoxy"),
        "password": unquote(parts.password or ""),
        "dbname": parts.path.strip("/"),
    }
    server = {
        "host": dsn["host"],
        "port": dsn["port"],
        "db": dsn["dbname"],
        "user": dsn["user"],
        "passwd": dsn["password"],
    }
    table = f"envoxy_bench_{uuid.uuid4().hex[:8]}"
    fields = {"dsn": dsn, "table": table, "count": QUERIES, "batch": BATCH}
    scripts = harness.ours_and_original(_SIDE_BY_SIDE.format(**fields), _ORIGINAL.format(**fields))
    harness.run_script(harness.workspace_python(), _SETUP.format(**fields))
    try:
        with harness.config_env({"psql_servers": {"bench": server}}) as env:
            outputs = harness.run_rounds(scripts, ROUNDS, env=env)
    finally:
        harness.run_script(harness.workspace_python(), _CLEANUP.format(**fields))
    sides = harness.Throughput.of_runs(chain(*outputs.values()), QUERIES)
    pooled = sides["raw psycopg2, pool"].median
    held = sides["raw psycopg2, held"].median
    columns = ["side", "median queries/s", "best queries/s", "CPU per query"]
    columns += ["vs raw pool", "vs held"]
    rows = [measured.row(side, pooled, held) for side, measured in sides.items()]
    if "original" not in scripts:
        rows.append(harness.unavailable_row("original 0.7.1", len(columns)))
    harness.print_table(
        f"{QUERIES:,} single-row queries per side, batches of {BATCH} alternating, "
        f"{ROUNDS} fresh interpreters",
        columns,
        rows,
    )
    ours = sides["pgsqlc"].median / pooled
    verdict = "meets" if ours >= GOAL_RATIO else "MISSES"
    print(
        f"\npgsqlc.query reaches {ours:.2f}x raw psycopg2 on a pooled connection: "
        f"{verdict} the {GOAL_RATIO}x goal"
    )


if __name__ == "__main__":
    main()
