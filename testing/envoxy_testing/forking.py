"""Run a function in a forked child, the way uWSGI forks its workers or the way ``os.fork`` does.

uWSGI forks its workers from C and runs Python's at-fork hooks (``os.register_at_fork``)
only with ``--py-call-osafterfork``; :func:`c_fork` forks the same way, so a test can
check that a client notices that fork too::

    report = in_child(lambda: client.get("k") is not parent_pool, fork=c_fork)
"""

import ctypes
import json
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["FORKS", "c_fork", "in_child"]


def c_fork() -> int:
    """Call fork(2) from C with the GIL held: no at-fork hook runs in the child."""
    return int(ctypes.PyDLL(None).fork())


def _os_fork() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads running
        return os.fork()


#: Both ways of forking, for ``pytest.mark.parametrize("fork", FORKS, ids=...)``.
FORKS: dict[str, Callable[[], int]] = {"os.fork": _os_fork, "C fork without hooks": c_fork}


def in_child(
    work: Callable[[], Any], fork: Callable[[], int] = _os_fork, timeout: float = 30
) -> Any:
    """Return what ``work()`` returned in a forked child (it must be JSON-encodable).

    :raises AssertionError: ``work`` raised (its repr is the message), or the child did
        not finish within ``timeout`` seconds (it is killed).
    """
    read_end, write_end = os.pipe()
    pid = fork()
    if pid == 0:  # the child: never return into the caller's frames
        status = 1
        try:
            os.close(read_end)
            try:
                answer = {"result": work()}
            except BaseException as exc:  # reported to the parent
                answer = {"error": repr(exc)}
            os.write(write_end, json.dumps(answer).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(read_end)
            raise AssertionError(f"the forked child did not finish within {timeout:g} s")
        time.sleep(0.01)
    with os.fdopen(read_end, "rb") as reader:
        data = reader.read()
    assert os.waitstatus_to_exitcode(status) == 0, f"the child exited with {status}"
    answer = json.loads(data)
    if "error" in answer:
        raise AssertionError(f"in the forked child: {answer['error']}")
    return answer["result"]
