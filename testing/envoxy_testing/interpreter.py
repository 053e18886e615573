"""Run Python code in a fresh interpreter of this virtual environment.

For what one pytest process cannot show: what importing a module pulls in, reads,
starts or prints, with nothing imported before it.

    result = run_python("import envoxy.redis, sys; print('redis' in sys.modules)")
    assert result.stdout.strip() == "False"

``without=("envoxy-alembic",)`` runs it as if those Envoxy distributions were not
installed: the interpreter starts with ``-S`` (no ``.pth`` processing, so no editable
install adds its source folder) and a ``PYTHONPATH`` of the third-party site-packages
and the ``src`` folder of every other workspace distribution. Their modules are
genuinely absent, not stubbed out in ``sys.modules``; their ``.dist-info`` metadata
(version, entry points) stays visible, as after a broken install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["CLEAN_ENV", "run_python", "workspace_sources"]

#: The whole environment of a fresh interpreter unless ``inherit_env``: nothing of the
#: test process (no ``ENVOXY_CONFIG``, ``PYTHONPATH`` or service namespace) leaks in.
CLEAN_ENV: Mapping[str, str] = {"PATH": "/usr/bin:/bin"}


def run_python(
    code: str,
    *,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = False,
    cwd: Path | None = None,
    check: bool = True,
    timeout: float = 120,
    without: Iterable[str] = (),
    args: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) with ``sys.executable -c``; return the finished process.

    Args:
        code: The program; common indentation is removed.
        env: Variables set on top of :data:`CLEAN_ENV`, or of ``os.environ`` with
            ``inherit_env``.
        inherit_env: Start from the test process's environment instead of a clean one.
        cwd: Working directory of the interpreter.
        check: Fail with its exit status, stdout and stderr when it does not exit 0.
        timeout: Seconds before it is killed (``subprocess.TimeoutExpired``).
        without: Workspace distributions (``"envoxy-alembic"``) whose modules must be absent.
        args: The interpreter's ``sys.argv[1:]``.

    Raises:
        AssertionError: With ``check``, the interpreter exited with a non-zero status.
        ValueError: ``without`` names a distribution that is not in the workspace.
    """
    base = os.environ if inherit_env else CLEAN_ENV
    child_env = {**base, **(env or {})}
    options: list[str] = []
    hidden = set(without)
    if hidden:
        sources = workspace_sources()
        unknown = hidden - set(sources)
        if unknown:
            raise ValueError(f"not workspace distributions: {', '.join(sorted(unknown))}")
        kept = [str(src) for name, src in sources.items() if name not in hidden]
        child_env["PYTHONPATH"] = os.pathsep.join([sysconfig.get_paths()["purelib"], *kept])
        options.append("-S")
    completed = subprocess.run(
        [sys.executable, *options, "-c", textwrap.dedent(code), *args],
        env=child_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"python exited with {completed.returncode}\n"
            f"--- stdout\n{completed.stdout}--- stderr\n{completed.stderr}"
        )
    return completed


def workspace_sources() -> dict[str, Path]:
    """Return distribution name -> its ``src`` folder, for the editable installs of this venv."""
    sources: dict[str, Path] = {}
    for entry in sys.path:
        path = Path(entry)
        if path.name == "src" and path.parent.parent.name == "packages":
            sources[path.parent.name] = path
    return sources
