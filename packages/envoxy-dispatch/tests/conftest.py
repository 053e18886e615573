"""Fixtures shared by the envoxy-dispatch tests: a real Celery worker process."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import IO, Any

import pytest

from envoxy.celery import celeryc
from envoxy.utils.config import Config

#: Tasks of the probe module every worker loads.
PROBE_TASKS = textwrap.dedent(
    """
    from envoxy.celery import celeryc


    @celeryc.task
    def add(x, y):
        return x + y


    @celeryc.task
    def shout(text, suffix="!"):
        return text.upper() + suffix


    @celeryc.task
    def request_id():
        from envoxy.utils.context import current
        from envoxy.utils.logs import log

        log.info("task runs")
        return list(current())
    """
)


@dataclass
class Worker:
    """A running ``celery -A envoxy.celery worker``: its probe module, queue and output."""

    module: str
    queue: str
    output: list[str]


@pytest.fixture(scope="session")
def celery_worker() -> Callable[..., AbstractContextManager[Worker]]:
    """``with celery_worker(directory, tag, config) as worker:`` (see :func:`run_worker`)."""
    return run_worker


@contextmanager
def run_worker(directory: pathlib.Path, tag: str, config: dict[str, Any]) -> Iterator[Worker]:
    """Run a solo-pool worker on queue ``envoxy-test-<tag>`` with ``config`` as its
    ``envoxy.json`` (the probe module and the queue are added), and point ``celeryc``
    of this process at the same file; stop both at the end."""
    module = f"envoxy_celery_probe_{tag}"
    queue = f"envoxy-test-{tag}"
    (directory / f"{module}.py").write_text(PROBE_TASKS)
    config_path = directory / "envoxy.json"
    config_path.write_text(
        json.dumps({**config, "task_modules": [module], "default_task_queue": queue})
    )
    env = {**os.environ, "ENVOXY_CONFIG": str(config_path), "PYTHONPATH": str(directory)}
    celery = pathlib.Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [
            str(celery),
            *("-A", "envoxy.celery", "worker", "--pool=solo"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *("--loglevel=INFO", "-Q", queue, "-n", f"{tag}@%h"),
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
        Config.set_file_path(config_path)
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


def _watch(stream: IO[str], output: list[str], ready: threading.Event) -> None:
    for line in stream:
        output.append(line)
        if " ready." in line:
            ready.set()
