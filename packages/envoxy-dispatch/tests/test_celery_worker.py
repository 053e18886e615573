"""celeryc against a real worker (`celery -A envoxy.celery worker`) on the Redis broker."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import pytest
from celery.exceptions import NotRegistered

from envoxy.celery import celeryc
from envoxy.utils.config import Config

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.slow]

#: Redis database of these tests (broker and results), apart from the other packages'.
REDIS_DB = 9


@dataclass
class Worker:
    module: str
    queue: str
    output: list[str]


def _watch(stream: IO[str], output: list[str], ready: threading.Event) -> None:
    for line in stream:
        output.append(line)
        if " ready." in line:
            ready.set()


@pytest.fixture(scope="module")
def worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    directory = tmp_path_factory.mktemp("celery")
    tag = uuid.uuid4().hex[:10]
    module = f"envoxy_celery_probe_{tag}"
    queue = f"envoxy-test-{tag}"
    (directory / f"{module}.py").write_text(
        textwrap.dedent(
            """
            from envoxy.celery import celeryc


            @celeryc.task
            def add(x, y):
                return x + y


            @celeryc.task
            def shout(text, suffix="!"):
                return text.upper() + suffix
            """
        )
    )
    parts = urlsplit(redis_url)
    config = directory / "envoxy.json"
    config.write_text(
        json.dumps(
            {
                "redis_servers": {
                    "celery": {"bind": f"{parts.hostname}:{parts.port}", "db": REDIS_DB}
                },
                "task_modules": [module],
                "default_task_queue": queue,
            }
        )
    )
    env = {**os.environ, "ENVOXY_CONFIG": str(config), "PYTHONPATH": str(directory)}
    celery = pathlib.Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [
            str(celery),
            "-A",
            "envoxy.celery",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            "-Q",
            queue,
            "-n",
            f"{tag}@%h",
        ],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    assert process.stdout is not None
    watcher = threading.Thread(target=_watch, args=(process.stdout, output, ready), daemon=True)
    watcher.start()
    previous = Config.file_path
    try:
        assert ready.wait(60), "the worker did not start:\n" + "".join(output)
        Config.set_file_path(config)
        celeryc.initialize()
        yield Worker(module, queue, output)
    finally:
        celeryc.close()
        celeryc.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        Config.set_file_path(previous)


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
