"""The command-line tools end quietly when their reader goes away (``envoxyd --help | head -1``)."""

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["envoxyd", "--help"],
        ["envoxyd", "--version"],
        ["envoxy-cli", "--help"],
        ["envoxy-cli", "--version"],
        ["envoxy-alembic", "--help"],
    ],
    ids=" ".join,
)
def test_a_closed_pipe_gives_no_traceback(command: list[str]) -> None:
    process = subprocess.Popen(
        [str(BIN / command[0]), *command[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader is gone before the tool writes
    errors = process.stderr.read().decode()
    process.wait(timeout=30)
    assert "Traceback" not in errors
    assert "BrokenPipeError" not in errors
