"""The revision-graph checker used in CI: exit codes, messages, no imports of revision code."""

from pathlib import Path

import pytest

from envoxy.tools.check_migrations import main


def write_revision(directory: Path, revision: str, down: str | tuple[str, ...] | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{revision}_step.py").write_text(
        f'"""step {revision}"""\n'
        "raise RuntimeError('revision files must be parsed, not imported')\n"
        f"revision: str = {revision!r}\n"
        f"down_revision = {down!r}\n"
    )


def test_linear_graph_passes_and_names_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = tmp_path / "versions"
    write_revision(versions, "a1", None)
    write_revision(versions, "b2", "a1")
    write_revision(versions, "c3", "b2")

    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == f"Found 3 migrations in {tmp_path}, head c3"


def test_merge_revision_with_tuple_parents_is_one_head(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None)
    write_revision(tmp_path, "b2", "a1")
    write_revision(tmp_path, "b3", "a1")
    write_revision(tmp_path, "m4", ("b2", "b3"))

    assert main([str(tmp_path)]) == 0


def test_two_heads_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_revision(tmp_path, "a1", None)
    write_revision(tmp_path, "b2", "a1")
    write_revision(tmp_path, "b3", "a1")

    assert main([str(tmp_path)]) == 3
    assert "expected one head, found 2: b2, b3" in capsys.readouterr().out


def test_missing_parent_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_revision(tmp_path, "a1", None)
    write_revision(tmp_path, "b2", "zz")

    assert main([str(tmp_path)]) == 3
    assert "down_revision zz does not exist" in capsys.readouterr().out


def test_duplicate_ids_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_revision(tmp_path / "one", "a1", None)
    write_revision(tmp_path / "two", "a1", None)

    assert main([str(tmp_path)]) == 3
    assert "duplicate revision id a1" in capsys.readouterr().out


def test_cycle_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_revision(tmp_path, "a1", "c3")
    write_revision(tmp_path, "b2", "a1")
    write_revision(tmp_path, "c3", "b2")

    assert main([str(tmp_path)]) == 3
    assert "cycle:" in capsys.readouterr().out


def test_empty_directory_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 3
    assert "no migrations found" in capsys.readouterr().out


def test_unparsable_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_revision(tmp_path, "a1", None)
    (tmp_path / "broken.py").write_text("revision = (\n")

    assert main([str(tmp_path)]) == 3
    assert "broken.py: cannot parse" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["a", "b"], ["--help"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert main(argv) == 2


def test_not_a_directory_exits_2(tmp_path: Path) -> None:
    assert main([str(tmp_path / "missing")]) == 2
