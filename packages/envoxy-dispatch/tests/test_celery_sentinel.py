"""celeryc and a real worker whose broker and result backend are a Sentinel set
(``redis_servers.celery`` with ``sentinels`` + ``service_name``): kombu's and Celery's
``sentinel://`` with ``master_name``. Tasks round-trip before and after a failover."""

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envoxy.celery import celeryc
from envoxy.celery.settings import build_settings
from envoxy_testing.network import retry_until
from envoxy_testing.redis_sentinel import RedisSentinelSet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.slow]


def test_tasks_round_trip_through_sentinel_before_and_after_a_failover(
    redis_sentinel_set: Callable[..., RedisSentinelSet],
    celery_worker: Callable[..., Any],
    tmp_path: Path,
) -> None:
    redis_set = redis_sentinel_set(replicas=1)
    celery_redis = {
        "sentinels": redis_set.sentinel_hosts,
        "service_name": redis_set.service_name,
        "db": 3,
        "socket_timeout": 2,
        "connect_timeout": 2,
    }
    with celery_worker(
        tmp_path, uuid.uuid4().hex[:10], {"redis_servers": {"celery": celery_redis}}
    ) as worker:
        settings = build_settings()
        assert settings["broker_url"].startswith("sentinel://127.0.0.1:")
        assert settings["broker_url"].count(";") == 2  # the three sentinels
        assert settings["broker_transport_options"]["master_name"] == redis_set.service_name
        assert settings["result_backend_transport_options"]["master_name"] == "envoxy-test"
        result = celeryc.send_task(f"{worker.module}.add", args=(2, 3))
        assert result.get(timeout=20) == 5
        result.forget()
        redis_set.failover()

        def round_trip() -> object:
            again = celeryc.send_task(f"{worker.module}.add", args=(4, 5))
            try:
                return again.get(timeout=10)
            finally:
                again.forget()

        assert retry_until(round_trip, Exception, timeout=30) == 9
