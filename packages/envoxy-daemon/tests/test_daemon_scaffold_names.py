"""``create-project`` with hostile names: no user text runs or breaks a generated file.

A name is either refused (exit 2, one line saying why, nothing written) or written into
every generated file through that file's encoder: each ``.py`` compiles and its
docstring reads back the exact title, ``pyproject.toml`` and ``envoxy.json`` parse, the
README heading shows the title as text, and no code from the name ever runs.
"""

import ast
import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from envoxy.daemon.cli import main
from envoxy.daemon.scaffold import ProjectNameError, ProjectNames, project_names, render_files

#: names that are usable, however hostile their text
HOSTILE_NAMES = [
    'x"""+__import__("os").system("touch MARKER")+"""',
    "bad\\N",
    "trailing backslash \\",
    'it\'s "quoted"',
    "'''single triple''' + open('MARKER', 'w')",
    "new\nline\tand\r\ntabs",
    "${HOME} $${x} {{brace}} {0} %(name)s %s",
    "Café ☕ 服务 ß",
    "<script>alert(1)</script>",
    "# [link](javascript:alert(1)) *em* _u_ `code` | table | ~~s~~ &amp; $x$",
    "x\\' + 1 + '",
    "end with quote'",
    "emoji 😀 name",
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_every_generated_file_escapes_the_name(name: str) -> None:
    names = project_names(name)
    rendered = render_files(names)
    title = " ".join(name.split())

    for path, text in rendered.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    init = rendered[f"{names.package}/__init__.py"]
    assert ast.get_docstring(ast.parse(init), clean=False) == (
        f"{title}: an Envoxy service serving the items API (see README.md)."
    )
    assert len(ast.parse(init).body) == 1  # the docstring and nothing else
    pyproject = tomllib.loads(rendered["pyproject.toml"])
    assert pyproject["project"]["name"] == names.slug
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [names.package]
    config = json.loads(rendered["envoxy.json"])
    assert config["packages"] == [names.package]
    assert config["psql_servers"]["default"]["url"] == f"sqlite:///{names.package}.db"
    heading = rendered["README.md"].splitlines()[0]
    assert heading.startswith("# ")
    assert re.sub(r"\\(.)", r"\1", heading[2:]) == title  # backslash escapes only
    assert not re.search(r"(?<!\\)[`*_\[\]<>#|~&$]", heading[2:])  # nothing Markdown reads


@pytest.mark.parametrize(
    "name",
    [
        'x"""+__import__("os").system("touch MARKER")+"""',
        "'''single triple''' + open('MARKER', 'w')",
        "bad\\N",
    ],
)
def test_creation_runs_no_code_from_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative MARKER would land here

    result = invoke("create-project", name, "--dir", str(tmp_path))

    assert result.exit_code == 0, result.output
    assert not (tmp_path / "MARKER").exists()
    names = project_names(name)
    project = tmp_path / names.slug
    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    assert not list(tmp_path.rglob("MARKER"))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a\x1bb", "U+001B (a control or invisible character)"),
        ("evil\u202egnp", "U+202E"),
        ("zero\u200bwidth", "U+200B"),
        ("nul\x00byte", "U+0000"),
        ("bad \udcff bytes", "U+DCFF"),
        ("private \ue000 use", "U+E000"),
        ("x" * 101, "has 101 characters; give at most 100"),
        ("a-" * 40, "folder name of 79 characters"),
        ("9lives", "not a valid Python identifier"),
        ("pytest", "reserved"),
        ("SQLAlchemy", "reserved"),
        ("werkzeug", "reserved"),
        ("def", "a Python keyword"),
        ("   \t\n ", "no letters or digits"),
        ('"""', "no letters or digits"),
        ("", "no letters or digits"),
        ("!!! ---", "no letters or digits"),
        ("2fa service", "not a valid Python identifier"),
        ("class", "a Python keyword"),
        ("json", "a standard-library module"),
        ("tests", "reserved"),
        ("Envoxy", "reserved"),
    ],
)
def test_unusable_names_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, name: str, reason: str
) -> None:
    result = invoke("create-project", name, "--dir", str(tmp_path))

    assert result.exit_code == 2
    (error,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Invalid value for 'NAME': ")
    assert reason in error
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ProjectNameError):
        project_names(name)


@pytest.mark.parametrize(
    ("title", "slug", "package"),
    [
        ("ok", "bad slug", "ok"),
        ("ok", "ok", "bad-package"),
        ("ok", "ok", 'x"'),
        ("ok", "ok", "class"),
        ("bad\x00title", "ok", "ok"),
        ("", "ok", "ok"),
    ],
)
def test_project_names_refuse_unsafe_parts_even_built_by_hand(
    title: str, slug: str, package: str
) -> None:
    with pytest.raises(ProjectNameError):
        ProjectNames(title=title, slug=slug, package=package)


@pytest.mark.slow
def test_a_hostile_named_project_passes_its_own_tests(
    tmp_path: Path, project_tests: Callable[[Path], subprocess.CompletedProcess[str]]
) -> None:
    name = 'x"""+__import__("os").system("touch MARKER")+""" \\N'
    parent = tmp_path / "projects"
    parent.mkdir()
    result = invoke("create-project", name, "--dir", str(parent))
    assert result.exit_code == 0, result.output

    run = project_tests(parent / project_names(name).slug)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout
    assert not list(tmp_path.rglob("MARKER"))
