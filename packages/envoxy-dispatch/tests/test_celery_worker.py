"""celeryc against a real worker (`celery -A envoxy.celery worker`) on the Redis broker."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from celery.exceptions import NotRegistered

from envoxy.celery import celeryc
from envoxy.utils.context import RequestContext, bound

Worker = Any  # conftest.Worker: module, queue, output

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.slow]

#: Redis database of these tests (broker and results), apart from the other packages'.
REDIS_DB = 9


@pytest.fixture(scope="module")
def worker(
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    celery_worker: Callable[..., Any],
) -> Iterator[Worker]:
    parts = urlsplit(redis_url)
    celery_redis = {"bind": f"{parts.hostname}:{parts.port}", "db": REDIS_DB}
    with celery_worker(
        tmp_path_factory.mktemp("celery"),
        uuid.uuid4().hex[:10],
        {"redis_servers": {"celery": celery_redis}},
    ) as running:
        yield running


def test_task_result_comes_back(worker: Worker) -> None:
    result = celeryc.send_task(f"{worker.module}.add", args=(2, 3))
    assert result.get(timeout=30) == 5
    result.forget()


def test_delay_passes_positional_and_keyword_arguments(worker: Worker) -> None:
    result = celeryc.delay(f"{worker.module}.shout", "hi", suffix="?")
    assert result.get(timeout=30) == "HI?"
    result.forget()


def test_default_task_queue_routes_the_task_modules(worker: Worker) -> None:
    routes = celeryc.app.conf.task_routes
    assert routes == {f"{worker.module}.*": {"queue": worker.queue}}


def test_unknown_task_fails_with_not_registered_naming_it(worker: Worker) -> None:
    name = f"{worker.module}.missing"
    result = celeryc.send_task(name, args=(1,))
    with pytest.raises(NotRegistered, match=name):
        result.get(timeout=30)
    assert result.state == "FAILURE"
    assert name not in celeryc.registered_tasks(timeout=2)
    assert f"{worker.module}.add" in celeryc.registered_tasks(timeout=2)
    result.forget()


def test_the_task_runs_with_the_senders_request_id(worker: Worker) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with bound(RequestContext("celery-rid-1", traceparent)):
        result = celeryc.send_task(f"{worker.module}.request_id")
    assert result.get(timeout=30) == ["celery-rid-1", traceparent]
    result.forget()
    assert any('"_request_id":"celery-rid-1"' in line for line in worker.output)


def test_a_task_sent_outside_a_request_gets_its_own_id(worker: Worker) -> None:
    first = celeryc.send_task(f"{worker.module}.request_id")
    second = celeryc.send_task(f"{worker.module}.request_id")
    first_id, second_id = first.get(timeout=30)[0], second.get(timeout=30)[0]
    assert len(first_id) == 36
    assert first_id != second_id
    first.forget()
    second.forget()
