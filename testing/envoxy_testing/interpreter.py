"""Run Python code in a fresh interpreter of this virtual environment.

For what one pytest process cannot show: what importing a module pulls in, reads,
starts or prints, with nothing imported before it.

    result = run_python("import envoxy.redis, sys; print('redis' in sys.modules)")
    assert result.stdout.strip() == "False"
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CLEAN_ENV", "run_python"]

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

    Raises:
        AssertionError: With ``check``, the interpreter exited with a non-zero status.
    """
    base = os.environ if inherit_env else CLEAN_ENV
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, **(env or {})},
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
