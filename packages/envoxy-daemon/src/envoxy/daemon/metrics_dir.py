"""The directory of prometheus_client's multiprocess mode, owned by the envoxyd master.

Each worker and the service mule write their metrics into memory-mapped files of one
directory; ``/_metrics`` adds them up (:mod:`envoxy.daemon.metrics`). envoxyd

- creates a fresh directory at start, ``envoxyd-metrics-<master pid>-<random>`` inside
  ``metrics.directory`` (default: ``/dev/shm`` when it is a writable directory, else the
  system's temporary directory: the files are memory-mapped and written on every flush,
  and a disk-backed file system makes writes wait for its write-back), and sets
  ``PROMETHEUS_MULTIPROC_DIR`` to it before anything imports prometheus_client and
  before the workers fork (an inherited value is replaced: files of another run would
  be counted); directories left by masters that died without cleaning up are removed;
- removes it when the master exits (a uWSGI ``--hook-as-user-atexit``);
- marks dead processes at each scrape (:func:`mark_dead_processes`): a worker killed
  with SIGKILL runs no hook, so its live gauges (requests in flight, pool usage) would
  stay counted. Its counters and histograms stay: what it counted did happen.
"""

import os
import re
import shlex
import shutil
import tempfile

__all__ = [
    "DIRECTORY_PREFIX",
    "ENV_VAR",
    "cleanup_hook",
    "default_parent",
    "mark_dead_processes",
    "prepare_directory",
]

#: The variable prometheus_client reads (at import) to choose the multiprocess mode.
ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"
#: The name of every directory envoxyd makes starts with this.
DIRECTORY_PREFIX = "envoxyd-metrics-"


def prepare_directory(parent: str | None = None) -> str:
    """Create a fresh directory for this master and export it as :data:`ENV_VAR`.

    :param parent: where to create it; ``None`` for :func:`default_parent`.
    :returns: the directory's path.
    :raises OSError: when ``parent`` is missing or not writable.
    """
    parent = parent or default_parent()
    _remove_orphans(parent)
    directory = tempfile.mkdtemp(prefix=f"{DIRECTORY_PREFIX}{os.getpid()}-", dir=parent)
    os.environ[ENV_VAR] = directory
    return directory


def default_parent() -> str:
    """Return ``/dev/shm`` when it is a writable directory (memory), else the system's
    temporary directory."""
    if os.path.isdir(_SHARED_MEMORY) and os.access(_SHARED_MEMORY, os.W_OK | os.X_OK):
        return _SHARED_MEMORY
    return tempfile.gettempdir()


def cleanup_hook(directory: str) -> list[str]:
    """Return the uWSGI arguments that remove ``directory`` when the master exits."""
    return ["--hook-as-user-atexit", f"exec:rm -rf -- {shlex.quote(directory)}"]


def mark_dead_processes(directory: str, master_pid: int | None = None) -> list[int]:
    """Mark the processes that left live-gauge files in ``directory`` but are gone.

    :param master_pid: the uWSGI master's pid; a live pid that is neither the master nor
        one of its children (a reused pid) counts as dead. ``None`` skips that check.
    :returns: the pids marked dead.
    """
    from prometheus_client import multiprocess

    pids: set[int] = set()
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        found = _LIVE_FILE.fullmatch(name)
        if found:
            pids.add(int(found.group(1)))
    dead = [pid for pid in sorted(pids) if not _alive(pid, master_pid)]
    for pid in dead:
        multiprocess.mark_process_dead(pid, directory)
    return dead


_SHARED_MEMORY = "/dev/shm"
_LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")
_ORPHAN = re.compile(re.escape(DIRECTORY_PREFIX) + r"(\d+)-\w+")


def _alive(pid: int, master_pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie does not: a killed worker the master has not
    reaped yet) and, when ``master_pid`` is given, is the master or one of its children."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = _proc_status(pid)
    if status is None:  # no /proc: trust the signal
        return True
    state, parent = status
    if state == "Z":
        return False
    return master_pid is None or pid == master_pid or parent == master_pid


def _proc_status(pid: int) -> tuple[str, int] | None:
    """The state letter and the parent of ``pid`` from ``/proc`` (``None`` without it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def _remove_orphans(parent: str) -> None:
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        found = _ORPHAN.fullmatch(name)
        if found and not _alive(int(found.group(1)), None):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
