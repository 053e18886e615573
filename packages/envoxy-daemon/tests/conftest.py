"""Fixtures of the envoxy-daemon tests.

A real ``envoxyd`` comes from the workspace plugin's ``start_envoxyd`` fixture
(:mod:`envoxy_testing.envoxyd`); ``write_config`` writes the test's ``envoxy.json``.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envoxy_testing.envoxyd import write_config as _write_config


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config dict as ``envoxy.json`` in the test's directory; return its path."""

    def write(config: dict[str, Any], name: str = "envoxy.json") -> Path:
        return _write_config(tmp_path, config, name)

    return write
