"""run_python: a fresh interpreter, a clean environment unless asked, failures explained."""

from pathlib import Path

import pytest

from envoxy_testing.interpreter import run_python


def test_code_is_dedented_and_runs_in_the_given_directory(tmp_path: Path) -> None:
    result = run_python(
        """
        import os
        print(os.getcwd())
        """,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == str(tmp_path)


def test_the_environment_is_clean_unless_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVOXY_PROBE", "from the test")
    code = "import os; print(os.environ.get('ENVOXY_PROBE'), os.environ.get('EXTRA'))"
    assert run_python(code, env={"EXTRA": "1"}).stdout.split() == ["None", "1"]
    assert run_python(code, inherit_env=True).stdout.strip() == "from the test None"


def test_a_failure_shows_status_and_output_unless_unchecked() -> None:
    code = "import sys; print('out'); sys.exit('went wrong')"
    with pytest.raises(AssertionError, match=r"(?s)exited with 1.*out.*went wrong"):
        run_python(code)
    assert run_python(code, check=False).returncode == 1
