"""run_python: a fresh interpreter, a clean environment unless asked, failures explained."""

from pathlib import Path

import pytest

from envoxy_testing.interpreter import run_python, workspace_sources


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


def test_every_workspace_distribution_has_a_source_folder() -> None:
    assert {"envoxy-core", "envoxy-alembic", "envoxy-daemon", "envoxy"} <= set(workspace_sources())


def test_a_hidden_distribution_cannot_be_imported_and_the_others_can() -> None:
    done = run_python(
        """
        import importlib.util
        import envoxy.db.orm
        print(importlib.util.find_spec("envoxy.tools") is None)
        """,
        without=("envoxy-alembic",),
    )

    assert done.stdout.strip() == "True"


def test_an_unknown_distribution_is_refused() -> None:
    with pytest.raises(ValueError, match="not workspace distributions: envoxy-nothing"):
        run_python("pass", without=("envoxy-nothing",))
