"""all_problems: the one ``__all__`` check every package's export tests use."""

import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from envoxy_testing.exports import all_problems, modules_under

Writer = Callable[[str], str]


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Writer:
    """Write a module from source, return its (unique) name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(source: str) -> str:
        name = f"exports_probe_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


def test_a_module_that_lists_its_api_has_no_problem(module: Writer) -> None:
    name = module(
        """
        from __future__ import annotations
        import json
        from typing import Any
        __all__ = ["Thing", "make", "LIMIT", "json"]
        LIMIT = 3
        class Thing: ...
        def make() -> Any: ...
        def _helper() -> None: ...
        """
    )
    assert all_problems(name) == []
    assert all_problems(name, constants=True) == []


def test_each_kind_of_problem_is_named(module: Writer) -> None:
    name = module(
        """
        __all__ = ["make", "make", "ghost"]
        LIMIT = 3
        def make() -> None: ...
        def forgotten() -> None: ...
        """
    )
    problems = all_problems(name)
    assert problems == [
        f"{name}.__all__ lists ['make'] more than once",
        f"{name}.__all__ names what the module lacks: ['ghost']",
        f"{name} has public names not in __all__: ['forgotten']",
    ]
    assert all_problems(name, constants=True)[-1].endswith("['LIMIT', 'forgotten']")
    assert all_problems(name, lazy={"ghost"}, ignore={"forgotten"}) == [
        f"{name}.__all__ lists ['make'] more than once"
    ]


def test_no_all_and_exact_mode(module: Writer) -> None:
    bare = module("def f() -> None: ...\n")
    assert all_problems(bare) == [f"{bare} has no __all__"]
    facade = module(
        """
        from __future__ import annotations
        import os
        from pathlib import Path
        __all__ = []
        """
    )
    assert all_problems(facade) == []
    assert all_problems(facade, exact=True) == [
        f"{facade} has public names not in __all__: ['Path']"
    ]


def test_modules_under_names_packages_and_modules(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for relative in ("pkg/__init__.py", "pkg/a.py", "pkg/sub/b.py"):
        (tmp_path / relative).write_text("")
    assert modules_under(tmp_path) == ["pkg", "pkg.a", "pkg.sub.b"]
