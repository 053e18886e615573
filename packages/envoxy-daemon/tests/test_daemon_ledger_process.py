"""The request ledger in a real envoxyd (2 workers, 4 threads each) under load: every
answered request has exactly one access line, valid JSON, with the pid of the worker
that answered it; /_metrics counts every request; SIGTERM right after a burst loses no
line of a request that was answered."""

import json
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.network import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLE = Path(__file__).with_name("views_sample.py")
ITEMS = 'envoxy_http_requests_total{method="GET",route="/v1/items/{item_id:int}",status="200"}'


def _get(base: str, path: str, request_id: str) -> int:
    request = urllib.request.Request(base + path, headers={"X-Request-ID": request_id})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
        return int(answer.status)


def _burst(base: str, prefix: str, count: int) -> list[str]:
    """``count`` requests from 8 client threads, each with its own request id."""
    ids = [f"{prefix}-{number}" for number in range(count)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda rid: _get(base, f"/v1/items/{len(rid)}", rid), ids))
    assert statuses == [200] * count
    return ids


def _items(base: str) -> float:
    with urllib.request.urlopen(base + "/_metrics", timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(ITEMS + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_answered_request_has_one_line_and_one_count(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> None:
    config = write_config({"modules": [str(SAMPLE)], "log": {"level": 6, "format": "json"}})
    daemon = start_envoxyd("--processes", "2", "--threads", "4", "--set", f"conf={config}")
    first = _burst(daemon.base, "a", 1200)
    # every worker's counts reach the metrics within a flush (the scraped one at once)
    wait_until(lambda: _items(daemon.base) == len(first), 5, what="every request counted")
    # a second burst, then SIGTERM at once: the last lines are still queued
    second = _burst(daemon.base, "b", 600)
    daemon.process.terminate()
    assert daemon.process.wait(30) == 0

    accesses: dict[str, list[dict[str, Any]]] = {}
    for line in daemon.log().splitlines():
        if '"short_message":"< Response' not in line:
            continue
        entry = json.loads(line)  # every access line is whole, valid JSON
        accesses.setdefault(entry["_request_id"], []).append(entry)
    for request_id in first + second:
        assert len(accesses.get(request_id, [])) == 1, request_id
    pids = {entry["pid"] for request_id in first + second for entry in accesses[request_id]}
    assert len(pids) == 2  # both workers answered, each line with its own pid
    assert daemon.process.pid not in pids  # never the master's
