"""envoxy-orm: cold start of a model, and inserting 10,000 rows through a session.

1. **Cold start**: ``from envoxy.db.orm import EnvoxyBase`` plus defining one model
   (``Product`` with a ``name`` column and an index), timed in ``REPEAT`` fresh
   interpreters for our workspace, for plain SQLAlchemy (``DeclarativeBase`` and
   the same columns) and for the original envoxy 0.7.1 (whose inflect import costs
   seconds). Goal: ours under 0.4 s.
2. **Insert**: 10,000 rows added to one session and committed, on SQLite (a file)
   and on PostgreSQL (``ENVOXY_TEST_POSTGRESQL_URL``, default the ``envoxy_test``
   database of ``tools/services``, in a schema the benchmark creates and drops).
   ``EnvoxyBase`` models get ``id``/``created``/``updated``/``href`` from the audit
   listeners; the plain SQLAlchemy model has the same columns and the caller fills
   the same values. Each side runs ``ROUNDS`` fresh interpreters, alternating, after
   an untimed warm-up of 200 rows. Goal: the listeners cost at most 15%.
"""

import json
import os
import statistics
import tempfile
import uuid

from harness import (
    BenchError,
    Timing,
    format_ratio,
    ms,
    original_python,
    print_table,
    run_script,
    time_statement,
    workspace_python,
)

__all__ = ["COLD_GOAL_SECONDS", "INSERT_GOAL_OVERHEAD", "REPEAT", "ROUNDS", "ROWS", "main"]

#: Budget for import + one model in a fresh interpreter.
COLD_GOAL_SECONDS = 0.4
#: Largest accepted slowdown of EnvoxyBase inserts over plain SQLAlchemy.
INSERT_GOAL_OVERHEAD = 0.15
#: Fresh interpreters per cold-start measurement.
REPEAT = 7
#: Fresh-interpreter rounds per insert side.
ROUNDS = 5
#: Rows inserted per round.
ROWS = 10_000

_DEFAULT_POSTGRESQL_URL = "postgresql+psycopg2://envoxy:envoxy@127.0.0.1:5432/envoxy_test"

_COLD_OURS = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from envoxy.db.orm import EnvoxyBase

class Product(EnvoxyBase):
    name: Mapped[str] = mapped_column(String(50), index=True)
"""

_COLD_PLAIN = """
from datetime import datetime
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Product(Base):
    __tablename__ = "products"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    href: Mapped[str] = mapped_column(String(1024))
    name: Mapped[str] = mapped_column(String(50), index=True)
"""

_COLD_ORIGINAL = """
from sqlalchemy import Column, String
from envoxy.db.orm import EnvoxyBase

class Product(EnvoxyBase):
    name = Column(String(50), index=True)
"""

_INSERT = """
import json, time, uuid
from datetime import UTC, datetime
from sqlalchemy import DateTime, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

SIDE, URL, SEARCH_PATH, ROWS = {side!r}, {url!r}, {search_path!r}, {rows!r}
connect_args = {{"options": f"-csearch_path={{SEARCH_PATH}}"}} if SEARCH_PATH else {{}}
engine = create_engine(URL, connect_args=connect_args)

if SIDE == "envoxy":
    from envoxy.db.orm import EnvoxyBase as Base

    class Product(Base):
        name: Mapped[str] = mapped_column(String(50))

    def make(index):
        return Product(name=f"product {{index}}")
else:
    class Base(DeclarativeBase):
        pass

    class Product(Base):
        __tablename__ = "plain_products"
        id: Mapped[str] = mapped_column(String(36), primary_key=True)
        created: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
        updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
        href: Mapped[str] = mapped_column(String(1024), nullable=False)
        name: Mapped[str] = mapped_column(String(50))

    def make(index):
        now = datetime.now(UTC)
        row_id = str(uuid.uuid4())
        return Product(
            id=row_id, created=now, updated=now,
            href=f"/v3/data-layer/plain_products/{{row_id}}", name=f"product {{index}}",
        )

Base.metadata.drop_all(engine, tables=[Product.__table__])
Base.metadata.create_all(engine, tables=[Product.__table__])

def insert(count):
    with Session(engine) as session:
        session.add_all([make(index) for index in range(count)])
        session.commit()

insert(200)
started = time.perf_counter()
insert(ROWS)
elapsed = time.perf_counter() - started
Base.metadata.drop_all(engine, tables=[Product.__table__])
engine.dispose()
print(json.dumps({{"elapsed": elapsed}}))
"""

_SCHEMA = """
from sqlalchemy import create_engine, text
engine = create_engine({url!r}, isolation_level="AUTOCOMMIT")
with engine.connect() as connection:
    connection.execute(text({statement!r}))
engine.dispose()
"""


def main() -> None:
    """Run both measurements and print their tables."""
    _cold_start()
    _inserts()


def _cold_start() -> None:
    sides = [
        ("ours (envoxy-orm)", workspace_python, _COLD_OURS),
        ("plain SQLAlchemy", workspace_python, _COLD_PLAIN),
        ("envoxy 0.7.1", original_python, _COLD_ORIGINAL),
    ]
    timings: dict[str, Timing | None] = {}
    for side, python, statement in sides:
        try:
            timings[side] = time_statement(python(), statement, repeat=REPEAT, env=_no_namespace())
        except BenchError as exc:
            print(f"{side} failed:\n{exc}\n")
            timings[side] = None
    ours = timings["ours (envoxy-orm)"]
    rows = []
    for side, timing in timings.items():
        if timing is None:
            rows.append([side, "fails", "fails", ""])
            continue
        ratio = "" if ours is None or timing is ours else format_ratio(timing.median, ours.median)
        rows.append([side, ms(timing.min), ms(timing.median), ratio])
    print_table(
        f"import + one model, {REPEAT} fresh interpreters each",
        ["side", "min", "median", "ours vs this side (median)"],
        rows,
    )
    if ours is not None:
        verdict = "meets" if ours.median < COLD_GOAL_SECONDS else "MISSES"
        print(f"ours: median {ms(ours.median)}, {verdict} the 0.4 s goal")


def _inserts() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_orm_") as directory:
        sqlite_url = f"sqlite:///{os.path.join(directory, 'bench.db')}"
        rows.append(["SQLite (file)", *_compare(sqlite_url, None)])
    postgresql_url = os.environ.get("ENVOXY_TEST_POSTGRESQL_URL", _DEFAULT_POSTGRESQL_URL)
    schema = f"bench_orm_{uuid.uuid4().hex[:8]}"
    try:
        _run_sql(postgresql_url, f"CREATE SCHEMA {schema}")
    except BenchError as exc:
        print(f"PostgreSQL at {postgresql_url} is not usable, skipped:\n{exc}")
    else:
        try:
            rows.append(["PostgreSQL", *_compare(postgresql_url, schema)])
        finally:
            _run_sql(postgresql_url, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print_table(
        f"insert {ROWS:,} rows in one session, median of {ROUNDS} fresh interpreters",
        ["database", "plain SQLAlchemy", "EnvoxyBase", "overhead", "goal <= 15%"],
        rows,
    )


def _compare(url: str, search_path: str | None) -> list[str]:
    samples: dict[str, list[float]] = {"plain": [], "envoxy": []}
    for _ in range(ROUNDS):
        for side, values in samples.items():
            code = _INSERT.format(side=side, url=url, search_path=search_path, rows=ROWS)
            output = run_script(workspace_python(), code, env=_no_namespace(), timeout=300)
            values.append(float(json.loads(output.strip().splitlines()[-1])["elapsed"]))
    plain = statistics.median(samples["plain"])
    envoxy = statistics.median(samples["envoxy"])
    overhead = envoxy / plain - 1
    verdict = "meets" if overhead <= INSERT_GOAL_OVERHEAD else "MISSES"
    return [ms(plain), ms(envoxy), f"{overhead:+.1%}", verdict]


def _run_sql(url: str, statement: str) -> None:
    run_script(workspace_python(), _SCHEMA.format(url=url, statement=statement), timeout=60)


def _no_namespace() -> dict[str, str]:
    # An inherited namespace would only rename the tables; keep runs comparable.
    return {"ENVOXY_SERVICE_NAMESPACE": "", "SERVICE_NAMESPACE": ""}
