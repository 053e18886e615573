"""Which envoxy.json envoxyd serves: ``--set conf=PATH`` wins over ``ENVOXY_CONFIG``."""

import textwrap
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _service(directory: Path, name: str) -> Path:
    """A config whose one view answers ``{"served": name}`` at ``/v1/<name>``."""
    directory.mkdir()
    (directory / f"views_{name}.py").write_text(
        textwrap.dedent(
            f"""
            from envoxy.decorators import on
            from envoxy.views import View

            @on(endpoint="/v1/{name}", protocols=["http"])
            class Served(View):
                def get(self, request, **kwargs):
                    return {{"served": "{name}"}}

            __loader__ = [Served]
            """
        )
    )
    config = directory / "envoxy.json"
    config.write_text(f'{{"modules": ["views_{name}.py"]}}')
    return config


def _status(base: str, path: str) -> int:
    try:
        with urllib.request.urlopen(base + path, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_set_conf_wins_over_the_environment(
    start_envoxyd: Callable[..., Any], tmp_path: Path
) -> None:
    from_env = _service(tmp_path / "env", "from_env")
    from_flag = _service(tmp_path / "flag", "from_flag")
    daemon = start_envoxyd(
        "--processes", "1", "--set", f"conf={from_flag}", env={"ENVOXY_CONFIG": str(from_env)}
    )
    assert _status(daemon.base, "/v1/from_flag") == 200
    assert _status(daemon.base, "/v1/from_env") == 404


def test_the_environment_is_used_without_set_conf(
    start_envoxyd: Callable[..., Any], tmp_path: Path
) -> None:
    from_env = _service(tmp_path / "env", "from_env")
    daemon = start_envoxyd("--processes", "1", env={"ENVOXY_CONFIG": str(from_env)})
    assert _status(daemon.base, "/v1/from_env") == 200


def test_set_conf_wins_even_when_the_environment_names_a_missing_file(
    start_envoxyd: Callable[..., Any], tmp_path: Path
) -> None:
    from_flag = _service(tmp_path / "flag", "from_flag")
    daemon = start_envoxyd(
        "--processes",
        "1",
        "--set",
        f"conf={from_flag}",
        env={"ENVOXY_CONFIG": str(tmp_path / "missing.json")},
    )
    assert _status(daemon.base, "/v1/from_flag") == 200
