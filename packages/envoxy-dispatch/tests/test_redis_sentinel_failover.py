"""redisc behind a real Sentinel set while ``SENTINEL FAILOVER`` runs under load.

Eight threads write and read back their own key as fast as they can, each value tagged
with its writer and a sequence number, while Sentinel moves the master. Shown:

- every call either answers or raises ``RedisClientError`` (never another exception);
- no wrong result: a read returns a value its own thread wrote, never another's;
- each thread is back to answering within 5 s of its first failure, and after the
  switch every write lands on the new master (the old one, still alive and still a
  master for ~8 s, gets none once the watch has re-pointed the pool);
- what Redis's asynchronous replication allows is counted and reported: reads that
  returned an older value of the thread's own (a write the old master acknowledged
  just before the switch).

The numbers go to docs/RELIABILITY.md (``envoxy_testing.reliability``).
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from envoxy.redis import RedisClient, RedisClientError
from envoxy_testing.network import wait_until
from envoxy_testing.redis_sentinel import RedisSentinelSet
from envoxy_testing.reliability import record

pytestmark = [pytest.mark.redis, pytest.mark.slow]

KEY = "sentinel"
THREADS = 8


@dataclass
class Worker:
    """What one load thread saw."""

    number: int
    acked: int = 0
    calls: int = 0
    errors: list[BaseException] = field(default_factory=list)
    wrong: list[object] = field(default_factory=list)
    stale: int = 0
    outage_started: float | None = None
    longest_outage: float = 0.0

    def run(self, client: RedisClient, stop: threading.Event) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            try:
                client.set(KEY, f"load:{self.number}", {"w": self.number, "s": sequence}, ttl=60)
                self.acked = sequence
                value = client.get(KEY, f"load:{self.number}")
            except RedisClientError as exc:
                self.errors.append(exc)
                if self.outage_started is None:
                    self.outage_started = time.monotonic()
                time.sleep(0.01)
                continue
            except BaseException as exc:  # anything else is a failure of the test
                self.wrong.append(exc)
                return
            finally:
                self.calls += 1
            if self.outage_started is not None:
                outage = time.monotonic() - self.outage_started
                self.longest_outage = max(self.longest_outage, outage)
                self.outage_started = None
            if not isinstance(value, dict) or value.get("w") != self.number:
                self.wrong.append(value)
            elif value.get("s") != self.acked:
                if isinstance(value.get("s"), int) and value["s"] < self.acked:
                    self.stale += 1  # an older write of ours: the newer one was lost
                else:
                    self.wrong.append(value)


def test_sentinel_failover_under_load_recovers_within_5_s_without_wrong_results(
    redis_sentinel_set: Callable[..., RedisSentinelSet],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    redis_set = redis_sentinel_set(replicas=1)
    with _under_load(redis_set, load_config, tmp_path) as (client, workers):
        old = redis_set.master
        failover_started = time.monotonic()
        new = redis_set.failover()
        switched = time.monotonic() - failover_started
        pool = client.client(KEY).connection_pool
        repointed = wait_until(
            lambda: pool.master_address == new.address, timeout=5, what="pool re-pointed"
        )
        marks = {worker.number: worker.acked for worker in workers}
        wait_until(
            lambda: all(w.acked > marks[w.number] + 20 for w in workers),
            timeout=10,
            what="every thread writing again",
        )
        calls_on_old_before = data_commands(old)
        time.sleep(0.5)  # the load goes on; none of it may reach the old master
        calls_on_old_after = data_commands(old)
    wrong = [value for worker in workers for value in worker.wrong]
    assert wrong == [], wrong[:5]
    longest = max(worker.longest_outage for worker in workers)
    assert longest < 5, [worker.longest_outage for worker in workers]
    assert all(worker.outage_started is None for worker in workers)
    assert calls_on_old_after == calls_on_old_before  # no SET or GET on the old master
    stale = sum(worker.stale for worker in workers)
    calls = sum(worker.calls for worker in workers)
    errors = sum(len(worker.errors) for worker in workers)
    record(
        "redisc",
        "Sentinel: SENTINEL FAILOVER under load",
        f"{THREADS} threads of SET+GET: no wrong result, every thread answering again "
        f"within 5 s; the pool re-pointed by the +switch-master watch; {errors} failed "
        f"and {stale} stale reads (writes the old master acknowledged just before the "
        f"switch) of {calls} calls",
        "test_sentinel_failover_under_load_recovers_within_5_s_without_wrong_results",
        switch=switched,
        repoint=repointed,
        recover=longest,
    )


def data_commands(server: object) -> int:
    """SET and GET calls a PrivateRedis served (sentinels send neither)."""
    host, port = server.address  # type: ignore[attr-defined]
    raw = redis.Redis(host=host, port=port, socket_timeout=1)
    try:
        stats = raw.info("commandstats")
    finally:
        raw.close()
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("set", "get"))


def test_a_killed_master_is_replaced_and_callers_recover_within_5_s(
    redis_sentinel_set: Callable[..., RedisSentinelSet],
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> None:
    redis_set = redis_sentinel_set(replicas=1)
    with _under_load(redis_set, load_config, tmp_path) as (_client, workers):
        old = redis_set.master
        killed = time.monotonic()
        old.kill()
        wait_until(lambda: redis_set.master_address() != old.address, timeout=15, what="new master")
        replaced = time.monotonic() - killed
        marks = {worker.number: worker.acked for worker in workers}
        wait_until(
            lambda: all(w.acked > marks[w.number] + 20 for w in workers),
            timeout=10,
            what="every thread writing again",
        )
        recovered = time.monotonic() - killed
    wrong = [value for worker in workers for value in worker.wrong]
    assert wrong == [], wrong[:5]
    longest = max(worker.longest_outage for worker in workers)
    assert longest < 5, [worker.longest_outage for worker in workers]
    errors = sum(len(worker.errors) for worker in workers)
    stale = sum(worker.stale for worker in workers)
    record(
        "redisc",
        "Sentinel: master killed (kill -9)",
        f"calls fail with RedisConnectionError/RedisTimeoutError until the sentinels "
        f"promote the replica (down-after-milliseconds 1000 here), then every thread "
        f"answers again; no wrong result; {errors} failed and {stale} stale reads",
        "test_a_killed_master_is_replaced_and_callers_recover_within_5_s",
        failover=replaced,
        recover=recovered,
        outage=longest,
    )


@contextmanager
def _under_load(
    redis_set: RedisSentinelSet,
    load_config: Callable[..., AbstractContextManager[Path]],
    tmp_path: Path,
) -> Iterator[tuple[RedisClient, list[Worker]]]:
    """redisc configured for ``redis_set``'s sentinels, with :data:`THREADS` workers
    writing and reading through it (each acknowledged 20 writes); stopped on exit."""
    entry = {
        "sentinels": redis_set.sentinel_hosts,
        "service_name": redis_set.service_name,
        "socket_timeout": 1,
        "connect_timeout": 1,
        "max_connections": THREADS,
    }
    with load_config({"redis_servers": {KEY: entry}}, tmp_path):
        client = RedisClient()
        workers = [Worker(number) for number in range(THREADS)]
        stop = threading.Event()
        threads = [
            threading.Thread(target=worker.run, args=(client, stop), daemon=True)
            for worker in workers
        ]
        try:
            for thread in threads:
                thread.start()
            wait_until(lambda: all(w.acked > 20 for w in workers), timeout=10, what="load")
            yield client, workers
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
            client.close()
