"""This process's id, read once per process and forgotten in a forked child.

:func:`os.getpid` is a system call on every call (glibc caches it no more); what is
kept per process (the ``pid`` of log lines, the request ids made ahead, the log
flusher thread) compares :func:`current_pid` instead, once per request or line.

The cached id is forgotten in a child of :func:`os.fork` (an at-fork hook). A server
that forks from C without Python's at-fork hooks (uWSGI, unless
``--py-call-osafterfork``) calls :func:`envoxy.utils.logs.after_fork` first thing in
each child, which calls :func:`forget_process`: envoxyd does, in its post-fork hook
and in the service mule.
"""

import os

__all__ = ["current_pid", "forget_process"]


def current_pid() -> int:
    """Return :func:`os.getpid`, cached per process (a forked child reads its own)."""
    pid = _PROCESS.pid
    if pid is None:
        pid = _PROCESS.pid = os.getpid()
    return pid


def forget_process() -> None:
    """Forget the cached process id (in a forked child; see ``logs.after_fork``)."""
    _PROCESS.pid = None


class _Process:
    """Per-process values, forgotten in a forked child."""

    pid: int | None = None


_PROCESS = _Process()
os.register_at_fork(after_in_child=forget_process)
